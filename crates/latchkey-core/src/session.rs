//! What a sign-in leaves behind: the browser session, pending authorization requests,
//! authorization codes and refresh tokens (OAuth 2.0, RFC 6749 / OpenID Connect Core),
//! federated domains and the sign-in log. Secrets among them are stored as digests.

use crate::ids::{AppId, PassId, UserId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Authorization codes live at most this long (RFC 6749 §4.1.2 recommends ≤ 10 minutes).
pub const CODE_LIFETIME: Duration = Duration::minutes(10);
/// A pending authorization request (the sign-in pages) expires after this.
pub const AUTH_REQUEST_LIFETIME: Duration = Duration::minutes(30);
/// Access and ID tokens: an hour, never past the session.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::hours(1);

/// How a session was signed in; named as Entra's sign-in log names methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignInMethod {
    TemporaryAccessPass,
    Password,
    Passkey,
    /// A code from an authenticator app (TOTP) on its own.
    AuthenticatorApp,
    /// A password, then a code from an authenticator app.
    PasswordAndAuthenticatorApp,
}

impl SignInMethod {
    /// The `authenticationMethod` string of Entra's sign-in log.
    #[must_use]
    pub const fn display_name(self) -> &'static str {
        match self {
            Self::TemporaryAccessPass => "Temporary Access Pass",
            Self::Password => "Password",
            Self::Passkey => "Passkey",
            Self::AuthenticatorApp => "OATH verification code",
            Self::PasswordAndAuthenticatorApp => "Password, OATH verification code",
        }
    }
    /// The RFC 8176 `amr` values for the ID token. A pass is a strong, multifactor-grade
    /// credential in Entra (seed 001), so it reports `mfa` too.
    #[must_use]
    pub const fn amr(self) -> &'static [&'static str] {
        match self {
            Self::TemporaryAccessPass => &["otp", "mfa"],
            Self::Password => &["pwd"],
            // RFC 8176: a hardware-bound key with user verification.
            Self::Passkey => &["hwk", "user", "mfa"],
            Self::AuthenticatorApp => &["otp"],
            Self::PasswordAndAuthenticatorApp => &["pwd", "otp", "mfa"],
        }
    }
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TemporaryAccessPass => "tap",
            Self::Password => "password",
            Self::Passkey => "passkey",
            Self::AuthenticatorApp => "otp",
            Self::PasswordAndAuthenticatorApp => "password+otp",
        }
    }
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "tap" => Some(Self::TemporaryAccessPass),
            "password" => Some(Self::Password),
            "passkey" => Some(Self::Passkey),
            "otp" => Some(Self::AuthenticatorApp),
            "password+otp" => Some(Self::PasswordAndAuthenticatorApp),
            _ => None,
        }
    }
}

/// A signed-in browser session. Its cookie holds a random token; only the digest is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: Uuid,
    pub user_id: UserId,
    pub method: SignInMethod,
    /// The pass it was made with: the session ends when that pass is deleted or replaced.
    pub pass_id: Option<PassId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// After a one-time pass, methods may be registered until then.
    pub registration_until: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Session {
    /// Whether the session still stands, given the pass the user holds now (if any).
    /// A session made with a pass ends when the pass is deleted, replaced or expires.
    #[must_use]
    pub fn is_live(&self, now: DateTime<Utc>, current_pass: Option<(&PassId, DateTime<Utc>)>) -> bool {
        if self.revoked_at.is_some() || now >= self.expires_at {
            return false;
        }
        match self.pass_id {
            None => true,
            Some(made_with) => current_pass.is_some_and(|(id, expires)| *id == made_with && now < expires),
        }
    }
}

/// Where the authorization response goes (OAuth 2.0 Multiple Response Types / Form Post).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    FormPost,
}

impl ResponseMode {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::FormPost => "form_post",
        }
    }
}

/// An authorization request waiting for the person to sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest {
    pub id: String,
    pub client_id: AppId,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// The S256 PKCE challenge (RFC 7636); `plain` is refused.
    pub code_challenge: Option<String>,
    pub response_mode: ResponseMode,
    pub login_hint: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An authorization code as stored (by digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub digest: String,
    pub client_id: AppId,
    pub redirect_uri: String,
    pub session_id: Uuid,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// What redeeming a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption {
    /// First use: the code, now marked used.
    Redeemed(AuthorizationCode),
    /// Used before: a replay (RFC 6749 §4.1.2 says to revoke what it gave).
    AlreadyUsed(AuthorizationCode),
    Unknown,
}

/// A refresh token as stored (by digest). Tokens rotate: each use makes a new one in the
/// same family; presenting a used one revokes the family (OAuth 2.0 Security BCP §4.14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub digest: String,
    pub family_id: Uuid,
    pub session_id: Uuid,
    pub client_id: AppId,
    pub scope: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What rotating a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The old token, now used; the new one is stored.
    Rotated(RefreshToken),
    /// The token was used or revoked before; its whole family is now revoked.
    Reused(RefreshToken),
    Unknown,
}

/// A domain of the tenant; a federated one sends its users to their own provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub id: String,
    pub federation: Option<Federation>,
    pub created_at: DateTime<Utc>,
}

/// Graph `internalDomainFederation` (the parts sign-in uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Federation {
    pub passive_sign_in_uri: String,
    pub issuer_uri: String,
    pub display_name: String,
}

/// One sign-in attempt, as Graph's `signIn`. `error_code` 0 is success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInRecord {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub user_id: Option<UserId>,
    pub user_principal_name: String,
    pub app_id: Option<AppId>,
    pub app_display_name: Option<String>,
    pub ip_address: Option<String>,
    pub correlation_id: String,
    pub method: Option<SignInMethod>,
    pub error_code: i64,
    pub failure_reason: Option<String>,
    pub additional_details: Option<String>,
}

/// Entra-style error codes for the sign-in log (AADSTS numbers, community-observed where
/// Microsoft publishes none; graph-tap-spec.md §5).
pub mod sign_in_error {
    pub const SUCCESS: i64 = 0;
    pub const WRONG_CREDENTIAL: i64 = 50126;
    pub const UNKNOWN_USER: i64 = 50034;
    pub const LOCKED_OUT: i64 = 50053;
    pub const ACCOUNT_DISABLED: i64 = 50057;
    pub const POLICY_BLOCKED: i64 = 130_501;
    pub const PASS_EXPIRED: i64 = 130_504;
    pub const PASS_NOT_FOUND: i64 = 130_507;
    pub const NOT_YET_VALID: i64 = 130_508;
    /// Not a failure: the user name led to no pass prompt, and the record says why.
    pub const NO_PASS_PROMPT: i64 = 130_509;
}

/// A parsed OAuth `scope`: the OpenID Connect scopes and the Graph permissions asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes {
    pub openid: bool,
    pub profile: bool,
    pub email: bool,
    pub offline_access: bool,
    /// Graph delegated permissions (`User.Read`, …); `.default` means all the user's.
    pub graph: Vec<String>,
}

/// The Graph resource, as scopes name it.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";

impl Scopes {
    /// Parses a space-separated scope. Graph permissions may be written bare
    /// (`User.Read`) or with the resource (`https://graph.microsoft.com/User.Read`), as
    /// Entra accepts; any other resource is refused (`invalid_scope`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut s = Self::default();
        for item in raw.split_whitespace() {
            match item {
                "openid" => s.openid = true,
                "profile" => s.profile = true,
                "email" => s.email = true,
                "offline_access" => s.offline_access = true,
                other => {
                    let perm = other.strip_prefix(GRAPH_RESOURCE).map_or(other, |p| p.trim_start_matches('/'));
                    let valid = !perm.is_empty()
                        && perm.len() <= 100
                        && !perm.contains("://")
                        && perm.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c));
                    if !valid {
                        return Err(format!(
                            "The scope '{}' is not one latchkey can grant.",
                            other.chars().take(100).collect::<String>()
                        ));
                    }
                    if !s.graph.iter().any(|g| g == perm) {
                        s.graph.push(perm.to_owned());
                    }
                }
            }
        }
        if !s.openid && s.graph.is_empty() {
            return Err("The scope must include openid or a Microsoft Graph permission.".into());
        }
        Ok(s)
    }

    /// The `scp` claim of a delegated Graph token: the permissions asked for, or, for
    /// `.default` or a sign-in-only request, Entra's baseline `User.Read`.
    #[must_use]
    pub fn graph_scp(&self) -> String {
        let named: Vec<&str> = self.graph.iter().map(String::as_str).filter(|p| *p != ".default").collect();
        if named.is_empty() {
            "User.Read".to_owned()
        } else {
            named.join(" ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_accept_oidc_and_graph_permissions_in_both_spellings() {
        let s = Scopes::parse("openid profile offline_access https://graph.microsoft.com/User.Read UserAuthenticationMethod.ReadWrite.All")
            .unwrap();
        assert!(s.openid && s.profile && s.offline_access && !s.email);
        assert_eq!(s.graph, ["User.Read", "UserAuthenticationMethod.ReadWrite.All"]);
        assert_eq!(
            Scopes::parse("https://graph.microsoft.com/.default").unwrap().graph_scp(),
            "User.Read"
        );
        assert!(Scopes::parse("api://other/.default").is_err());
        assert!(Scopes::parse("profile").is_err());
        assert!(Scopes::parse("").is_err());
    }

    #[test]
    fn a_session_made_with_a_pass_ends_when_the_pass_is_replaced_deleted_or_expires() {
        use chrono::TimeZone;
        let t0 = chrono::Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
        let pass = crate::ids::PassId::new_random();
        let s = Session {
            id: Uuid::new_v4(),
            user_id: crate::ids::UserId::new_random(),
            method: SignInMethod::TemporaryAccessPass,
            pass_id: Some(pass),
            created_at: t0,
            expires_at: t0 + Duration::hours(1),
            registration_until: None,
            revoked_at: None,
        };
        let end = t0 + Duration::hours(1);
        assert!(s.is_live(t0, Some((&pass, end))));
        assert!(!s.is_live(t0, None), "deleted");
        assert!(!s.is_live(t0, Some((&crate::ids::PassId::new_random(), end))), "replaced");
        assert!(
            !s.is_live(t0 + Duration::minutes(30), Some((&pass, t0 + Duration::minutes(20)))),
            "pass expired"
        );
        assert!(!s.is_live(end, Some((&pass, end + Duration::hours(1)))), "session expired");
        assert!(
            !Session {
                revoked_at: Some(t0),
                ..s.clone()
            }
            .is_live(t0, Some((&pass, end))),
            "signed out"
        );
    }
}
