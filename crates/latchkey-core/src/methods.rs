//! Passwordless methods a person registers on My Security Info: passkeys (WebAuthn,
//! verified by webauthn-rs) and authenticator apps (TOTP, RFC 6238, by totp-rs), and the
//! rules for when a session may register them.

use crate::error::CoreError;
use crate::ids::{MethodId, UserId};
use crate::secrets::{MasterKey, SecretString};
use crate::session::{Session, SignInMethod};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;
use webauthn_rs::prelude::{Passkey, PublicKeyCredential, RegisterPublicKeyCredential, Url};
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// A session that proved strong authentication may register methods this long after its
/// sign-in ("recent"); a one-time pass gives exactly this window (seed 001).
pub const REGISTRATION_WINDOW: Duration = crate::signin::ONE_TIME_REGISTRATION_WINDOW;
/// A WebAuthn ceremony or a TOTP enrolment must finish within this.
pub const CEREMONY_LIFETIME: Duration = Duration::minutes(5);
/// RFC 6238 §5.2 recommends 30 s steps and at most one step of clock skew.
pub const TOTP_STEP_SECONDS: u64 = 30;
const TOTP_DIGITS: u8 = 6;
const TOTP_SKEW_STEPS: u16 = 1;
/// 160-bit seeds, as RFC 4226 §4 recommends.
const TOTP_SECRET_BYTES: usize = 20;
/// The sealing context of TOTP seeds (a seed sealed for one use cannot be opened as another).
const TOTP_SEAL_CONTEXT: &str = "latchkey totp seed";

/// Whether a session may register new methods now: it must have proved strong
/// authentication (a pass, a passkey, or a password with a second factor) recently.
/// The window is set once, at sign-in, from the method (see [`registration_until`]).
#[must_use]
pub fn may_register(session: &Session, now: DateTime<Utc>) -> bool {
    session.revoked_at.is_none() && session.registration_until.is_some_and(|until| now < until)
}

/// Until when a session signed in with `method` at `now` may register methods.
/// A multi-use pass allows it for the whole session (which ends with the pass); a
/// one-time pass and other strong methods for [`REGISTRATION_WINDOW`]; a password alone
/// or an authenticator code alone never.
#[must_use]
pub fn registration_until(
    method: SignInMethod,
    now: DateTime<Utc>,
    session_expires: DateTime<Utc>,
    one_time_pass: bool,
) -> Option<DateTime<Utc>> {
    match method {
        SignInMethod::TemporaryAccessPass if !one_time_pass => Some(session_expires),
        SignInMethod::TemporaryAccessPass | SignInMethod::Passkey | SignInMethod::PasswordAndAuthenticatorApp => {
            Some((now + REGISTRATION_WINDOW).min(session_expires))
        }
        SignInMethod::Password | SignInMethod::AuthenticatorApp => None,
    }
}

/// A registered passkey. `passkey` is webauthn-rs's serialised credential (public key,
/// counter); nothing in it is secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Fido2Method {
    pub id: MethodId,
    pub user_id: UserId,
    pub display_name: String,
    pub aaguid: Option<Uuid>,
    /// The authenticator's model, where its AAGUID is known.
    pub model: Option<String>,
    /// The WebAuthn credential id, base64url without padding.
    pub credential_id: String,
    pub passkey: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A confirmed authenticator app. The seed is sealed under the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftwareOathMethod {
    pub id: MethodId,
    pub user_id: UserId,
    pub sealed_secret: String,
    pub created_at: DateTime<Utc>,
    /// The last TOTP time step accepted: a code is accepted once (RFC 6238 §5.2).
    pub last_used_step: Option<i64>,
}

/// A person's registered methods besides the password and the pass.
#[derive(Debug, Clone, Default)]
pub struct StrongMethods {
    pub passkeys: Vec<Fido2Method>,
    pub authenticator_apps: Vec<SoftwareOathMethod>,
}

impl StrongMethods {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.passkeys.is_empty() && self.authenticator_apps.is_empty()
    }
    #[must_use]
    pub fn count(&self) -> usize {
        self.passkeys.len() + self.authenticator_apps.len()
    }
}

/// What a pending ceremony waits for. Stored server-side, single use, short-lived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CeremonyKind {
    PasskeyRegistration,
    PasskeySignIn,
    AuthenticatorEnrolment,
}

impl CeremonyKind {
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::PasskeyRegistration => "passkey_registration",
            Self::PasskeySignIn => "passkey_sign_in",
            Self::AuthenticatorEnrolment => "totp_enrolment",
        }
    }
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "passkey_registration" => Some(Self::PasskeyRegistration),
            "passkey_sign_in" => Some(Self::PasskeySignIn),
            "totp_enrolment" => Some(Self::AuthenticatorEnrolment),
            _ => None,
        }
    }
}

/// A pending WebAuthn ceremony or TOTP enrolment: `state` is webauthn-rs's ceremony state
/// (holding the challenge) or the sealed seed; `session_id` ties registrations to the
/// session that started them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ceremony {
    pub id: Uuid,
    pub kind: CeremonyKind,
    pub user_id: Option<UserId>,
    pub session_id: Option<Uuid>,
    pub state: String,
    pub expires_at: DateTime<Utc>,
}

/// The WebAuthn relying party: its id is the public URL's host, which must be a domain
/// name (a relying-party id cannot be an IP address), and its origin the public URL.
#[derive(Debug, Clone)]
pub struct RelyingParty {
    webauthn: std::sync::Arc<Webauthn>,
    pub id: String,
}

impl RelyingParty {
    /// # Errors
    /// `Invalid` when the public URL has no host or names an IP address.
    pub fn from_public_url(public_url: &str, name: &str) -> Result<Self, CoreError> {
        let origin = Url::parse(public_url).map_err(|e| CoreError::Invalid(format!("public URL: {e}")))?;
        let host = origin
            .host_str()
            .ok_or_else(|| CoreError::Invalid("the public URL has no host".into()))?
            .to_owned();
        if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
            return Err(CoreError::Invalid(format!(
                "passkeys need a domain name in the public URL, not the IP address {host} (use http://localhost:PORT locally)"
            )));
        }
        let webauthn = WebauthnBuilder::new(&host, &origin)
            .and_then(|b| b.rp_name(name).build())
            .map_err(|e| CoreError::Invalid(format!("WebAuthn relying party: {e}")))?;
        Ok(Self {
            webauthn: std::sync::Arc::new(webauthn),
            id: host,
        })
    }

    #[must_use]
    pub fn webauthn(&self) -> &Webauthn {
        &self.webauthn
    }
}

/// Why a passkey or code was not accepted, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MethodRefusal {
    #[error("This passkey sign-in has expired or was already used. Try again.")]
    CeremonyExpired,
    #[error("The passkey response could not be read: {0}")]
    Malformed(String),
    #[error("The passkey could not be verified: {0}")]
    NotVerified(String),
    #[error("This passkey is not registered here. Sign in another way, or register it on My Security Info.")]
    UnknownPasskey,
    #[error("This passkey belongs to a different account than the one you are signing in as.")]
    WrongUser,
    #[error("The code is not correct. Check your authenticator app and try again.")]
    WrongCode,
    #[error("This code was already used. Wait for the next code in your authenticator app.")]
    CodeReused,
    #[error(
        "Adding sign-in methods needs a recent sign-in with a Temporary Access Pass, a passkey, or a password and code. Sign in again to continue."
    )]
    NotRecentStrongAuth,
}

/// The AAGUID in a registration's attestation object (bytes 37..53 of the authenticator
/// data, WebAuthn §6.5.1). `None` when absent or all zeros (a "none" attestation may
/// zero it).
#[must_use]
pub fn aaguid_of(credential: &RegisterPublicKeyCredential) -> Option<Uuid> {
    #[derive(serde::Deserialize)]
    struct AttestationObject {
        #[serde(rename = "authData", with = "serde_bytes_compat")]
        auth_data: Vec<u8>,
    }
    let object: AttestationObject = serde_cbor_2::from_slice(credential.response.attestation_object.as_ref()).ok()?;
    let bytes = object.auth_data.get(37..53)?;
    let id = Uuid::from_slice(bytes).ok()?;
    (!id.is_nil()).then_some(id)
}

/// CBOR byte strings into a `Vec<u8>` (serde's default expects a sequence).
mod serde_bytes_compat {
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        d.deserialize_bytes(V)
    }
}

/// Authenticator models by AAGUID, for the ones whose vendors publish it (FIDO MDS and
/// the community passkey AAGUID list). Unknown ones show no model.
#[must_use]
pub fn model_of(aaguid: Uuid) -> Option<&'static str> {
    const KNOWN: &[(&str, &str)] = &[
        ("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4", "Google Password Manager"),
        ("adce0002-35bc-c60a-648b-0b25f1f05503", "Chrome on Mac"),
        ("fbfc3007-154e-4ecc-8c0b-6e020557d7bd", "iCloud Keychain"),
        ("08987058-cadc-4b81-b6e1-30de50dcbe96", "Windows Hello"),
        ("9ddd1817-af5a-4672-a2b9-3e3dd95000a9", "Windows Hello"),
        ("6028b017-b1d4-4c02-b4b3-afcdafc96bb2", "Windows Hello"),
        ("bada5566-a7aa-401f-bd96-45619a55120d", "1Password"),
        ("d548826e-79b4-db40-a3d8-11116f7e8349", "Bitwarden"),
        ("cb69481e-8ff7-4039-93ec-0a2729a154a8", "YubiKey 5 Series"),
        ("ee882879-721c-4913-9775-3dfcce97072a", "YubiKey 5 Series"),
        ("01020304-0506-0708-0102-030405060708", "Chromium virtual authenticator"),
    ];
    let text = aaguid.hyphenated().to_string();
    KNOWN.iter().find(|(id, _)| *id == text).map(|(_, model)| *model)
}

/// A passkey credential's id in the stored form (base64url, no padding).
#[must_use]
pub fn credential_id_text(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Reads webauthn-rs's credential back from its stored JSON.
///
/// # Errors
/// `Backend` when the stored value is damaged.
pub fn passkey_from_stored(method: &Fido2Method) -> Result<Passkey, CoreError> {
    serde_json::from_str(&method.passkey).map_err(|e| CoreError::Internal(format!("stored passkey {} is unreadable: {e}", method.id)))
}

/// Parses a browser's `credential.toJSON()` for a sign-in, refusing garbage clearly.
///
/// # Errors
/// `Malformed` with serde's reason.
pub fn parse_assertion(json: &str) -> Result<PublicKeyCredential, MethodRefusal> {
    serde_json::from_str(json).map_err(|e| MethodRefusal::Malformed(e.to_string()))
}

/// Parses a browser's `credential.toJSON()` for a registration.
///
/// # Errors
/// `Malformed` with serde's reason.
pub fn parse_registration(json: &str) -> Result<RegisterPublicKeyCredential, MethodRefusal> {
    serde_json::from_str(json).map_err(|e| MethodRefusal::Malformed(e.to_string()))
}

// ------------------------------------------------------------------------------ TOTP

/// A fresh 160-bit TOTP seed from the OS CSPRNG.
///
/// # Errors
/// `Backend` when the OS has no randomness.
pub fn new_totp_seed() -> Result<Vec<u8>, CoreError> {
    let mut seed = vec![0u8; TOTP_SECRET_BYTES];
    getrandom::fill(&mut seed).map_err(|e| CoreError::Internal(format!("no randomness: {e}")))?;
    Ok(seed)
}

fn totp(seed: &[u8], issuer: &str, account: &str) -> Result<totp_rs::Totp, CoreError> {
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(TOTP_DIGITS)
        .with_skew(TOTP_SKEW_STEPS)
        .with_step_duration(TOTP_STEP_SECONDS)
        .with_secret(totp_rs::Secret::new(seed.to_vec().into_boxed_slice()))
        .with_issuer(Some(issuer.replace(':', " ")))
        .with_account_name(account.replace(':', " "))
        .build()
        .map_err(|e| CoreError::Internal(format!("TOTP parameters: {e}")))
}

/// What an authenticator app needs to enrol: the `otpauth://` URI (for the QR code) and
/// the base32 seed (to type in). Both are shown once, at enrolment.
#[derive(Debug)]
pub struct TotpEnrolment {
    pub otpauth_uri: SecretString,
    pub secret_base32: SecretString,
}

/// # Errors
/// `Backend` on invalid parameters (cannot happen with the fixed ones).
pub fn totp_enrolment(seed: &[u8], issuer: &str, account: &str) -> Result<TotpEnrolment, CoreError> {
    let t = totp(seed, issuer, account)?;
    let uri = t.to_url().map_err(|e| CoreError::Internal(format!("TOTP URI: {e}")))?;
    Ok(TotpEnrolment {
        otpauth_uri: SecretString::new(uri),
        secret_base32: SecretString::new(totp_rs::Secret::new(seed.to_vec().into_boxed_slice()).to_base32()),
    })
}

/// Checks a typed code at `now` and returns the accepted time step, refusing a step at or
/// before `last_used_step` (a code works once). Spaces in the typed code are ignored.
///
/// # Errors
/// `WrongCode` or `CodeReused`.
pub fn check_totp(seed: &[u8], code: &str, now: DateTime<Utc>, last_used_step: Option<i64>) -> Result<i64, MethodRefusal> {
    let typed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != usize::from(TOTP_DIGITS) || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MethodRefusal::WrongCode);
    }
    let t = totp(seed, "latchkey", "user").map_err(|_| MethodRefusal::WrongCode)?;
    let time = u64::try_from(now.timestamp()).map_err(|_| MethodRefusal::WrongCode)?;
    let step = t.check(&typed, time).ok_or(MethodRefusal::WrongCode)?;
    let step = i64::try_from(step).map_err(|_| MethodRefusal::WrongCode)?;
    if last_used_step.is_some_and(|last| step <= last) {
        return Err(MethodRefusal::CodeReused);
    }
    Ok(step)
}

/// Seals a TOTP seed for storage.
///
/// # Errors
/// `Backend` if encryption fails.
pub fn seal_totp_seed(master_key: &MasterKey, seed: &[u8]) -> Result<String, CoreError> {
    master_key.seal(seed, TOTP_SEAL_CONTEXT)
}

/// Opens a stored TOTP seed.
///
/// # Errors
/// `Backend` if the master key does not open it.
pub fn open_totp_seed(master_key: &MasterKey, sealed: &str) -> Result<Vec<u8>, CoreError> {
    master_key.open(sealed, TOTP_SEAL_CONTEXT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).single().unwrap()
    }

    /// RFC 6238 Appendix B, SHA-1 column, truncated to 6 digits.
    #[test]
    fn totp_matches_the_rfc_test_vectors() {
        let seed = b"12345678901234567890";
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            let step = check_totp(seed, code, at(time), None).unwrap();
            assert_eq!(step, time / 30);
        }
        assert_eq!(check_totp(seed, "287 082", at(59), None), Ok(1));
    }

    #[test]
    fn a_totp_code_works_once_and_only_near_its_time() {
        let seed = b"12345678901234567890";
        assert_eq!(check_totp(seed, "287082", at(59), Some(1)), Err(MethodRefusal::CodeReused));
        assert_eq!(check_totp(seed, "287082", at(59), Some(0)), Ok(1));
        // One step of skew either way, no more.
        assert_eq!(check_totp(seed, "287082", at(89), None), Ok(1));
        assert_eq!(check_totp(seed, "287082", at(120), None), Err(MethodRefusal::WrongCode));
        for garbage in ["", "28708", "2870822", "abcdef", "２８７０８２"] {
            assert_eq!(check_totp(seed, garbage, at(59), None), Err(MethodRefusal::WrongCode), "{garbage}");
        }
    }

    #[test]
    fn seeds_are_sealed_under_the_master_key() {
        let key = MasterKey::generate().unwrap();
        let seed = new_totp_seed().unwrap();
        assert_eq!(seed.len(), 20);
        let sealed = seal_totp_seed(&key, &seed).unwrap();
        assert!(!sealed.contains(&totp_enrolment(&seed, "x", "y").unwrap().secret_base32.expose().to_owned()));
        assert_eq!(open_totp_seed(&key, &sealed).unwrap(), seed);
        assert!(open_totp_seed(&MasterKey::generate().unwrap(), &sealed).is_err());
    }

    #[test]
    fn enrolment_uri_names_issuer_and_account() {
        let e = totp_enrolment(b"12345678901234567890", "Contoso: latchkey", "ada@contoso.test").unwrap();
        let uri = e.otpauth_uri.expose();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), "{uri}");
        assert_eq!(e.secret_base32.expose(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn relying_party_needs_a_domain_name() {
        assert_eq!(RelyingParty::from_public_url("http://localhost:8080", "x").unwrap().id, "localhost");
        assert!(RelyingParty::from_public_url("http://127.0.0.1:8080", "x").is_err());
        assert!(RelyingParty::from_public_url("http://[::1]:8080", "x").is_err());
        assert!(RelyingParty::from_public_url("not a url", "x").is_err());
    }

    #[test]
    fn registration_needs_recent_strong_authentication() {
        let now = at(1_000_000);
        let end = now + Duration::hours(8);
        assert_eq!(registration_until(SignInMethod::Password, now, end, false), None);
        assert_eq!(registration_until(SignInMethod::AuthenticatorApp, now, end, false), None);
        assert_eq!(registration_until(SignInMethod::TemporaryAccessPass, now, end, false), Some(end));
        assert_eq!(
            registration_until(SignInMethod::TemporaryAccessPass, now, end, true),
            Some(now + REGISTRATION_WINDOW)
        );
        assert_eq!(
            registration_until(SignInMethod::Passkey, now, end, false),
            Some(now + REGISTRATION_WINDOW)
        );
        // Never past the session.
        let soon = now + Duration::minutes(3);
        assert_eq!(registration_until(SignInMethod::Passkey, now, soon, false), Some(soon));
    }

    #[test]
    fn known_authenticators_have_a_model_name() {
        assert_eq!(
            model_of(Uuid::parse_str("fbfc3007-154e-4ecc-8c0b-6e020557d7bd").unwrap()),
            Some("iCloud Keychain")
        );
        assert_eq!(model_of(Uuid::nil()), None);
    }
}
