//! My Security Info: registering and deleting passkeys and authenticator apps, signing in
//! with them, and the lists admins read through Graph. The rules live in
//! [`crate::methods`]; this module applies them with the store.

use super::signin::{SignInContext, SignInFailure, SignedIn};
use super::{Latchkey, PassView};
use crate::audit::{SERVICE_AUTH_METHODS, TargetResource, activity};
use crate::authz::{Caller, PassAction};
use crate::directory::User;
use crate::error::CoreError;
use crate::ids::MethodId;
use crate::methods::{
    CEREMONY_LIFETIME, Ceremony, CeremonyKind, Fido2Method, MethodRefusal, RelyingParty, SoftwareOathMethod, StrongMethods, TotpEnrolment,
    aaguid_of, check_totp, credential_id_text, may_register, model_of, new_totp_seed, open_totp_seed, parse_assertion, parse_registration,
    passkey_from_stored, seal_totp_seed, totp_enrolment,
};
use crate::secrets::{MasterKey, SecretString};
use crate::session::{Session, SignInMethod, sign_in_error};
use std::sync::Arc;
use uuid::Uuid;
use webauthn_rs::prelude::{DiscoverableAuthentication, PasskeyRegistration};

/// Longest name a person may give a passkey.
pub const MAX_METHOD_NAME: usize = 64;

/// What passkeys and authenticator apps need from the server's configuration.
#[derive(Debug, Clone)]
pub struct Authenticators {
    /// `None` when the public URL names an IP address: passkeys then say why they are off.
    pub relying_party: Option<RelyingParty>,
    pub master_key: MasterKey,
    /// Shown in authenticator apps next to the account (the tenant's domain).
    pub issuer: String,
}

/// Everything My Security Info shows.
#[derive(Debug, Clone)]
pub struct SecurityInfo {
    pub methods: StrongMethods,
    pub password_set: bool,
    pub pass: Option<PassView>,
    /// Whether this session may add methods now (recent strong authentication).
    pub may_register: bool,
}

impl SecurityInfo {
    /// The banner: the pass is the person's only way to sign in.
    #[must_use]
    pub fn only_the_pass(&self) -> bool {
        self.pass.is_some() && self.methods.is_empty() && !self.password_set
    }

    /// Whether deleting any one method would leave no strong one (passkey, authenticator
    /// app or pass; a password alone is not), so the person must confirm first.
    #[must_use]
    pub fn deleting_leaves_no_strong_method(&self) -> bool {
        self.methods.count() + usize::from(self.pass.is_some()) <= 1
    }
}

/// A started passkey ceremony: the options for `navigator.credentials.*` and the id the
/// browser sends back with its answer.
#[derive(Debug, Clone)]
pub struct PasskeyChallenge {
    pub ceremony: Uuid,
    pub options: serde_json::Value,
}

/// Where a browser goes after signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landing {
    /// Back to the application that asked.
    Application,
    /// First a page offering a passkey, with a way on to the application.
    OfferPasskey,
    /// My Security Info, to add a method.
    MySecurityInfo,
    /// Where the person asked to go, or the "who am I" page.
    Default,
}

/// What confirming an authenticator app came to.
#[derive(Debug)]
pub enum Enrolment {
    Added(SoftwareOathMethod),
    /// The code was wrong; the same enrolment, still open, to show again.
    Retry {
        refusal: MethodRefusal,
        challenge: AuthenticatorChallenge,
    },
}

/// A started authenticator-app enrolment: the seed is shown once, then only its sealed
/// form exists.
#[derive(Debug)]
pub struct AuthenticatorChallenge {
    pub ceremony: Uuid,
    pub enrolment: TotpEnrolment,
}

fn refusal(r: &MethodRefusal) -> CoreError {
    CoreError::Invalid(r.to_string())
}

fn self_caller(user: &User) -> Caller {
    Caller::User {
        id: user.id,
        upn: user.user_principal_name.to_string(),
        roles: Vec::new(),
    }
}

impl Latchkey {
    /// Turns on passkeys and authenticator apps (the server knows its relying party and
    /// master key; the CLI's offline commands need neither).
    #[must_use]
    pub fn with_authenticators(mut self, authenticators: Authenticators) -> Self {
        self.authenticators = Some(Arc::new(authenticators));
        self
    }

    fn authenticators(&self) -> Result<&Authenticators, CoreError> {
        self.authenticators
            .as_deref()
            .ok_or_else(|| CoreError::Internal("passkeys and authenticator apps are not configured".into()))
    }

    fn relying_party(&self) -> Result<&RelyingParty, CoreError> {
        self.authenticators()?.relying_party.as_ref().ok_or_else(|| {
            CoreError::Invalid(
                "Passkeys are off: this server's public URL names an IP address, and a passkey needs a domain name (use http://localhost:PORT locally)."
                    .into(),
            )
        })
    }

    /// Whether passkeys can be used here (the public URL names a domain).
    #[must_use]
    pub fn passkeys_available(&self) -> bool {
        self.authenticators.as_ref().is_some_and(|a| a.relying_party.is_some())
    }

    /// The passkeys and authenticator apps a user holds.
    pub async fn strong_methods(&self, user: crate::ids::UserId) -> Result<StrongMethods, CoreError> {
        Ok(StrongMethods {
            passkeys: self.store().list_fido2_methods(user).await?,
            authenticator_apps: self.store().list_software_oath_methods(user).await?,
        })
    }

    /// What My Security Info shows to the person signed in with `session`.
    pub async fn security_info(&self, session: &Session, user: &User) -> Result<SecurityInfo, CoreError> {
        let state = self
            .store()
            .find_user_auth_state(user.id)
            .await?
            .ok_or_else(|| CoreError::not_found("user", user.id))?;
        let pass = match state.pass.clone() {
            Some(p) => Some(self.view(&state, &self.store().get_policy().await?, p)),
            None => None,
        };
        Ok(SecurityInfo {
            methods: self.strong_methods(user.id).await?,
            password_set: state.user.password_hash.is_some(),
            pass,
            may_register: may_register(session, self.now()),
        })
    }

    fn require_registration_allowed(&self, session: &Session) -> Result<(), CoreError> {
        if may_register(session, self.now()) {
            Ok(())
        } else {
            Err(CoreError::Forbidden(MethodRefusal::NotRecentStrongAuth.to_string()))
        }
    }

    async fn start_ceremony(&self, kind: CeremonyKind, session: Option<&Session>, state: String) -> Result<Uuid, CoreError> {
        let ceremony = Ceremony {
            id: Uuid::new_v4(),
            kind,
            user_id: session.map(|s| s.user_id),
            session_id: session.map(|s| s.id),
            state,
            expires_at: self.now() + CEREMONY_LIFETIME,
        };
        self.store().insert_ceremony(&ceremony).await?;
        Ok(ceremony.id)
    }

    /// Takes a pending ceremony of this kind (once); for registrations it must belong to
    /// the same session.
    async fn finish_ceremony(&self, id: Uuid, kind: &CeremonyKind, session: Option<&Session>) -> Result<Ceremony, MethodRefusal> {
        let ceremony = self
            .store()
            .take_ceremony(id)
            .await
            .map_err(|_| MethodRefusal::CeremonyExpired)?
            .filter(|c| &c.kind == kind && c.expires_at > self.now())
            .ok_or(MethodRefusal::CeremonyExpired)?;
        if session.map(|s| s.id) != ceremony.session_id {
            return Err(MethodRefusal::CeremonyExpired);
        }
        Ok(ceremony)
    }

    /// Where a successful sign-in goes next (DESIGN "Use"): after a pass, a person without
    /// a passkey is first offered one on the way to an application, and lands on My
    /// Security Info when they have nothing but the pass; everyone else goes straight on.
    pub async fn landing_after(&self, signed_in: &SignedIn, to_application: bool) -> Result<Landing, CoreError> {
        if signed_in.session.method != SignInMethod::TemporaryAccessPass {
            return Ok(if to_application { Landing::Application } else { Landing::Default });
        }
        // Where to go next is a display choice: the copy serves.
        let methods = self.strong_methods_copy(self.store().data_version(), signed_in.user.id).await?;
        Ok(match to_application {
            true if methods.passkeys.is_empty() && self.passkeys_available() => Landing::OfferPasskey,
            true => Landing::Application,
            false if methods.is_empty() => Landing::MySecurityInfo,
            false => Landing::Default,
        })
    }

    // ------------------------------------------------------------------ passkeys

    /// Starts registering a passkey: a discoverable credential with user verification, so
    /// the person can later sign in without typing a user name.
    pub async fn begin_passkey_registration(&self, session: &Session, user: &User) -> Result<PasskeyChallenge, CoreError> {
        self.require_registration_allowed(session)?;
        let rp = self.relying_party()?;
        let existing = self
            .store()
            .list_fido2_methods(user.id)
            .await?
            .iter()
            .map(|m| passkey_from_stored(m).map(|p| p.cred_id().clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let (options, state) = rp
            .webauthn()
            .start_passkey_registration(
                *user.id.as_uuid(),
                user.user_principal_name.as_str(),
                &user.display_name,
                Some(existing),
            )
            .map_err(|e| CoreError::Internal(format!("WebAuthn registration options: {e}")))?;
        let mut options = serde_json::to_value(&options).map_err(|e| CoreError::Internal(e.to_string()))?;
        // webauthn-rs asks for residentKey "discouraged"; username-less sign-in needs a
        // discoverable credential (WebAuthn §5.4.4).
        options["publicKey"]["authenticatorSelection"] = serde_json::json!({
            "residentKey": "required",
            "requireResidentKey": true,
            "userVerification": "required",
        });
        let state = serde_json::to_string(&state).map_err(|e| CoreError::Internal(e.to_string()))?;
        let ceremony = self.start_ceremony(CeremonyKind::PasskeyRegistration, Some(session), state).await?;
        Ok(PasskeyChallenge { ceremony, options })
    }

    /// Finishes registering a passkey from the browser's `credential.toJSON()`.
    #[tracing::instrument(skip_all, fields(user.id = %user.id))]
    pub async fn finish_passkey_registration(
        &self,
        session: &Session,
        user: &User,
        ceremony: Uuid,
        credential_json: &str,
        name: Option<&str>,
    ) -> Result<Fido2Method, CoreError> {
        self.require_registration_allowed(session)?;
        let rp = self.relying_party()?;
        let ceremony = self
            .finish_ceremony(ceremony, &CeremonyKind::PasskeyRegistration, Some(session))
            .await
            .map_err(|r| refusal(&r))?;
        let state: PasskeyRegistration =
            serde_json::from_str(&ceremony.state).map_err(|e| CoreError::Internal(format!("stored ceremony: {e}")))?;
        let credential = parse_registration(credential_json).map_err(|r| refusal(&r))?;
        let passkey = rp
            .webauthn()
            .finish_passkey_registration(&credential, &state)
            .map_err(|e| refusal(&MethodRefusal::NotVerified(e.to_string())))?;
        let aaguid = aaguid_of(&credential);
        let model = aaguid.and_then(model_of).map(str::to_owned);
        let display_name = name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| n.chars().take(MAX_METHOD_NAME).collect::<String>())
            .or_else(|| model.clone())
            .unwrap_or_else(|| "Passkey".to_owned());
        let method = Fido2Method {
            id: MethodId::new_random(),
            user_id: user.id,
            display_name,
            aaguid,
            model,
            credential_id: credential_id_text(passkey.cred_id().as_ref()),
            passkey: serde_json::to_string(&passkey).map_err(|e| CoreError::Internal(e.to_string()))?,
            created_at: self.now(),
            last_used_at: None,
        };
        let audit = self.audit(
            &self_caller(user),
            activity::USER_REGISTERED_SECURITY_INFO,
            (SERVICE_AUTH_METHODS, "UserManagement", "Add"),
            "User registered Passkey",
            vec![TargetResource::user(user).with("Fido2AuthenticationMethod.Id", None, Some(method.id.to_string()))],
        );
        self.store().insert_fido2_method(&method, &audit).await.map_err(|e| match e {
            crate::store::StoreError::Conflict(_) => CoreError::Conflict("This passkey is registered already.".into()),
            other => other.into(),
        })?;
        tracing::info!(method.id = %method.id, "passkey registered");
        Ok(method)
    }

    /// Starts a passkey sign-in. The browser picks the credential (username-less); when a
    /// user name was typed first, [`Self::finish_passkey_sign_in`] checks it matches.
    pub async fn begin_passkey_sign_in(&self) -> Result<PasskeyChallenge, CoreError> {
        let rp = self.relying_party()?;
        let (mut options, state) = rp
            .webauthn()
            .start_discoverable_authentication()
            .map_err(|e| CoreError::Internal(format!("WebAuthn sign-in options: {e}")))?;
        // webauthn-rs sets conditional mediation (autofill UI); this is a button press.
        options.mediation = None;
        let state = serde_json::to_string(&state).map_err(|e| CoreError::Internal(e.to_string()))?;
        let ceremony = self.start_ceremony(CeremonyKind::PasskeySignIn, None, state).await?;
        Ok(PasskeyChallenge {
            ceremony,
            options: serde_json::to_value(&options).map_err(|e| CoreError::Internal(e.to_string()))?,
        })
    }

    /// Signs in with a passkey's assertion (`credential.toJSON()`).
    #[tracing::instrument(skip_all)]
    pub async fn finish_passkey_sign_in(
        &self,
        ceremony: Uuid,
        credential_json: &str,
        expected_username: Option<&str>,
        ctx: &SignInContext,
    ) -> Result<SignedIn, SignInFailure> {
        let method = Some(SignInMethod::Passkey);
        let shown = expected_username.unwrap_or("(passkey)");
        let refuse = async |user: Option<&User>, r: MethodRefusal| {
            self.log_sign_in(ctx, user, shown, method, sign_in_error::WRONG_CREDENTIAL, Some(r.to_string()))
                .await;
            SignInFailure {
                message: r.to_string(),
                reason: "PasskeyNotVerified",
                internal: None,
            }
        };
        let rp = self.relying_party()?;
        let taken = match self.finish_ceremony(ceremony, &CeremonyKind::PasskeySignIn, None).await {
            Ok(c) => c,
            Err(r) => return Err(refuse(None, r).await),
        };
        let state: DiscoverableAuthentication =
            serde_json::from_str(&taken.state).map_err(|e| CoreError::Internal(format!("stored ceremony: {e}")))?;
        let credential = match parse_assertion(credential_json) {
            Ok(c) => c,
            Err(r) => return Err(refuse(None, r).await),
        };
        let (user_handle, credential_id) = match rp.webauthn().identify_discoverable_authentication(&credential) {
            Ok(found) => found,
            Err(e) => return Err(refuse(None, MethodRefusal::NotVerified(e.to_string())).await),
        };
        let Some(stored) = self.store().find_fido2_by_credential_id(&credential_id_text(credential_id)).await? else {
            return Err(refuse(None, MethodRefusal::UnknownPasskey).await);
        };
        if stored.user_id.as_uuid() != &user_handle {
            return Err(refuse(None, MethodRefusal::UnknownPasskey).await);
        }
        let Some(user) = self.store().find_user(stored.user_id).await? else {
            return Err(refuse(None, MethodRefusal::UnknownPasskey).await);
        };
        if let Some(expected) = expected_username
            && !user.user_principal_name.as_str().eq_ignore_ascii_case(expected.trim())
        {
            return Err(refuse(Some(&user), MethodRefusal::WrongUser).await);
        }
        let mut passkey = passkey_from_stored(&stored)?;
        let result = match rp.webauthn().finish_discoverable_authentication_v2(&credential, state, &passkey) {
            Ok(r) => r,
            Err(e) => return Err(refuse(Some(&user), MethodRefusal::NotVerified(e.to_string())).await),
        };
        self.refuse_if_disabled(&user, shown, method, ctx).await?;
        passkey.update_credential(&result);
        let saved = serde_json::to_string(&passkey).map_err(|e| CoreError::Internal(e.to_string()))?;
        let now = self.now();
        self.store().record_fido2_use(stored.id, &saved, now).await?;
        let signed_in = self.start_session_without_pass(user.clone(), SignInMethod::Passkey).await?;
        let upn = user.user_principal_name.to_string();
        self.log_sign_in(ctx, Some(&user), &upn, method, sign_in_error::SUCCESS, None).await;
        Ok(signed_in)
    }

    // ------------------------------------------------------------ authenticator apps

    /// Starts enrolling an authenticator app: a fresh seed, shown once, kept sealed in a
    /// pending ceremony until the person proves their app with a first code.
    pub async fn begin_authenticator_enrolment(&self, session: &Session, user: &User) -> Result<AuthenticatorChallenge, CoreError> {
        self.require_registration_allowed(session)?;
        let a = self.authenticators()?;
        let seed = new_totp_seed()?;
        let enrolment = totp_enrolment(&seed, &a.issuer, user.user_principal_name.as_str())?;
        let sealed = seal_totp_seed(&a.master_key, &seed)?;
        let ceremony = self
            .start_ceremony(CeremonyKind::AuthenticatorEnrolment, Some(session), sealed)
            .await?;
        Ok(AuthenticatorChallenge { ceremony, enrolment })
    }

    /// Confirms an enrolment with the first code from the app. A wrong code keeps the
    /// enrolment open (the person may retype): the ceremony is put back and its key shown
    /// again.
    #[tracing::instrument(skip_all, fields(user.id = %user.id))]
    pub async fn confirm_authenticator_enrolment(
        &self,
        session: &Session,
        user: &User,
        ceremony: Uuid,
        code: &SecretString,
    ) -> Result<Enrolment, CoreError> {
        self.require_registration_allowed(session)?;
        let a = self.authenticators()?;
        let pending = self
            .finish_ceremony(ceremony, &CeremonyKind::AuthenticatorEnrolment, Some(session))
            .await
            .map_err(|r| refusal(&r))?;
        let seed = open_totp_seed(&a.master_key, &pending.state)?;
        let step = match check_totp(&seed, code.expose(), self.now(), None) {
            Ok(step) => step,
            Err(r) => {
                self.store().insert_ceremony(&pending).await?;
                return Ok(Enrolment::Retry {
                    refusal: r,
                    challenge: AuthenticatorChallenge {
                        ceremony: pending.id,
                        enrolment: totp_enrolment(&seed, &a.issuer, user.user_principal_name.as_str())?,
                    },
                });
            }
        };
        let method = SoftwareOathMethod {
            id: MethodId::new_random(),
            user_id: user.id,
            sealed_secret: pending.state,
            created_at: self.now(),
            // The confirming code is used: it cannot also sign in.
            last_used_step: Some(step),
        };
        let audit = self.audit(
            &self_caller(user),
            activity::USER_REGISTERED_SECURITY_INFO,
            (SERVICE_AUTH_METHODS, "UserManagement", "Add"),
            "User registered Authenticator App with Software OATH token",
            vec![TargetResource::user(user).with("SoftwareOathAuthenticationMethod.Id", None, Some(method.id.to_string()))],
        );
        self.store().insert_software_oath_method(&method, &audit).await?;
        tracing::info!(method.id = %method.id, "authenticator app registered");
        Ok(Enrolment::Added(method))
    }

    /// Checks a code against the user's authenticator apps and uses its time step (once,
    /// atomically). Wrong codes count toward the same lockout as passes and passwords.
    pub(super) async fn check_authenticator_code(
        &self,
        user: &User,
        apps: &[SoftwareOathMethod],
        code: &SecretString,
        username: &str,
        method: Option<SignInMethod>,
        ctx: &SignInContext,
    ) -> Result<(), SignInFailure> {
        let master_key = &self.authenticators()?.master_key;
        let now = self.now();
        let mut reused = false;
        for app in apps {
            let seed = open_totp_seed(master_key, &app.sealed_secret)?;
            match check_totp(&seed, code.expose(), now, app.last_used_step) {
                Ok(step) if self.store().use_totp_step(app.id, step).await? => return Ok(()),
                Ok(_) | Err(MethodRefusal::CodeReused) => reused = true,
                Err(_) => {}
            }
        }
        if reused {
            let r = MethodRefusal::CodeReused;
            self.log_sign_in(
                ctx,
                Some(user),
                username,
                method,
                sign_in_error::WRONG_CREDENTIAL,
                Some(r.to_string()),
            )
            .await;
            return Err(SignInFailure {
                message: r.to_string(),
                reason: "CodeReused",
                internal: None,
            });
        }
        let mut failure = self.wrong_code(username, ctx, method, sign_in_error::WRONG_CREDENTIAL).await;
        MethodRefusal::WrongCode.to_string().clone_into(&mut failure.message);
        Err(failure)
    }

    /// Signs in with a code from an authenticator app alone (field `otp`).
    #[tracing::instrument(skip_all)]
    pub async fn sign_in_with_authenticator_code(
        &self,
        username: &str,
        code: &SecretString,
        ctx: &SignInContext,
    ) -> Result<SignedIn, SignInFailure> {
        let method = Some(SignInMethod::AuthenticatorApp);
        let Ok(user) = self.resolve_user(username).await else {
            let mut failure = self.wrong_code(username, ctx, method, sign_in_error::UNKNOWN_USER).await;
            MethodRefusal::WrongCode.to_string().clone_into(&mut failure.message);
            return Err(failure);
        };
        let throttle = self.refuse_if_locked_out(&user, username, method, ctx).await?;
        let apps = self.store().list_software_oath_methods(user.id).await?;
        self.check_authenticator_code(&user, &apps, code, username, method, ctx).await?;
        self.refuse_if_disabled(&user, username, method, ctx).await?;
        self.clear_throttle(user.id, throttle).await?;
        let signed_in = self
            .start_session_without_pass(user.clone(), SignInMethod::AuthenticatorApp)
            .await?;
        self.log_sign_in(ctx, Some(&user), username, method, sign_in_error::SUCCESS, None)
            .await;
        Ok(signed_in)
    }

    // ------------------------------------------------------------- listing, deletion

    /// `GET /users/{id}/authentication/fido2Methods` (and the methods list).
    pub async fn list_fido2_methods(&self, caller: &Caller, target_key: &str) -> Result<Vec<Fido2Method>, CoreError> {
        let state = self.resolve_user_state(target_key).await?;
        caller.authorize_pass(PassAction::Read, &state.user, &state.roles)?;
        Ok(self.store().list_fido2_methods(state.user.id).await?)
    }

    /// `GET /users/{id}/authentication/softwareOathMethods`.
    pub async fn list_software_oath_methods(&self, caller: &Caller, target_key: &str) -> Result<Vec<SoftwareOathMethod>, CoreError> {
        let state = self.resolve_user_state(target_key).await?;
        caller.authorize_pass(PassAction::Read, &state.user, &state.roles)?;
        Ok(self.store().list_software_oath_methods(state.user.id).await?)
    }

    /// Deletes a passkey: by the person themselves or by an admin allowed to manage the
    /// user's methods (the same role rules as passes).
    #[tracing::instrument(skip_all, fields(target = %target_key))]
    pub async fn delete_fido2_method(&self, caller: &Caller, target_key: &str, id: MethodId) -> Result<(), CoreError> {
        let state = self.resolve_user_state(target_key).await?;
        caller.authorize_pass(PassAction::Delete, &state.user, &state.roles)?;
        let audit = self.method_deletion_audit(caller, &state.user, "Passkey", "Fido2AuthenticationMethod.Id", id);
        self.store().delete_fido2_method(state.user.id, id, &audit).await?;
        tracing::info!(method.id = %id, "passkey deleted");
        Ok(())
    }

    /// Deletes an authenticator app.
    #[tracing::instrument(skip_all, fields(target = %target_key))]
    pub async fn delete_software_oath_method(&self, caller: &Caller, target_key: &str, id: MethodId) -> Result<(), CoreError> {
        let state = self.resolve_user_state(target_key).await?;
        caller.authorize_pass(PassAction::Delete, &state.user, &state.roles)?;
        let audit = self.method_deletion_audit(
            caller,
            &state.user,
            "Authenticator App with Software OATH token",
            "SoftwareOathAuthenticationMethod.Id",
            id,
        );
        self.store().delete_software_oath_method(state.user.id, id, &audit).await?;
        tracing::info!(method.id = %id, "authenticator app deleted");
        Ok(())
    }

    fn method_deletion_audit(&self, caller: &Caller, user: &User, what: &str, property: &str, id: MethodId) -> crate::audit::AuditRecord {
        let (activity_name, reason) = if caller.is_user(user.id) {
            (activity::USER_DELETED_SECURITY_INFO, format!("User deleted {what}"))
        } else {
            (activity::ADMIN_DELETED_SECURITY_INFO, format!("Admin deleted {what} for user"))
        };
        self.audit(
            caller,
            activity_name,
            (SERVICE_AUTH_METHODS, "UserManagement", "Delete"),
            reason,
            vec![TargetResource::user(user).with(property, Some(id.to_string()), None)],
        )
    }

    /// The caller a browser session acts as on My Security Info (the person themselves).
    #[must_use]
    pub fn session_caller(&self, user: &User) -> Caller {
        let _ = self;
        self_caller(user)
    }

    /// Drops ceremonies nobody finished.
    pub async fn purge_ceremonies(&self) -> Result<u64, CoreError> {
        Ok(self.store().purge_ceremonies(self.now()).await?)
    }
}
