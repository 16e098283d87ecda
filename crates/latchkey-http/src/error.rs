//! Rendering errors: Graph's envelope for the API, RFC 6749's body for OAuth. Every
//! domain error maps to a status and code here and nowhere else; a 500 never shows its
//! cause to the caller (the log gets it).

use crate::context;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_core::CoreError;
use serde::Serialize;

/// An error from the Graph-compatible API.
#[derive(Debug)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl GraphError {
    #[must_use]
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    /// Malformed input: bad JSON, wrong types, unknown properties, bad query options.
    #[must_use]
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }
    #[must_use]
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message)
    }
    #[must_use]
    pub fn not_found_segment(path: &str) -> Self {
        let seg = path.rsplit('/').find(|s| !s.is_empty()).unwrap_or(path);
        Self::new(
            StatusCode::NOT_FOUND,
            "BadRequest",
            format!(
                "Resource not found for the segment '{}'.",
                seg.chars().take(100).collect::<String>()
            ),
        )
    }
}

impl From<CoreError> for GraphError {
    fn from(e: CoreError) -> Self {
        use StatusCode as S;
        match e {
            CoreError::Unauthenticated(m) => Self::unauthenticated(m),
            CoreError::Forbidden(m) => Self::new(S::FORBIDDEN, "Authorization_RequestDenied", m),
            e @ CoreError::NotFound { .. } => Self::new(S::NOT_FOUND, "Request_ResourceNotFound", e.to_string()),
            CoreError::Invalid(m) | CoreError::PolicyBlocked(m) => Self::new(S::BAD_REQUEST, "badRequest", m),
            CoreError::Conflict(m) => Self::new(S::BAD_REQUEST, "Request_BadRequest", m),
            e @ (CoreError::NotInitialised | CoreError::AlreadyInitialised) => {
                Self::new(S::SERVICE_UNAVAILABLE, "serviceNotAvailable", e.to_string())
            }
            CoreError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                Self::new(
                    S::INTERNAL_SERVER_ERROR,
                    "generalException",
                    "An internal error occurred; the request id identifies it in the server's log.",
                )
            }
        }
    }
}

/// Graph's error body (graph-tap-spec.md §4).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorResponse {
    error: MainError,
}

#[derive(Serialize, utoipa::ToSchema)]
struct MainError {
    code: String,
    message: String,
    #[serde(rename = "innerError")]
    inner_error: InnerError,
}

#[derive(Serialize, utoipa::ToSchema)]
struct InnerError {
    /// UTC, no offset or fraction, as Graph writes it.
    date: String,
    #[serde(rename = "request-id")]
    request_id: String,
    #[serde(rename = "client-request-id")]
    client_request_id: String,
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let ctx = context::current();
        let body = ErrorResponse {
            error: MainError {
                code: self.code.into(),
                message: self.message,
                inner_error: InnerError {
                    date: ctx.started.format("%Y-%m-%dT%H:%M:%S").to_string(),
                    request_id: ctx.request_id,
                    client_request_id: ctx.client_request_id,
                },
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// An OAuth error (RFC 6749 §5.2).
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    #[must_use]
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }
    #[must_use]
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", d)
    }
}

impl From<CoreError> for OAuthError {
    fn from(e: CoreError) -> Self {
        use StatusCode as S;
        match e {
            CoreError::Unauthenticated(m) => Self::new(S::UNAUTHORIZED, "invalid_client", m),
            CoreError::Forbidden(m) => Self::new(S::BAD_REQUEST, "unauthorized_client", m),
            CoreError::Invalid(m) | CoreError::PolicyBlocked(m) | CoreError::Conflict(m) => Self::new(S::BAD_REQUEST, "invalid_request", m),
            e @ CoreError::NotFound { .. } => Self::new(S::BAD_REQUEST, "invalid_request", e.to_string()),
            e @ (CoreError::NotInitialised | CoreError::AlreadyInitialised) => {
                Self::new(S::SERVICE_UNAVAILABLE, "temporarily_unavailable", e.to_string())
            }
            CoreError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                Self::new(S::INTERNAL_SERVER_ERROR, "server_error", "An internal error occurred.")
            }
        }
    }
}

impl From<latchkey_core::service::GrantError> for OAuthError {
    fn from(e: latchkey_core::service::GrantError) -> Self {
        use latchkey_core::service::GrantError as G;
        let bad = |error, description: &str| Self::new(StatusCode::BAD_REQUEST, error, description);
        match e {
            G::InvalidGrant(m) => Self::new(StatusCode::BAD_REQUEST, "invalid_grant", m),
            // RFC 8628 §3.5: the device grant's answers while it waits, as 400s.
            G::AuthorizationPending => bad(
                "authorization_pending",
                "The user has not yet finished signing in at the verification page. Keep polling.",
            ),
            G::SlowDown => bad("slow_down", "Polling too often: wait 5 seconds more between requests from now on."),
            G::ExpiredToken => bad(
                "expired_token",
                "The device code has expired. Start again with a new device authorization request.",
            ),
            G::AccessDenied => bad("access_denied", "The user declined the sign-in on this device."),
            G::Core(e) => e.into(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OAuthErrorResponse {
    error: String,
    error_description: String,
    correlation_id: String,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let ctx = context::current();
        let mut response = (
            self.status,
            Json(OAuthErrorResponse {
                error: self.error.into(),
                error_description: self.description,
                correlation_id: ctx.request_id,
            }),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status == StatusCode::UNAUTHORIZED {
            // A bad bearer token (userinfo) is challenged as Bearer (RFC 6750 §3); a bad
            // client authentication as Basic (RFC 6749 §5.2).
            let challenge = if self.error == "invalid_token" {
                "Bearer error=\"invalid_token\""
            } else {
                "Basic"
            };
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}

/// An HTML error page for the sign-in surface; internals go to the log only.
pub fn page_for(state: &crate::AppState, e: CoreError) -> Response {
    let (status, text) = match e {
        CoreError::Internal(detail) => {
            tracing::error!(error = %detail, "internal error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side. Try again in a moment.".to_owned(),
            )
        }
        CoreError::NotFound { .. } => (StatusCode::NOT_FOUND, e.to_string()),
        CoreError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
        other => (StatusCode::BAD_REQUEST, other.to_string()),
    };
    crate::web::message(state, status, "Sign-in could not continue", &text, None)
}

/// A `{"error": text}` answer, for the JSON endpoints behind the pages (the passkey script).
pub fn json_error(status: StatusCode, text: &str) -> Response {
    let mut r = (status, axum::Json(serde_json::json!({ "error": text }))).into_response();
    r.headers_mut()
        .insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    r
}

/// A domain error as those endpoints answer it; internal details go to the log only.
pub fn json_for(e: CoreError) -> Response {
    match e {
        CoreError::Internal(detail) => {
            tracing::error!(error = %detail, "internal error");
            json_error(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Try again.")
        }
        CoreError::Forbidden(m) => json_error(StatusCode::FORBIDDEN, &m),
        CoreError::Conflict(m) => json_error(StatusCode::CONFLICT, &m),
        CoreError::NotFound { .. } => json_error(StatusCode::NOT_FOUND, &e.to_string()),
        other => json_error(StatusCode::BAD_REQUEST, &other.to_string()),
    }
}
