//! Who may do what (DESIGN.md "Who may do what"), in one place.
//!
//! A caller is a signed-in user acting with their directory roles (delegated), an
//! application acting with its application permissions (app-only), or an operator on the
//! server using the CLI, who may do anything an admin may except issue a pass to themselves.

use crate::directory::{DirectoryRole, User};
use crate::error::CoreError;
use crate::ids::{AppId, UserId};
use std::fmt;

/// Microsoft Graph permission names (application or delegated) that latchkey honours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    UserAuthenticationMethodReadAll,
    UserAuthenticationMethodReadWriteAll,
    UserAuthMethodTapReadAll,
    UserAuthMethodTapReadWriteAll,
    PolicyReadAll,
    PolicyReadWriteAuthenticationMethod,
    UserReadAll,
    UserReadWriteAll,
    UserInviteAll,
    GroupReadAll,
    GroupReadWriteAll,
    RoleManagementReadDirectory,
    RoleManagementReadWriteDirectory,
    AuditLogReadAll,
    ApplicationReadAll,
    ApplicationReadWriteAll,
    DomainReadAll,
    DomainReadWriteAll,
}

impl Permission {
    pub const ALL: [Self; 18] = [
        Self::UserAuthenticationMethodReadAll,
        Self::UserAuthenticationMethodReadWriteAll,
        Self::UserAuthMethodTapReadAll,
        Self::UserAuthMethodTapReadWriteAll,
        Self::PolicyReadAll,
        Self::PolicyReadWriteAuthenticationMethod,
        Self::UserReadAll,
        Self::UserReadWriteAll,
        Self::UserInviteAll,
        Self::GroupReadAll,
        Self::GroupReadWriteAll,
        Self::RoleManagementReadDirectory,
        Self::RoleManagementReadWriteDirectory,
        Self::AuditLogReadAll,
        Self::ApplicationReadAll,
        Self::ApplicationReadWriteAll,
        Self::DomainReadAll,
        Self::DomainReadWriteAll,
    ];

    /// What `latchkey init` grants the automation client: the write permission of every
    /// area (each implies its read).
    pub const AUTOMATION: [Self; 9] = [
        Self::UserAuthenticationMethodReadWriteAll,
        Self::PolicyReadWriteAuthenticationMethod,
        Self::UserReadWriteAll,
        Self::GroupReadWriteAll,
        Self::RoleManagementReadWriteDirectory,
        Self::AuditLogReadAll,
        Self::UserInviteAll,
        Self::ApplicationReadWriteAll,
        Self::DomainReadWriteAll,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UserAuthenticationMethodReadAll => "UserAuthenticationMethod.Read.All",
            Self::UserAuthenticationMethodReadWriteAll => "UserAuthenticationMethod.ReadWrite.All",
            Self::UserAuthMethodTapReadAll => "UserAuthMethod-TAP.Read.All",
            Self::UserAuthMethodTapReadWriteAll => "UserAuthMethod-TAP.ReadWrite.All",
            Self::PolicyReadAll => "Policy.Read.All",
            Self::PolicyReadWriteAuthenticationMethod => "Policy.ReadWrite.AuthenticationMethod",
            Self::UserReadAll => "User.Read.All",
            Self::UserReadWriteAll => "User.ReadWrite.All",
            Self::UserInviteAll => "User.Invite.All",
            Self::GroupReadAll => "Group.Read.All",
            Self::GroupReadWriteAll => "Group.ReadWrite.All",
            Self::RoleManagementReadDirectory => "RoleManagement.Read.Directory",
            Self::RoleManagementReadWriteDirectory => "RoleManagement.ReadWrite.Directory",
            Self::AuditLogReadAll => "AuditLog.Read.All",
            Self::ApplicationReadAll => "Application.Read.All",
            Self::ApplicationReadWriteAll => "Application.ReadWrite.All",
            Self::DomainReadAll => "Domain.Read.All",
            Self::DomainReadWriteAll => "Domain.ReadWrite.All",
        }
    }

    /// Whether holding `self` grants `other`: each permission grants itself, and a
    /// ReadWrite permission grants its Read counterpart.
    #[must_use]
    pub fn grants(self, other: Self) -> bool {
        use Permission as P;
        self == other
            || matches!(
                (self, other),
                (
                    P::UserAuthenticationMethodReadWriteAll,
                    P::UserAuthenticationMethodReadAll | P::UserAuthMethodTapReadAll | P::UserAuthMethodTapReadWriteAll
                ) | (P::UserAuthMethodTapReadWriteAll, P::UserAuthMethodTapReadAll)
                    | (P::PolicyReadWriteAuthenticationMethod, P::PolicyReadAll)
                    | (P::UserReadWriteAll, P::UserReadAll | P::UserInviteAll)
                    | (P::GroupReadWriteAll, P::GroupReadAll)
                    | (P::RoleManagementReadWriteDirectory, P::RoleManagementReadDirectory)
                    | (P::ApplicationReadWriteAll, P::ApplicationReadAll)
                    | (P::DomainReadWriteAll, P::DomainReadAll)
            )
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str().eq_ignore_ascii_case(s))
    }
}

/// Who is calling.
#[derive(Clone, PartialEq, Eq)]
pub enum Caller {
    /// A signed-in user; `roles` are the directory roles they hold now.
    User {
        id: UserId,
        upn: String,
        roles: Vec<DirectoryRole>,
    },
    /// An application with its granted application permissions.
    App {
        app_id: AppId,
        display_name: String,
        permissions: Vec<Permission>,
    },
    /// Someone on the server running the CLI against the database.
    Operator { name: String },
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User { id, roles, .. } => write!(f, "User({id}, {roles:?})"),
            Self::App { app_id, .. } => write!(f, "App({app_id})"),
            Self::Operator { name } => write!(f, "Operator({name})"),
        }
    }
}

/// An area of the API and whether the call reads or writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Users,
    Invitations,
    Groups,
    Roles,
    Policy,
    AuditLogs,
    /// Application registrations (`/applications`), the OAuth clients.
    Applications,
    /// Domains and their federation (`/domains`).
    Domains,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// What is being done to someone's pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassAction {
    Create,
    Read,
    Delete,
}

fn denied(what: &str) -> CoreError {
    CoreError::Forbidden(format!("Insufficient privileges to complete the operation: {what}."))
}

fn app_has(perms: &[Permission], read: &[Permission], write: &[Permission], access: Access) -> bool {
    perms
        .iter()
        .any(|p| write.contains(p) || (access == Access::Read && read.contains(p)))
}

impl Caller {
    /// Whether the caller is the given user.
    #[must_use]
    pub fn is_user(&self, user: UserId) -> bool {
        matches!(self, Self::User { id, .. } if *id == user)
    }

    fn has_role(&self, role: DirectoryRole) -> bool {
        matches!(self, Self::User { roles, .. } if roles.contains(&role))
    }

    /// Checks access to an area other than passes.
    pub fn authorize(&self, area: Area, access: Access) -> Result<(), CoreError> {
        use DirectoryRole as R;
        use Permission as P;
        let ok = match self {
            Self::Operator { .. } => true,
            Self::App { permissions, .. } => match area {
                Area::Users => app_has(permissions, &[P::UserReadAll], &[P::UserReadWriteAll], access),
                Area::Invitations => app_has(permissions, &[], &[P::UserInviteAll, P::UserReadWriteAll], access),
                Area::Groups => app_has(permissions, &[P::GroupReadAll], &[P::GroupReadWriteAll], access),
                Area::Roles => app_has(
                    permissions,
                    &[P::RoleManagementReadDirectory],
                    &[P::RoleManagementReadWriteDirectory],
                    access,
                ),
                Area::Policy => app_has(permissions, &[P::PolicyReadAll], &[P::PolicyReadWriteAuthenticationMethod], access),
                Area::AuditLogs => app_has(permissions, &[P::AuditLogReadAll], &[], access),
                Area::Applications => app_has(permissions, &[P::ApplicationReadAll], &[P::ApplicationReadWriteAll], access),
                Area::Domains => app_has(permissions, &[P::DomainReadAll], &[P::DomainReadWriteAll], access),
            },
            Self::User { .. } => {
                let reader = access == Access::Read && self.has_role(R::GlobalReader);
                reader
                    || self.has_role(R::GlobalAdministrator)
                    || match (area, access) {
                        // Authentication admins must find the users they help.
                        (Area::Users, Access::Read) => {
                            self.has_role(R::AuthenticationAdministrator) || self.has_role(R::PrivilegedAuthenticationAdministrator)
                        }
                        (Area::Policy, _) => self.has_role(R::AuthenticationPolicyAdministrator),
                        _ => false,
                    }
            }
        };
        if ok {
            Ok(())
        } else {
            Err(denied(&format!("{access:?} access to {area:?}").to_lowercase()))
        }
    }

    /// Checks an action on `target`'s pass. `target_roles` are the roles the target holds;
    /// anyone holding a role counts as an admin.
    ///
    /// - Global Administrator and Privileged Authentication Administrator: admins and members.
    /// - Authentication Administrator: members who hold no role.
    /// - Global Reader: read only (the code is never readable by anyone).
    /// - Nobody creates a pass for themselves; a user may read and delete their own.
    /// - Applications: `UserAuthenticationMethod.*` or `UserAuthMethod-TAP.*`.
    pub fn authorize_pass(&self, action: PassAction, target: &User, target_roles: &[DirectoryRole]) -> Result<(), CoreError> {
        use DirectoryRole as R;
        use Permission as P;
        let access = if action == PassAction::Read { Access::Read } else { Access::Write };
        match self {
            Self::Operator { .. } => Ok(()),
            Self::App { permissions, .. } => {
                if app_has(
                    permissions,
                    &[P::UserAuthenticationMethodReadAll, P::UserAuthMethodTapReadAll],
                    &[P::UserAuthenticationMethodReadWriteAll, P::UserAuthMethodTapReadWriteAll],
                    access,
                ) {
                    Ok(())
                } else {
                    Err(denied("the application lacks UserAuthenticationMethod.ReadWrite.All"))
                }
            }
            Self::User { id, .. } if *id == target.id => match action {
                PassAction::Create => Err(CoreError::Forbidden(
                    "Nobody can create a Temporary Access Pass for themselves.".into(),
                )),
                PassAction::Read | PassAction::Delete => Ok(()),
            },
            Self::User { .. } => {
                let target_is_admin = !target_roles.is_empty();
                let allowed = self.has_role(R::GlobalAdministrator)
                    || self.has_role(R::PrivilegedAuthenticationAdministrator)
                    || (self.has_role(R::AuthenticationAdministrator) && !target_is_admin)
                    || (action == PassAction::Read && self.has_role(R::GlobalReader));
                if allowed {
                    Ok(())
                } else if self.has_role(R::AuthenticationAdministrator) {
                    Err(denied(
                        "an Authentication Administrator cannot manage the pass of a user who holds an admin role",
                    ))
                } else {
                    Err(denied(
                        "managing another user's Temporary Access Pass needs an authentication administrator role",
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::{UserOrigin, UserPrincipalName, UserType};

    fn user() -> User {
        User {
            id: UserId::new_random(),
            user_principal_name: UserPrincipalName::parse("t@contoso.test").unwrap(),
            display_name: "T".into(),
            mail: None,
            user_type: UserType::Member,
            origin: UserOrigin::Internal,
            account_enabled: true,
            password_hash: None,
            password_set_at: None,
            created_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn caller(roles: &[DirectoryRole]) -> Caller {
        Caller::User {
            id: UserId::new_random(),
            upn: "c@contoso.test".into(),
            roles: roles.to_vec(),
        }
    }

    const ADMIN: &[DirectoryRole] = &[DirectoryRole::GlobalReader];

    #[test]
    fn role_matrix_for_passes_matches_the_seeds() {
        use DirectoryRole as R;
        use PassAction as A;
        let t = user();
        let cases: &[(&[R], A, &[R], bool)] = &[
            (&[R::GlobalAdministrator], A::Create, ADMIN, true),
            (&[R::PrivilegedAuthenticationAdministrator], A::Create, ADMIN, true),
            (&[R::PrivilegedAuthenticationAdministrator], A::Delete, &[], true),
            (&[R::AuthenticationAdministrator], A::Create, &[], true),
            (&[R::AuthenticationAdministrator], A::Read, &[], true),
            (&[R::AuthenticationAdministrator], A::Create, ADMIN, false),
            (&[R::AuthenticationAdministrator], A::Delete, ADMIN, false),
            (&[R::GlobalReader], A::Read, ADMIN, true),
            (&[R::GlobalReader], A::Create, &[], false),
            (&[R::GlobalReader], A::Delete, &[], false),
            (&[R::AuthenticationPolicyAdministrator], A::Create, &[], false),
            (&[], A::Read, &[], false),
        ];
        for (roles, action, target_roles, expected) in cases {
            assert_eq!(
                caller(roles).authorize_pass(*action, &t, target_roles).is_ok(),
                *expected,
                "{roles:?} {action:?} target {target_roles:?}"
            );
        }
    }

    #[test]
    fn nobody_creates_a_pass_for_themselves_but_may_read_and_delete_their_own() {
        let t = user();
        let me = Caller::User {
            id: t.id,
            upn: "t@contoso.test".into(),
            roles: vec![DirectoryRole::GlobalAdministrator],
        };
        assert!(matches!(
            me.authorize_pass(PassAction::Create, &t, &[]),
            Err(CoreError::Forbidden(_))
        ));
        assert!(me.authorize_pass(PassAction::Read, &t, &[]).is_ok());
        assert!(me.authorize_pass(PassAction::Delete, &t, &[]).is_ok());
    }

    #[test]
    fn applications_need_the_matching_permission() {
        let t = user();
        let app = |p: &[Permission]| Caller::App {
            app_id: AppId::new_random(),
            display_name: "a".into(),
            permissions: p.to_vec(),
        };
        assert!(
            app(&[Permission::UserAuthenticationMethodReadWriteAll])
                .authorize_pass(PassAction::Create, &t, ADMIN)
                .is_ok()
        );
        assert!(
            app(&[Permission::UserAuthenticationMethodReadAll])
                .authorize_pass(PassAction::Read, &t, &[])
                .is_ok()
        );
        assert!(
            app(&[Permission::UserAuthenticationMethodReadAll])
                .authorize_pass(PassAction::Create, &t, &[])
                .is_err()
        );
        assert!(
            app(&[Permission::UserReadWriteAll])
                .authorize_pass(PassAction::Read, &t, &[])
                .is_err()
        );
        assert!(app(&[Permission::PolicyReadAll]).authorize(Area::Policy, Access::Read).is_ok());
        assert!(app(&[Permission::PolicyReadAll]).authorize(Area::Policy, Access::Write).is_err());
    }

    #[test]
    fn write_permissions_grant_their_read_counterparts_but_not_the_reverse() {
        assert!(Permission::UserAuthenticationMethodReadWriteAll.grants(Permission::UserAuthenticationMethodReadAll));
        assert!(!Permission::UserAuthenticationMethodReadAll.grants(Permission::UserAuthenticationMethodReadWriteAll));
        assert!(Permission::PolicyReadWriteAuthenticationMethod.grants(Permission::PolicyReadAll));
        assert!(!Permission::PolicyReadAll.grants(Permission::UserReadAll));
    }

    #[test]
    fn application_registrations_need_application_permissions_or_the_global_roles() {
        use DirectoryRole as R;
        let app = |p: &[Permission]| Caller::App {
            app_id: AppId::new_random(),
            display_name: "a".into(),
            permissions: p.to_vec(),
        };
        let rw = app(&[Permission::ApplicationReadWriteAll]);
        assert!(rw.authorize(Area::Applications, Access::Write).is_ok());
        assert!(rw.authorize(Area::Applications, Access::Read).is_ok());
        let ro = app(&[Permission::ApplicationReadAll]);
        assert!(ro.authorize(Area::Applications, Access::Read).is_ok());
        assert!(ro.authorize(Area::Applications, Access::Write).is_err());
        assert!(
            app(&[Permission::UserReadWriteAll])
                .authorize(Area::Applications, Access::Read)
                .is_err()
        );
        assert!(Permission::ApplicationReadWriteAll.grants(Permission::ApplicationReadAll));
        assert!(Permission::AUTOMATION.contains(&Permission::ApplicationReadWriteAll));
        assert_eq!(
            Permission::parse("application.readwrite.all"),
            Some(Permission::ApplicationReadWriteAll)
        );
        assert!(
            caller(&[R::GlobalAdministrator])
                .authorize(Area::Applications, Access::Write)
                .is_ok()
        );
        assert!(caller(&[R::GlobalReader]).authorize(Area::Applications, Access::Read).is_ok());
        assert!(caller(&[R::GlobalReader]).authorize(Area::Applications, Access::Write).is_err());
        assert!(
            caller(&[R::PrivilegedAuthenticationAdministrator])
                .authorize(Area::Applications, Access::Read)
                .is_err()
        );
    }

    #[test]
    fn only_policy_admins_and_global_admins_edit_the_policy() {
        use DirectoryRole as R;
        assert!(
            caller(&[R::AuthenticationPolicyAdministrator])
                .authorize(Area::Policy, Access::Write)
                .is_ok()
        );
        assert!(caller(&[R::GlobalAdministrator]).authorize(Area::Policy, Access::Write).is_ok());
        assert!(caller(&[R::GlobalReader]).authorize(Area::Policy, Access::Read).is_ok());
        assert!(caller(&[R::GlobalReader]).authorize(Area::Policy, Access::Write).is_err());
        assert!(
            caller(&[R::PrivilegedAuthenticationAdministrator])
                .authorize(Area::Policy, Access::Write)
                .is_err()
        );
    }
}
