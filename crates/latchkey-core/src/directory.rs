//! Users, groups and directory roles: the objects the TAP rules are about.

use crate::error::CoreError;
use crate::ids::{GroupId, RoleAssignmentId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A user principal name (`alice@contoso.com`). Compared case-insensitively, as Entra does;
/// the spelling given at creation is kept for display.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserPrincipalName {
    display: String,
    normalized: String,
}

impl UserPrincipalName {
    /// Parses `local@domain`: one `@`, both sides non-empty, no spaces or control
    /// characters, at most 113 characters (Entra's limit: 64 + `@` + 48).
    pub fn parse(raw: &str) -> Result<Self, CoreError> {
        let raw = raw.trim();
        let bad = |why: &str| {
            CoreError::Invalid(format!(
                "userPrincipalName '{}' is not valid: {why}",
                raw.chars().take(120).collect::<String>()
            ))
        };
        if raw.is_empty() {
            return Err(bad("it is empty"));
        }
        if raw.chars().count() > 113 {
            return Err(bad("it is longer than 113 characters"));
        }
        let Some((local, domain)) = raw.split_once('@') else {
            return Err(bad("it must look like name@domain"));
        };
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return Err(bad("it must look like name@domain"));
        }
        if local.chars().count() > 64 {
            return Err(bad("the part before @ is longer than 64 characters"));
        }
        if raw
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"\\<>()[];:,'/".contains(c))
        {
            return Err(bad("it contains a character that is not allowed"));
        }
        if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
            return Err(bad("the domain is not a valid name"));
        }
        Ok(Self {
            display: raw.to_owned(),
            normalized: raw.to_lowercase(),
        })
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.display
    }
    /// The lower-case form used for lookups and uniqueness.
    #[must_use]
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
    #[must_use]
    pub fn domain(&self) -> &str {
        self.normalized.split_once('@').map_or("", |(_, d)| d)
    }
}

impl PartialEq for UserPrincipalName {
    fn eq(&self, other: &Self) -> bool {
        self.normalized == other.normalized
    }
}
impl Eq for UserPrincipalName {}

impl fmt::Display for UserPrincipalName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}
impl fmt::Debug for UserPrincipalName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.display)
    }
}
impl TryFrom<String> for UserPrincipalName {
    type Error = CoreError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<UserPrincipalName> for String {
    fn from(u: UserPrincipalName) -> Self {
        u.display
    }
}

/// Graph's `userType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserType {
    Member,
    Guest,
}

impl UserType {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Member => "Member",
            Self::Guest => "Guest",
        }
    }
    /// Accepts Graph's spelling, case-insensitively.
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        match s.to_ascii_lowercase().as_str() {
            "member" => Ok(Self::Member),
            "guest" => Ok(Self::Guest),
            _ => Err(CoreError::Invalid(format!(
                "userType must be 'Member' or 'Guest', not '{}'",
                s.chars().take(40).collect::<String>()
            ))),
        }
    }
}

/// Where a user's credentials live. An *external* guest was invited from another
/// organisation and signs in at home; an *internal* account (member or guest) has its
/// credentials here. Only internal accounts may hold a pass (seed 001, "Guest access").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserOrigin {
    Internal,
    External,
}

/// A user object.
#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub user_principal_name: UserPrincipalName,
    pub display_name: String,
    pub mail: Option<String>,
    pub user_type: UserType,
    pub origin: UserOrigin,
    pub account_enabled: bool,
    /// Argon2id PHC string of the password, when one is set.
    pub password_hash: Option<String>,
    pub password_set_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl User {
    #[must_use]
    pub fn is_external_guest(&self) -> bool {
        self.origin == UserOrigin::External
    }
}

/// A security group.
#[derive(Debug, Clone)]
pub struct Group {
    pub id: GroupId,
    pub display_name: String,
    pub description: Option<String>,
    pub mail_nickname: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The directory roles that matter to Temporary Access Passes, with Entra's role template
/// ids (graph-tap-spec.md §1.7), so `wids` claims and role assignments match Entra's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DirectoryRole {
    GlobalAdministrator,
    PrivilegedAuthenticationAdministrator,
    AuthenticationAdministrator,
    AuthenticationPolicyAdministrator,
    GlobalReader,
}

impl DirectoryRole {
    pub const ALL: [Self; 5] = [
        Self::GlobalAdministrator,
        Self::PrivilegedAuthenticationAdministrator,
        Self::AuthenticationAdministrator,
        Self::AuthenticationPolicyAdministrator,
        Self::GlobalReader,
    ];

    /// Entra's role template id.
    #[must_use]
    pub const fn template_id(self) -> &'static str {
        match self {
            Self::GlobalAdministrator => "62e90394-69f5-4237-9190-012177145e10",
            Self::PrivilegedAuthenticationAdministrator => "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
            Self::AuthenticationAdministrator => "c4e39bd9-1100-46d3-8c65-fb160da0071f",
            Self::AuthenticationPolicyAdministrator => "0526716b-113d-4c15-b2c8-68e3c22b9f80",
            Self::GlobalReader => "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        }
    }

    #[must_use]
    pub const fn display_name(self) -> &'static str {
        match self {
            Self::GlobalAdministrator => "Global Administrator",
            Self::PrivilegedAuthenticationAdministrator => "Privileged Authentication Administrator",
            Self::AuthenticationAdministrator => "Authentication Administrator",
            Self::AuthenticationPolicyAdministrator => "Authentication Policy Administrator",
            Self::GlobalReader => "Global Reader",
        }
    }

    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::GlobalAdministrator => {
                "Can manage all aspects of the directory, including every Temporary Access Pass except one for themselves."
            }
            Self::PrivilegedAuthenticationAdministrator => {
                "Can create, view and delete Temporary Access Passes for admins and members, except themselves."
            }
            Self::AuthenticationAdministrator => {
                "Can create, view and delete Temporary Access Passes for members who hold no admin role, except themselves."
            }
            Self::AuthenticationPolicyAdministrator => {
                "Can edit the Temporary Access Pass policy and the other authentication methods policies."
            }
            Self::GlobalReader => "Can read everything a Global Administrator can, including pass details, but never a pass's code.",
        }
    }

    /// Finds a role by template id (case-insensitive GUID) or by display name.
    #[must_use]
    pub fn find(key: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.template_id().eq_ignore_ascii_case(key) || r.display_name().eq_ignore_ascii_case(key))
    }

    /// A short CLI-friendly name (`global-admin`, ...).
    #[must_use]
    pub const fn slug(self) -> &'static str {
        match self {
            Self::GlobalAdministrator => "global-admin",
            Self::PrivilegedAuthenticationAdministrator => "privileged-authentication-admin",
            Self::AuthenticationAdministrator => "authentication-admin",
            Self::AuthenticationPolicyAdministrator => "authentication-policy-admin",
            Self::GlobalReader => "global-reader",
        }
    }

    #[must_use]
    pub fn from_slug(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.slug().eq_ignore_ascii_case(s))
            .or_else(|| Self::find(s))
    }
}

/// A role held by a user across the whole directory (`directoryScopeId: "/"`).
#[derive(Debug, Clone)]
pub struct RoleAssignment {
    pub id: RoleAssignmentId,
    pub principal_id: UserId,
    pub role: DirectoryRole,
    pub created_at: DateTime<Utc>,
}

/// One `$filter` clause on users. Graph's `eq` and `startswith`, the ones admins' scripts use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFilter {
    pub field: UserField,
    pub op: FilterOp,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserField {
    UserPrincipalName,
    DisplayName,
    UserType,
    Mail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    Eq,
    StartsWith,
}

/// A window of a list: skip this many, return at most `top`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub skip: u64,
    pub top: u32,
}

impl Page {
    pub const DEFAULT_TOP: u32 = 100;
    pub const MAX_TOP: u32 = 999;
}

impl Default for Page {
    fn default() -> Self {
        Self {
            skip: 0,
            top: Self::DEFAULT_TOP,
        }
    }
}

/// Validates a display name: 1..=256 characters, no control characters.
pub fn parse_display_name(field: &str, raw: &str) -> Result<String, CoreError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(CoreError::Invalid(format!("{field} must not be empty")));
    }
    if trimmed.chars().count() > 256 {
        return Err(CoreError::Invalid(format!("{field} must be at most 256 characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(CoreError::Invalid(format!("{field} must not contain control characters")));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_principal_names_compare_case_insensitively_but_keep_their_spelling() {
        let a = UserPrincipalName::parse("Alice@Contoso.Test").unwrap();
        let b = UserPrincipalName::parse("alice@contoso.test").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "Alice@Contoso.Test");
        assert_eq!(a.domain(), "contoso.test");
    }

    #[test]
    fn malformed_user_principal_names_are_refused() {
        for bad in ["", "alice", "@contoso.test", "alice@", "a b@c.d", "a@b@c", "a@.c", "a@c..d"] {
            assert!(UserPrincipalName::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn roles_are_found_by_template_id_display_name_or_slug() {
        assert_eq!(
            DirectoryRole::find("62E90394-69F5-4237-9190-012177145E10"),
            Some(DirectoryRole::GlobalAdministrator)
        );
        assert_eq!(DirectoryRole::find("global reader"), Some(DirectoryRole::GlobalReader));
        assert_eq!(
            DirectoryRole::from_slug("authentication-admin"),
            Some(DirectoryRole::AuthenticationAdministrator)
        );
        assert_eq!(DirectoryRole::find("nope"), None);
    }
}
