//! The use cases: each checks who is asking, applies the rules, and stores the result with
//! its audit record. The HTTP handlers and the CLI call these and nothing below them.

use crate::audit::{self, AuditRecord, SERVICE_AUTH_METHODS, SERVICE_CORE_DIRECTORY, TargetResource, activity};
use crate::authz::{Access, Area, Caller, PassAction, Permission};
use crate::clock::Clock;
use crate::directory::{
    DirectoryRole, Group, Page, RoleAssignment, User, UserFilter, UserOrigin, UserPrincipalName, UserType, parse_display_name,
};
use crate::error::{CoreError, EXTERNAL_GUEST_MESSAGE, POLICY_REFUSES_CREATION_MESSAGE};
use crate::ids::{AppId, ApplicationObjectId, GroupId, PassId, RoleAssignmentId, SecretKeyId, TenantId, UserId};
use crate::methods::StrongMethods;
use crate::pass::{PassRequest, TemporaryAccessPass, Usability, generate_code};
use crate::policy::{PolicyChange, PolicyState, TapPolicy};
use crate::read_cache::{ReadCache, Versioned};
use crate::secrets::{MasterKey, SecretHasher, SecretString, digest, digest_matches, random_token};
use crate::store::{Store, TenantSeed, UserAuthState};
use crate::tenant::{Application, ClientSecret, SigningKeyRecord, Tenant, parse_domain};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use std::sync::Arc;

mod applications;
mod device;
mod domains;
mod security_info;
mod signin;
pub use device::{DeviceAuthorization, PendingDeviceCode};
pub use security_info::{AuthenticatorChallenge, Authenticators, Enrolment, Landing, MAX_METHOD_NAME, PasskeyChallenge, SecurityInfo};
pub use signin::{Discovery, Grant, GrantError, SignInContext, SignInFailure, SignedIn, pkce_matches};

/// A page of results and whether more follow.
#[derive(Debug, Clone)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub more: bool,
}

impl<T> Listing<T> {
    fn from_overfetch(mut items: Vec<T>, page: Page) -> Self {
        let more = items.len() > page.top as usize;
        items.truncate(page.top as usize);
        Self { items, more }
    }
}

fn overfetch(page: Page) -> Page {
    Page {
        skip: page.skip,
        top: page.top.saturating_add(1),
    }
}

/// A pass together with what the policy says of it now.
#[derive(Debug, Clone)]
pub struct PassView {
    pub pass: TemporaryAccessPass,
    pub usability: Usability,
}

/// A pass just issued: the only place its code ever appears.
#[derive(Debug)]
pub struct IssuedPass {
    pub view: PassView,
    pub code: SecretString,
}

/// A user's authentication methods as Graph lists them.
#[derive(Debug, Clone)]
pub struct AuthMethods {
    pub password_set_at: Option<Option<DateTime<Utc>>>,
    pub pass: Option<PassView>,
    pub strong: crate::methods::StrongMethods,
}

/// A new user, as `POST /users` or the CLI asks for one.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user_principal_name: String,
    pub display_name: String,
    pub mail: Option<String>,
    pub user_type: UserType,
    pub account_enabled: bool,
    pub password: Option<SecretString>,
}

/// A change to a user (`PATCH /users/{id}`); absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub mail: Option<Option<String>>,
    pub user_type: Option<UserType>,
    pub account_enabled: Option<bool>,
    pub password: Option<SecretString>,
}

/// What `latchkey init` asks for.
#[derive(Debug)]
pub struct InitRequest {
    pub domain: String,
    pub admin_upn: Option<String>,
    /// The token-signing key, already generated and sealed by the caller.
    pub signing_key: SigningKeyRecord,
}

/// What `latchkey init` made; the pass code and client secret appear here only.
#[derive(Debug)]
pub struct InitOutcome {
    pub tenant: Tenant,
    pub admin: User,
    pub admin_pass: IssuedPass,
    pub client_app_id: AppId,
    pub client_secret: SecretString,
}

/// A client secret just added.
#[derive(Debug)]
pub struct IssuedClientSecret {
    pub secret: ClientSecret,
    pub text: SecretString,
}

/// The context the master key check seals; a wrong key file fails to open it.
pub const MASTER_KEY_CHECK_CONTEXT: &str = "latchkey master key check";
/// How long a client secret made by `init` lasts (Entra's portal offers up to 2 years).
const CLIENT_SECRET_LIFETIME_DAYS: i64 = 730;

/// The application: the store, the clock and the hasher, and the use cases over them.
#[derive(Debug, Clone)]
pub struct Latchkey {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    hasher: SecretHasher,
    authenticators: Option<Arc<security_info::Authenticators>>,
    /// Copies of hot reads, valid while the store's data version stands still.
    cache: Arc<ReadCache>,
}

impl Latchkey {
    #[must_use]
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, hasher: SecretHasher) -> Self {
        Self {
            store,
            clock,
            hasher,
            authenticators: None,
            cache: Arc::new(ReadCache::default()),
        }
    }

    /// `load`'s value for `key`, or the copy of it read at `version` (the store's data
    /// version, taken once per use case so its copies agree). Only for reads whose answer
    /// is shown or checked, never for a read a write or a sign-in decides on (those read
    /// inside their own transaction).
    async fn read_through<K: std::hash::Hash + Eq, V, E>(
        copies: &Versioned<K, V>,
        version: Option<u64>,
        key: K,
        load: impl Future<Output = Result<Option<V>, E>>,
    ) -> Result<Option<Arc<V>>, CoreError>
    where
        CoreError: From<E>,
    {
        if let Some(v) = version
            && let Some(hit) = copies.get(v, &key)
        {
            return Ok(Some(hit));
        }
        let Some(value) = load.await? else {
            return Ok(None);
        };
        let value = Arc::new(value);
        if let Some(v) = version {
            copies.put(v, key, Arc::clone(&value));
        }
        Ok(Some(value))
    }

    async fn application_copy(&self, version: Option<u64>, app_id: AppId) -> Result<Option<Arc<Application>>, CoreError> {
        Self::read_through(
            &self.cache.applications,
            version,
            app_id,
            self.store.find_application_by_app_id(app_id),
        )
        .await
    }

    async fn user_state_copy(&self, version: Option<u64>, id: UserId) -> Result<Option<Arc<UserAuthState>>, CoreError> {
        Self::read_through(&self.cache.user_states, version, id, self.store.find_user_auth_state(id)).await
    }

    async fn policy_copy(&self, version: Option<u64>) -> Result<Arc<TapPolicy>, CoreError> {
        let policy = Self::read_through(&self.cache.policy, version, (), async { self.store.get_policy().await.map(Some) }).await?;
        policy.ok_or_else(|| CoreError::Internal("the TAP policy is missing".into()))
    }

    async fn strong_methods_copy(&self, version: Option<u64>, user: UserId) -> Result<Arc<StrongMethods>, CoreError> {
        let methods = Self::read_through(&self.cache.strong_methods, version, user, async {
            self.strong_methods(user).await.map(Some)
        })
        .await?;
        methods.ok_or_else(|| CoreError::Internal("strong methods missing".into()))
    }

    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    #[must_use]
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    #[must_use]
    pub fn hasher(&self) -> &SecretHasher {
        &self.hasher
    }

    fn audit(
        &self,
        by: &Caller,
        activity: &str,
        kind: (&str, &str, &str),
        reason: impl Into<String>,
        targets: Vec<TargetResource>,
    ) -> AuditRecord {
        AuditRecord::success(self.now(), by, activity, kind, reason, targets)
    }

    // ---------------------------------------------------------------- tenant

    /// Creates the tenant, its policy, a Global Administrator with a pass, and an
    /// automation client, all in one transaction.
    pub async fn initialise(&self, req: InitRequest, master_key: &MasterKey) -> Result<InitOutcome, CoreError> {
        if self.store.find_tenant().await?.is_some() {
            return Err(CoreError::AlreadyInitialised);
        }
        let now = self.now();
        let domain = parse_domain(&req.domain)?;
        let tenant = Tenant {
            id: TenantId::new_random(),
            primary_domain: domain.clone(),
            display_name: domain.clone(),
            created_at: now,
        };
        let operator = Caller::Operator {
            name: "latchkey init".into(),
        };
        let upn = UserPrincipalName::parse(req.admin_upn.as_deref().unwrap_or(&format!("admin@{domain}")))?;
        let admin = User {
            id: UserId::new_random(),
            display_name: "Administrator".into(),
            mail: None,
            user_principal_name: upn,
            user_type: UserType::Member,
            origin: UserOrigin::Internal,
            account_enabled: true,
            password_hash: None,
            password_set_at: None,
            created_at: now,
        };
        let admin_role = RoleAssignment {
            id: RoleAssignmentId::new_random(),
            principal_id: admin.id,
            role: DirectoryRole::GlobalAdministrator,
            created_at: now,
        };
        let policy = TapPolicy::default();
        let (pass, code) = self.new_pass(&admin, &PassRequest::default(), &policy).await?;
        let usability = pass.usability(now, &policy, true);
        let (client, client_secret) = Self::new_application("latchkey automation", Permission::AUTOMATION.to_vec(), now)?;
        let audit = vec![
            self.audit(
                &operator,
                activity::CREATE_TENANT,
                (SERVICE_CORE_DIRECTORY, "DirectoryManagement", "Add"),
                "Tenant created",
                vec![TargetResource::other("Tenant", tenant.id, Some(domain))],
            ),
            self.audit(
                &operator,
                activity::ADD_USER,
                (SERVICE_CORE_DIRECTORY, "UserManagement", "Add"),
                "",
                vec![TargetResource::user(&admin)],
            ),
            self.audit(
                &operator,
                activity::ADD_MEMBER_TO_ROLE,
                (SERVICE_CORE_DIRECTORY, "RoleManagement", "Assign"),
                "",
                vec![Self::role_target(&admin_role, &admin)],
            ),
            self.pass_created_audit(&operator, &admin, &pass, None),
            self.audit(
                &operator,
                activity::ADD_APPLICATION,
                (SERVICE_CORE_DIRECTORY, "ApplicationManagement", "Add"),
                "",
                vec![TargetResource::other(
                    "Application",
                    client.app_id,
                    Some(client.display_name.clone()),
                )],
            ),
        ];
        let seed = TenantSeed {
            tenant: tenant.clone(),
            policy,
            admin: admin.clone(),
            admin_role,
            admin_pass: pass.clone(),
            client: client.clone(),
            signing_key: req.signing_key,
            master_key_check: master_key.seal(tenant.id.to_string().as_bytes(), MASTER_KEY_CHECK_CONTEXT)?,
            audit,
        };
        self.store.initialise(&seed).await?;
        tracing::info!(tenant.id = %tenant.id, admin.id = %admin.id, "tenant initialised");
        Ok(InitOutcome {
            tenant,
            admin,
            admin_pass: IssuedPass {
                view: PassView { pass, usability },
                code,
            },
            client_app_id: client.app_id,
            client_secret: client_secret.text,
        })
    }

    /// The tenant, or `NotInitialised`.
    pub async fn tenant(&self) -> Result<Tenant, CoreError> {
        self.store.find_tenant().await?.ok_or(CoreError::NotInitialised)
    }

    /// Checks that `master_key` is the one this database was initialised with.
    pub async fn check_master_key(&self, master_key: &MasterKey) -> Result<(), CoreError> {
        let tenant = self.tenant().await?;
        let sealed = self.store.master_key_check().await?.ok_or(CoreError::NotInitialised)?;
        let opened = master_key.open(&sealed, MASTER_KEY_CHECK_CONTEXT)?;
        if opened == tenant.id.to_string().as_bytes() {
            Ok(())
        } else {
            Err(CoreError::Invalid("the master key belongs to another database".into()))
        }
    }

    fn new_application(
        name: &str,
        permissions: Vec<Permission>,
        now: DateTime<Utc>,
    ) -> Result<(Application, IssuedClientSecret), CoreError> {
        let text = random_token()?;
        let secret = ClientSecret {
            key_id: SecretKeyId::new_random(),
            display_name: Some("created by latchkey".into()),
            hint: text.expose().chars().take(3).collect(),
            digest: digest(text.expose()),
            created_at: now,
            expires_at: now + Duration::days(CLIENT_SECRET_LIFETIME_DAYS),
        };
        let app = Application {
            id: ApplicationObjectId::new_random(),
            app_id: AppId::new_random(),
            display_name: name.into(),
            permissions,
            secrets: vec![secret.clone()],
            redirect_uris: crate::tenant::RedirectUris::default(),
            created_at: now,
        };
        Ok((app, IssuedClientSecret { secret, text }))
    }

    /// Checks a client's credentials for the token endpoint. Every live secret is
    /// compared in constant time.
    pub async fn authenticate_client(&self, app_id: &str, secret: &SecretString) -> Result<Application, CoreError> {
        let invalid = || CoreError::Unauthenticated("Invalid client secret provided, or the client is unknown.".into());
        let app_id: AppId = app_id.parse().map_err(|_| invalid())?;
        let app = self
            .application_copy(self.store.data_version(), app_id)
            .await?
            .ok_or_else(invalid)?;
        let now = self.now();
        let matched = app
            .secrets
            .iter()
            .filter(|s| s.expires_at > now)
            .fold(false, |acc, s| acc | digest_matches(secret.expose(), &s.digest));
        if matched { Ok(Arc::unwrap_or_clone(app)) } else { Err(invalid()) }
    }

    /// The caller a delegated token stands for: the user with the roles they hold *now*,
    /// narrowed to those the token names, so removing a role takes effect at once.
    pub async fn delegated_caller(&self, user: UserId, token_roles: &[DirectoryRole]) -> Result<Caller, CoreError> {
        let state = self
            .user_state_copy(self.store.data_version(), user)
            .await?
            .ok_or_else(|| CoreError::Unauthenticated("The token's user no longer exists.".into()))?;
        if !state.user.account_enabled {
            return Err(CoreError::Unauthenticated("The user's account is disabled.".into()));
        }
        let roles = state.roles.iter().copied().filter(|r| token_roles.contains(r)).collect();
        Ok(Caller::User {
            id: user,
            upn: state.user.user_principal_name.to_string(),
            roles,
        })
    }

    /// The caller an app-only token stands for: the permissions the token names that the
    /// application is still granted now, so revoking a grant takes effect at once.
    pub async fn app_caller(&self, app_id: AppId, token_permissions: &[Permission]) -> Result<Caller, CoreError> {
        let app = self
            .application_copy(self.store.data_version(), app_id)
            .await?
            .ok_or_else(|| CoreError::Unauthenticated("The token's application no longer exists.".into()))?;
        let permissions = token_permissions
            .iter()
            .copied()
            .filter(|p| app.permissions.iter().any(|g| g.grants(*p)))
            .collect();
        Ok(Caller::App {
            app_id,
            display_name: app.display_name.clone(),
            permissions,
        })
    }

    /// Starts signing with `new`; the old key stays published until its tokens expire.
    pub async fn rotate_signing_key(&self, caller: &Caller, new: SigningKeyRecord) -> Result<(), CoreError> {
        if !matches!(caller, Caller::Operator { .. }) {
            return Err(CoreError::Forbidden(
                "Signing keys are rotated by an operator on the server.".into(),
            ));
        }
        let target = TargetResource::other("SigningKey", &new.kid, Some("token signing key".into()));
        let audit = self.audit(
            caller,
            "Rotate token signing key",
            (SERVICE_CORE_DIRECTORY, "KeyManagement", "Update"),
            "",
            vec![target],
        );
        Ok(self.store.rotate_signing_key(&new, self.now(), &audit).await?)
    }

    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, CoreError> {
        Ok(self.store.list_signing_keys().await?)
    }

    // ---------------------------------------------------------------- users

    /// Finds a user by object id or user principal name.
    pub async fn resolve_user(&self, key: &str) -> Result<User, CoreError> {
        let found = match key.parse::<UserId>() {
            Ok(id) => self.store.find_user(id).await?,
            Err(_) => self.store.find_user_by_upn(&key.trim().to_lowercase()).await?,
        };
        found.ok_or_else(|| CoreError::not_found("user", key))
    }

    async fn resolve_user_state(&self, key: &str) -> Result<UserAuthState, CoreError> {
        // An object id reads the state in one go; a user principal name is looked up first.
        if let Ok(id) = key.parse::<UserId>() {
            return self
                .store
                .find_user_auth_state(id)
                .await?
                .ok_or_else(|| CoreError::not_found("user", key));
        }
        let user = self.resolve_user(key).await?;
        self.store
            .find_user_auth_state(user.id)
            .await?
            .ok_or_else(|| CoreError::not_found("user", key))
    }

    /// [`Self::resolve_user_state`] for reads that only show or check: may be a copy.
    async fn resolve_user_state_copy(&self, version: Option<u64>, key: &str) -> Result<Arc<UserAuthState>, CoreError> {
        let id = match key.parse::<UserId>() {
            Ok(id) => id,
            Err(_) => self.resolve_user(key).await?.id,
        };
        self.user_state_copy(version, id)
            .await?
            .ok_or_else(|| CoreError::not_found("user", key))
    }

    pub async fn get_user(&self, caller: &Caller, key: &str) -> Result<User, CoreError> {
        let user = self.resolve_user(key).await?;
        if !caller.is_user(user.id) {
            caller.authorize(Area::Users, Access::Read)?;
        }
        Ok(user)
    }

    pub async fn list_users(&self, caller: &Caller, filters: &[UserFilter], page: Page) -> Result<Listing<User>, CoreError> {
        caller.authorize(Area::Users, Access::Read)?;
        Ok(Listing::from_overfetch(
            self.store.list_users(filters, overfetch(page)).await?,
            page,
        ))
    }

    pub async fn count_users(&self, caller: &Caller, filters: &[UserFilter]) -> Result<u64, CoreError> {
        caller.authorize(Area::Users, Access::Read)?;
        Ok(self.store.count_users(filters).await?)
    }

    #[tracing::instrument(skip_all, err)]
    pub async fn create_user(&self, caller: &Caller, new: NewUser) -> Result<User, CoreError> {
        caller.authorize(Area::Users, Access::Write)?;
        let now = self.now();
        let (password_hash, password_set_at) = match &new.password {
            Some(p) => (Some(self.hash_password(p).await?), Some(now)),
            None => (None, None),
        };
        let user = User {
            id: UserId::new_random(),
            user_principal_name: UserPrincipalName::parse(&new.user_principal_name)?,
            display_name: parse_display_name("displayName", &new.display_name)?,
            mail: new.mail.map(|m| parse_display_name("mail", &m)).transpose()?,
            user_type: new.user_type,
            origin: UserOrigin::Internal,
            account_enabled: new.account_enabled,
            password_hash,
            password_set_at,
            created_at: now,
        };
        let audit = self.audit(
            caller,
            activity::ADD_USER,
            (SERVICE_CORE_DIRECTORY, "UserManagement", "Add"),
            "",
            vec![TargetResource::user(&user)],
        );
        self.store.insert_user(&user, &audit).await.map_err(|e| match e {
            crate::StoreError::Conflict(_) => CoreError::Conflict(format!(
                "Another object with the same value for property userPrincipalName already exists: {}",
                user.user_principal_name
            )),
            other => other.into(),
        })?;
        Ok(user)
    }

    async fn hash_password(&self, p: &SecretString) -> Result<String, CoreError> {
        let n = p.expose().chars().count();
        if !(8..=256).contains(&n) {
            return Err(CoreError::Invalid("passwordProfile.password must be 8 to 256 characters".into()));
        }
        self.hasher.hash(p).await
    }

    #[tracing::instrument(skip_all, err)]
    pub async fn update_user(&self, caller: &Caller, key: &str, change: UserChange) -> Result<User, CoreError> {
        caller.authorize(Area::Users, Access::Write)?;
        let mut user = self.resolve_user(key).await?;
        let mut target = TargetResource::user(&user);
        if let Some(d) = change.display_name {
            let d = parse_display_name("displayName", &d)?;
            target = target.with("DisplayName", Some(user.display_name.clone()), Some(d.clone()));
            user.display_name = d;
        }
        if let Some(m) = change.mail {
            user.mail = m.map(|m| parse_display_name("mail", &m)).transpose()?;
        }
        if let Some(t) = change.user_type {
            target = target.with("UserType", Some(user.user_type.as_str().into()), Some(t.as_str().into()));
            user.user_type = t;
        }
        if let Some(e) = change.account_enabled {
            target = target.with("AccountEnabled", Some(user.account_enabled.to_string()), Some(e.to_string()));
            user.account_enabled = e;
        }
        if let Some(p) = change.password {
            user.password_hash = Some(self.hash_password(&p).await?);
            user.password_set_at = Some(self.now());
            target = target.with("Password", None, Some("(changed)".into()));
        }
        let audit = self.audit(
            caller,
            activity::UPDATE_USER,
            (SERVICE_CORE_DIRECTORY, "UserManagement", "Update"),
            "",
            vec![target],
        );
        self.store.update_user(&user, &audit).await?;
        Ok(user)
    }

    #[tracing::instrument(skip_all, err)]
    pub async fn delete_user(&self, caller: &Caller, key: &str) -> Result<(), CoreError> {
        caller.authorize(Area::Users, Access::Write)?;
        let user = self.resolve_user(key).await?;
        if caller.is_user(user.id) {
            return Err(CoreError::Forbidden("You cannot delete your own account.".into()));
        }
        let audit = self.audit(
            caller,
            activity::DELETE_USER,
            (SERVICE_CORE_DIRECTORY, "UserManagement", "Delete"),
            "",
            vec![TargetResource::user(&user)],
        );
        Ok(self.store.delete_user(user.id, &audit).await?)
    }

    /// Invites an external guest (`POST /invitations`): their account is homed elsewhere,
    /// so it may never hold a pass.
    #[tracing::instrument(skip_all, err)]
    pub async fn invite_external_user(&self, caller: &Caller, email: &str, display_name: Option<&str>) -> Result<User, CoreError> {
        caller.authorize(Area::Invitations, Access::Write)?;
        let email_upn = UserPrincipalName::parse(email).map_err(|_| {
            CoreError::Invalid(format!(
                "invitedUserEmailAddress '{}' is not an e-mail address",
                email.chars().take(120).collect::<String>()
            ))
        })?;
        let tenant = self.tenant().await?;
        if email_upn.domain() == tenant.primary_domain {
            return Err(CoreError::Invalid(
                "invitedUserEmailAddress belongs to this tenant's own domain; create the user instead".into(),
            ));
        }
        // Entra's form: the address with '@' as '_', then #EXT#@ the tenant's domain.
        let upn = format!("{}#EXT#@{}", email_upn.as_str().replace('@', "_"), tenant.primary_domain);
        let now = self.now();
        let user = User {
            id: UserId::new_random(),
            user_principal_name: UserPrincipalName::parse(&upn)?,
            display_name: parse_display_name("invitedUserDisplayName", display_name.unwrap_or(email_upn.as_str()))?,
            mail: Some(email_upn.as_str().to_owned()),
            user_type: UserType::Guest,
            origin: UserOrigin::External,
            account_enabled: true,
            password_hash: None,
            password_set_at: None,
            created_at: now,
        };
        let audit = self.audit(
            caller,
            activity::INVITE_EXTERNAL_USER,
            (SERVICE_CORE_DIRECTORY, "UserManagement", "Add"),
            "",
            vec![TargetResource::user(&user)],
        );
        self.store.insert_user(&user, &audit).await.map_err(|e| match e {
            crate::StoreError::Conflict(_) => CoreError::Conflict(format!("{} has already been invited", email_upn.as_str())),
            other => other.into(),
        })?;
        Ok(user)
    }

    // ---------------------------------------------------------------- groups

    pub async fn create_group(
        &self,
        caller: &Caller,
        display_name: &str,
        description: Option<&str>,
        mail_nickname: Option<&str>,
    ) -> Result<Group, CoreError> {
        caller.authorize(Area::Groups, Access::Write)?;
        let group = Group {
            id: GroupId::new_random(),
            display_name: parse_display_name("displayName", display_name)?,
            description: description.map(|d| parse_display_name("description", d)).transpose()?,
            mail_nickname: mail_nickname.map(|d| parse_display_name("mailNickname", d)).transpose()?,
            created_at: self.now(),
        };
        let audit = self.audit(
            caller,
            activity::ADD_GROUP,
            (SERVICE_CORE_DIRECTORY, "GroupManagement", "Add"),
            "",
            vec![TargetResource::other("Group", group.id, Some(group.display_name.clone()))],
        );
        self.store.insert_group(&group, &audit).await?;
        Ok(group)
    }

    pub async fn get_group(&self, caller: &Caller, id: GroupId) -> Result<Group, CoreError> {
        caller.authorize(Area::Groups, Access::Read)?;
        self.store.find_group(id).await?.ok_or_else(|| CoreError::not_found("group", id))
    }

    pub async fn list_groups(&self, caller: &Caller, page: Page) -> Result<Listing<Group>, CoreError> {
        caller.authorize(Area::Groups, Access::Read)?;
        Ok(Listing::from_overfetch(self.store.list_groups(overfetch(page)).await?, page))
    }

    pub async fn delete_group(&self, caller: &Caller, id: GroupId) -> Result<(), CoreError> {
        caller.authorize(Area::Groups, Access::Write)?;
        let group = self.store.find_group(id).await?.ok_or_else(|| CoreError::not_found("group", id))?;
        let audit = self.audit(
            caller,
            activity::DELETE_GROUP,
            (SERVICE_CORE_DIRECTORY, "GroupManagement", "Delete"),
            "",
            vec![TargetResource::other("Group", id, Some(group.display_name))],
        );
        Ok(self.store.delete_group(id, &audit).await?)
    }

    pub async fn add_member(&self, caller: &Caller, group: GroupId, member_key: &str) -> Result<(), CoreError> {
        caller.authorize(Area::Groups, Access::Write)?;
        let g = self
            .store
            .find_group(group)
            .await?
            .ok_or_else(|| CoreError::not_found("group", group))?;
        let user = self.resolve_user(member_key).await?;
        let audit = self.audit(
            caller,
            activity::ADD_MEMBER_TO_GROUP,
            (SERVICE_CORE_DIRECTORY, "GroupManagement", "Assign"),
            "",
            vec![
                TargetResource::user(&user),
                TargetResource::other("Group", group, Some(g.display_name)),
            ],
        );
        self.store.add_member(group, user.id, &audit).await.map_err(|e| match e {
            crate::StoreError::Conflict(_) => CoreError::Invalid(
                "One or more added object references already exist for the following modified properties: 'members'.".into(),
            ),
            other => other.into(),
        })
    }

    pub async fn remove_member(&self, caller: &Caller, group: GroupId, member_key: &str) -> Result<(), CoreError> {
        caller.authorize(Area::Groups, Access::Write)?;
        let g = self
            .store
            .find_group(group)
            .await?
            .ok_or_else(|| CoreError::not_found("group", group))?;
        let user = self.resolve_user(member_key).await?;
        let audit = self.audit(
            caller,
            activity::REMOVE_MEMBER_FROM_GROUP,
            (SERVICE_CORE_DIRECTORY, "GroupManagement", "Unassign"),
            "",
            vec![
                TargetResource::user(&user),
                TargetResource::other("Group", group, Some(g.display_name)),
            ],
        );
        Ok(self.store.remove_member(group, user.id, &audit).await?)
    }

    pub async fn list_members(&self, caller: &Caller, group: GroupId, page: Page) -> Result<Listing<User>, CoreError> {
        caller.authorize(Area::Groups, Access::Read)?;
        self.store
            .find_group(group)
            .await?
            .ok_or_else(|| CoreError::not_found("group", group))?;
        Ok(Listing::from_overfetch(
            self.store.list_members(group, overfetch(page)).await?,
            page,
        ))
    }

    // ---------------------------------------------------------------- roles

    fn role_target(a: &RoleAssignment, user: &User) -> TargetResource {
        TargetResource::user(user)
            .with("Role.DisplayName", None, Some(a.role.display_name().into()))
            .with("Role.TemplateId", None, Some(a.role.template_id().into()))
    }

    /// Assigns a directory role tenant-wide (`directoryScopeId` must be `/`).
    pub async fn assign_role(
        &self,
        caller: &Caller,
        principal_key: &str,
        role_definition_id: &str,
        directory_scope_id: &str,
    ) -> Result<RoleAssignment, CoreError> {
        caller.authorize(Area::Roles, Access::Write)?;
        if directory_scope_id != "/" {
            return Err(CoreError::Invalid(
                "only directoryScopeId '/' (the whole tenant) is supported".into(),
            ));
        }
        let role = DirectoryRole::find(role_definition_id).ok_or_else(|| {
            CoreError::Invalid(format!(
                "roleDefinitionId '{}' is not a role latchkey knows",
                role_definition_id.chars().take(60).collect::<String>()
            ))
        })?;
        let user = self.resolve_user(principal_key).await?;
        if user.is_external_guest() {
            return Err(CoreError::Invalid("an external guest cannot hold a directory role here".into()));
        }
        let a = RoleAssignment {
            id: RoleAssignmentId::new_random(),
            principal_id: user.id,
            role,
            created_at: self.now(),
        };
        let audit = self.audit(
            caller,
            activity::ADD_MEMBER_TO_ROLE,
            (SERVICE_CORE_DIRECTORY, "RoleManagement", "Assign"),
            "",
            vec![Self::role_target(&a, &user)],
        );
        self.store.insert_role_assignment(&a, &audit).await.map_err(|e| match e {
            crate::StoreError::Conflict(_) => CoreError::Conflict(format!(
                "{} already holds the role {}",
                user.user_principal_name,
                role.display_name()
            )),
            other => other.into(),
        })?;
        Ok(a)
    }

    pub async fn list_role_assignments(
        &self,
        caller: &Caller,
        principal: Option<UserId>,
        page: Page,
    ) -> Result<Listing<RoleAssignment>, CoreError> {
        caller.authorize(Area::Roles, Access::Read)?;
        Ok(Listing::from_overfetch(
            self.store.list_role_assignments(principal, overfetch(page)).await?,
            page,
        ))
    }

    pub async fn get_role_assignment(&self, caller: &Caller, id: RoleAssignmentId) -> Result<RoleAssignment, CoreError> {
        caller.authorize(Area::Roles, Access::Read)?;
        self.store
            .find_role_assignment(id)
            .await?
            .ok_or_else(|| CoreError::not_found("roleAssignment", id))
    }

    pub async fn remove_role_assignment(&self, caller: &Caller, id: RoleAssignmentId) -> Result<(), CoreError> {
        caller.authorize(Area::Roles, Access::Write)?;
        let a = self
            .store
            .find_role_assignment(id)
            .await?
            .ok_or_else(|| CoreError::not_found("roleAssignment", id))?;
        let user = self
            .store
            .find_user(a.principal_id)
            .await?
            .ok_or_else(|| CoreError::not_found("user", a.principal_id))?;
        if caller.is_user(user.id) && a.role == DirectoryRole::GlobalAdministrator {
            return Err(CoreError::Forbidden("You cannot remove your own Global Administrator role.".into()));
        }
        let audit = self.audit(
            caller,
            activity::REMOVE_MEMBER_FROM_ROLE,
            (SERVICE_CORE_DIRECTORY, "RoleManagement", "Unassign"),
            "",
            vec![Self::role_target(&a, &user)],
        );
        Ok(self.store.delete_role_assignment(id, &audit).await?)
    }

    // ---------------------------------------------------------------- policy

    pub async fn get_policy(&self, caller: &Caller) -> Result<TapPolicy, CoreError> {
        caller.authorize(Area::Policy, Access::Read)?;
        Ok(TapPolicy::clone(&*self.policy_copy(self.store.data_version()).await?))
    }

    #[tracing::instrument(skip_all, err)]
    pub async fn update_policy(&self, caller: &Caller, change: PolicyChange) -> Result<TapPolicy, CoreError> {
        caller.authorize(Area::Policy, Access::Write)?;
        let old = self.store.get_policy().await?;
        let new = old.apply(change)?;
        self.check_policy_targets_exist(&new).await?;
        self.save_policy(caller, &old, &new, activity::UPDATE_POLICY).await?;
        Ok(new)
    }

    /// Restores the seed defaults (`DELETE` on the configuration).
    pub async fn reset_policy(&self, caller: &Caller) -> Result<TapPolicy, CoreError> {
        caller.authorize(Area::Policy, Access::Write)?;
        let old = self.store.get_policy().await?;
        let new = TapPolicy::default();
        self.save_policy(caller, &old, &new, activity::RESET_POLICY).await?;
        Ok(new)
    }

    async fn check_policy_targets_exist(&self, policy: &TapPolicy) -> Result<(), CoreError> {
        use crate::policy::PolicyTarget as T;
        for t in policy.include_targets.iter().chain(&policy.exclude_targets) {
            let exists = match t {
                T::AllUsers => true,
                T::Group(g) => self.store.find_group(*g).await?.is_some(),
                T::User(u) => self.store.find_user(*u).await?.is_some(),
            };
            if !exists {
                return Err(CoreError::Invalid(format!(
                    "policy target {} '{}' does not exist",
                    t.target_type(),
                    t.id_string()
                )));
            }
        }
        Ok(())
    }

    async fn save_policy(&self, caller: &Caller, old: &TapPolicy, new: &TapPolicy, activity_name: &str) -> Result<(), CoreError> {
        let json = |p: &TapPolicy| serde_json::to_string(p).ok();
        let target = TargetResource::other("Policy", "TemporaryAccessPass", Some("Temporary Access Pass".into())).with(
            "TemporaryAccessPass",
            json(old),
            json(new),
        );
        let audit = self.audit(
            caller,
            activity_name,
            (SERVICE_AUTH_METHODS, "Policy", "Update"),
            "Temporary Access Pass authentication method configuration changed",
            vec![target],
        );
        Ok(self.store.save_policy(new, &audit).await?)
    }

    // ---------------------------------------------------------------- passes

    async fn new_pass(
        &self,
        user: &User,
        request: &PassRequest,
        policy: &TapPolicy,
    ) -> Result<(TemporaryAccessPass, SecretString), CoreError> {
        let now = self.now();
        let terms = request.terms(policy, now)?;
        let code = generate_code(terms.length)?;
        let code_hash = self.hasher.hash(&code).await?;
        let pass = TemporaryAccessPass {
            id: PassId::new_random(),
            user_id: user.id,
            created_at: now,
            start_at: terms.start_at,
            lifetime_in_minutes: terms.lifetime_in_minutes,
            is_usable_once: terms.is_usable_once,
            used_at: None,
            code_hash,
        };
        Ok((pass, code))
    }

    fn pass_created_audit(&self, caller: &Caller, user: &User, pass: &TemporaryAccessPass, replaced: Option<PassId>) -> AuditRecord {
        let ts = |t: DateTime<Utc>| Some(t.to_rfc3339_opts(SecondsFormat::Secs, true));
        let mut target = TargetResource::user(user)
            .with("TemporaryAccessPass.Id", None, Some(pass.id.to_string()))
            .with("TemporaryAccessPass.StartDateTime", None, ts(pass.start_at))
            .with("TemporaryAccessPass.EndDateTime", None, ts(pass.expires_at()))
            .with(
                "TemporaryAccessPass.AccessPassUsage",
                None,
                Some(if pass.is_usable_once { "OneTime" } else { "Multiple" }.into()),
            );
        if let Some(old) = replaced {
            target = target.with("TemporaryAccessPass.ReplacedId", Some(old.to_string()), None);
        }
        self.audit(
            caller,
            activity::ADMIN_REGISTERED_SECURITY_INFO,
            (SERVICE_AUTH_METHODS, "UserManagement", "Add"),
            "Admin registered temporary access pass method for user",
            vec![target],
        )
    }

    fn view(&self, state: &UserAuthState, policy: &TapPolicy, pass: TemporaryAccessPass) -> PassView {
        let usability = pass.usability(self.now(), policy, policy.covers(state.user.id, &state.groups));
        PassView { pass, usability }
    }

    /// Issues a pass (DESIGN.md "Passes"): role rules, no external guests, policy enabled,
    /// terms within the policy; replaces the user's existing pass. The code is returned
    /// here and nowhere else.
    #[tracing::instrument(skip_all, fields(target = %target_key), err)]
    pub async fn create_pass(&self, caller: &Caller, target_key: &str, request: PassRequest) -> Result<IssuedPass, CoreError> {
        let state = self.resolve_user_state(target_key).await?;
        caller.authorize_pass(PassAction::Create, &state.user, &state.roles)?;
        if state.user.is_external_guest() {
            return Err(CoreError::Invalid(EXTERNAL_GUEST_MESSAGE.into()));
        }
        let policy = self.store.get_policy().await?;
        if policy.state == PolicyState::Disabled {
            return Err(CoreError::PolicyBlocked(POLICY_REFUSES_CREATION_MESSAGE.into()));
        }
        let (pass, code) = self.new_pass(&state.user, &request, &policy).await?;
        let audit = self.pass_created_audit(caller, &state.user, &pass, state.pass.as_ref().map(|p| p.id));
        self.store.replace_pass(&pass, &audit).await?;
        tracing::info!(user.id = %state.user.id, pass.id = %pass.id, "temporary access pass issued");
        let view = self.view(&state, &policy, pass);
        Ok(IssuedPass { view, code })
    }

    /// The user's pass, if any (a list of 0 or 1, as Graph returns).
    pub async fn list_passes(&self, caller: &Caller, target_key: &str) -> Result<Vec<PassView>, CoreError> {
        let version = self.store.data_version();
        let state = self.resolve_user_state_copy(version, target_key).await?;
        caller.authorize_pass(PassAction::Read, &state.user, &state.roles)?;
        let policy = self.policy_copy(version).await?;
        Ok(state.pass.clone().map(|p| self.view(&state, &policy, p)).into_iter().collect())
    }

    pub async fn get_pass(&self, caller: &Caller, target_key: &str, id: PassId) -> Result<PassView, CoreError> {
        self.list_passes(caller, target_key)
            .await?
            .into_iter()
            .find(|v| v.pass.id == id)
            .ok_or_else(|| CoreError::not_found("temporaryAccessPassMethod", id))
    }

    #[tracing::instrument(skip_all, fields(target = %target_key), err)]
    pub async fn delete_pass(&self, caller: &Caller, target_key: &str, id: PassId) -> Result<(), CoreError> {
        let state = self.resolve_user_state(target_key).await?;
        caller.authorize_pass(PassAction::Delete, &state.user, &state.roles)?;
        if state.pass.as_ref().map(|p| p.id) != Some(id) {
            return Err(CoreError::not_found("temporaryAccessPassMethod", id));
        }
        let (activity_name, reason) = if caller.is_user(state.user.id) {
            (activity::USER_DELETED_SECURITY_INFO, "User deleted temporary access pass method")
        } else {
            (
                activity::ADMIN_DELETED_SECURITY_INFO,
                "Admin deleted temporary access pass method for user",
            )
        };
        let target = TargetResource::user(&state.user).with("TemporaryAccessPass.Id", Some(id.to_string()), None);
        let audit = self.audit(
            caller,
            activity_name,
            (SERVICE_AUTH_METHODS, "UserManagement", "Delete"),
            reason,
            vec![target],
        );
        self.store.delete_pass(state.user.id, id, &audit).await?;
        tracing::info!(user.id = %state.user.id, pass.id = %id, "temporary access pass deleted");
        Ok(())
    }

    /// `GET /users/{id}/authentication/methods`: the password (when set) and the pass.
    pub async fn list_methods(&self, caller: &Caller, target_key: &str) -> Result<AuthMethods, CoreError> {
        let version = self.store.data_version();
        let state = self.resolve_user_state_copy(version, target_key).await?;
        caller.authorize_pass(PassAction::Read, &state.user, &state.roles)?;
        let pass = match state.pass.clone() {
            Some(p) => Some(self.view(&state, &*self.policy_copy(version).await?, p)),
            None => None,
        };
        Ok(AuthMethods {
            password_set_at: state.user.password_hash.as_ref().map(|_| state.user.password_set_at),
            pass,
            strong: StrongMethods::clone(&*self.strong_methods_copy(version, state.user.id).await?),
        })
    }

    // ---------------------------------------------------------------- audit

    pub async fn list_audit(&self, caller: &Caller, page: Page) -> Result<Listing<AuditRecord>, CoreError> {
        caller.authorize(Area::AuditLogs, Access::Read)?;
        Ok(Listing::from_overfetch(self.store.list_audit(overfetch(page)).await?, page))
    }
}

// Keep the audit module's helpers reachable for callers that build their own records.
pub use audit::Initiator;
