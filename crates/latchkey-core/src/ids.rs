//! Typed identifiers: GUIDs that cannot be mixed up with one another.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! guid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random (v4) id.
            #[must_use]
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            #[must_use]
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            /// Graph ids are case-insensitive GUIDs; braces and hyphen-less forms are refused.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                if s.len() != 36 {
                    return Err(InvalidId(s.chars().take(64).collect()));
                }
                Uuid::parse_str(s).map(Self).map_err(|_| InvalidId(s.chars().take(64).collect()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

/// A string that is not a GUID where one was required.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a valid GUID")]
pub struct InvalidId(pub String);

guid_id!(/// The tenant (directory) this database serves.
    TenantId);
guid_id!(/// A user object.
    UserId);
guid_id!(/// A security group.
    GroupId);
guid_id!(/// A Temporary Access Pass method.
    PassId);
guid_id!(/// An application's `appId`, which is its OAuth `client_id`.
    AppId);
guid_id!(/// An application object's `id` (not its appId), as in Graph.
    ApplicationObjectId);
guid_id!(/// A directory role assignment.
    RoleAssignmentId);
guid_id!(/// An audit record.
    AuditId);
guid_id!(/// A password credential (client secret) of an application.
    SecretKeyId);
guid_id!(/// A registered passkey or authenticator app (Graph's authentication method id).
    MethodId);

/// The id a directory object can carry in places that accept users or groups alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryObjectId {
    User(UserId),
    Group(GroupId),
}
