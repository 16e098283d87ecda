//! Per-request context: the request id Graph clients correlate on, echoed headers, and the
//! time the request arrived (for error bodies), kept in a task-local so error rendering can
//! reach it without threading it through every handler.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub client_request_id: String,
    pub started: DateTime<Utc>,
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// The current request's context (a fresh one outside a request, e.g. in unit tests).
#[must_use]
pub fn current() -> RequestContext {
    CONTEXT.try_with(Clone::clone).unwrap_or_else(|_| {
        let id = Uuid::new_v4().to_string();
        RequestContext {
            client_request_id: id.clone(),
            request_id: id,
            started: DateTime::<Utc>::MIN_UTC,
        }
    })
}

static REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
static CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("client-request-id");

/// Gives every request a `request-id` and echoes `client-request-id` (or the request id when
/// the client sent none), as Graph does.
pub async fn request_context(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let request_id = Uuid::new_v4().to_string();
    let client_request_id = request
        .headers()
        .get(&CLIENT_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_graphic()))
        .map_or_else(|| request_id.clone(), str::to_owned);
    let ctx = RequestContext {
        request_id: request_id.clone(),
        client_request_id: client_request_id.clone(),
        started: state.core.now(),
    };
    let span = tracing::info_span!("request", request.id = %request_id, method = %request.method(), path = %request.uri().path());
    let mut response = CONTEXT.scope(ctx, tracing::Instrument::instrument(next.run(request), span)).await;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID.clone(), v);
    }
    if let Ok(v) = HeaderValue::from_str(&client_request_id) {
        headers.insert(CLIENT_REQUEST_ID.clone(), v);
    }
    response
}
