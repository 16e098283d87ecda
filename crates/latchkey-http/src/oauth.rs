//! Entra-style OAuth 2.0 / OpenID Connect endpoints under `/{tenant}/`: discovery, the
//! token endpoint (client credentials for automation) and the JWKS.

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

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/v2.0/.well-known/openid-configuration", get(discovery))
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/{tenant}/discovery/v2.0/keys", get(jwks))
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
    pub token_endpoint: String,
    pub jwks_uri: String,
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
        token_endpoint: format!("{base}/oauth2/v2.0/token"),
        jwks_uri: format!("{base}/discovery/v2.0/keys"),
        response_types_supported: vec!["code"],
        subject_types_supported: vec!["pairwise"],
        id_token_signing_alg_values_supported: vec!["RS256"],
        token_endpoint_auth_methods_supported: vec!["client_secret_basic", "client_secret_post"],
        grant_types_supported: vec!["client_credentials"],
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
    if grant != "client_credentials" {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("The grant type '{}' is not supported.", grant.chars().take(60).collect::<String>()),
        ));
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
