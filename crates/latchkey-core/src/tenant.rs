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
    pub created_at: DateTime<Utc>,
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
