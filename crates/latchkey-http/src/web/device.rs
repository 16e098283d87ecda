//! `{public-url}/devicelogin`: where a person types the code a device shows (RFC 8628
//! §3.3), signs in if they have not, and says whether the device may sign in as them.
//! Server-rendered, no JavaScript; every POST carries the CSRF token; every lookup of a
//! code is under the per-address rate limit (see `rate_limit::limited`).

use super::pages::DeviceLoginPage;
use super::{CSRF_COOKIE, MAX_FORM_BYTES, SESSION_COOKIE, cookie, csrf_ok, csrf_token, html, message, set_cookie};
use crate::AppState;
use askama::Template as _;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use latchkey_core::CoreError;
use latchkey_core::device::UserCode;
use latchkey_core::directory::User;
use latchkey_core::session::Session;

/// The page's own path, also where its forms post.
pub const PATH: &str = "/devicelogin";

const BAD_FORMAT: &str = "Enter the code shown on your device: eight letters, like BCDF-GHJK.";

/// What the page shows.
enum View<'a> {
    /// The code form, with what was typed and why it was refused.
    Form { typed: &'a str, error: Option<String> },
    /// "Are you trying to sign in to …?"
    Confirm { code: &'a UserCode, app: String, user: &'a User },
}

fn render(state: &AppState, headers: &HeaderMap, status: StatusCode, view: View<'_>) -> Response {
    let (csrf, fresh) = csrf_token(headers);
    let shown;
    let page = match view {
        View::Form { typed, error } => DeviceLoginPage {
            heading: "Enter code",
            action: PATH,
            csrf: &csrf,
            user_code: typed,
            error,
            app_name: None,
            signed_in_as: None,
        },
        View::Confirm { code, app, user } => {
            shown = code.display();
            DeviceLoginPage {
                heading: "Sign in on your device",
                action: PATH,
                csrf: &csrf,
                user_code: &shown,
                error: None,
                app_name: Some(app),
                signed_in_as: Some(format!("Signed in as {}", user.user_principal_name)),
            }
        }
    };
    let cookies = if fresh {
        vec![set_cookie(state, CSRF_COOKIE, &csrf, 3600)]
    } else {
        Vec::new()
    };
    html(state, status, page.render().unwrap_or_default(), cookies, None)
}

/// The browser's live session, if any.
async fn live_session(state: &AppState, headers: &HeaderMap) -> Option<(Session, User)> {
    let token = cookie(headers, SESSION_COOKIE)?;
    state.core.session_from_token(token).await.ok().flatten()
}

/// Sign in first, then come back here with the code filled in.
fn sign_in_then_return(state: &AppState, code: &UserCode) -> Response {
    let back = format!("{PATH}?user_code={}", code.display());
    Redirect::to(&crate::web::authorize::login_then(state, &back)).into_response()
}

/// A refusal the person can act on goes back on the form; anything else is an error page.
fn refused(state: &AppState, headers: &HeaderMap, typed: &str, e: CoreError) -> Response {
    match e {
        CoreError::Invalid(m) => render(state, headers, StatusCode::BAD_REQUEST, View::Form { typed, error: Some(m) }),
        other => crate::error::page_for(state, other),
    }
}

/// The code a person typed: the confirmation when signed in, else sign-in and back.
async fn look_up(state: &AppState, headers: &HeaderMap, typed: &str) -> Response {
    let Some(code) = UserCode::parse(typed) else {
        return render(
            state,
            headers,
            StatusCode::BAD_REQUEST,
            View::Form {
                typed,
                error: Some(BAD_FORMAT.into()),
            },
        );
    };
    let pending = match state.core.pending_device_code(&code).await {
        Ok(p) => p,
        Err(e) => return refused(state, headers, typed, e),
    };
    match live_session(state, headers).await {
        Some((_, user)) => render(
            state,
            headers,
            StatusCode::OK,
            View::Confirm {
                code: &code,
                app: pending.application.display_name,
                user: &user,
            },
        ),
        None => sign_in_then_return(state, &code),
    }
}

/// `GET /devicelogin[?user_code=…]`: the code form, or with a code (the way back from
/// sign-in) the confirmation.
pub async fn device_login_page(State(state): State<AppState>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let query = super::authorize::params(raw.unwrap_or_default().as_bytes()).unwrap_or_default();
    match query.get("user_code").filter(|c| !c.is_empty()) {
        Some(typed) => look_up(&state, &headers, typed).await,
        None => render(&state, &headers, StatusCode::OK, View::Form { typed: "", error: None }),
    }
}

/// `POST /devicelogin`: a typed code (`user_code`), or the answer to the confirmation
/// (`user_code` with `answer=continue` or `answer=cancel`).
pub async fn device_login_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let form = match body {
        Ok(b) if b.len() <= MAX_FORM_BYTES => match super::authorize::params(&b) {
            Ok(f) => f,
            Err(e) => return message(&state, StatusCode::BAD_REQUEST, "The form is not valid", &e, None),
        },
        _ => {
            return message(
                &state,
                StatusCode::PAYLOAD_TOO_LARGE,
                "The form is too large",
                "Go back and try again.",
                None,
            );
        }
    };
    if !csrf_ok(&headers, form.get("csrf").map(String::as_str)) {
        return message(
            &state,
            StatusCode::FORBIDDEN,
            "This form has expired",
            "For your safety the form could not be accepted. Enter the code again.",
            Some((PATH.into(), "Start again".into())),
        );
    }
    let typed = form.get("user_code").map_or("", |c| c.trim());
    let approve = match form.get("answer").map(String::as_str) {
        None => return look_up(&state, &headers, typed).await,
        Some("continue") => true,
        Some("cancel") => false,
        Some(_) => return message(&state, StatusCode::BAD_REQUEST, "The form is not valid", "Unknown answer.", None),
    };
    let Some(code) = UserCode::parse(typed) else {
        return render(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            View::Form {
                typed,
                error: Some(BAD_FORMAT.into()),
            },
        );
    };
    let Some((session, _)) = live_session(&state, &headers).await else {
        return sign_in_then_return(&state, &code);
    };
    let app = match state.core.pending_device_code(&code).await {
        Ok(p) => p.application.display_name,
        Err(e) => return refused(&state, &headers, typed, e),
    };
    if let Err(e) = state.core.answer_device_code(&code, &session, approve).await {
        return refused(&state, &headers, typed, e);
    }
    if approve {
        message(
            &state,
            StatusCode::OK,
            "You're signed in",
            &format!("You have signed in to {app} on your device. You can close this window."),
            None,
        )
    } else {
        message(
            &state,
            StatusCode::OK,
            "Sign-in cancelled",
            &format!("{app} was not signed in on your device. You can close this window."),
            None,
        )
    }
}
