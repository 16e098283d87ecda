//! Application registrations (Graph `application`): the OAuth clients of the OpenID Connect
//! provider, their redirect URIs by platform, and their client secrets.
//!
//! Redirect URIs follow RFC 6749 §3.1.2 (absolute, no fragment), the OAuth 2.0 Security BCP
//! §4.1 and Entra's restrictions ("Redirect URI (reply URL) restrictions and limitations"):
//! `https` everywhere except plain `http` on the loopback host (RFC 8252 §7.3), no
//! wildcards, at most 256 characters each and 256 in all. Public clients may also use a
//! private-use scheme such as `com.contoso.app:/callback` (RFC 8252 §7.1).

use super::{CLIENT_SECRET_LIFETIME_DAYS, IssuedClientSecret, Listing, overfetch};
use crate::Latchkey;
use crate::audit::{SERVICE_CORE_DIRECTORY, TargetResource, activity};
use crate::authz::{Access, Area, Caller};
use crate::directory::{Page, parse_display_name};
use crate::error::CoreError;
use crate::ids::{AppId, ApplicationObjectId, SecretKeyId};
use crate::secrets::{digest, random_token};
use crate::tenant::{Application, ClientSecret, RedirectUris};
use chrono::{DateTime, Duration, Months, Utc};

/// Entra's limit on one redirect URI's length, in characters.
pub const MAX_REDIRECT_URI_LENGTH: usize = 256;
/// Entra's limit on an application's redirect URIs, all platforms together.
pub const MAX_REDIRECT_URIS: usize = 256;
/// How far in the future a client secret may expire (Entra's portal offers up to 24 months).
const MAX_SECRET_LIFETIME_MONTHS: u32 = 24;
/// A client that computes "two years from now" on a clock slightly ahead of ours is not refused.
const SECRET_END_SKEW_MINUTES: i64 = 5;
/// Schemes that must never receive an authorization code, whatever the platform.
const FORBIDDEN_SCHEMES: &[&str] = &["javascript", "data", "vbscript", "file", "about", "blob", "filesystem"];

/// Which list a redirect URI came in, named as Graph names it in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RedirectPlatform {
    Web,
    Spa,
    PublicClient,
}

impl RedirectPlatform {
    const fn field(self) -> &'static str {
        match self {
            Self::Web => "web.redirectUris",
            Self::Spa => "spa.redirectUris",
            Self::PublicClient => "publicClient.redirectUris",
        }
    }
}

fn invalid_uri(platform: RedirectPlatform, uri: &str, why: &str) -> CoreError {
    let shown: String = uri.chars().take(80).collect();
    let ellipsis = if uri.chars().count() > 80 { "…" } else { "" };
    CoreError::Invalid(format!("{} '{shown}{ellipsis}' is not valid: {why}", platform.field()))
}

/// Whether `c` may appear in a URI as written (RFC 3986 §2: unreserved, reserved, `%`).
fn is_uri_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
}

/// The host of an `http(s)` URI's authority, lower-cased, without port; `None` if the
/// authority is malformed.
fn authority_host(authority: &str) -> Option<String> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = if after.is_empty() { "" } else { after.strip_prefix(':')? };
        (format!("[{inside}]"), port)
    } else {
        let (host, port) = authority.rsplit_once(':').unwrap_or((authority, ""));
        (host.to_owned(), port)
    };
    let port_ok = port.is_empty() || (port.chars().all(|c| c.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p > 0));
    let host_ok = !host.is_empty() && (host.starts_with('[') || host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
    (port_ok && host_ok).then(|| host.to_ascii_lowercase())
}

/// Checks one redirect URI for its platform; the URI is kept exactly as written, since the
/// authorization endpoint compares redirect URIs byte for byte.
fn check_redirect_uri(platform: RedirectPlatform, uri: &str) -> Result<(), CoreError> {
    let bad = |why: &str| invalid_uri(platform, uri, why);
    if uri.is_empty() {
        return Err(bad("a redirect URI must not be empty"));
    }
    if uri.chars().count() > MAX_REDIRECT_URI_LENGTH {
        return Err(bad(&format!("a redirect URI may be at most {MAX_REDIRECT_URI_LENGTH} characters")));
    }
    if uri.contains('#') {
        return Err(bad("a redirect URI must not contain a fragment (RFC 6749 §3.1.2)"));
    }
    if uri.contains('*') {
        return Err(bad("wildcards are not allowed in redirect URIs"));
    }
    if let Some(c) = uri.chars().find(|c| !is_uri_char(*c)) {
        return Err(bad(&format!(
            "the character {c:?} is not allowed in a URI; percent-encode it (RFC 3986 §2)"
        )));
    }
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Err(bad("a redirect URI must be absolute, with a scheme such as https:"));
    };
    let scheme_ok =
        scheme.starts_with(|c: char| c.is_ascii_alphabetic()) && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return Err(bad("a redirect URI must be absolute, with a scheme such as https:"));
    }
    let scheme = scheme.to_ascii_lowercase();
    if scheme == "http" || scheme == "https" {
        let Some(after) = rest.strip_prefix("//") else {
            return Err(bad("an http(s) redirect URI must name a host (scheme://host/path)"));
        };
        let authority = after.split(['/', '?']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(bad("a redirect URI must not carry user information (user@host)"));
        }
        let host = authority_host(authority).ok_or_else(|| bad("the host or port is not valid"))?;
        let loopback = matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]");
        if scheme == "http" && !loopback {
            return Err(bad(
                "a redirect URI must use https; plain http is allowed only for http://localhost and http://127.0.0.1",
            ));
        }
        return Ok(());
    }
    if platform != RedirectPlatform::PublicClient {
        return Err(bad(
            "web and spa redirect URIs must use https (or http on localhost); custom schemes are for publicClient",
        ));
    }
    if FORBIDDEN_SCHEMES.contains(&scheme.as_str()) {
        return Err(bad(&format!("the scheme '{scheme}:' cannot receive an authorization response")));
    }
    if rest.is_empty() {
        return Err(bad("a custom-scheme redirect URI needs a path after the scheme"));
    }
    Ok(())
}

/// Checks every redirect URI, and that no URI is registered twice (on one platform or on
/// two, since the platform decides whether the client must use PKCE).
pub fn validate_redirect_uris(uris: &RedirectUris) -> Result<(), CoreError> {
    let all: Vec<(RedirectPlatform, &String)> = [
        (RedirectPlatform::Web, &uris.web),
        (RedirectPlatform::Spa, &uris.spa),
        (RedirectPlatform::PublicClient, &uris.public_client),
    ]
    .into_iter()
    .flat_map(|(p, list)| list.iter().map(move |u| (p, u)))
    .collect();
    if all.len() > MAX_REDIRECT_URIS {
        return Err(CoreError::Invalid(format!(
            "an application may have at most {MAX_REDIRECT_URIS} redirect URIs in all; this request has {}",
            all.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for (platform, uri) in &all {
        check_redirect_uri(*platform, uri)?;
        if !seen.insert(uri.as_str()) {
            return Err(invalid_uri(*platform, uri, "it is registered more than once"));
        }
    }
    Ok(())
}

fn application_target(app: &Application) -> TargetResource {
    TargetResource::other("Application", app.id, Some(app.display_name.clone()))
}

impl Latchkey {
    /// Registers an application (`POST /applications`). It starts with no secret and no
    /// application permissions; its `appId` is the OAuth `client_id`.
    #[tracing::instrument(skip_all, err)]
    pub async fn create_application(
        &self,
        caller: &Caller,
        display_name: &str,
        redirect_uris: RedirectUris,
    ) -> Result<Application, CoreError> {
        caller.authorize(Area::Applications, Access::Write)?;
        let display_name = parse_display_name("displayName", display_name)?;
        validate_redirect_uris(&redirect_uris)?;
        let app = Application {
            id: ApplicationObjectId::new_random(),
            app_id: AppId::new_random(),
            display_name,
            permissions: Vec::new(),
            secrets: Vec::new(),
            redirect_uris,
            created_at: self.now(),
        };
        let mut target = application_target(&app).with("AppId", None, Some(app.app_id.to_string()));
        if app.redirect_uris != RedirectUris::default() {
            // Entra lists reply URLs under "AppAddress".
            target = target.with("AppAddress", None, serde_json::to_string(&app.redirect_uris).ok());
        }
        let audit = self.audit(
            caller,
            activity::ADD_APPLICATION,
            (SERVICE_CORE_DIRECTORY, "ApplicationManagement", "Add"),
            "",
            vec![target],
        );
        self.store.insert_application(&app, &audit).await?;
        tracing::info!(application.id = %app.id, app.id = %app.app_id, "application registered");
        Ok(app)
    }

    pub async fn list_applications(&self, caller: &Caller, page: Page) -> Result<Listing<Application>, CoreError> {
        caller.authorize(Area::Applications, Access::Read)?;
        Ok(Listing::from_overfetch(self.store.list_applications(overfetch(page)).await?, page))
    }

    pub async fn get_application(&self, caller: &Caller, id: ApplicationObjectId) -> Result<Application, CoreError> {
        caller.authorize(Area::Applications, Access::Read)?;
        self.store
            .find_application(id)
            .await?
            .ok_or_else(|| CoreError::not_found("application", id))
    }

    /// Finds an application by object id or by appId (the CLI accepts either).
    pub async fn resolve_application(&self, caller: &Caller, key: &str) -> Result<Application, CoreError> {
        caller.authorize(Area::Applications, Access::Read)?;
        let Ok(uuid) = key.trim().parse::<uuid::Uuid>() else {
            return Err(CoreError::not_found("application", key));
        };
        if let Some(app) = self.store.find_application(ApplicationObjectId::from_uuid(uuid)).await? {
            return Ok(app);
        }
        self.store
            .find_application_by_app_id(AppId::from_uuid(uuid))
            .await?
            .ok_or_else(|| CoreError::not_found("application", key))
    }

    /// Deletes an application and its secrets; tokens issued to it stop working at once,
    /// since every call re-reads the application.
    #[tracing::instrument(skip_all, fields(application.id = %id), err)]
    pub async fn delete_application(&self, caller: &Caller, id: ApplicationObjectId) -> Result<(), CoreError> {
        caller.authorize(Area::Applications, Access::Write)?;
        let app = self
            .store
            .find_application(id)
            .await?
            .ok_or_else(|| CoreError::not_found("application", id))?;
        let audit = self.audit(
            caller,
            activity::DELETE_APPLICATION,
            (SERVICE_CORE_DIRECTORY, "ApplicationManagement", "Delete"),
            "",
            vec![application_target(&app).with("AppId", Some(app.app_id.to_string()), None)],
        );
        self.store.delete_application(id, &audit).await?;
        tracing::info!(app.id = %app.app_id, "application deleted");
        Ok(())
    }

    /// Adds a client secret (`POST /applications/{id}/addPassword`). The secret's text is
    /// returned here once and stored only as a SHA-256 digest. It lasts until `end`, by
    /// default two years, at most two years.
    #[tracing::instrument(skip_all, fields(application.id = %id), err)]
    pub async fn add_password(
        &self,
        caller: &Caller,
        id: ApplicationObjectId,
        display_name: Option<&str>,
        end: Option<DateTime<Utc>>,
    ) -> Result<IssuedClientSecret, CoreError> {
        caller.authorize(Area::Applications, Access::Write)?;
        let app = self
            .store
            .find_application(id)
            .await?
            .ok_or_else(|| CoreError::not_found("application", id))?;
        let now = self.now();
        let display_name = display_name
            .filter(|d| !d.trim().is_empty())
            .map(|d| parse_display_name("passwordCredential.displayName", d))
            .transpose()?;
        let latest = now
            .checked_add_months(Months::new(MAX_SECRET_LIFETIME_MONTHS))
            .ok_or_else(|| CoreError::Internal("the clock is out of range".into()))?
            + Duration::minutes(SECRET_END_SKEW_MINUTES);
        let expires_at = match end {
            None => now + Duration::days(CLIENT_SECRET_LIFETIME_DAYS),
            Some(e) if e <= now => return Err(CoreError::Invalid("passwordCredential.endDateTime must be in the future".into())),
            Some(e) if e > latest => {
                return Err(CoreError::Invalid(
                    "passwordCredential.endDateTime may be at most 2 years from now".into(),
                ));
            }
            Some(e) => e,
        };
        let text = random_token()?;
        let secret = ClientSecret {
            key_id: SecretKeyId::new_random(),
            display_name,
            hint: text.expose().chars().take(3).collect(),
            digest: digest(text.expose()),
            created_at: now,
            expires_at,
        };
        // Entra's KeyDescription names the key, never its value.
        let description = format!(
            "[KeyIdentifier={}, KeyType=Password, KeyUsage=Verify, DisplayName={}]",
            secret.key_id,
            secret.display_name.as_deref().unwrap_or_default()
        );
        let audit = self.audit(
            caller,
            activity::UPDATE_APPLICATION_SECRETS,
            (SERVICE_CORE_DIRECTORY, "ApplicationManagement", "Update"),
            "",
            vec![application_target(&app).with("KeyDescription", None, Some(description))],
        );
        self.store
            .add_client_secret(app.app_id, &secret, &audit)
            .await
            .map_err(|e| match e {
                // Deleted between the read above and this write.
                crate::StoreError::NotFound { .. } => CoreError::not_found("application", id),
                other => other.into(),
            })?;
        tracing::info!(app.id = %app.app_id, secret.key_id = %secret.key_id, "client secret added");
        Ok(IssuedClientSecret { secret, text })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn web(uris: &[&str]) -> RedirectUris {
        RedirectUris {
            web: uris.iter().map(|u| (*u).to_owned()).collect(),
            ..RedirectUris::default()
        }
    }

    fn public(uris: &[&str]) -> RedirectUris {
        RedirectUris {
            public_client: uris.iter().map(|u| (*u).to_owned()).collect(),
            ..RedirectUris::default()
        }
    }

    #[test]
    fn https_and_loopback_http_redirect_uris_are_accepted() {
        for ok in [
            "https://app.contoso.test/callback",
            "https://app.contoso.test:8443/auth/callback?tenant=x",
            "HTTPS://App.Contoso.Test/",
            "http://localhost/callback",
            "http://localhost:5173/",
            "http://127.0.0.1:8400",
            "http://[::1]:8400/cb",
            "https://[2001:db8::1]/cb",
        ] {
            assert!(validate_redirect_uris(&web(&[ok])).is_ok(), "{ok}");
        }
    }

    #[test]
    fn bad_redirect_uris_are_refused_with_the_reason() {
        for (bad, why) in [
            ("http://app.contoso.test/callback", "https"),
            ("https://app.contoso.test/cb#frag", "fragment"),
            ("/relative/callback", "absolute"),
            ("app.contoso.test/callback", "absolute"),
            ("https:app.contoso.test", "host"),
            ("https://*.contoso.test/cb", "wildcard"),
            ("https://user:pw@app.contoso.test/cb", "user information"),
            ("https://app.contoso.test/a b", "percent-encode"),
            ("https://app.contoso.test:99999/", "port"),
            ("https:///cb", "host"),
            ("http://localhost.evil.test/", "https"),
            ("com.contoso.app:/callback", "publicClient"),
            ("", "empty"),
        ] {
            let err = validate_redirect_uris(&web(&[bad])).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
            assert!(err.starts_with("web.redirectUris"), "{err}");
        }
        let long = format!("https://app.contoso.test/{}", "a".repeat(240));
        assert!(validate_redirect_uris(&web(&[&long])).unwrap_err().to_string().contains("256"));
    }

    #[test]
    fn public_clients_may_use_custom_schemes_but_not_dangerous_ones() {
        assert!(validate_redirect_uris(&public(&["com.contoso.app:/oauth2redirect", "msal1234://auth", "http://localhost"])).is_ok());
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "file:///etc/passwd",
            "myapp:",
            "1app://x",
        ] {
            assert!(validate_redirect_uris(&public(&[bad])).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_redirect_uri_is_registered_once_across_platforms_and_at_most_256_in_all() {
        let dup = RedirectUris {
            web: vec!["https://a.contoso.test/cb".into()],
            spa: vec!["https://a.contoso.test/cb".into()],
            public_client: vec![],
        };
        assert!(validate_redirect_uris(&dup).unwrap_err().to_string().contains("more than once"));
        let many: Vec<String> = (0..=MAX_REDIRECT_URIS).map(|i| format!("https://a.contoso.test/{i}")).collect();
        let too_many = RedirectUris {
            spa: many,
            ..RedirectUris::default()
        };
        assert!(validate_redirect_uris(&too_many).is_err());
    }
}
