//! Entra-style OAuth 2.0 / OpenID Connect endpoints under `/{tenant}/`: discovery, the
//! token endpoint (client credentials for automation; authorization code, refresh token
//! and device code for people), the device authorization endpoint (RFC 8628) and the JWKS.

use crate::AppState;
use crate::error::OAuthError;
use crate::tokens::{AccessClaims, GRAPH_APP_ID, GRAPH_AUDIENCE, Jwk};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use latchkey_core::secrets::SecretString;
use serde::Serialize;
use std::collections::HashMap;

/// Lifetime of an app-only access token (Entra issues 60–90 minutes).
pub const ACCESS_TOKEN_SECONDS: i64 = 3600;
/// The device authorization grant's `grant_type` (RFC 8628 §3.4).
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/v2.0/.well-known/openid-configuration", get(discovery))
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(device_code))
        .route("/{tenant}/discovery/v2.0/keys", get(jwks))
        .route("/{tenant}/openid/userinfo", get(userinfo).post(userinfo))
}

/// The `{tenant}` path segment, with an OAuth error when it cannot be read.
pub struct TenantPath(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for TenantPath {
    type Rejection = OAuthError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| Self(t))
            .map_err(|_| OAuthError::invalid_request("The tenant in the path is not valid."))
    }
}

fn check_tenant(state: &AppState, tenant: &str) -> Result<(), OAuthError> {
    if state.tenant.is_named_by(tenant) {
        Ok(())
    } else {
        Err(OAuthError::invalid_request(format!(
            "Tenant '{}' not found. Use the tenant id or its primary domain.",
            tenant.chars().take(80).collect::<String>()
        )))
    }
}

/// OpenID Provider Metadata (OpenID Connect Discovery 1.0 §3).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DiscoveryResponse {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    /// RFC 8628 §4.
    pub device_authorization_endpoint: String,
    pub userinfo_endpoint: String,
    pub end_session_endpoint: String,
    pub jwks_uri: String,
    pub scopes_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub claims_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub tenant_region_scope: Option<String>,
}

pub async fn discovery(State(state): State<AppState>, TenantPath(tenant): TenantPath) -> Result<Json<DiscoveryResponse>, OAuthError> {
    check_tenant(&state, &tenant)?;
    let base = format!("{}/{}", state.public_url, state.tenant.id);
    Ok(Json(DiscoveryResponse {
        issuer: state.issuer(),
        authorization_endpoint: format!("{base}/oauth2/v2.0/authorize"),
        token_endpoint: format!("{base}/oauth2/v2.0/token"),
        device_authorization_endpoint: format!("{base}/oauth2/v2.0/devicecode"),
        userinfo_endpoint: format!("{base}/openid/userinfo"),
        end_session_endpoint: format!("{base}/oauth2/v2.0/logout"),
        jwks_uri: format!("{base}/discovery/v2.0/keys"),
        scopes_supported: vec!["openid", "profile", "email", "offline_access"],
        response_modes_supported: vec!["query", "form_post"],
        code_challenge_methods_supported: vec!["S256"],
        claims_supported: vec![
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "nbf",
            "auth_time",
            "nonce",
            "oid",
            "tid",
            "preferred_username",
            "name",
            "email",
            "amr",
            "sid",
        ],
        response_types_supported: vec!["code"],
        subject_types_supported: vec!["public"],
        id_token_signing_alg_values_supported: vec!["RS256"],
        token_endpoint_auth_methods_supported: vec!["client_secret_basic", "client_secret_post", "none"],
        grant_types_supported: vec!["authorization_code", "refresh_token", "client_credentials", DEVICE_CODE_GRANT],
        tenant_region_scope: None,
    }))
}

/// A JSON Web Key Set (RFC 7517 §5).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JwksResponse {
    pub keys: Vec<Jwk>,
}

pub async fn jwks(State(state): State<AppState>, TenantPath(tenant): TenantPath) -> Result<Response, OAuthError> {
    check_tenant(&state, &tenant)?;
    let mut r = Json(JwksResponse { keys: state.keys.jwks() }).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(r)
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub token_type: &'static str,
    pub expires_in: i64,
    pub ext_expires_in: i64,
    pub access_token: String,
}

/// Reads a form body; a parameter sent twice is an error (RFC 6749 §3.2).
fn parse_form(body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        if out.insert(k.clone().into_owned(), v.into_owned()).is_some() {
            return Err(OAuthError::invalid_request(format!(
                "The parameter '{}' was sent more than once.",
                k.chars().take(40).collect::<String>()
            )));
        }
    }
    Ok(out)
}

/// Client credentials from `Authorization: Basic` (client_secret_basic) or the form
/// (client_secret_post); using both at once is refused (RFC 6749 §2.3.1).
fn client_credentials(headers: &HeaderMap, form: &HashMap<String, String>) -> Result<(String, SecretString), OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic ").or_else(|| h.strip_prefix("basic ")));
    let from_form = form.get("client_secret");
    match (basic, from_form) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "Use one client authentication method, not both Basic and client_secret.",
        )),
        (Some(b), None) => {
            let bad = || {
                OAuthError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "The Basic authorization header is malformed.",
                )
            };
            let decoded = STANDARD.decode(b.trim()).map_err(|_| bad())?;
            let text = String::from_utf8(decoded).map_err(|_| bad())?;
            let (id, secret) = text.split_once(':').ok_or_else(bad)?;
            // RFC 6749 §2.3.1: both parts are form-urlencoded before joining.
            let decode = |s: &str| {
                form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Ok((decode(id), SecretString::new(decode(secret))))
        }
        (None, Some(secret)) => {
            let id = form
                .get("client_id")
                .ok_or_else(|| OAuthError::invalid_request("client_id is required."))?;
            Ok((id.clone(), SecretString::new(secret.clone())))
        }
        (None, None) => Err(OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication is required: client_secret_basic or client_secret_post.",
        )),
    }
}

pub async fn token(
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, OAuthError> {
    check_tenant(&state, &tenant)?;
    let body = body.map_err(|e| OAuthError::new(e.status(), "invalid_request", "The request body could not be read or is too large."))?;
    let form = parse_form(&body)?;
    let grant = form
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required."))?;
    match grant.as_str() {
        "client_credentials" => {}
        "authorization_code" | "refresh_token" => return user_grant(&state, &headers, &form, grant == "refresh_token").await,
        DEVICE_CODE_GRANT => return device_grant(&state, &headers, &form).await,
        other => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("The grant type '{}' is not supported.", other.chars().take(60).collect::<String>()),
            ));
        }
    }
    let (client_id, secret) = client_credentials(&headers, &form)?;
    if let Some(form_id) = form.get("client_id")
        && *form_id != client_id
    {
        return Err(OAuthError::invalid_request(
            "client_id does not match the client that authenticated.",
        ));
    }
    let scope = form.get("scope").ok_or_else(|| {
        OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "scope is required: use https://graph.microsoft.com/.default.",
        )
    })?;
    let resource = scope.trim().strip_suffix("/.default").ok_or_else(|| {
        OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "The client credentials grant needs a scope of the form {resource}/.default.",
        )
    })?;
    if resource != GRAPH_AUDIENCE && resource != GRAPH_APP_ID {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "The only resource here is https://graph.microsoft.com.",
        ));
    }
    let app = state.core.authenticate_client(&client_id, &secret).await?;
    let now = state.core.now().timestamp();
    let claims = AccessClaims {
        aud: GRAPH_AUDIENCE.into(),
        iss: state.issuer(),
        iat: now,
        nbf: Some(now),
        exp: now + ACCESS_TOKEN_SECONDS,
        tid: state.tenant.id.to_string(),
        sub: app.id.to_string(),
        azp: app.app_id.to_string(),
        appid: app.app_id.to_string(),
        idtyp: "app".into(),
        roles: app.permissions.iter().map(|p| p.as_str().to_owned()).collect(),
        oid: Some(app.id.to_string()),
        wids: Vec::new(),
        scp: None,
        preferred_username: None,
        ver: "2.0".into(),
        jti: uuid::Uuid::new_v4().to_string(),
        sid: None,
    };
    let access_token = state.keys.sign(&claims)?;
    let mut r = Json(TokenResponse {
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_SECONDS,
        ext_expires_in: ACCESS_TOKEN_SECONDS,
        access_token,
    })
    .into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(r)
}

/// Who may redeem for `client_id` without a secret: only a client whose grant is tied to
/// a public (spa or publicClient) redirect URI. A client that sends a secret is checked.
async fn authenticate_user_grant_client(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
    public_ok: impl Fn(&latchkey_core::tenant::Application) -> bool,
) -> Result<latchkey_core::tenant::Application, OAuthError> {
    let sends_secret = form.contains_key("client_secret") || headers.get(header::AUTHORIZATION).is_some();
    if sends_secret {
        let (client_id, secret) = client_credentials(headers, form)?;
        if form.get("client_id").is_some_and(|f| *f != client_id) {
            return Err(OAuthError::invalid_request(
                "client_id does not match the client that authenticated.",
            ));
        }
        return Ok(state.core.authenticate_client(&client_id, &secret).await?);
    }
    let client_id = form
        .get("client_id")
        .ok_or_else(|| OAuthError::invalid_request("client_id is required."))?;
    let app = state
        .core
        .find_client(client_id)
        .await?
        .ok_or_else(|| OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", "The client is unknown."))?;
    if public_ok(&app) {
        Ok(app)
    } else {
        Err(OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "This client must authenticate with its secret (client_secret_basic or client_secret_post).",
        ))
    }
}

/// The authorization-code and refresh-token grants: tokens for a signed-in user.
async fn user_grant(state: &AppState, headers: &HeaderMap, form: &HashMap<String, String>, refresh: bool) -> Result<Response, OAuthError> {
    let grant = if refresh {
        let token = form
            .get("refresh_token")
            .ok_or_else(|| OAuthError::invalid_request("refresh_token is required."))?;
        let app = authenticate_user_grant_client(state, headers, form, |a| {
            !a.redirect_uris.spa.is_empty() || !a.redirect_uris.public_client.is_empty()
        })
        .await?;
        state.core.refresh(token, app.app_id).await?
    } else {
        let code = form.get("code").ok_or_else(|| OAuthError::invalid_request("code is required."))?;
        let redirect_uri = form
            .get("redirect_uri")
            .ok_or_else(|| OAuthError::invalid_request("redirect_uri is required."))?;
        let app = authenticate_user_grant_client(state, headers, form, |a| {
            a.redirect_uris.platform_of(redirect_uri).is_some_and(|p| !p.is_confidential())
        })
        .await?;
        state
            .core
            .redeem_code(code, app.app_id, redirect_uri, form.get("code_verifier").map(String::as_str))
            .await?
    };
    issue_user_tokens(state, grant, refresh).await
}

/// Whether a client may use the device flow without a secret: one registered as a public
/// client (Entra's "Mobile and desktop applications" platform, where "Allow public client
/// flows" lives). Others authenticate with their secret.
fn is_public_device_client(app: &latchkey_core::tenant::Application) -> bool {
    !app.redirect_uris.public_client.is_empty()
}

/// The device code grant (RFC 8628 §3.4): `authorization_pending`, `slow_down`,
/// `expired_token`, `access_denied`, or the tokens the authorization-code grant gives.
async fn device_grant(state: &AppState, headers: &HeaderMap, form: &HashMap<String, String>) -> Result<Response, OAuthError> {
    let code = form
        .get("device_code")
        .ok_or_else(|| OAuthError::invalid_request("device_code is required."))?;
    let app = authenticate_user_grant_client(state, headers, form, is_public_device_client).await?;
    let grant = state.core.redeem_device_code(code, app.app_id).await?;
    issue_user_tokens(state, grant, false).await
}

/// A device authorization response (RFC 8628 §3.2), with Entra's `message`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceCodeResponse {
    /// The secret the device polls the token endpoint with.
    pub device_code: String,
    /// What the person types at `verification_uri`, as `XXXX-XXXX`.
    pub user_code: String,
    pub verification_uri: String,
    /// Seconds until both codes expire.
    pub expires_in: i64,
    /// Seconds to wait between polls.
    pub interval: i64,
    /// What to tell the person, in Entra's words.
    pub message: String,
}

/// The device authorization endpoint (RFC 8628 §3.1–3.2), as Entra's
/// `/{tenant}/oauth2/v2.0/devicecode`.
pub async fn device_code(
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, OAuthError> {
    check_tenant(&state, &tenant)?;
    let body = body.map_err(|e| OAuthError::new(e.status(), "invalid_request", "The request body could not be read or is too large."))?;
    let form = parse_form(&body)?;
    let scope = form
        .get("scope")
        .ok_or_else(|| OAuthError::invalid_request("scope is required, e.g. openid profile offline_access."))?;
    let app = authenticate_user_grant_client(&state, &headers, &form, is_public_device_client).await?;
    latchkey_core::session::Scopes::parse(scope).map_err(|e| OAuthError::new(StatusCode::BAD_REQUEST, "invalid_scope", e))?;
    let started = state.core.start_device_authorization(&app, scope).await?;
    let verification_uri = format!("{}/devicelogin", state.public_url);
    let mut r = Json(DeviceCodeResponse {
        device_code: started.device_code.expose().to_owned(),
        user_code: started.user_code.display(),
        message: latchkey_core::device::device_message(&verification_uri, &started.user_code),
        verification_uri,
        expires_in: started.expires_in,
        interval: started.interval,
    })
    .into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(r)
}

/// The token response for a user grant: an access token for Graph, an ID token with
/// `openid`, a refresh token with `offline_access` (or always when refreshing), none of
/// them past the session the grant is bound to.
async fn issue_user_tokens(state: &AppState, grant: latchkey_core::service::Grant, refresh: bool) -> Result<Response, OAuthError> {
    let scopes =
        latchkey_core::session::Scopes::parse(&grant.scope).map_err(|e| OAuthError::new(StatusCode::BAD_REQUEST, "invalid_scope", e))?;
    let now = state.core.now();
    let not_after = grant.not_after.min(now + latchkey_core::session::ACCESS_TOKEN_LIFETIME);
    let expires_in = (not_after - now).num_seconds().max(1);
    let (iat, exp) = (now.timestamp(), not_after.timestamp());
    let roles = state.core.roles_of(grant.user.id).await?;
    let access = AccessClaims {
        aud: GRAPH_AUDIENCE.into(),
        iss: state.issuer(),
        iat,
        nbf: Some(iat),
        exp,
        tid: state.tenant.id.to_string(),
        sub: grant.user.id.to_string(),
        azp: grant.client_id.to_string(),
        appid: grant.client_id.to_string(),
        idtyp: "user".into(),
        roles: Vec::new(),
        oid: Some(grant.user.id.to_string()),
        wids: roles.iter().map(|r| r.template_id().to_owned()).collect(),
        scp: Some(scopes.graph_scp()),
        preferred_username: Some(grant.user.user_principal_name.to_string()),
        ver: "2.0".into(),
        jti: uuid::Uuid::new_v4().to_string(),
        sid: Some(grant.session.id.to_string()),
    };
    let mut body = serde_json::json!({
        "token_type": "Bearer",
        "scope": grant.scope,
        "expires_in": expires_in,
        "ext_expires_in": expires_in,
        "access_token": state.keys.sign(&access)?,
    });
    if scopes.openid {
        let id = crate::tokens::IdClaims {
            iss: state.issuer(),
            sub: grant.user.id.to_string(),
            aud: grant.client_id.to_string(),
            exp,
            iat,
            nbf: iat,
            auth_time: grant.session.created_at.timestamp(),
            nonce: grant.nonce.clone(),
            oid: grant.user.id.to_string(),
            tid: state.tenant.id.to_string(),
            preferred_username: grant.user.user_principal_name.to_string(),
            name: grant.user.display_name.clone(),
            email: if scopes.email { grant.user.mail.clone() } else { None },
            amr: grant.session.method.amr().iter().map(|a| (*a).to_owned()).collect(),
            sid: grant.session.id.to_string(),
            ver: "2.0".into(),
        };
        body["id_token"] = serde_json::Value::String(state.keys.sign(&id)?);
    }
    // Refresh tokens only when asked for (offline_access) or already in use (rotation).
    if scopes.offline_access || refresh {
        body["refresh_token"] = serde_json::Value::String(grant.refresh_token.expose().to_owned());
    }
    let mut r = Json(body).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(r)
}

/// OpenID Connect UserInfo (Core §5.3): who the bearer of a live delegated token is.
pub async fn userinfo(State(state): State<AppState>, TenantPath(tenant): TenantPath, headers: HeaderMap) -> Result<Response, OAuthError> {
    check_tenant(&state, &tenant)?;
    let unauthorized = |why: &str| OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_token", why);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("A bearer access token is required."))?;
    let claims = state.verify_token(token).await.map_err(|e| unauthorized(&e.to_string()))?;
    let sid = claims
        .sid
        .as_deref()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| unauthorized("The token does not come from a sign-in."))?;
    let (_, user) = state
        .core
        .live_session_by_id(sid)
        .await?
        .ok_or_else(|| unauthorized("The session has ended."))?;
    let mut body = serde_json::json!({
        "sub": user.id.to_string(),
        "oid": user.id.to_string(),
        "name": user.display_name,
        "preferred_username": user.user_principal_name.to_string(),
    });
    // OIDC Core §5.3.2: claims without a value are left out, not null.
    if let Some(mail) = user.mail {
        body["email"] = serde_json::Value::String(mail);
    }
    let mut r = Json(body).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
