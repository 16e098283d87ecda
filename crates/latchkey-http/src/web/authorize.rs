//! The authorization endpoint and the sign-in pages it leads to (RFC 6749 §4.1,
//! OpenID Connect Core §3.1, RFC 7636 PKCE with S256 only).

use super::pages::{FormPostPage, LoginPage, WhoAmIPage};
use super::{CSRF_COOKIE, MAX_FORM_BYTES, SESSION_COOKIE, cookie, csrf_ok, csrf_token, html, message, set_cookie, sign_in_context};
use crate::AppState;
use crate::oauth::TenantPath;
use askama::Template as _;
use axum::body::Bytes;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use latchkey_core::secrets::{SecretString, random_token};
use latchkey_core::service::Landing;
use latchkey_core::session::{AuthRequest, ResponseMode, Scopes, Session};
use latchkey_core::signin::Prompt;
use std::collections::HashMap;
use std::net::SocketAddr;

type Params = HashMap<String, String>;

/// Parses query or form parameters; a parameter sent twice is refused (RFC 6749 §3.1).
pub(super) fn params(raw: &[u8]) -> Result<Params, String> {
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(raw) {
        if out.insert(k.clone().into_owned(), v.into_owned()).is_some() {
            return Err(format!(
                "The parameter '{}' was sent more than once.",
                k.chars().take(40).collect::<String>()
            ));
        }
    }
    Ok(out)
}

fn login_url(state: &AppState, request: Option<&str>) -> String {
    match request {
        Some(r) => format!("/{}/login?request={r}", state.tenant.id),
        None => format!("/{}/login", state.tenant.id),
    }
}

/// Sends an OAuth error back to the client's redirect URI (RFC 6749 §4.1.2.1).
fn error_redirect(redirect_uri: &str, error: &str, description: &str, state_param: Option<&str>) -> Response {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    ser.append_pair("error", error).append_pair("error_description", description);
    if let Some(s) = state_param {
        ser.append_pair("state", s);
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{redirect_uri}{sep}{}", ser.finish())).into_response()
}

pub async fn authorize(state: State<AppState>, tenant: TenantPath, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let parsed = params(raw.unwrap_or_default().as_bytes());
    authorization(state, tenant, headers, parsed).await
}

pub async fn authorize_post(
    state: State<AppState>,
    tenant: TenantPath,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let parsed = match body {
        Ok(b) if b.len() <= MAX_FORM_BYTES => params(&b),
        _ => Err("The request is too large.".to_owned()),
    };
    authorization(state, tenant, headers, parsed).await
}

async fn authorization(
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    headers: HeaderMap,
    parsed: Result<Params, String>,
) -> Response {
    let bad_page = |text: &str| message(&state, StatusCode::BAD_REQUEST, "Sign-in request is not valid", text, None);
    if !state.tenant.is_named_by(&tenant) {
        return bad_page("This sign-in link names a tenant this server does not serve.");
    }
    let p = match parsed {
        Ok(p) => p,
        Err(e) => return bad_page(&e),
    };
    // Until the client and redirect URI are known good, errors stay on this server
    // (RFC 6749 §4.1.2.1: never redirect to an unverified URI).
    let Some(client_id) = p.get("client_id") else {
        return bad_page("client_id is missing.");
    };
    let app = match state.core.find_client(client_id).await {
        Ok(Some(app)) => app,
        Ok(None) => return bad_page("The application (client_id) is not registered in this tenant."),
        Err(e) => return crate::error::page_for(&state, e),
    };
    let Some(redirect_uri) = p.get("redirect_uri") else {
        return bad_page("redirect_uri is missing.");
    };
    let Some(platform) = app.redirect_uris.platform_of(redirect_uri) else {
        return bad_page("The redirect_uri does not match any redirect URI registered for this application.");
    };
    let st = p.get("state").map(String::as_str);
    if p.get("response_type").map(String::as_str) != Some("code") {
        return error_redirect(
            redirect_uri,
            "unsupported_response_type",
            "Only response_type=code is supported.",
            st,
        );
    }
    let response_mode = match p.get("response_mode").map(String::as_str) {
        None | Some("query") => ResponseMode::Query,
        Some("form_post") => ResponseMode::FormPost,
        Some(_) => return error_redirect(redirect_uri, "invalid_request", "response_mode must be query or form_post.", st),
    };
    let scope = p.get("scope").map_or("openid", String::as_str);
    if let Err(e) = Scopes::parse(scope) {
        return error_redirect(redirect_uri, "invalid_scope", &e, st);
    }
    let challenge = match (p.get("code_challenge"), p.get("code_challenge_method").map(String::as_str)) {
        (Some(c), Some("S256")) if c.len() == 43 => Some(c.clone()),
        (Some(_), Some("S256")) => {
            return error_redirect(
                redirect_uri,
                "invalid_request",
                "code_challenge must be a base64url SHA-256 digest (43 characters).",
                st,
            );
        }
        (Some(_), None | Some("plain")) => {
            return error_redirect(
                redirect_uri,
                "invalid_request",
                "PKCE code_challenge_method must be S256; plain is not accepted.",
                st,
            );
        }
        (Some(_), Some(_)) => return error_redirect(redirect_uri, "invalid_request", "Unknown code_challenge_method.", st),
        (None, _) if !platform.is_confidential() => {
            return error_redirect(
                redirect_uri,
                "invalid_request",
                "This client cannot keep a secret, so it must use PKCE (code_challenge with S256).",
                st,
            );
        }
        (None, _) => None,
    };
    if p.get("nonce").is_some_and(|n| n.len() > 512) || st.is_some_and(|s| s.len() > 2048) {
        return error_redirect(redirect_uri, "invalid_request", "nonce or state is too long.", st);
    }
    let request = AuthRequest {
        id: String::new(),
        client_id: app.app_id,
        redirect_uri: redirect_uri.clone(),
        scope: scope.to_owned(),
        state: st.map(str::to_owned),
        nonce: p.get("nonce").cloned(),
        code_challenge: challenge,
        response_mode,
        login_hint: p.get("login_hint").cloned(),
        created_at: state.core.now(),
        expires_at: state.core.now(),
    };
    let prompt = p.get("prompt").map(String::as_str);
    // An existing session answers at once unless the client asks for a fresh sign-in.
    if prompt != Some("login")
        && let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Ok(Some((session, _))) = state.core.session_from_token(token).await
    {
        return match state.core.begin_authorization(request).await {
            Ok(stored) => finish(&state, &session, &stored, None).await,
            Err(e) => crate::error::page_for(&state, e),
        };
    }
    if prompt == Some("none") {
        return error_redirect(
            redirect_uri,
            "login_required",
            "The user is not signed in and prompt=none forbids asking.",
            st,
        );
    }
    match state.core.begin_authorization(request).await {
        Ok(stored) => Redirect::to(&login_url(&state, Some(&stored.id))).into_response(),
        Err(e) => crate::error::page_for(&state, e),
    }
}

/// Issues the code and sends the browser back to the application.
async fn finish(state: &AppState, session: &Session, request: &AuthRequest, session_cookie: Option<HeaderValue>) -> Response {
    let code = match state.core.issue_code(session, request).await {
        Ok(c) => c,
        Err(e) => return crate::error::page_for(state, e),
    };
    let mut fields = vec![("code", code.expose().to_owned())];
    if let Some(s) = &request.state {
        fields.push(("state", s.clone()));
    }
    let mut response = match request.response_mode {
        ResponseMode::Query => {
            let mut ser = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &fields {
                ser.append_pair(k, v);
            }
            let sep = if request.redirect_uri.contains('?') { '&' } else { '?' };
            Redirect::to(&format!("{}{sep}{}", request.redirect_uri, ser.finish())).into_response()
        }
        ResponseMode::FormPost => {
            let nonce = random_token().map(|t| t.expose().to_owned()).unwrap_or_default();
            let page = FormPostPage {
                redirect_uri: &request.redirect_uri,
                fields,
                nonce: &nonce,
            };
            html(state, StatusCode::OK, page.render().unwrap_or_default(), Vec::new(), Some(&nonce))
        }
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(c) = session_cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

#[derive(serde::Deserialize)]
pub struct LoginQuery {
    request: Option<String>,
    /// Where to go after signing in without an application (a path on this server).
    next: Option<String>,
    /// Pre-fills the user name (e.g. from a pass delivery link); never a secret.
    username: Option<String>,
}

/// A return path after sign-in, kept only when it is a path on this server: an
/// attacker-supplied `next=https://evil.example` or `//evil.example` is dropped.
#[must_use]
pub fn local_path(next: Option<&str>) -> Option<String> {
    let n = next?;
    let ok =
        n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && n.len() <= 512 && n.chars().all(|c| c.is_ascii_graphic());
    ok.then(|| n.to_owned())
}

/// The login page URL that returns to `next` afterwards.
#[must_use]
pub fn login_then(state: &AppState, next: &str) -> String {
    let q: String = form_urlencoded::Serializer::new(String::new()).append_pair("next", next).finish();
    format!("/{}/login?{q}", state.tenant.id)
}

/// The application a pending request is for (its client id and name), for the pages and
/// the sign-in log.
pub async fn requesting_app(state: &AppState, request: Option<&AuthRequest>) -> Option<(latchkey_core::ids::AppId, String)> {
    let r = request?;
    state
        .core
        .find_client(&r.client_id.to_string())
        .await
        .ok()
        .flatten()
        .map(|a| (a.app_id, a.display_name))
}

async fn app_name(state: &AppState, request: Option<&AuthRequest>) -> Option<String> {
    requesting_app(state, request).await.map(|(_, name)| name)
}

struct Render<'a> {
    step: &'a str,
    request: Option<&'a AuthRequest>,
    /// The requesting application's name, looked up once per request by the caller.
    app_name: Option<String>,
    next: Option<String>,
    username: Option<String>,
    error: Option<String>,
    /// Other methods the person can switch to ("tap", "passkey", "otp", "password").
    alternatives: Vec<&'static str>,
    /// The password step also asks for an authenticator code.
    second_factor: bool,
    status: StatusCode,
}

/// What the user-name step leads to.
enum Step {
    Show(&'static str),
    Federated(String),
}

/// The step to show after the user name: the discovered prompt, or the method the person
/// switched to when they hold it. A switch never reveals more than the prompt would: an
/// unknown user switching to anything gets the password step.
fn choose_step(d: &latchkey_core::service::Discovery, wanted: Option<&str>) -> Step {
    let has_pass = matches!(d.prompt, Prompt::TemporaryAccessPass);
    match wanted {
        Some("tap") if has_pass => return Step::Show("tap"),
        Some("passkey") if d.held.passkey => return Step::Show("passkey"),
        Some("otp") if d.held.authenticator_app => return Step::Show("otp"),
        Some(_) => return Step::Show("password"),
        None => {}
    }
    match &d.prompt {
        Prompt::TemporaryAccessPass => Step::Show("tap"),
        Prompt::Federated { passive_sign_in_uri } => Step::Federated(passive_sign_in_uri.clone()),
        Prompt::Passkey => Step::Show("passkey"),
        Prompt::AuthenticatorApp => Step::Show("otp"),
        Prompt::Password => Step::Show("password"),
    }
}

/// The alternatives the failed step's form carried (`alts`), so a person who mistypes can
/// still switch method. Only known method names pass; a switch is checked again anyway.
fn carried_alternatives(alts: Option<&str>, step: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    for m in alts.unwrap_or_default().split(',') {
        if let Some(known) = ["tap", "passkey", "otp", "password"].into_iter().find(|k| *k == m)
            && known != step
            && !out.contains(&known)
        {
            out.push(known);
        }
    }
    out
}

/// The other methods to offer beside `shown`.
fn alternatives(d: &latchkey_core::service::Discovery, shown: &str) -> Vec<&'static str> {
    let has_password = d.user.as_ref().is_some_and(|u| u.password_hash.is_some());
    let mut out = Vec::new();
    if matches!(d.prompt, Prompt::TemporaryAccessPass) {
        out.push("tap");
    }
    if d.held.passkey {
        out.push("passkey");
    }
    if d.held.authenticator_app {
        out.push("otp");
    }
    if has_password {
        out.push("password");
    }
    out.retain(|m| *m != shown);
    out
}

/// Sets the session cookie and goes where [`Landing`] says (the rule is in the core); a
/// valid `next` wins over the default page.
async fn after_sign_in(
    state: &AppState,
    headers: &HeaderMap,
    signed_in: latchkey_core::service::SignedIn,
    request: Option<&AuthRequest>,
    next: Option<&str>,
) -> Response {
    let max_age = (signed_in.session.expires_at - state.core.now()).num_seconds();
    let c = set_cookie(state, SESSION_COOKIE, signed_in.token.expose(), max_age);
    let landing = match state.core.landing_after(&signed_in, request.is_some()).await {
        Ok(l) => l,
        Err(e) => return crate::error::page_for(state, e),
    };
    let mut response = match (request, landing) {
        (Some(req), Landing::OfferPasskey) => super::security_info::offer_passkey(state, headers, req).await,
        (Some(req), _) => return finish(state, &signed_in.session, req, Some(c)).await,
        (None, Landing::MySecurityInfo) => Redirect::to(next.unwrap_or("/mysecurityinfo")).into_response(),
        (None, _) => Redirect::to(next.unwrap_or("/whoami")).into_response(),
    };
    response.headers_mut().append(header::SET_COOKIE, c);
    response
}

/// `GET /{tenant}/login/continue?request=…`: finishes an authorization request for the
/// browser's live session (after a passkey sign-in, or after skipping the passkey offer).
pub async fn continue_authorization(
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    headers: HeaderMap,
    query: Result<Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if !state.tenant.is_named_by(&tenant) {
        return message(
            &state,
            StatusCode::NOT_FOUND,
            "Unknown tenant",
            "This server does not serve that tenant.",
            None,
        );
    }
    let Some(request_id) = query.ok().and_then(|Query(q)| q.request) else {
        return Redirect::to("/mysecurityinfo").into_response();
    };
    let request = match state.core.authorization_request(&request_id).await {
        Ok(Some(r)) => r,
        Ok(None) => return expired_request(&state),
        Err(e) => return crate::error::page_for(&state, e),
    };
    let session = match cookie(&headers, SESSION_COOKIE) {
        Some(token) => state.core.session_from_token(token).await.ok().flatten(),
        None => None,
    };
    match session {
        Some((session, _)) => finish(&state, &session, &request, None).await,
        None => Redirect::to(&login_url(&state, Some(&request.id))).into_response(),
    }
}

async fn render(state: &AppState, headers: &HeaderMap, r: Render<'_>) -> Response {
    let (csrf, fresh) = csrf_token(headers);
    let action = format!("/{}/login", state.tenant.id);
    let restart = login_url(state, r.request.map(|q| q.id.as_str()));
    let heading = match r.step {
        "tap" => "Enter your Temporary Access Pass",
        "password" => "Enter your password",
        "otp" => "Enter a code from your authenticator app",
        "passkey" => "Sign in with a passkey",
        _ => "Sign in",
    };
    let with_script = matches!(r.step, "username" | "passkey") && state.core.passkeys_available();
    let script_nonce = with_script.then(|| random_token().map(|t| t.expose().to_owned()).unwrap_or_default());
    let page = LoginPage {
        heading,
        action: &action,
        restart: &restart,
        csrf: &csrf,
        request: r.request.map(|q| q.id.as_str()),
        next: r.next,
        step: r.step,
        username: r.username,
        error: r.error,
        app_name: r.app_name,
        alternatives: r.alternatives,
        second_factor: r.second_factor,
        script_nonce: script_nonce.clone(),
        passkey_options: format!("/{}/passkey/options", state.tenant.id),
        passkey_finish: format!("/{}/passkey", state.tenant.id),
    };
    let cookies = if fresh {
        vec![set_cookie(state, CSRF_COOKIE, &csrf, 3600)]
    } else {
        Vec::new()
    };
    html(state, r.status, page.render().unwrap_or_default(), cookies, script_nonce.as_deref())
}

pub async fn login_page(
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    headers: HeaderMap,
    query: Result<Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if !state.tenant.is_named_by(&tenant) {
        return message(
            &state,
            StatusCode::NOT_FOUND,
            "Unknown tenant",
            "This server does not serve that tenant.",
            None,
        );
    }
    let (request_id, next, prefill) = match query {
        Ok(Query(q)) => (q.request, local_path(q.next.as_deref()), q.username),
        Err(_) => (None, None, None),
    };
    let request = match &request_id {
        Some(id) => match state.core.authorization_request(id).await {
            Ok(Some(r)) => Some(r),
            Ok(None) => return expired_request(&state),
            Err(e) => return crate::error::page_for(&state, e),
        },
        None => None,
    };
    let username = request
        .as_ref()
        .and_then(|r| r.login_hint.clone())
        .or(prefill)
        .filter(|u| u.len() <= 256);
    render(
        &state,
        &headers,
        Render {
            app_name: app_name(&state, request.as_ref()).await,
            step: "username",
            request: request.as_ref(),
            next,
            username,
            error: None,
            alternatives: Vec::new(),
            second_factor: false,
            status: StatusCode::OK,
        },
    )
    .await
}

fn expired_request(state: &AppState) -> Response {
    message(
        state,
        StatusCode::BAD_REQUEST,
        "This sign-in has expired",
        "Go back to the application and start signing in again.",
        None,
    )
}

pub async fn login_submit(
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    headers: HeaderMap,
    connect: Option<axum::extract::Extension<ConnectInfo<SocketAddr>>>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    if !state.tenant.is_named_by(&tenant) {
        return message(
            &state,
            StatusCode::NOT_FOUND,
            "Unknown tenant",
            "This server does not serve that tenant.",
            None,
        );
    }
    let form = match body {
        Ok(b) if b.len() <= MAX_FORM_BYTES => match params(&b) {
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
            "For your safety the form could not be accepted. Start signing in again.",
            Some((login_url(&state, None), "Start again".into())),
        );
    }
    let request = match form.get("request") {
        Some(id) => match state.core.authorization_request(id).await {
            Ok(Some(r)) => Some(r),
            Ok(None) => return expired_request(&state),
            Err(e) => return crate::error::page_for(&state, e),
        },
        None => None,
    };
    let app = requesting_app(&state, request.as_ref()).await;
    let shown_app = app.as_ref().map(|(_, name)| name.clone());
    let ctx = sign_in_context(&headers, connect.as_ref().map(|c| &c.0), app);
    let username = form
        .get("username")
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty() && u.len() <= 256);
    let step = form.get("step").map_or("username", String::as_str);
    let Some(username) = username else {
        return render(
            &state,
            &headers,
            Render {
                app_name: shown_app.clone(),
                step: "username",
                request: request.as_ref(),
                next: local_path(form.get("next").map(String::as_str)),
                username: None,
                error: Some("Enter your user name.".into()),
                alternatives: Vec::new(),
                second_factor: false,
                status: StatusCode::BAD_REQUEST,
            },
        )
        .await;
    };
    let r = request.as_ref();
    let next = local_path(form.get("next").map(String::as_str));
    match step {
        "username" | "switch" => {
            let discovery = match state.core.discover(&username, &ctx).await {
                Ok(d) => d,
                Err(e) => return crate::error::page_for(&state, e),
            };
            let wanted = (step == "switch").then(|| form.get("method").map(String::as_str)).flatten();
            let choice = choose_step(&discovery, wanted);
            if let (Step::Federated(uri), None) = (&choice, wanted) {
                let sep = if uri.contains('?') { '&' } else { '?' };
                let hint: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("username", &username)
                    .finish();
                return Redirect::to(&format!("{uri}{sep}{hint}")).into_response();
            }
            let shown = match choice {
                Step::Show(s) => s,
                Step::Federated(_) => "password",
            };
            render(
                &state,
                &headers,
                Render {
                    app_name: shown_app.clone(),
                    step: shown,
                    request: r,
                    next: next.clone(),
                    username: Some(username),
                    error: None,
                    alternatives: alternatives(&discovery, shown),
                    second_factor: discovery.held.authenticator_app,
                    status: StatusCode::OK,
                },
            )
            .await
        }
        "tap" | "password" | "otp" => {
            let secret = SecretString::new(form.get(step).cloned().unwrap_or_default());
            let outcome = match step {
                "tap" => state.core.sign_in_with_pass(&username, &secret, &ctx).await,
                "otp" => state.core.sign_in_with_authenticator_code(&username, &secret, &ctx).await,
                _ => {
                    let code = form.get("otp").map(|c| SecretString::new(c.clone()));
                    state
                        .core
                        .sign_in_with_password_and_code(&username, &secret, code.as_ref(), &ctx)
                        .await
                }
            };
            match outcome {
                Ok(signed_in) => after_sign_in(&state, &headers, signed_in, r, next.as_deref()).await,
                Err(failure) => {
                    if let Some(e) = failure.internal {
                        return crate::error::page_for(&state, e);
                    }
                    let second_factor = step == "password" && (failure.reason == "SecondFactorRequired" || form.contains_key("otp"));
                    render(
                        &state,
                        &headers,
                        Render {
                            app_name: shown_app.clone(),
                            step,
                            request: r,
                            next: next.clone(),
                            username: Some(username),
                            error: Some(failure.message),
                            alternatives: carried_alternatives(form.get("alts").map(String::as_str), step),
                            second_factor,
                            status: StatusCode::UNAUTHORIZED,
                        },
                    )
                    .await
                }
            }
        }
        _ => message(
            &state,
            StatusCode::BAD_REQUEST,
            "The form is not valid",
            "Unknown sign-in step.",
            None,
        ),
    }
}

pub async fn whoami(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let session = match cookie(&headers, SESSION_COOKIE) {
        Some(token) => state.core.session_from_token(token).await.ok().flatten(),
        None => None,
    };
    let Some((session, user)) = session else {
        return Redirect::to(&login_url(&state, None)).into_response();
    };
    let (csrf, fresh) = csrf_token(&headers);
    let page = WhoAmIPage {
        display_name: &user.display_name,
        user_principal_name: user.user_principal_name.as_str(),
        user_id: user.id.to_string(),
        method: session.method.display_name(),
        expires: session.expires_at.to_rfc3339(),
        registration_until: session.registration_until.map(|t| t.to_rfc3339()),
        sign_out: "/signout",
        csrf: &csrf,
    };
    let cookies = if fresh {
        vec![set_cookie(&state, CSRF_COOKIE, &csrf, 3600)]
    } else {
        Vec::new()
    };
    html(&state, StatusCode::OK, page.render().unwrap_or_default(), cookies, None)
}

async fn end_session(state: &AppState, headers: &HeaderMap) {
    if let Some(token) = cookie(headers, SESSION_COOKIE)
        && let Ok(Some((session, _))) = state.core.session_from_token(token).await
        && let Err(e) = state.core.sign_out(session.id).await
    {
        tracing::error!(error = %e, "signing out failed");
    }
}

pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = params(&body).unwrap_or_default();
    if !csrf_ok(&headers, form.get("csrf").map(String::as_str)) {
        return message(
            &state,
            StatusCode::FORBIDDEN,
            "This form has expired",
            "Reload the page and try again.",
            None,
        );
    }
    end_session(&state, &headers).await;
    let mut r = message(
        &state,
        StatusCode::OK,
        "You have signed out",
        "You can close this window.",
        Some((login_url(&state, None), "Sign in again".into())),
    );
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", 0));
    r
}

/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): ends the session and
/// returns to `post_logout_redirect_uri` only when it is registered for the client.
pub async fn logout(
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    if !state.tenant.is_named_by(&tenant) {
        return message(
            &state,
            StatusCode::NOT_FOUND,
            "Unknown tenant",
            "This server does not serve that tenant.",
            None,
        );
    }
    let mut p = params(raw.unwrap_or_default().as_bytes()).unwrap_or_default();
    p.extend(params(&body).unwrap_or_default());
    end_session(&state, &headers).await;
    let client = p.get("client_id").cloned().or_else(|| {
        p.get("id_token_hint")
            .and_then(|t| state.keys.id_token_hint_audience(t, &state.issuer()))
    });
    let target = match (client, p.get("post_logout_redirect_uri")) {
        (Some(c), Some(uri)) => match state.core.find_client(&c).await {
            Ok(Some(app)) if app.redirect_uris.platform_of(uri).is_some() => Some(uri.clone()),
            _ => None,
        },
        _ => None,
    };
    let mut r = match target {
        Some(uri) => {
            let sep = if uri.contains('?') { '&' } else { '?' };
            match p.get("state") {
                Some(s) => Redirect::to(&format!(
                    "{uri}{sep}{}",
                    form_urlencoded::Serializer::new(String::new()).append_pair("state", s).finish()
                ))
                .into_response(),
                None => Redirect::to(&uri).into_response(),
            }
        }
        None => message(&state, StatusCode::OK, "You have signed out", "You can close this window.", None),
    };
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", 0));
    r
}

pub async fn home(State(state): State<AppState>) -> Response {
    message(
        &state,
        StatusCode::OK,
        "latchkey",
        "Sign in to see who you are, or use the admin API at /v1.0/.",
        Some(("/whoami".into(), "Sign in".into())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_paths_stay_on_this_server() {
        assert_eq!(local_path(Some("/mysecurityinfo")).as_deref(), Some("/mysecurityinfo"));
        assert_eq!(local_path(Some("/devicelogin?code=AB")).as_deref(), Some("/devicelogin?code=AB"));
        for hostile in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "/a b",
            "",
        ] {
            assert_eq!(local_path(Some(hostile)), None, "{hostile}");
        }
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(params(b"a=1&a=2").is_err());
        assert_eq!(params(b"a=1&b=%20x").unwrap()["b"], " x");
    }

    #[test]
    fn error_redirects_keep_the_state_and_existing_query() {
        let r = error_redirect("https://app.example/cb?x=1", "invalid_scope", "bad", Some("s 1"));
        let loc = r.headers()[header::LOCATION].to_str().unwrap();
        assert_eq!(
            loc,
            "https://app.example/cb?x=1&error=invalid_scope&error_description=bad&state=s+1"
        );
    }
}
