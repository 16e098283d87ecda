//! The storage interface. SQLite and PostgreSQL implement it (crate `latchkey-store`);
//! one conformance suite (crate `latchkey-testkit`) holds both to the same behaviour.
//!
//! Every method that changes state takes the audit record(s) describing the change and
//! writes them in the same transaction, so a crash leaves the change with its record or
//! neither. `get_*` would fail with `NotFound`; `find_*` returns `Option`.

use crate::audit::AuditRecord;
use crate::device::{DeviceCode, DeviceDecision};
use crate::directory::{Group, Page, RoleAssignment, User, UserFilter};
use crate::ids::{AppId, ApplicationObjectId, GroupId, MethodId, PassId, RoleAssignmentId, UserId};
use crate::methods::{Ceremony, Fido2Method, SoftwareOathMethod};
use crate::pass::TemporaryAccessPass;
use crate::policy::TapPolicy;
use crate::session::{AuthRequest, AuthorizationCode, Domain, Redemption, RefreshToken, Rotation, Session, SignInRecord};
use crate::signin::Throttle;
use crate::tenant::{Application, ClientSecret, SigningKeyRecord, Tenant};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

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
    /// A number that grows whenever any process commits a change to the database, read
    /// without a round trip to it; `None` while the store cannot tell (then nothing read
    /// from it may be cached). See [`crate::read_cache`].
    fn data_version(&self) -> Option<u64> {
        None
    }

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
    /// Writes, once per pass, an audit record for each pass that has expired (at most
    /// `limit` per call): claiming the pass and writing its record happen in one
    /// transaction, so several servers never record the same expiry twice.
    async fn record_pass_expiries(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        audit_for: &(dyn for<'p, 'u> Fn(&'p TemporaryAccessPass, &'u User) -> AuditRecord + Send + Sync),
    ) -> StoreResult<Vec<(TemporaryAccessPass, User)>>;
    /// Marks a one-time pass used if, and only if, it is still unused: `true` for exactly
    /// one of any number of concurrent callers.
    async fn consume_pass(&self, id: PassId, at: DateTime<Utc>) -> StoreResult<bool>;

    // --- applications and keys --------------------------------------------------------
    async fn find_application_by_app_id(&self, app_id: AppId) -> StoreResult<Option<Application>>;
    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Adds a new signing key and retires the current one(s) as of `now`.
    async fn rotate_signing_key(&self, new: &SigningKeyRecord, now: DateTime<Utc>, audit: &AuditRecord) -> StoreResult<()>;

    // --- sign-in ------------------------------------------------------------------------
    async fn insert_auth_request(&self, request: &AuthRequest) -> StoreResult<()>;
    async fn find_auth_request(&self, id: &str) -> StoreResult<Option<AuthRequest>>;
    async fn delete_auth_request(&self, id: &str) -> StoreResult<()>;
    /// Stores a session under the digest of its cookie token.
    async fn insert_session(&self, session: &Session, token_digest: &str) -> StoreResult<()>;
    async fn find_session_by_token(&self, token_digest: &str) -> StoreResult<Option<Session>>;
    async fn find_session(&self, id: Uuid) -> StoreResult<Option<Session>>;
    /// Revokes the session and every refresh token made from it.
    async fn revoke_session(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()>;
    async fn insert_authorization_code(&self, code: &AuthorizationCode) -> StoreResult<()>;
    /// Marks a code used if, and only if, it was unused: exactly one caller redeems it.
    async fn redeem_authorization_code(&self, digest: &str, at: DateTime<Utc>) -> StoreResult<Redemption>;
    async fn insert_refresh_token(&self, token: &RefreshToken) -> StoreResult<()>;
    async fn find_refresh_token(&self, digest: &str) -> StoreResult<Option<RefreshToken>>;
    /// Replaces `old_digest` by `new` atomically; a used or revoked token revokes its family.
    async fn rotate_refresh_token(&self, old_digest: &str, new: &RefreshToken, at: DateTime<Utc>) -> StoreResult<Rotation>;
    /// Revokes every refresh token of a family (e.g. the ones a replayed code gave).
    async fn revoke_refresh_family(&self, family: Uuid, at: DateTime<Utc>) -> StoreResult<()>;
    async fn get_throttle(&self, user: UserId) -> StoreResult<Throttle>;
    async fn save_throttle(&self, user: UserId, throttle: &Throttle) -> StoreResult<()>;
    async fn insert_sign_in(&self, record: &SignInRecord) -> StoreResult<()>;
    /// Newest first.
    async fn list_sign_ins(&self, page: Page) -> StoreResult<Vec<SignInRecord>>;
    /// `Conflict` if the domain exists.
    async fn insert_domain(&self, domain: &Domain, audit: &AuditRecord) -> StoreResult<()>;
    async fn update_domain(&self, domain: &Domain, audit: &AuditRecord) -> StoreResult<()>;
    async fn find_domain(&self, id: &str) -> StoreResult<Option<Domain>>;
    async fn list_domains(&self) -> StoreResult<Vec<Domain>>;

    // --- audit --------------------------------------------------------------------------
    /// Newest first.
    async fn list_audit(&self, page: Page) -> StoreResult<Vec<AuditRecord>>;

    // --- application registrations ----------------------------------------------------
    /// Stores an application with its secrets and redirect URIs; `Conflict` if its object
    /// id or appId is taken.
    async fn insert_application(&self, app: &Application, audit: &AuditRecord) -> StoreResult<()>;
    /// Applications with their secrets, oldest first (creation time, then id), so a page
    /// boundary does not move when applications are added.
    async fn list_applications(&self, page: Page) -> StoreResult<Vec<Application>>;
    async fn find_application(&self, id: ApplicationObjectId) -> StoreResult<Option<Application>>;
    /// Removes the application and its secrets; `NotFound` if there is none.
    async fn delete_application(&self, id: ApplicationObjectId, audit: &AuditRecord) -> StoreResult<()>;
    /// Adds a secret to the application with this appId; `NotFound` if there is none,
    /// `Conflict` if the key id is taken.
    async fn add_client_secret(&self, app_id: AppId, secret: &ClientSecret, audit: &AuditRecord) -> StoreResult<()>;

    // --- passkeys and authenticator apps (My Security Info) ---------------------------
    /// `Conflict` if the credential id is registered already.
    async fn insert_fido2_method(&self, method: &Fido2Method, audit: &AuditRecord) -> StoreResult<()>;
    /// The user's passkeys, oldest first.
    async fn list_fido2_methods(&self, user: UserId) -> StoreResult<Vec<Fido2Method>>;
    async fn find_fido2_by_credential_id(&self, credential_id: &str) -> StoreResult<Option<Fido2Method>>;
    /// Saves the credential after a sign-in (its signature counter) and when it was used.
    async fn record_fido2_use(&self, id: MethodId, passkey: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// `NotFound` unless the user holds this passkey.
    async fn delete_fido2_method(&self, user: UserId, id: MethodId, audit: &AuditRecord) -> StoreResult<()>;
    async fn insert_software_oath_method(&self, method: &SoftwareOathMethod, audit: &AuditRecord) -> StoreResult<()>;
    /// The user's authenticator apps, oldest first.
    async fn list_software_oath_methods(&self, user: UserId) -> StoreResult<Vec<SoftwareOathMethod>>;
    /// Records `step` as used if, and only if, it is later than the last used one: of
    /// concurrent sign-ins with the same code exactly one gets `true`.
    async fn use_totp_step(&self, id: MethodId, step: i64) -> StoreResult<bool>;
    /// `NotFound` unless the user holds this authenticator app.
    async fn delete_software_oath_method(&self, user: UserId, id: MethodId, audit: &AuditRecord) -> StoreResult<()>;
    async fn insert_ceremony(&self, ceremony: &Ceremony) -> StoreResult<()>;
    /// Removes and returns the ceremony: a challenge can be answered once.
    async fn take_ceremony(&self, id: Uuid) -> StoreResult<Option<Ceremony>>;
    /// Deletes ceremonies that expired before `now`.
    async fn purge_ceremonies(&self, now: DateTime<Utc>) -> StoreResult<u64>;

    // --- device authorization grant (RFC 8628) ---
    /// Stores a new device authorization; `Conflict` if its device or user code is taken.
    async fn insert_device_code(&self, code: &DeviceCode) -> StoreResult<()>;
    async fn find_device_code(&self, device_code_digest: &str) -> StoreResult<Option<DeviceCode>>;
    async fn find_device_code_by_user_code(&self, user_code_digest: &str) -> StoreResult<Option<DeviceCode>>;
    /// Records the person's answer if, and only if, the code is still pending and has not
    /// expired at `at`: `true` for exactly one of any number of concurrent callers.
    async fn decide_device_code(&self, user_code_digest: &str, decision: DeviceDecision, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Records a poll at `at` with the interval to keep, if, and only if, the code's last
    /// poll is still `previous` (compare-and-set): `false` when another poll came between.
    async fn record_device_poll(
        &self,
        device_code_digest: &str,
        previous: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
        interval_seconds: i64,
    ) -> StoreResult<bool>;
    /// Marks an approved code redeemed if, and only if, it is still approved: `true` for
    /// exactly one of any number of concurrent callers.
    async fn redeem_device_code(&self, device_code_digest: &str, at: DateTime<Utc>) -> StoreResult<bool>;
}
