//! Signing in and what follows: home-realm discovery, pass and password sign-in with
//! throttling and the sign-in log, sessions bound to their pass, authorization codes with
//! PKCE, and rotating refresh tokens.

use super::Latchkey;
use crate::directory::User;
use crate::error::CoreError;
use crate::ids::AppId;
use crate::secrets::{SecretString, digest, random_token};
use crate::session::{
    AUTH_REQUEST_LIFETIME, AuthRequest, AuthorizationCode, CODE_LIFETIME, Redemption, RefreshToken, Rotation, Session, SignInMethod,
    SignInRecord, sign_in_error,
};
use crate::signin::{Held, PassRefusal, Prompt, Throttle, check_pass, choose_prompt, session_expiry};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// Where a sign-in attempt came from, for the sign-in log.
#[derive(Debug, Clone, Default)]
pub struct SignInContext {
    pub ip_address: Option<String>,
    pub correlation_id: String,
    pub app: Option<(AppId, String)>,
}

/// The outcome of the user-name step.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// The user, when the name is known and the account enabled.
    pub user: Option<User>,
    pub prompt: Prompt,
    /// The passwordless methods the user holds (to offer them as alternatives).
    pub held: Held,
}

/// A successful sign-in: the session and the cookie token that names it (shown once).
#[derive(Debug)]
pub struct SignedIn {
    pub session: Session,
    pub token: SecretString,
    pub user: User,
}

/// A refused sign-in: what to tell the person, and the code the sign-in log records.
#[derive(Debug)]
pub struct SignInFailure {
    pub message: String,
    pub reason: &'static str,
    /// An internal failure that is not the person's fault.
    pub internal: Option<CoreError>,
}

impl From<crate::store::StoreError> for SignInFailure {
    fn from(e: crate::store::StoreError) -> Self {
        CoreError::from(e).into()
    }
}

impl From<CoreError> for SignInFailure {
    fn from(e: CoreError) -> Self {
        Self {
            message: "Something went wrong on our side. Try again.".into(),
            reason: "InternalError",
            internal: Some(e),
        }
    }
}

/// A grant at the token endpoint: what the tokens are about.
#[derive(Debug)]
pub struct Grant {
    pub session: Session,
    pub user: User,
    pub client_id: AppId,
    pub scope: String,
    pub nonce: Option<String>,
    pub refresh_token: SecretString,
    /// Tokens from this grant must not outlive this instant (the session, hence the pass).
    pub not_after: DateTime<Utc>,
}

/// Why a grant was refused (RFC 6749 §5.2).
#[derive(Debug)]
pub enum GrantError {
    /// `invalid_grant`: the code or refresh token is unknown, used, expired, for another
    /// client, or its session has ended.
    InvalidGrant(String),
    /// Device grant (RFC 8628 §3.5): the person has not answered yet; poll again.
    AuthorizationPending,
    /// Device grant: polled sooner than the interval; the interval has grown by 5 seconds.
    SlowDown,
    /// Device grant: the device code expired before it was approved and redeemed.
    ExpiredToken,
    /// Device grant: the person declined.
    AccessDenied,
    Core(CoreError),
}

impl From<crate::store::StoreError> for GrantError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Core(e.into())
    }
}

impl From<CoreError> for GrantError {
    fn from(e: CoreError) -> Self {
        Self::Core(e)
    }
}

/// The refresh-token family a code (authorization or device code) starts: derived from the
/// code's digest, so a replayed code can revoke exactly the tokens it gave.
pub(super) fn family_of_code(code_digest: &str) -> Uuid {
    let bytes: [u8; 16] = Sha256::digest(code_digest.as_bytes())[..16].try_into().unwrap_or_default();
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Checks an RFC 7636 S256 code verifier against its challenge, in constant time.
#[must_use]
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len()) && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    well_formed && subtle::ConstantTimeEq::ct_eq(computed.as_bytes(), challenge.as_bytes()).into()
}

impl Latchkey {
    pub(super) async fn log_sign_in(
        &self,
        ctx: &SignInContext,
        user: Option<&User>,
        upn: &str,
        method: Option<SignInMethod>,
        error_code: i64,
        reason: Option<String>,
    ) {
        let record = SignInRecord {
            id: Uuid::new_v4(),
            created_at: self.now(),
            user_id: user.map(|u| u.id),
            user_principal_name: user.map_or_else(|| upn.chars().take(256).collect(), |u| u.user_principal_name.to_string()),
            app_id: ctx.app.as_ref().map(|(id, _)| *id),
            app_display_name: ctx.app.as_ref().map(|(_, n)| n.clone()),
            ip_address: ctx.ip_address.clone(),
            correlation_id: ctx.correlation_id.clone(),
            method,
            error_code,
            failure_reason: reason,
            additional_details: None,
        };
        // The log must not turn a sign-in into an error page; a failure to write it is logged.
        if let Err(e) = self.store().insert_sign_in(&record).await {
            tracing::error!(error = %e, "writing the sign-in log failed");
        }
    }

    /// The user-name step: which prompt to show. A pass that exists but cannot be used
    /// leaves a sign-in log entry saying why no pass prompt was shown.
    pub async fn discover(&self, username: &str, ctx: &SignInContext) -> Result<Discovery, CoreError> {
        let Ok(user) = self.resolve_user(username).await else {
            return Ok(Discovery {
                user: None,
                prompt: Prompt::Password,
                held: Held::default(),
            });
        };
        // Which prompt to show decides nothing (the pass step reads afresh in its own
        // right), so the copies serve here.
        let version = self.store().data_version();
        let state = self
            .user_state_copy(version, user.id)
            .await?
            .ok_or_else(|| CoreError::not_found("user", username))?;
        let policy = self.policy_copy(version).await?;
        let now = self.now();
        let usable = match &state.pass {
            Some(p) => match check_pass(&state.user, p, &policy, &state.groups, now) {
                Ok(()) => true,
                Err(refusal) => {
                    self.log_sign_in(
                        ctx,
                        Some(&user),
                        username,
                        Some(SignInMethod::TemporaryAccessPass),
                        sign_in_error::NO_PASS_PROMPT,
                        Some(format!("No Temporary Access Pass prompt: {}", refusal.message())),
                    )
                    .await;
                    false
                }
            },
            None => false,
        };
        let federation = self
            .store()
            .find_domain(user.user_principal_name.domain())
            .await?
            .and_then(|d| d.federation);
        let methods = self.strong_methods_copy(version, user.id).await?;
        let held = Held {
            passkey: !methods.passkeys.is_empty() && self.passkeys_available(),
            authenticator_app: !methods.authenticator_apps.is_empty(),
        };
        Ok(Discovery {
            prompt: choose_prompt(usable, federation.as_ref().map(|f| f.passive_sign_in_uri.as_str()), held),
            user: Some(user),
            held,
        })
    }

    /// Signs in with a pass. The code is always checked first (against a decoy when there
    /// is no pass), so timing tells nothing; only a correct code learns why a pass cannot
    /// be used. A one-time pass is consumed atomically: of concurrent attempts exactly one
    /// wins.
    #[tracing::instrument(skip_all)]
    pub async fn sign_in_with_pass(&self, username: &str, code: &SecretString, ctx: &SignInContext) -> Result<SignedIn, SignInFailure> {
        let method = Some(SignInMethod::TemporaryAccessPass);
        let state = match self.resolve_user(username).await {
            Ok(u) => self.store().find_user_auth_state(u.id).await?,
            Err(_) => None,
        };
        let now = self.now();
        let mut throttle = Throttle::default();
        if let Some(s) = &state {
            throttle = self.refuse_if_locked_out(&s.user, username, method, ctx).await?;
        }
        let hash = state.as_ref().and_then(|s| s.pass.as_ref()).map(|p| p.code_hash.as_str());
        let correct = self.hasher().verify_or_decoy(code, hash).await?;
        let (Some(s), true) = (state, correct) else {
            return Err(self.wrong_code(username, ctx, method, sign_in_error::PASS_NOT_FOUND).await);
        };
        let Some(pass) = s.pass.clone() else {
            return Err(self.failure(&PassRefusal::NoPass));
        };
        let policy = self.store().get_policy().await?;
        if let Err(refusal) = check_pass(&s.user, &pass, &policy, &s.groups, now) {
            let code = match refusal {
                PassRefusal::Expired => sign_in_error::PASS_EXPIRED,
                PassRefusal::NotYetValid => sign_in_error::NOT_YET_VALID,
                PassRefusal::AccountDisabled => sign_in_error::ACCOUNT_DISABLED,
                _ => sign_in_error::POLICY_BLOCKED,
            };
            self.log_sign_in(ctx, Some(&s.user), username, method, code, Some(refusal.message()))
                .await;
            return Err(self.failure(&refusal));
        }
        if pass.is_usable_once && !self.store().consume_pass(pass.id, now).await? {
            let refusal = PassRefusal::PolicyBlocked {
                rule: "the one-time pass has already been used",
            };
            self.log_sign_in(
                ctx,
                Some(&s.user),
                username,
                method,
                sign_in_error::POLICY_BLOCKED,
                Some(refusal.message()),
            )
            .await;
            return Err(self.failure(&refusal));
        }
        self.clear_throttle(s.user.id, throttle).await?;
        let session = Session {
            id: Uuid::new_v4(),
            user_id: s.user.id,
            method: SignInMethod::TemporaryAccessPass,
            pass_id: Some(pass.id),
            created_at: now,
            expires_at: session_expiry(now, Some(&pass)),
            registration_until: crate::methods::registration_until(
                SignInMethod::TemporaryAccessPass,
                now,
                session_expiry(now, Some(&pass)),
                pass.is_usable_once,
            ),
            revoked_at: None,
        };
        let signed_in = self.start_session(session, s.user).await?;
        self.log_sign_in(ctx, Some(&signed_in.user), username, method, sign_in_error::SUCCESS, None)
            .await;
        Ok(signed_in)
    }

    /// Signs in with a password (a pass does not replace it: seed 001).
    pub async fn sign_in_with_password(
        &self,
        username: &str,
        password: &SecretString,
        ctx: &SignInContext,
    ) -> Result<SignedIn, SignInFailure> {
        self.sign_in_with_password_and_code(username, password, None, ctx).await
    }

    /// Signs in with a password and, when the person has an authenticator app, its code
    /// as a second factor (then the session counts as strong authentication).
    #[tracing::instrument(skip_all)]
    pub async fn sign_in_with_password_and_code(
        &self,
        username: &str,
        password: &SecretString,
        code: Option<&SecretString>,
        ctx: &SignInContext,
    ) -> Result<SignedIn, SignInFailure> {
        let mut method = Some(SignInMethod::Password);
        let user = self.resolve_user(username).await.ok();
        let mut throttle = Throttle::default();
        if let Some(u) = &user {
            throttle = self.refuse_if_locked_out(u, username, method, ctx).await?;
        }
        let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
        let correct = self.hasher().verify_or_decoy(password, hash).await?;
        let (Some(user), true) = (user, correct) else {
            return Err(self.wrong_code(username, ctx, method, sign_in_error::WRONG_CREDENTIAL).await);
        };
        self.refuse_if_disabled(&user, username, method, ctx).await?;
        let apps = self.store().list_software_oath_methods(user.id).await?;
        if !apps.is_empty() {
            method = Some(SignInMethod::PasswordAndAuthenticatorApp);
            let Some(code) = code else {
                return Err(SignInFailure {
                    message: "Enter the code from your authenticator app.".into(),
                    reason: "SecondFactorRequired",
                    internal: None,
                });
            };
            self.check_authenticator_code(&user, &apps, code, username, method, ctx).await?;
        }
        let method = method.unwrap_or(SignInMethod::Password);
        self.clear_throttle(user.id, throttle).await?;
        let signed_in = self.start_session_without_pass(user, method).await?;
        self.log_sign_in(ctx, Some(&signed_in.user), username, Some(method), sign_in_error::SUCCESS, None)
            .await;
        Ok(signed_in)
    }

    /// A session made without a pass (password, passkey, code): the usual lifetime, and
    /// the registration window its method earns.
    pub(super) async fn start_session_without_pass(&self, user: User, method: SignInMethod) -> Result<SignedIn, CoreError> {
        let now = self.now();
        let expires_at = session_expiry(now, None);
        let session = Session {
            id: Uuid::new_v4(),
            user_id: user.id,
            method,
            pass_id: None,
            created_at: now,
            expires_at,
            registration_until: crate::methods::registration_until(method, now, expires_at, false),
            revoked_at: None,
        };
        self.start_session(session, user).await
    }

    /// A disabled account cannot sign in, whatever the credential; the attempt is logged.
    pub(super) async fn refuse_if_disabled(
        &self,
        user: &User,
        username: &str,
        method: Option<SignInMethod>,
        ctx: &SignInContext,
    ) -> Result<(), SignInFailure> {
        if user.account_enabled {
            return Ok(());
        }
        self.log_sign_in(
            ctx,
            Some(user),
            username,
            method,
            sign_in_error::ACCOUNT_DISABLED,
            Some("account disabled".into()),
        )
        .await;
        Err(self.failure(&PassRefusal::AccountDisabled))
    }

    /// While a user is locked out, no credential is even checked; the attempt is logged.
    pub(super) async fn refuse_if_locked_out(
        &self,
        user: &User,
        username: &str,
        method: Option<SignInMethod>,
        ctx: &SignInContext,
    ) -> Result<Throttle, SignInFailure> {
        let throttle = self.store().get_throttle(user.id).await?;
        if let Some(until) = throttle.locked(self.now()) {
            let refusal = PassRefusal::LockedOut { until };
            self.log_sign_in(
                ctx,
                Some(user),
                username,
                method,
                sign_in_error::LOCKED_OUT,
                Some(refusal.message()),
            )
            .await;
            return Err(self.failure(&refusal));
        }
        Ok(throttle)
    }

    /// A success ends the run of wrong codes; nothing to write when there was none (one
    /// write fewer on every ordinary sign-in).
    pub(super) async fn clear_throttle(&self, user: crate::ids::UserId, read: Throttle) -> Result<(), CoreError> {
        if read != Throttle::after_success() {
            self.store().save_throttle(user, &Throttle::after_success()).await?;
        }
        Ok(())
    }

    pub(super) fn failure(&self, refusal: &PassRefusal) -> SignInFailure {
        let _ = self;
        SignInFailure {
            message: refusal.message(),
            reason: refusal.code(),
            internal: None,
        }
    }

    /// A wrong code or password: counted against the user (if there is one), logged, and
    /// answered with the same words whether or not the user exists.
    pub(super) async fn wrong_code(
        &self,
        username: &str,
        ctx: &SignInContext,
        method: Option<SignInMethod>,
        unknown_code: i64,
    ) -> SignInFailure {
        let now = self.now();
        let user = self.resolve_user(username).await.ok();
        let mut code = unknown_code;
        if let Some(u) = &user {
            code = sign_in_error::WRONG_CREDENTIAL;
            match self.store().get_throttle(u.id).await {
                Ok(t) => {
                    if let Err(e) = self.store().save_throttle(u.id, &t.after_failure(now)).await {
                        return e.into();
                    }
                }
                Err(e) => return e.into(),
            }
        }
        let message = match method {
            Some(SignInMethod::Password) => "Your account or password is incorrect.".to_owned(),
            _ => PassRefusal::WrongCode.message(),
        };
        self.log_sign_in(ctx, user.as_ref(), username, method, code, Some(message.clone()))
            .await;
        SignInFailure {
            message,
            reason: PassRefusal::WrongCode.code(),
            internal: None,
        }
    }

    pub(super) async fn start_session(&self, session: Session, user: User) -> Result<SignedIn, CoreError> {
        let token = random_token()?;
        self.store().insert_session(&session, &digest(token.expose())).await?;
        tracing::info!(user.id = %user.id, session.id = %session.id, method = session.method.as_str(), "signed in");
        Ok(SignedIn { session, token, user })
    }

    /// The live session a cookie names, with its user; `None` once it has ended (signed
    /// out, expired, or its pass deleted, replaced or expired).
    pub async fn session_from_token(&self, token: &str) -> Result<Option<(Session, User)>, CoreError> {
        let Some(session) = self.store().find_session_by_token(&digest(token)).await? else {
            return Ok(None);
        };
        self.live_session(session).await
    }

    /// The session with this id if it still stands (for tokens carrying `sid`).
    pub async fn live_session_by_id(&self, id: Uuid) -> Result<Option<(Session, User)>, CoreError> {
        let Some(session) = self.store().find_session(id).await? else {
            return Ok(None);
        };
        self.live_session(session).await
    }

    async fn live_session(&self, session: Session) -> Result<Option<(Session, User)>, CoreError> {
        let Some(state) = self.store().find_user_auth_state(session.user_id).await? else {
            return Ok(None);
        };
        let current = state.pass.as_ref().map(|p| (&p.id, p.expires_at()));
        if state.user.account_enabled && session.is_live(self.now(), current) {
            Ok(Some((session, state.user)))
        } else {
            Ok(None)
        }
    }

    pub async fn sign_out(&self, session: Uuid) -> Result<(), CoreError> {
        Ok(self.store().revoke_session(session, self.now()).await?)
    }

    /// The sign-in log, newest first (`GET /auditLogs/signIns`).
    pub async fn list_sign_ins(
        &self,
        caller: &crate::authz::Caller,
        page: crate::directory::Page,
    ) -> Result<super::Listing<SignInRecord>, CoreError> {
        caller.authorize(crate::authz::Area::AuditLogs, crate::authz::Access::Read)?;
        let over = crate::directory::Page {
            skip: page.skip,
            top: page.top.saturating_add(1),
        };
        let mut items = self.store().list_sign_ins(over).await?;
        let more = items.len() > page.top as usize;
        items.truncate(page.top as usize);
        Ok(super::Listing { items, more })
    }

    /// Records, once each, the passes that have expired since the last call: an audit
    /// record ("Temporary Access Pass expired") and a sign-in log entry. `serve` calls this
    /// every minute; any number of servers may.
    pub async fn record_expired_passes(&self) -> Result<usize, CoreError> {
        let system = crate::authz::Caller::Operator { name: "latchkey".into() };
        let now = self.now();
        let audit_for = |pass: &crate::pass::TemporaryAccessPass, user: &User| {
            let end = pass.expires_at().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let target = crate::audit::TargetResource::user(user)
                .with("TemporaryAccessPass.Id", Some(pass.id.to_string()), None)
                .with("TemporaryAccessPass.EndDateTime", None, Some(end));
            crate::audit::AuditRecord::success(
                now,
                &system,
                "Temporary Access Pass expired",
                (crate::audit::SERVICE_AUTH_METHODS, "UserManagement", "Delete"),
                "The Temporary Access Pass reached the end of its lifetime",
                vec![target],
            )
        };
        let recorded = self.store().record_pass_expiries(now, 500, &audit_for).await?;
        let ctx = SignInContext {
            correlation_id: Uuid::new_v4().to_string(),
            ..SignInContext::default()
        };
        for (pass, user) in &recorded {
            let reason = format!(
                "Temporary Access Pass {} expired at {}",
                pass.id,
                pass.expires_at().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            self.log_sign_in(
                &ctx,
                Some(user),
                "",
                Some(SignInMethod::TemporaryAccessPass),
                sign_in_error::PASS_EXPIRED,
                Some(reason),
            )
            .await;
        }
        Ok(recorded.len())
    }

    // ---------------------------------------------------------------- OAuth

    /// The application a `client_id` names, if any.
    pub async fn find_client(&self, client_id: &str) -> Result<Option<crate::tenant::Application>, CoreError> {
        let Ok(app_id) = client_id.parse::<AppId>() else { return Ok(None) };
        Ok(self
            .application_copy(self.store().data_version(), app_id)
            .await?
            .map(std::sync::Arc::unwrap_or_clone))
    }

    /// The directory roles a user holds now (for the `wids` claim).
    pub async fn roles_of(&self, user: crate::ids::UserId) -> Result<Vec<crate::directory::DirectoryRole>, CoreError> {
        Ok(self
            .user_state_copy(self.store().data_version(), user)
            .await?
            .map(|s| s.roles.clone())
            .unwrap_or_default())
    }

    /// Stores a validated authorization request while the person signs in.
    pub async fn begin_authorization(&self, mut request: AuthRequest) -> Result<AuthRequest, CoreError> {
        request.id = random_token()?.expose().to_owned();
        request.created_at = self.now();
        request.expires_at = request.created_at + AUTH_REQUEST_LIFETIME;
        self.store().insert_auth_request(&request).await?;
        Ok(request)
    }

    /// A pending authorization request, unless unknown or expired.
    pub async fn authorization_request(&self, id: &str) -> Result<Option<AuthRequest>, CoreError> {
        Ok(self.store().find_auth_request(id).await?.filter(|r| r.expires_at > self.now()))
    }

    /// Issues a code for a signed-in session (single use, ≤ 10 minutes, never past the
    /// session) and forgets the request.
    pub async fn issue_code(&self, session: &Session, request: &AuthRequest) -> Result<SecretString, CoreError> {
        let code = random_token()?;
        let now = self.now();
        let stored = AuthorizationCode {
            digest: digest(code.expose()),
            client_id: request.client_id,
            redirect_uri: request.redirect_uri.clone(),
            session_id: session.id,
            scope: request.scope.clone(),
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.clone(),
            created_at: now,
            expires_at: (now + CODE_LIFETIME).min(session.expires_at),
            used_at: None,
        };
        self.store().insert_authorization_code(&stored).await?;
        self.store().delete_auth_request(&request.id).await?;
        Ok(code)
    }

    /// Redeems a code (RFC 6749 §4.1.3, RFC 7636 §4.6): same client and redirect URI, a
    /// matching PKCE verifier when a challenge was sent, once only (a replay revokes the
    /// refresh tokens it gave), and only while its session stands.
    pub async fn redeem_code(&self, code: &str, client_id: AppId, redirect_uri: &str, verifier: Option<&str>) -> Result<Grant, GrantError> {
        let now = self.now();
        let invalid = |why: &str| GrantError::InvalidGrant(why.to_owned());
        let code_digest = digest(code);
        let stored = match self.store().redeem_authorization_code(&code_digest, now).await? {
            Redemption::Redeemed(c) => c,
            Redemption::AlreadyUsed(c) => {
                // A replay by the client the code was for: revoke what that code gave
                // (RFC 6749 §4.1.2), and nothing else of the session's.
                if c.client_id == client_id {
                    self.store().revoke_refresh_family(family_of_code(&code_digest), now).await?;
                }
                return Err(invalid("The authorization code has already been redeemed."));
            }
            Redemption::Unknown => return Err(invalid("The authorization code is not valid.")),
        };
        if stored.client_id != client_id {
            return Err(invalid("The authorization code was issued to another client."));
        }
        if stored.redirect_uri != redirect_uri {
            return Err(invalid("redirect_uri does not match the one in the authorization request."));
        }
        if now >= stored.expires_at {
            return Err(invalid("The authorization code has expired."));
        }
        match (&stored.code_challenge, verifier) {
            (Some(challenge), Some(v)) if pkce_matches(v, challenge) => {}
            (Some(_), _) => return Err(invalid("The code_verifier does not match the code_challenge.")),
            (None, Some(_)) => {
                return Err(invalid(
                    "A code_verifier was sent but the authorization request had no code_challenge.",
                ));
            }
            (None, None) => {}
        }
        self.grant_for_session(
            stored.session_id,
            client_id,
            stored.scope,
            stored.nonce,
            family_of_code(&code_digest),
        )
        .await
    }

    /// The grant a redeemed code (authorization or device code) gives: tokens about the
    /// session's user with a new refresh token in `family`, only while the session — hence
    /// its pass — stands, and never past it.
    pub(super) async fn grant_for_session(
        &self,
        session_id: Uuid,
        client_id: AppId,
        scope: String,
        nonce: Option<String>,
        family: Uuid,
    ) -> Result<Grant, GrantError> {
        let (session, user) = self
            .live_session_by_id(session_id)
            .await?
            .ok_or_else(|| GrantError::InvalidGrant("The session has ended.".into()))?;
        let refresh_token = self.new_refresh_token(&session, client_id, &scope, family, None).await?;
        Ok(Grant {
            not_after: session.expires_at,
            session,
            user,
            client_id,
            scope,
            nonce,
            refresh_token,
        })
    }

    async fn new_refresh_token(
        &self,
        session: &Session,
        client_id: AppId,
        scope: &str,
        family: Uuid,
        rotate: Option<&str>,
    ) -> Result<SecretString, GrantError> {
        let token = random_token()?;
        let now = self.now();
        let stored = RefreshToken {
            digest: digest(token.expose()),
            family_id: family,
            session_id: session.id,
            client_id,
            scope: scope.to_owned(),
            created_at: now,
            expires_at: session.expires_at,
            used_at: None,
            revoked_at: None,
        };
        match rotate {
            None => self.store().insert_refresh_token(&stored).await.map_err(CoreError::from)?,
            Some(old) => match self
                .store()
                .rotate_refresh_token(old, &stored, now)
                .await
                .map_err(CoreError::from)?
            {
                Rotation::Rotated(_) => {}
                Rotation::Reused(t) if t.used_at.is_some() => {
                    return Err(GrantError::InvalidGrant(
                        "The refresh token was already used; its whole family is now revoked.".into(),
                    ));
                }
                Rotation::Reused(_) => return Err(GrantError::InvalidGrant("The refresh token has been revoked.".into())),
                Rotation::Unknown => return Err(GrantError::InvalidGrant("The refresh token is not valid.".into())),
            },
        }
        Ok(token)
    }

    /// Uses a refresh token (RFC 6749 §6): it rotates, and works only while its session —
    /// hence its pass — stands.
    pub async fn refresh(&self, token: &str, client_id: AppId) -> Result<Grant, GrantError> {
        let invalid = |why: &str| GrantError::InvalidGrant(why.to_owned());
        let now = self.now();
        let old_digest = digest(token);
        // Read first to learn the family and session; the rotation below decides atomically.
        let Some(found) = self.peek_refresh_token(&old_digest).await? else {
            return Err(invalid("The refresh token is not valid."));
        };
        if found.client_id != client_id {
            return Err(invalid("The refresh token was issued to another client."));
        }
        if now >= found.expires_at {
            return Err(invalid("The refresh token has expired."));
        }
        let Some((session, user)) = self.live_session_by_id(found.session_id).await? else {
            return Err(invalid(
                "The session has ended: the pass it was made with was deleted, replaced or has expired, or the user signed out.",
            ));
        };
        let refresh_token = self
            .new_refresh_token(&session, client_id, &found.scope, found.family_id, Some(&old_digest))
            .await?;
        Ok(Grant {
            not_after: session.expires_at,
            session,
            user,
            client_id,
            scope: found.scope,
            nonce: None,
            refresh_token,
        })
    }

    async fn peek_refresh_token(&self, digest: &str) -> Result<Option<RefreshToken>, CoreError> {
        Ok(self.store().find_refresh_token(digest).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_the_rfc_7636_example() {
        // RFC 7636 Appendix B.
        assert!(pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }
}
