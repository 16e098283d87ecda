//! Server-rendered sign-in pages (usable without JavaScript): the user name, then the
//! Temporary Access Pass or the password, as home-realm discovery decides; the OAuth
//! authorization endpoint that leads to them; the device sign-in page (`/devicelogin`);
//! sign-out and a small "who am I" page.
//!
//! Every form carries a CSRF token matched against a cookie; cookies are `HttpOnly`,
//! `SameSite=Lax`, and `Secure` when the public URL is https.

pub mod authorize;
pub mod device;
mod pages;
pub mod security_info;

use crate::AppState;
use askama::Template as _;
use axum::Router;
use axum::extract::connect_info::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use latchkey_core::secrets::random_token;
use latchkey_core::service::SignInContext;
use std::net::SocketAddr;

pub use pages::{LoginPage, MessagePage};

pub const SESSION_COOKIE: &str = "lk_session";
pub const CSRF_COOKIE: &str = "lk_csrf";
/// Largest form accepted by the sign-in pages.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(authorize::authorize).post(authorize::authorize_post),
        )
        .route("/{tenant}/login", get(authorize::login_page).post(authorize::login_submit))
        .route("/{tenant}/oauth2/v2.0/logout", get(authorize::logout).post(authorize::logout))
        .route("/{tenant}/login/continue", get(authorize::continue_authorization))
        .route(
            "/{tenant}/passkey/options",
            axum::routing::post(security_info::passkey_sign_in_options),
        )
        .route("/{tenant}/passkey", axum::routing::post(security_info::passkey_sign_in_finish))
        .route("/mysecurityinfo", get(security_info::my_security_info))
        .route("/mysecurityinfo/delete", axum::routing::post(security_info::delete_method))
        .route("/mysecurityinfo/passkey", get(security_info::add_passkey_page))
        .route(
            "/mysecurityinfo/passkey/options",
            axum::routing::post(security_info::passkey_registration_options),
        )
        .route(
            "/mysecurityinfo/passkey/register",
            axum::routing::post(security_info::passkey_registration_finish),
        )
        .route(
            "/mysecurityinfo/authenticator",
            get(security_info::add_authenticator_page).post(security_info::confirm_authenticator),
        )
        .route("/assets/webauthn.js", get(security_info::webauthn_js))
        .route(device::PATH, get(device::device_login_page).post(device::device_login_submit))
        .route("/whoami", get(authorize::whoami))
        .route("/signout", axum::routing::post(authorize::sign_out))
        .route("/", get(authorize::home))
}

/// Reads one cookie from the request.
#[must_use]
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with latchkey's attributes; `max_age` 0 deletes the cookie.
#[must_use]
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_seconds: i64) -> HeaderValue {
    let secure = if state.public_url.starts_with("https://") { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        max_age_seconds.max(0)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("invalid=1; Max-Age=0"))
}

/// The CSRF token for this browser: the cookie's, or a fresh one to set.
pub fn csrf_token(headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, CSRF_COOKIE).filter(|c| c.len() == 43) {
        Some(existing) => (existing.to_owned(), false),
        None => (random_token().map(|t| t.expose().to_owned()).unwrap_or_default(), true),
    }
}

/// Whether a form's CSRF field matches the browser's cookie (double submit, constant time).
#[must_use]
pub fn csrf_ok(headers: &HeaderMap, field: Option<&str>) -> bool {
    match (cookie(headers, CSRF_COOKIE), field) {
        (Some(c), Some(f)) if !c.is_empty() => subtle::ConstantTimeEq::ct_eq(c.as_bytes(), f.as_bytes()).into(),
        _ => false,
    }
}

/// An HTML page with the headers every sign-in page carries.
pub fn html(state: &AppState, status: StatusCode, body: String, set_cookies: Vec<HeaderValue>, script_nonce: Option<&str>) -> Response {
    let script = script_nonce.map_or_else(|| "'none'".to_owned(), |n| format!("'nonce-{n}'"));
    // Pages with the passkey script talk to this server with fetch().
    let connect = if script_nonce.is_some() { "'self'" } else { "'none'" };
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; script-src {script}; connect-src {connect}; form-action 'self' https: http:; frame-ancestors 'none'; base-uri 'none'"
    );
    let mut r = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    for c in set_cookies {
        h.append(header::SET_COOKIE, c);
    }
    let _ = state;
    r
}

/// A plain message page (errors that cannot go back to an application).
pub fn message(state: &AppState, status: StatusCode, heading: &str, text: &str, link: Option<(String, String)>) -> Response {
    let page = MessagePage {
        heading,
        message: text,
        is_error: status.is_client_error() || status.is_server_error(),
        link,
    };
    html(state, status, page.render().unwrap_or_else(|_| text.to_owned()), Vec::new(), None)
}

/// The sign-in log's view of where a request came from.
#[must_use]
pub fn sign_in_context(
    headers: &HeaderMap,
    connect: Option<&ConnectInfo<SocketAddr>>,
    app: Option<(latchkey_core::ids::AppId, String)>,
) -> SignInContext {
    let _ = headers;
    SignInContext {
        ip_address: connect.map(|c| c.0.ip().to_string()),
        correlation_id: crate::context::current().request_id,
        app,
    }
}
