//! The device authorization grant (RFC 8628) as use cases: a device asks for codes, the
//! person answers on the `/devicelogin` page in a signed-in browser, and the device polls
//! the token endpoint until it gets the same tokens the authorization-code grant gives,
//! bound to that browser session (so to the pass that made it).

use super::Latchkey;
use super::signin::{Grant, GrantError, family_of_code};
use crate::device::{DEVICE_CODE_LIFETIME, DeviceCode, DeviceCodeStatus, DeviceDecision, POLL_INTERVAL_SECONDS, UserCode};
use crate::error::CoreError;
use crate::ids::AppId;
use crate::secrets::{SecretString, digest, random_token};
use crate::session::{Scopes, Session};
use crate::store::StoreError;
use crate::tenant::Application;

/// A device authorization just started: the only place the device code appears.
#[derive(Debug)]
pub struct DeviceAuthorization {
    pub device_code: SecretString,
    pub user_code: UserCode,
    pub expires_in: i64,
    pub interval: i64,
}

/// A code the person typed, still waiting for their answer, and the application asking.
#[derive(Debug)]
pub struct PendingDeviceCode {
    pub code: DeviceCode,
    pub application: Application,
}

/// The longest `scope` a device may ask for.
const MAX_SCOPE_LEN: usize = 2048;

const UNKNOWN_CODE: &str = "That code wasn't recognised. Check the code shown on your device and try again.";
const EXPIRED_CODE: &str = "That code has expired. Start signing in on your device again to get a new code.";
const USED_CODE: &str = "That code has already been used. Start signing in on your device again to get a new code.";

impl Latchkey {
    /// Starts a device authorization for `app` (RFC 8628 §3.1–3.2): a device code for the
    /// device, a user code for the person, both good for 15 minutes.
    #[tracing::instrument(skip_all, fields(client.id = %app.app_id))]
    pub async fn start_device_authorization(&self, app: &Application, scope: &str) -> Result<DeviceAuthorization, CoreError> {
        if scope.len() > MAX_SCOPE_LEN {
            return Err(CoreError::Invalid("The scope is too long.".into()));
        }
        Scopes::parse(scope).map_err(CoreError::Invalid)?;
        let now = self.now();
        // 20^8 user codes: a collision with a live one is rare; a fresh pair is tried then.
        for _ in 0..3 {
            let device_code = random_token()?;
            let user_code = UserCode::generate()?;
            let stored = DeviceCode {
                device_code_digest: digest(device_code.expose()),
                user_code_digest: user_code.digest(),
                client_id: app.app_id,
                scope: scope.to_owned(),
                created_at: now,
                expires_at: now + DEVICE_CODE_LIFETIME,
                interval_seconds: POLL_INTERVAL_SECONDS,
                last_polled_at: None,
                status: DeviceCodeStatus::Pending,
                session_id: None,
                decided_at: None,
                redeemed_at: None,
            };
            match self.store().insert_device_code(&stored).await {
                Ok(()) => {
                    return Ok(DeviceAuthorization {
                        device_code,
                        user_code,
                        expires_in: DEVICE_CODE_LIFETIME.num_seconds(),
                        interval: POLL_INTERVAL_SECONDS,
                    });
                }
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(CoreError::Internal("no free user code after three tries".into()))
    }

    /// The code a person typed on `/devicelogin`, if it still waits for an answer; else
    /// `Invalid` with a message for the person (unknown, expired or already used).
    pub async fn pending_device_code(&self, user_code: &UserCode) -> Result<PendingDeviceCode, CoreError> {
        let code = self
            .store()
            .find_device_code_by_user_code(&user_code.digest())
            .await?
            .ok_or_else(|| CoreError::Invalid(UNKNOWN_CODE.into()))?;
        refuse_unless_pending(&code, self.now())?;
        let application = self
            .store()
            .find_application_by_app_id(code.client_id)
            .await?
            .ok_or_else(|| CoreError::Invalid("The application that asked for this code is no longer registered.".into()))?;
        Ok(PendingDeviceCode { code, application })
    }

    /// The person's answer on the confirmation page, in their live browser session: approve
    /// binds the device's tokens to that session. Only one answer counts, and only in time.
    #[tracing::instrument(skip_all, fields(session.id = %session.id, approve = approve))]
    pub async fn answer_device_code(&self, user_code: &UserCode, session: &Session, approve: bool) -> Result<(), CoreError> {
        let decision = if approve {
            DeviceDecision::Approve { session_id: session.id }
        } else {
            DeviceDecision::Deny
        };
        let now = self.now();
        if self.store().decide_device_code(&user_code.digest(), decision, now).await? {
            tracing::info!(user.id = %session.user_id, "device sign-in answered");
            return Ok(());
        }
        // Lost: say why, as the lookup would.
        let code = self
            .store()
            .find_device_code_by_user_code(&user_code.digest())
            .await?
            .ok_or_else(|| CoreError::Invalid(UNKNOWN_CODE.into()))?;
        refuse_unless_pending(&code, now)?;
        Err(CoreError::Invalid(USED_CODE.into()))
    }

    /// A device's poll at the token endpoint (RFC 8628 §3.4–3.5). Pending: keep polling,
    /// or slow down if too soon. Approved: the tokens, once only, bound to the approving
    /// session, so they end no later than it (and the pass it was made with).
    #[tracing::instrument(skip_all, fields(client.id = %client_id))]
    pub async fn redeem_device_code(&self, device_code: &str, client_id: AppId) -> Result<Grant, GrantError> {
        let now = self.now();
        let invalid = |why: &str| GrantError::InvalidGrant(why.to_owned());
        let code_digest = digest(device_code);
        let Some(code) = self.store().find_device_code(&code_digest).await? else {
            return Err(invalid("The device code is not valid."));
        };
        if code.client_id != client_id {
            return Err(invalid("The device code was issued to another client."));
        }
        match code.status {
            DeviceCodeStatus::Redeemed => {
                // A replay by its own client: revoke what the code gave, as for a replayed
                // authorization code (RFC 6749 §4.1.2).
                self.store().revoke_refresh_family(family_of_code(&code_digest), now).await?;
                Err(invalid("The device code has already been redeemed."))
            }
            DeviceCodeStatus::Denied => Err(GrantError::AccessDenied),
            _ if code.is_expired(now) => Err(GrantError::ExpiredToken),
            DeviceCodeStatus::Pending => {
                let too_fast = code.too_fast(now);
                let interval = too_fast.unwrap_or(code.interval_seconds);
                let recorded = self
                    .store()
                    .record_device_poll(&code_digest, code.last_polled_at, now, interval)
                    .await?;
                // A poll that lost the race with another one came too soon as well.
                if too_fast.is_some() || !recorded {
                    Err(GrantError::SlowDown)
                } else {
                    Err(GrantError::AuthorizationPending)
                }
            }
            DeviceCodeStatus::Approved => {
                let Some(session_id) = code.session_id else {
                    return Err(GrantError::Core(CoreError::Internal(
                        "an approved device code has no session".into(),
                    )));
                };
                if !self.store().redeem_device_code(&code_digest, now).await? {
                    return Err(invalid("The device code has already been redeemed."));
                }
                self.grant_for_session(session_id, client_id, code.scope, None, family_of_code(&code_digest))
                    .await
            }
        }
    }
}

/// `Invalid` with the person's message unless the code still waits for an answer.
fn refuse_unless_pending(code: &DeviceCode, now: chrono::DateTime<chrono::Utc>) -> Result<(), CoreError> {
    match code.status {
        DeviceCodeStatus::Pending if code.is_expired(now) => Err(CoreError::Invalid(EXPIRED_CODE.into())),
        DeviceCodeStatus::Pending => Ok(()),
        _ => Err(CoreError::Invalid(USED_CODE.into())),
    }
}
