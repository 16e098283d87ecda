//! My Security Info (`/mysecurityinfo`): the person's methods, adding a passkey or an
//! authenticator app, deleting methods and the pass; and passkey sign-in on the login
//! pages. HTML forms work without JavaScript; only the WebAuthn ceremonies use the
//! script at `/assets/webauthn.js`, talking JSON to the endpoints here.

use super::authorize::{local_path, login_then};
use super::{CSRF_COOKIE, MAX_FORM_BYTES, SESSION_COOKIE, cookie, csrf_ok, csrf_token, html, message, set_cookie, sign_in_context};
use crate::AppState;
use crate::oauth::TenantPath;
use askama::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::connect_info::ConnectInfo;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use latchkey_core::CoreError;
use latchkey_core::directory::User;
use latchkey_core::ids::MethodId;
use latchkey_core::secrets::{SecretString, random_token};
use latchkey_core::service::Enrolment;
use latchkey_core::session::{AuthRequest, Session};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use uuid::Uuid;

const PAGE: &str = "/mysecurityinfo";
/// Largest WebAuthn answer accepted (a credential with attestation is a few KiB).
const MAX_JSON_BYTES: usize = 64 * 1024;

/// One row of the methods list.
pub struct MethodRow {
    pub id: String,
    pub kind: &'static str,
    pub name: Option<String>,
    pub detail: String,
    /// The `kind` field of the delete form; `None` when it cannot be deleted here.
    pub delete_kind: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "mysecurityinfo.html")]
struct SecurityInfoPage<'a> {
    display_name: &'a str,
    user_principal_name: &'a str,
    methods: Vec<MethodRow>,
    only_pass: bool,
    may_register: bool,
    passkeys_available: bool,
    registration_until: Option<String>,
    reauthenticate: String,
    csrf: &'a str,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "add_passkey.html")]
struct AddPasskeyPage<'a> {
    heading: &'a str,
    app_name: Option<String>,
    csrf: &'a str,
    nonce: &'a str,
    then: String,
    skip_href: String,
    skip_label: &'a str,
}

#[derive(Template)]
#[template(path = "add_authenticator.html")]
struct AddAuthenticatorPage<'a> {
    qr_svg: String,
    secret: &'a str,
    ceremony: String,
    csrf: &'a str,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "confirm_delete.html")]
struct ConfirmDeletePage<'a> {
    warning: &'a str,
    kind: &'a str,
    id: &'a str,
    csrf: &'a str,
}

fn display_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The live session the browser's cookie names, with its user.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Option<(Session, User)> {
    let token = cookie(headers, SESSION_COOKIE)?;
    state.core.session_from_token(token).await.ok().flatten()
}

/// A page with the CSRF cookie set when the browser has none yet.
fn page(state: &AppState, headers: &HeaderMap, status: StatusCode, body: String, nonce: Option<&str>) -> Response {
    let (csrf, fresh) = csrf_token(headers);
    let cookies = if fresh {
        vec![set_cookie(state, CSRF_COOKIE, &csrf, 3600)]
    } else {
        Vec::new()
    };
    html(state, status, body, cookies, nonce)
}

fn nonce() -> String {
    random_token().map(|t| t.expose().to_owned()).unwrap_or_default()
}

fn form_fields(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn expired_form(state: &AppState) -> Response {
    message(
        state,
        StatusCode::FORBIDDEN,
        "This form has expired",
        "For your safety the form could not be accepted. Reload the page and try again.",
        Some((PAGE.into(), "Back to My Security Info".into())),
    )
}

/// `GET /mysecurityinfo`.
pub async fn my_security_info(State(state): State<AppState>, headers: HeaderMap) -> Response {
    render_overview(&state, &headers, None, None).await
}

async fn render_overview(state: &AppState, headers: &HeaderMap, notice: Option<String>, error: Option<String>) -> Response {
    let Some((session, user)) = signed_in(state, headers).await else {
        return Redirect::to(&login_then(state, PAGE)).into_response();
    };
    let info = match state.core.security_info(&session, &user).await {
        Ok(i) => i,
        Err(e) => return crate::error::page_for(state, e),
    };
    let mut methods = Vec::new();
    for p in &info.methods.passkeys {
        let mut detail = format!("Added {}", display_time(p.created_at));
        if let Some(model) = &p.model {
            detail = format!("{model} · {detail}");
        }
        if let Some(used) = p.last_used_at {
            detail.push_str(&format!(" · last used {}", display_time(used)));
        }
        methods.push(MethodRow {
            id: p.id.to_string(),
            kind: "Passkey",
            name: Some(p.display_name.clone()),
            detail,
            delete_kind: Some("passkey"),
        });
    }
    for a in &info.methods.authenticator_apps {
        methods.push(MethodRow {
            id: a.id.to_string(),
            kind: "Authenticator app",
            name: None,
            detail: format!("Time-based codes · added {}", display_time(a.created_at)),
            delete_kind: Some("authenticator"),
        });
    }
    if info.password_set {
        methods.push(MethodRow {
            id: "password".into(),
            kind: "Password",
            name: None,
            detail: "Changed by your administrator".into(),
            delete_kind: None,
        });
    }
    if let Some(view) = &info.pass {
        let p = &view.pass;
        let use_text = if p.is_usable_once { "one-time use" } else { "multi-use" };
        let state_text = if view.usability.is_usable {
            "usable".to_owned()
        } else {
            format!("not usable: {}", view.usability.reason.as_str())
        };
        methods.push(MethodRow {
            id: p.id.to_string(),
            kind: "Temporary Access Pass",
            name: None,
            detail: format!("Expires {} · {use_text} · {state_text}", display_time(p.expires_at())),
            delete_kind: Some("pass"),
        });
    }
    let (csrf, _) = csrf_token(headers);
    let body = SecurityInfoPage {
        display_name: &user.display_name,
        user_principal_name: user.user_principal_name.as_str(),
        only_pass: info.only_the_pass(),
        methods,
        may_register: info.may_register,
        passkeys_available: state.core.passkeys_available(),
        registration_until: session
            .registration_until
            .filter(|_| info.may_register)
            .filter(|u| *u < session.expires_at)
            .map(display_time),
        reauthenticate: login_then(state, PAGE),
        csrf: &csrf,
        notice,
        error,
    }
    .render()
    .unwrap_or_default();
    page(state, headers, StatusCode::OK, body, None)
}

/// `POST /mysecurityinfo/delete` (`kind` = passkey | authenticator | pass, `id`). Deleting
/// the last strong method (passkey, authenticator app or pass) asks for confirmation first.
pub async fn delete_method(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = form_fields(&body);
    if body.len() > MAX_FORM_BYTES || !csrf_ok(&headers, form.get("csrf").map(String::as_str)) {
        return expired_form(&state);
    }
    let Some((session, user)) = signed_in(&state, &headers).await else {
        return Redirect::to(&login_then(&state, PAGE)).into_response();
    };
    let kind = form.get("kind").map_or("", String::as_str);
    let id_text = form.get("id").map_or("", String::as_str);
    let Ok(id) = id_text.parse::<Uuid>() else {
        return render_overview(&state, &headers, None, Some("That method does not exist.".into())).await;
    };
    let info = match state.core.security_info(&session, &user).await {
        Ok(i) => i,
        Err(e) => return crate::error::page_for(&state, e),
    };
    if info.deleting_leaves_no_strong_method() && form.get("confirm").map(String::as_str) != Some("yes") {
        let (csrf, _) = csrf_token(&headers);
        let warning = if info.password_set {
            "This is your last strong sign-in method. Without it only your password is left, and adding a method again will need your administrator to issue a Temporary Access Pass."
        } else {
            "This is the last way you can sign in. Without it you will need your administrator to issue a Temporary Access Pass."
        };
        let body = ConfirmDeletePage {
            warning,
            kind,
            id: id_text,
            csrf: &csrf,
        }
        .render()
        .unwrap_or_default();
        return page(&state, &headers, StatusCode::OK, body, None);
    }
    let caller = state.core.session_caller(&user);
    let me = user.id.to_string();
    let outcome = match kind {
        "passkey" => state.core.delete_fido2_method(&caller, &me, MethodId::from_uuid(id)).await,
        "authenticator" => state.core.delete_software_oath_method(&caller, &me, MethodId::from_uuid(id)).await,
        "pass" => {
            state
                .core
                .delete_pass(&caller, &me, latchkey_core::ids::PassId::from_uuid(id))
                .await
        }
        _ => Err(CoreError::Invalid("Unknown kind of method.".into())),
    };
    match outcome {
        // Deleting the pass a session was made with ends that session (DESIGN: deleting the
        // pass ends everything it made), so the person is asked to sign in again.
        Ok(()) if kind == "pass" && session.pass_id.map(|p| *p.as_uuid()) == Some(id) => message(
            &state,
            StatusCode::OK,
            "Your Temporary Access Pass is deleted",
            "It can no longer be used. Your session with it has ended; sign in with one of your other methods.",
            Some((login_then(&state, PAGE), "Sign in".into())),
        ),
        Ok(()) => render_overview(&state, &headers, Some("The method was deleted.".into()), None).await,
        Err(CoreError::NotFound { .. }) => render_overview(&state, &headers, None, Some("That method does not exist.".into())).await,
        Err(e) => crate::error::page_for(&state, e),
    }
}

/// `GET /mysecurityinfo/passkey`: the page that creates a passkey.
pub async fn add_passkey_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some((session, _user)) = signed_in(&state, &headers).await else {
        return Redirect::to(&login_then(&state, "/mysecurityinfo/passkey")).into_response();
    };
    if !state.core.passkeys_available() {
        return message(
            &state,
            StatusCode::BAD_REQUEST,
            "Passkeys are off",
            "This server's public URL names an IP address; passkeys need a domain name.",
            Some((PAGE.into(), "Back".into())),
        );
    }
    if !latchkey_core::methods::may_register(&session, state.core.now()) {
        return render_overview(
            &state,
            &headers,
            None,
            Some(latchkey_core::methods::MethodRefusal::NotRecentStrongAuth.to_string()),
        )
        .await;
    }
    let (csrf, _) = csrf_token(&headers);
    let n = nonce();
    let body = AddPasskeyPage {
        heading: "Add a passkey",
        app_name: None,
        csrf: &csrf,
        nonce: &n,
        then: PAGE.into(),
        skip_href: PAGE.into(),
        skip_label: "Cancel",
    }
    .render()
    .unwrap_or_default();
    page(&state, &headers, StatusCode::OK, body, Some(&n))
}

/// The page offered after a pass sign-in to an application when the person has no
/// passkey: create one, or skip and go on to the application.
pub async fn offer_passkey(state: &AppState, headers: &HeaderMap, request: &AuthRequest) -> Response {
    let (csrf, _) = csrf_token(headers);
    let n = nonce();
    let app_name = super::authorize::requesting_app(state, Some(request)).await.map(|(_, name)| name);
    let then = format!("/{}/login/continue?request={}", state.tenant.id, request.id);
    let body = AddPasskeyPage {
        heading: "Set up a passkey?",
        app_name,
        csrf: &csrf,
        nonce: &n,
        skip_href: then.clone(),
        then,
        skip_label: "Skip for now and continue",
    }
    .render()
    .unwrap_or_default();
    page(state, headers, StatusCode::OK, body, Some(&n))
}

// ------------------------------------------------------------------ JSON endpoints

/// Reads a JSON body for a WebAuthn endpoint: CSRF header (double submit), size, syntax.
fn json_body<T: for<'de> Deserialize<'de>>(headers: &HeaderMap, body: &Bytes) -> Result<T, Box<Response>> {
    let header_token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    if !csrf_ok(headers, header_token) {
        return Err(Box::new(crate::error::json_error(
            StatusCode::FORBIDDEN,
            "The page has expired. Reload it and try again.",
        )));
    }
    if body.len() > MAX_JSON_BYTES {
        return Err(Box::new(crate::error::json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The request is too large.",
        )));
    }
    serde_json::from_slice(body).map_err(|e| {
        Box::new(crate::error::json_error(
            StatusCode::BAD_REQUEST,
            &format!("The request is not valid JSON: {e}"),
        ))
    })
}

#[derive(Deserialize)]
struct Empty {}

#[derive(Deserialize)]
struct RegistrationAnswer {
    ceremony: Uuid,
    credential: serde_json::Value,
    name: Option<String>,
}

#[derive(Deserialize)]
struct SignInAnswer {
    ceremony: Uuid,
    credential: serde_json::Value,
    username: Option<String>,
    request: Option<String>,
    next: Option<String>,
}

/// `POST /mysecurityinfo/passkey/options`: creation options for a new passkey.
pub async fn passkey_registration_options(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = json_body::<Empty>(&headers, &body) {
        return *r;
    }
    let Some((session, user)) = signed_in(&state, &headers).await else {
        return crate::error::json_error(StatusCode::UNAUTHORIZED, "Your session has ended. Sign in again.");
    };
    match state.core.begin_passkey_registration(&session, &user).await {
        Ok(c) => Json(json!({ "ceremony": c.ceremony, "options": c.options })).into_response(),
        Err(e) => crate::error::json_for(e),
    }
}

/// `POST /mysecurityinfo/passkey/register`: the browser's new credential.
pub async fn passkey_registration_finish(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let answer: RegistrationAnswer = match json_body(&headers, &body) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let Some((session, user)) = signed_in(&state, &headers).await else {
        return crate::error::json_error(StatusCode::UNAUTHORIZED, "Your session has ended. Sign in again.");
    };
    match state
        .core
        .finish_passkey_registration(
            &session,
            &user,
            answer.ceremony,
            &answer.credential.to_string(),
            answer.name.as_deref(),
        )
        .await
    {
        Ok(m) => (StatusCode::CREATED, Json(json!({ "id": m.id, "displayName": m.display_name }))).into_response(),
        Err(e) => crate::error::json_for(e),
    }
}

/// `POST /{tenant}/passkey/options`: a challenge for a passkey sign-in.
pub async fn passkey_sign_in_options(
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !state.tenant.is_named_by(&tenant) {
        return crate::error::json_error(StatusCode::NOT_FOUND, "This server does not serve that tenant.");
    }
    if let Err(r) = json_body::<Empty>(&headers, &body) {
        return *r;
    }
    match state.core.begin_passkey_sign_in().await {
        Ok(c) => Json(json!({ "ceremony": c.ceremony, "options": c.options })).into_response(),
        Err(e) => crate::error::json_for(e),
    }
}

/// `POST /{tenant}/passkey`: the passkey's assertion. Sets the session cookie and says
/// where to go next (the application, `next`, or My Security Info).
pub async fn passkey_sign_in_finish(
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    headers: HeaderMap,
    connect: Option<axum::extract::Extension<ConnectInfo<SocketAddr>>>,
    body: Bytes,
) -> Response {
    if !state.tenant.is_named_by(&tenant) {
        return crate::error::json_error(StatusCode::NOT_FOUND, "This server does not serve that tenant.");
    }
    let answer: SignInAnswer = match json_body(&headers, &body) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let request = match &answer.request {
        Some(id) => match state.core.authorization_request(id).await {
            Ok(Some(r)) => Some(r),
            Ok(None) => {
                return crate::error::json_error(
                    StatusCode::BAD_REQUEST,
                    "This sign-in has expired. Go back to the application and start again.",
                );
            }
            Err(e) => return crate::error::json_for(e),
        },
        None => None,
    };
    let app = super::authorize::requesting_app(&state, request.as_ref()).await;
    let ctx = sign_in_context(&headers, connect.as_ref().map(|c| &c.0), app);
    let username = answer.username.as_deref().map(str::trim).filter(|u| !u.is_empty());
    match state
        .core
        .finish_passkey_sign_in(answer.ceremony, &answer.credential.to_string(), username, &ctx)
        .await
    {
        Ok(signed_in) => {
            let max_age = (signed_in.session.expires_at - state.core.now()).num_seconds();
            let redirect = match &request {
                Some(r) => format!("/{}/login/continue?request={}", state.tenant.id, r.id),
                None => local_path(answer.next.as_deref()).unwrap_or_else(|| PAGE.to_owned()),
            };
            let mut r = Json(json!({ "redirect": redirect })).into_response();
            r.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&state, SESSION_COOKIE, signed_in.token.expose(), max_age),
            );
            r
        }
        Err(failure) => match failure.internal {
            Some(e) => crate::error::json_for(e),
            None => crate::error::json_error(StatusCode::UNAUTHORIZED, &failure.message),
        },
    }
}

// ------------------------------------------------------------- authenticator apps

/// `GET /mysecurityinfo/authenticator`: starts an enrolment and shows its QR code once.
pub async fn add_authenticator_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some((session, user)) = signed_in(&state, &headers).await else {
        return Redirect::to(&login_then(&state, "/mysecurityinfo/authenticator")).into_response();
    };
    let challenge = match state.core.begin_authenticator_enrolment(&session, &user).await {
        Ok(c) => c,
        Err(CoreError::Forbidden(m)) => return render_overview(&state, &headers, None, Some(m)).await,
        Err(e) => return crate::error::page_for(&state, e),
    };
    render_enrolment(
        &state,
        &headers,
        challenge.ceremony,
        &challenge.enrolment.otpauth_uri,
        &challenge.enrolment.secret_base32,
        None,
    )
}

fn render_enrolment(
    state: &AppState,
    headers: &HeaderMap,
    ceremony: Uuid,
    uri: &SecretString,
    secret: &SecretString,
    error: Option<String>,
) -> Response {
    let qr_svg = crate::qr::svg(uri.expose()).unwrap_or_default();
    let (csrf, _) = csrf_token(headers);
    let body = AddAuthenticatorPage {
        qr_svg,
        secret: secret.expose(),
        ceremony: ceremony.to_string(),
        csrf: &csrf,
        error,
    }
    .render()
    .unwrap_or_default();
    let status = if body.is_empty() {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    page(state, headers, status, body, None)
}

/// `POST /mysecurityinfo/authenticator` (`ceremony`, `otp`): confirms with a first code.
pub async fn confirm_authenticator(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = form_fields(&body);
    if body.len() > MAX_FORM_BYTES || !csrf_ok(&headers, form.get("csrf").map(String::as_str)) {
        return expired_form(&state);
    }
    let Some((session, user)) = signed_in(&state, &headers).await else {
        return Redirect::to(&login_then(&state, PAGE)).into_response();
    };
    let Some(ceremony) = form.get("ceremony").and_then(|c| c.parse::<Uuid>().ok()) else {
        return render_overview(&state, &headers, None, Some("The enrolment has expired. Start again.".into())).await;
    };
    let code = SecretString::new(form.get("otp").cloned().unwrap_or_default());
    match state.core.confirm_authenticator_enrolment(&session, &user, ceremony, &code).await {
        Ok(Enrolment::Added(_)) => render_overview(&state, &headers, Some("Your authenticator app is added.".into()), None).await,
        // The enrolment stays open: the same key again, with the error.
        Ok(Enrolment::Retry { refusal, challenge: c }) => render_enrolment(
            &state,
            &headers,
            c.ceremony,
            &c.enrolment.otpauth_uri,
            &c.enrolment.secret_base32,
            Some(refusal.to_string()),
        ),
        Err(CoreError::Invalid(m) | CoreError::Forbidden(m)) => render_overview(&state, &headers, None, Some(m)).await,
        Err(e) => crate::error::page_for(&state, e),
    }
}

/// `GET /assets/webauthn.js`: the passkey script (compiled in; the server works offline).
pub async fn webauthn_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        include_str!("../../assets/webauthn.js"),
    )
        .into_response()
}
