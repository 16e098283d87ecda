//! The storage interface. SQLite and PostgreSQL implement it (crate `latchkey-store`);
//! one conformance suite (crate `latchkey-testkit`) holds both to the same behaviour.
//!
//! Every method that changes state takes the audit record(s) describing the change and
//! writes them in the same transaction, so a crash leaves the change with its record or
//! neither. `get_*` would fail with `NotFound`; `find_*` returns `Option`.

use crate::audit::AuditRecord;
use crate::directory::{Group, Page, RoleAssignment, User, UserFilter};
use crate::ids::{AppId, GroupId, PassId, RoleAssignmentId, UserId};
use crate::pass::TemporaryAccessPass;
use crate::policy::TapPolicy;
use crate::tenant::{Application, SigningKeyRecord, Tenant};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{kind} '{id}' not found")]
    NotFound { kind: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    #[error("this database already holds a tenant")]
    AlreadyInitialised,
    /// The database failed; the text is for the log, never for the caller.
    #[error("storage backend: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything `latchkey init` creates, written in one transaction.
#[derive(Debug, Clone)]
pub struct TenantSeed {
    pub tenant: Tenant,
    pub policy: TapPolicy,
    pub admin: User,
    pub admin_role: RoleAssignment,
    pub admin_pass: TemporaryAccessPass,
    pub client: Application,
    pub signing_key: SigningKeyRecord,
    /// A value sealed under the master key, to tell a wrong key file at start-up.
    pub master_key_check: String,
    pub audit: Vec<AuditRecord>,
}

/// What a user's sign-in and methods views need in one read.
#[derive(Debug, Clone)]
pub struct UserAuthState {
    pub user: User,
    pub pass: Option<TemporaryAccessPass>,
    pub groups: Vec<GroupId>,
    pub roles: Vec<crate::directory::DirectoryRole>,
}

#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    // --- tenant -----------------------------------------------------------------------
    /// Creates the tenant and everything in the seed; `AlreadyInitialised` if one exists,
    /// in which case nothing changes.
    async fn initialise(&self, seed: &TenantSeed) -> StoreResult<()>;
    async fn find_tenant(&self) -> StoreResult<Option<Tenant>>;
    async fn master_key_check(&self) -> StoreResult<Option<String>>;

    // --- users ------------------------------------------------------------------------
    /// `Conflict` if the user principal name is taken.
    async fn insert_user(&self, user: &User, audit: &AuditRecord) -> StoreResult<()>;
    async fn update_user(&self, user: &User, audit: &AuditRecord) -> StoreResult<()>;
    /// Removes the user with their pass, memberships and role assignments.
    async fn delete_user(&self, id: UserId, audit: &AuditRecord) -> StoreResult<()>;
    async fn find_user(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn find_user_by_upn(&self, normalized_upn: &str) -> StoreResult<Option<User>>;
    /// Users matching every filter, ordered by user principal name.
    async fn list_users(&self, filters: &[UserFilter], page: Page) -> StoreResult<Vec<User>>;
    async fn count_users(&self, filters: &[UserFilter]) -> StoreResult<u64>;
    /// The user with their pass, groups and roles, in one consistent read.
    async fn find_user_auth_state(&self, id: UserId) -> StoreResult<Option<UserAuthState>>;

    // --- groups -----------------------------------------------------------------------
    async fn insert_group(&self, group: &Group, audit: &AuditRecord) -> StoreResult<()>;
    async fn delete_group(&self, id: GroupId, audit: &AuditRecord) -> StoreResult<()>;
    async fn find_group(&self, id: GroupId) -> StoreResult<Option<Group>>;
    async fn list_groups(&self, page: Page) -> StoreResult<Vec<Group>>;
    /// `Conflict` if already a member.
    async fn add_member(&self, group: GroupId, user: UserId, audit: &AuditRecord) -> StoreResult<()>;
    /// `NotFound` if not a member.
    async fn remove_member(&self, group: GroupId, user: UserId, audit: &AuditRecord) -> StoreResult<()>;
    async fn list_members(&self, group: GroupId, page: Page) -> StoreResult<Vec<User>>;

    // --- directory roles ----------------------------------------------------------------
    /// `Conflict` if the principal already holds the role.
    async fn insert_role_assignment(&self, assignment: &RoleAssignment, audit: &AuditRecord) -> StoreResult<()>;
    async fn delete_role_assignment(&self, id: RoleAssignmentId, audit: &AuditRecord) -> StoreResult<()>;
    async fn find_role_assignment(&self, id: RoleAssignmentId) -> StoreResult<Option<RoleAssignment>>;
    async fn list_role_assignments(&self, principal: Option<UserId>, page: Page) -> StoreResult<Vec<RoleAssignment>>;

    // --- policy -------------------------------------------------------------------------
    async fn get_policy(&self) -> StoreResult<TapPolicy>;
    async fn save_policy(&self, policy: &TapPolicy, audit: &AuditRecord) -> StoreResult<()>;

    // --- passes -------------------------------------------------------------------------
    /// Stores a user's new pass, deleting any pass they had (one pass per user).
    async fn replace_pass(&self, pass: &TemporaryAccessPass, audit: &AuditRecord) -> StoreResult<()>;
    /// `NotFound` unless the user holds a pass with this id.
    async fn delete_pass(&self, user: UserId, id: PassId, audit: &AuditRecord) -> StoreResult<()>;
    async fn find_pass_for_user(&self, user: UserId) -> StoreResult<Option<TemporaryAccessPass>>;
    /// Marks a one-time pass used if, and only if, it is still unused: `true` for exactly
    /// one of any number of concurrent callers.
    async fn consume_pass(&self, id: PassId, at: DateTime<Utc>) -> StoreResult<bool>;

    // --- applications and keys --------------------------------------------------------
    async fn find_application_by_app_id(&self, app_id: AppId) -> StoreResult<Option<Application>>;
    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>>;

    // --- audit --------------------------------------------------------------------------
    /// Newest first.
    async fn list_audit(&self, page: Page) -> StoreResult<Vec<AuditRecord>>;
}
