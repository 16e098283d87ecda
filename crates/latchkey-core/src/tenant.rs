//! The tenant, its applications (OAuth clients) and its signing keys.

use crate::authz::Permission;
use crate::ids::{AppId, ApplicationObjectId, SecretKeyId, TenantId};
use chrono::{DateTime, Utc};

/// The one tenant a database serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub primary_domain: String,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
}

impl Tenant {
    /// Whether `key` names this tenant: its id or its primary domain (case-insensitive).
    #[must_use]
    pub fn is_named_by(&self, key: &str) -> bool {
        self.id.to_string().eq_ignore_ascii_case(key) || self.primary_domain.eq_ignore_ascii_case(key)
    }
}

/// Validates a DNS domain name for a tenant: letters, digits, hyphens, dots, at most 253.
pub fn parse_domain(raw: &str) -> Result<String, crate::CoreError> {
    let d = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(d)
    } else {
        Err(crate::CoreError::Invalid(format!("'{raw}' is not a valid domain name")))
    }
}

/// A client secret: only its SHA-256 digest is kept.
#[derive(Debug, Clone)]
pub struct ClientSecret {
    pub key_id: SecretKeyId,
    pub display_name: Option<String>,
    /// The first three characters, as Entra's `hint`, to tell secrets apart.
    pub hint: String,
    pub digest: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An application registration.
#[derive(Debug, Clone)]
pub struct Application {
    pub id: ApplicationObjectId,
    pub app_id: AppId,
    pub display_name: String,
    /// Application permissions granted to it for app-only calls.
    pub permissions: Vec<Permission>,
    pub secrets: Vec<ClientSecret>,
    /// Where the authorization endpoint may send codes, by Entra platform.
    pub redirect_uris: RedirectUris,
    pub created_at: DateTime<Utc>,
}

/// An application's redirect URIs by platform, as Graph's `web`, `spa` and `publicClient`.
/// SPA and public-client redirects belong to clients that hold no secret: they must use
/// PKCE, and the token endpoint does not ask them to authenticate.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RedirectUris {
    pub web: Vec<String>,
    pub spa: Vec<String>,
    pub public_client: Vec<String>,
}

/// The platform a redirect URI was registered under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Web,
    Spa,
    PublicClient,
}

impl Platform {
    /// Whether a client redirecting here can keep a secret.
    #[must_use]
    pub const fn is_confidential(self) -> bool {
        matches!(self, Self::Web)
    }
}

impl RedirectUris {
    /// The platform of a registered redirect URI, matched exactly (RFC 6749 §3.1.2.3,
    /// OAuth 2.0 Security BCP §4.1: no prefix or pattern matching).
    #[must_use]
    pub fn platform_of(&self, uri: &str) -> Option<Platform> {
        if self.web.iter().any(|u| u == uri) {
            Some(Platform::Web)
        } else if self.spa.iter().any(|u| u == uri) {
            Some(Platform::Spa)
        } else if self.public_client.iter().any(|u| u == uri) {
            Some(Platform::PublicClient)
        } else {
            None
        }
    }
}

/// A token-signing key as stored: the private half sealed under the master key.
#[derive(Debug, Clone)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub algorithm: String,
    pub sealed_private_key: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}
