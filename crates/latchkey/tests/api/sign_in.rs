//! Signing in with a pass or a password through the pages, the OpenID Connect code flow
//! with PKCE, and tokens that live no longer than the pass (DESIGN.md "Use").

use crate::browser::{Browser, Page};
use crate::helpers::TestApp;
use base64::Engine as _;
use chrono::Duration;
use latchkey_core::authz::Caller;
use latchkey_core::tenant::RedirectUris;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest as _;

const REDIRECT: &str = "http://localhost:8400/callback";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

pub struct Client {
    pub app_id: String,
}

/// Registers a public (SPA) client.
pub async fn spa_client(app: &TestApp) -> Client {
    let op = Caller::Operator { name: "test".into() };
    let created = app
        .core
        .create_application(
            &op,
            "Whoami SPA",
            RedirectUris {
                spa: vec![REDIRECT.into()],
                ..RedirectUris::default()
            },
        )
        .await
        .unwrap();
    Client {
        app_id: created.app_id.to_string(),
    }
}

pub fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn authorize_url(app: &TestApp, client: &Client, extra: &str) -> String {
    format!(
        "/{}/oauth2/v2.0/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid%20profile%20offline_access&state=st-1&nonce=n-1&code_challenge={}&code_challenge_method=S256{extra}",
        app.tenant_id,
        client.app_id,
        urlencode(REDIRECT),
        challenge(VERIFIER)
    )
}

fn urlencode(s: &str) -> String {
    form_urlencoded_encode(s)
}

fn form_urlencoded_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Authorize, then type the user name: returns the page that asks for a secret.
pub async fn start(app: &TestApp, b: &mut Browser, client: &Client, username: &str) -> Page {
    let r = b.get(&authorize_url(app, client, "")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let login = b.get(r.location.as_deref().unwrap()).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(
        login.body.contains(r#"<label for="username">"#),
        "a visible label for the user name"
    );
    let request = login.field("request").unwrap();
    let csrf = login.field("csrf").unwrap();
    b.post(
        &format!("/{}/login", app.tenant_id),
        &[("csrf", &csrf), ("request", &request), ("step", "username"), ("username", username)],
    )
    .await
}

pub async fn submit_secret(app: &TestApp, b: &mut Browser, page: &Page, field: &str, secret: &str) -> Page {
    let form = [
        ("csrf", page.field("csrf").unwrap()),
        ("request", page.field("request").unwrap()),
        ("step", field.to_owned()),
        ("username", page.field("username").unwrap()),
        (field, secret.to_owned()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = b.post(&format!("/{}/login", app.tenant_id), &form).await;
    skip_passkey_offer(b, page).await
}

/// After a pass sign-in to an application, a person without a passkey is first offered
/// one (DESIGN "Use"); these tests are about what follows, so they take "Skip".
pub async fn skip_passkey_offer(b: &mut Browser, page: Page) -> Page {
    if page.status != StatusCode::OK || !page.body.contains("Set up a passkey?") {
        return page;
    }
    let skip = page
        .body
        .split(r#"<a href=""#)
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.contains("/login/continue?request="))
        .expect("the passkey offer has a way on")
        .replace("&amp;", "&");
    b.get(&skip).await
}

pub fn code_from(location: &str) -> String {
    assert!(location.starts_with(REDIRECT), "{location}");
    let query = location.split_once('?').unwrap().1;
    let params: Vec<(String, String)> = query
        .split('&')
        .map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())).unwrap())
        .collect();
    assert!(params.iter().any(|(k, v)| k == "state" && v == "st-1"), "state comes back");
    params.into_iter().find(|(k, _)| k == "code").unwrap().1
}

pub async fn redeem(app: &TestApp, client: &Client, code: &str, verifier: &str) -> (StatusCode, Value) {
    let r = app
        .http
        .post(format!("{}/{}/oauth2/v2.0/token", app.base, app.tenant_id))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", &client.app_id),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

pub async fn refresh(app: &TestApp, client: &Client, token: &str) -> (StatusCode, Value) {
    let r = app
        .http
        .post(format!("{}/{}/oauth2/v2.0/token", app.base, app.tenant_id))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", &client.app_id),
            ("refresh_token", token),
        ])
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

pub async fn issue_pass(app: &TestApp, upn: &str, body: Value) -> (String, String) {
    let t = app.app_token().await;
    let (s, p) = app
        .post(&format!("/v1.0/users/{upn}/authentication/temporaryAccessPassMethods"), &t, body)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    (
        p["temporaryAccessPass"].as_str().unwrap().to_owned(),
        p["id"].as_str().unwrap().to_owned(),
    )
}

pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn a_person_signs_in_to_an_application_with_a_pass_and_gets_tokens_bound_to_it() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app).await;
    let t = app.app_token().await;
    let grady = app.create_user(&t, "grady@contoso.test", "Member").await;
    let (code, pass_id) = issue_pass(&app, "grady@contoso.test", json!({"lifetimeInMinutes": 120})).await;
    let mut b = Browser::new(&app.base);
    let prompt = start(&app, &mut b, &client, "grady@contoso.test").await;
    assert_eq!(prompt.status, StatusCode::OK);
    assert!(
        prompt.body.contains(r#"<label for="tap">Temporary Access Pass</label>"#),
        "{}",
        prompt.body
    );
    let done = submit_secret(&app, &mut b, &prompt, "tap", &code).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let session_cookie = b.cookies.get("lk_session").cloned().expect("a session cookie");
    assert!(!session_cookie.is_empty());
    let auth_code = code_from(done.location.as_deref().unwrap());

    let (s, tokens) = redeem(&app, &client, &auth_code, VERIFIER).await;
    assert_eq!(s, StatusCode::OK, "{tokens}");
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], client.app_id.as_str());
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["oid"], grady.as_str());
    assert_eq!(id["preferred_username"], "grady@contoso.test");
    assert_eq!(id["amr"], json!(["otp", "mfa"]));
    assert!(id["auth_time"].is_i64());
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let ac = claims(&access);
    assert!(ac["exp"].as_i64().unwrap() <= app.clock_now().timestamp() + 3600);
    assert_eq!(ac["scp"], "User.Read");

    // The access token works at Graph as the user…
    let (s, me) = app.get("/v1.0/me", &access).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["id"], grady.as_str());
    // …and the refresh token rotates.
    let (s, refreshed) = refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(s, StatusCode::OK, "{refreshed}");

    // Deleting the pass ends everything at once: session, access and refresh tokens.
    let (s, _) = app
        .delete(
            &format!("/v1.0/users/{grady}/authentication/temporaryAccessPassMethods/{pass_id}"),
            &t,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app.get("/v1.0/me", &access).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, e) = refresh(&app, &client, refreshed["refresh_token"].as_str().unwrap()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "invalid_grant");
    let whoami = b.get("/whoami").await;
    assert_eq!(whoami.status, StatusCode::SEE_OTHER, "the browser session has ended too");
}

#[tokio::test]
async fn tokens_from_a_pass_never_outlive_it_and_expire_with_it() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app).await;
    let t = app.app_token().await;
    app.create_user(&t, "ivy@contoso.test", "Member").await;
    let (code, _) = issue_pass(&app, "ivy@contoso.test", json!({"lifetimeInMinutes": 60})).await;
    app.advance(Duration::minutes(30));
    let mut b = Browser::new(&app.base);
    let prompt = start(&app, &mut b, &client, "ivy@contoso.test").await;
    let done = submit_secret(&app, &mut b, &prompt, "tap", &code).await;
    let (_, tokens) = redeem(&app, &client, &code_from(done.location.as_deref().unwrap()), VERIFIER).await;
    let pass_end = app.clock_now().timestamp() + 30 * 60;
    for tok in ["access_token", "id_token"] {
        assert!(
            claims(tokens[tok].as_str().unwrap())["exp"].as_i64().unwrap() <= pass_end,
            "{tok} outlives the pass"
        );
    }
    assert!(tokens["expires_in"].as_i64().unwrap() <= 30 * 60);
    app.advance(Duration::minutes(31));
    let (s, e) = refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let (s, _) = app.get("/v1.0/me", tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn replacing_the_pass_ends_the_sessions_made_with_the_old_one() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app).await;
    let t = app.app_token().await;
    app.create_user(&t, "jo@contoso.test", "Member").await;
    let (code, _) = issue_pass(&app, "jo@contoso.test", json!({})).await;
    let mut b = Browser::new(&app.base);
    let prompt = start(&app, &mut b, &client, "jo@contoso.test").await;
    let done = submit_secret(&app, &mut b, &prompt, "tap", &code).await;
    let (_, tokens) = redeem(&app, &client, &code_from(done.location.as_deref().unwrap()), VERIFIER).await;
    issue_pass(&app, "jo@contoso.test", json!({})).await;
    let (s, _) = app.get("/v1.0/me", tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b.get("/whoami").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_one_time_pass_signs_in_exactly_once_under_concurrency() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app).await;
    let t = app.app_token().await;
    app.create_user(&t, "kim@contoso.test", "Member").await;
    let (code, _) = issue_pass(&app, "kim@contoso.test", json!({"isUsableOnce": true})).await;
    let mut prompts = Vec::new();
    for _ in 0..8 {
        let mut b = Browser::new(&app.base);
        let p = start(&app, &mut b, &client, "kim@contoso.test").await;
        prompts.push((b, p));
    }
    let attempts = prompts.into_iter().map(|(mut b, p)| {
        let (app, code) = (&app, code.clone());
        async move { submit_secret(app, &mut b, &p, "tap", &code).await }
    });
    let results = futures_join_all(attempts).await;
    let wins = results.iter().filter(|r| r.status == StatusCode::SEE_OTHER).count();
    assert_eq!(wins, 1, "exactly one concurrent sign-in wins");
    for r in results.iter().filter(|r| r.status != StatusCode::SEE_OTHER) {
        assert!(
            r.body
                .contains("Temporary Access Pass sign in was blocked due to User Credential Policy"),
            "{}",
            r.body
        );
    }
    let (_, log) = app.get("/v1.0/auditLogs/signIns?$top=20", &t).await;
    let blocked = log["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"]["errorCode"] == 130_501)
        .count();
    assert_eq!(blocked, 7, "{log}");
}

#[tokio::test]
async fn wrong_codes_lock_the_pass_out_and_the_lockout_grows() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app).await;
    let t = app.app_token().await;
    app.create_user(&t, "lee@contoso.test", "Member").await;
    let (code, _) = issue_pass(&app, "lee@contoso.test", json!({"lifetimeInMinutes": 480})).await;
    let mut b = Browser::new(&app.base);
    let prompt = start(&app, &mut b, &client, "lee@contoso.test").await;
    for _ in 0..10 {
        let r = submit_secret(&app, &mut b, &prompt, "tap", "wrong-code").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("not correct"));
    }
    let r = submit_secret(&app, &mut b, &prompt, "tap", &code).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "locked out even with the right code");
    assert!(r.body.contains("Too many wrong codes"), "{}", r.body);
    app.advance(Duration::seconds(61));
    for _ in 0..10 {
        submit_secret(&app, &mut b, &prompt, "tap", "wrong-code").await;
    }
    app.advance(Duration::seconds(61));
    assert!(
        submit_secret(&app, &mut b, &prompt, "tap", &code)
            .await
            .body
            .contains("Too many wrong codes"),
        "the second lockout lasts 120 s"
    );
    app.advance(Duration::seconds(60));
    let fresh = start(&app, &mut b, &client, "lee@contoso.test").await;
    assert_eq!(
        submit_secret(&app, &mut b, &fresh, "tap", &code).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_user_out_of_scope_gets_the_password_prompt_and_a_direct_pass_attempt_names_the_rule() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app).await;
    let t = app.app_token().await;
    app.create_user(&t, "max@contoso.test", "Member").await;
    let (code, _) = issue_pass(&app, "max@contoso.test", json!({})).await;
    let (_, g) = app.post("/v1.0/groups", &t, json!({"displayName": "Pilot"})).await;
    app.patch(
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
        &t,
        json!({"includeTargets": [{"targetType": "group", "id": g["id"]}]}),
    )
    .await;
    let mut b = Browser::new(&app.base);
    let prompt = start(&app, &mut b, &client, "max@contoso.test").await;
    assert!(prompt.body.contains(r#"name="password""#), "no pass prompt out of scope");
    let form_page = Page {
        status: prompt.status,
        location: None,
        body: prompt
            .body
            .replace("name=\"step\" value=\"password\"", "name=\"step\" value=\"tap\""),
    };
    let r = submit_secret(&app, &mut b, &form_page, "tap", &code).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.body
            .contains("Temporary Access Pass sign in was blocked due to User Credential Policy: the user is not in the policy"),
        "{}",
        r.body
    );
    let (_, log) = app.get("/v1.0/auditLogs/signIns", &t).await;
    let entries = log["value"].as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["status"]["failureReason"]
            .as_str()
            .unwrap_or_default()
            .starts_with("No Temporary Access Pass prompt")),
        "{log}"
    );
    assert_eq!(
        entries[0]["authenticationDetails"][0]["authenticationMethod"],
        "Temporary Access Pass"
    );
    assert_eq!(entries[0]["status"]["errorCode"], 130_501);
}

#[tokio::test]
async fn a_password_still_works_beside_a_pass() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app).await;
    let t = app.app_token().await;
    app.post(
        "/v1.0/users",
        &t,
        json!({"userPrincipalName": "ned@contoso.test", "displayName": "Ned", "passwordProfile": {"password": "correct horse battery"}}),
    )
    .await;
    issue_pass(&app, "ned@contoso.test", json!({})).await;
    let mut b = Browser::new(&app.base);
    let prompt = start(&app, &mut b, &client, "ned@contoso.test").await;
    assert!(prompt.body.contains("Use your password instead"));
    let switched = b
        .post(
            &format!("/{}/login", app.tenant_id),
            &[
                ("csrf", &prompt.field("csrf").unwrap()),
                ("request", &prompt.field("request").unwrap()),
                ("step", "switch"),
                ("method", "password"),
                ("username", "ned@contoso.test"),
            ],
        )
        .await;
    assert!(
        switched.body.contains(r#"<label for="password">Password</label>"#),
        "{}",
        switched.body
    );
    let wrong = submit_secret(&app, &mut b, &switched, "password", "nope nope").await;
    assert!(wrong.body.contains("Your account or password is incorrect."));
    let done = submit_secret(&app, &mut b, &switched, "password", "correct horse battery").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let (_, tokens) = redeem(&app, &client, &code_from(done.location.as_deref().unwrap()), VERIFIER).await;
    assert_eq!(claims(tokens["id_token"].as_str().unwrap())["amr"], json!(["pwd"]));
}

#[tokio::test]
async fn codes_are_single_use_and_checked_against_client_redirect_and_verifier() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app).await;
    let t = app.app_token().await;
    app.create_user(&t, "ola@contoso.test", "Member").await;
    let (code, _) = issue_pass(&app, "ola@contoso.test", json!({})).await;
    let mut b = Browser::new(&app.base);
    let prompt = start(&app, &mut b, &client, "ola@contoso.test").await;
    let done = submit_secret(&app, &mut b, &prompt, "tap", &code).await;
    let auth_code = code_from(done.location.as_deref().unwrap());
    let (s, e) = redeem(&app, &client, &auth_code, "wrong-verifier-wrong-verifier-wrong-verifier-xx").await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    // The code was spent by that attempt; a second use fails and revokes what it gave.
    let (s, e) = redeem(&app, &client, &auth_code, VERIFIER).await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let (s, e) = redeem(&app, &client, "made-up", VERIFIER).await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));

    // A fresh code, redeemed right, then replayed.
    let r = b.get(&authorize_url(&app, &client, "")).await;
    let second = code_from(r.location.as_deref().unwrap());
    let (s, tokens) = redeem(&app, &client, &second, VERIFIER).await;
    assert_eq!(s, StatusCode::OK, "an existing session answers at once: {tokens}");
    let (s, _) = redeem(&app, &client, &second, VERIFIER).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, e) = refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "a replayed code revokes its refresh tokens"
    );
}

#[tokio::test]
async fn a_rotated_refresh_token_reused_revokes_the_family() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app).await;
    let t = app.app_token().await;
    app.create_user(&t, "pia@contoso.test", "Member").await;
    let (code, _) = issue_pass(&app, "pia@contoso.test", json!({"lifetimeInMinutes": 480})).await;
    let mut b = Browser::new(&app.base);
    let prompt = start(&app, &mut b, &client, "pia@contoso.test").await;
    let done = submit_secret(&app, &mut b, &prompt, "tap", &code).await;
    let (_, tokens) = redeem(&app, &client, &code_from(done.location.as_deref().unwrap()), VERIFIER).await;
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (s, second) = refresh(&app, &client, &first).await;
    assert_eq!(s, StatusCode::OK);
    let second = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let (s, e) = refresh(&app, &client, &first).await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let (s, _) = refresh(&app, &client, &second).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "the whole family is revoked after a reuse");
}

#[tokio::test]
async fn bad_authorization_requests_never_redirect_to_unregistered_uris() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app).await;
    let mut b = Browser::new(&app.base);
    let tid = &app.tenant_id;
    let id = &client.app_id;
    let c = challenge(VERIFIER);
    for (url, why) in [
        (
            format!(
                "/{tid}/oauth2/v2.0/authorize?client_id={id}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&response_type=code&scope=openid&code_challenge={c}&code_challenge_method=S256"
            ),
            "unregistered redirect",
        ),
        (
            format!(
                "/{tid}/oauth2/v2.0/authorize?client_id=00000000-0000-0000-0000-000000000000&redirect_uri={}&response_type=code",
                urlencode(REDIRECT)
            ),
            "unknown client",
        ),
        (
            format!(
                "/{tid}/oauth2/v2.0/authorize?redirect_uri={}&response_type=code",
                urlencode(REDIRECT)
            ),
            "no client",
        ),
        (
            format!("/{tid}/oauth2/v2.0/authorize?client_id={id}&client_id={id}"),
            "repeated parameter",
        ),
        ("/fabrikam.test/oauth2/v2.0/authorize".to_owned(), "unknown tenant"),
    ] {
        let r = b.get(&url).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{why}");
        assert!(r.location.is_none(), "{why}: no redirect");
        assert!(r.body.contains("<h1>"), "{why}: a clear page");
    }
    for (extra, error) in [
        ("&code_challenge_method=plain", "invalid_request"),
        ("&response_mode=fragment", "invalid_request"),
        ("&scope=api%3A%2F%2Fother%2F.default", "invalid_scope"),
        ("&prompt=none", "login_required"),
    ] {
        let url = format!("{}{extra}", authorize_url(&app, &client, "")).replacen(
            "code_challenge_method=S256&code_challenge_method=plain",
            "code_challenge_method=plain",
            1,
        );
        let url = if extra.contains("scope=") {
            url.replacen("scope=openid%20profile%20offline_access&", "", 1)
        } else {
            url
        };
        let url = if extra.contains("code_challenge_method=plain") {
            url.replacen("&code_challenge_method=S256", "", 1)
        } else {
            url
        };
        let r = b.get(&url).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{extra}: {}", r.body);
        let loc = r.location.unwrap();
        assert!(
            loc.starts_with(REDIRECT) && loc.contains(&format!("error={error}")) && loc.contains("state=st-1"),
            "{extra}: {loc}"
        );
    }
    // A public client without PKCE is refused.
    let no_pkce = format!(
        "/{tid}/oauth2/v2.0/authorize?client_id={id}&redirect_uri={}&response_type=code&scope=openid&state=st-1",
        urlencode(REDIRECT)
    );
    let r = b.get(&no_pkce).await;
    assert!(r.location.unwrap().contains("error=invalid_request"));
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused_with_a_clear_page() {
    let app = TestApp::spawn().await;
    let mut b = Browser::new(&app.base);
    let r = b
        .post(
            &format!("/{}/login", app.tenant_id),
            &[("step", "username"), ("username", "x@contoso.test")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("This form has expired"));
    let page = b.get(&format!("/{}/login", app.tenant_id)).await;
    let r = b
        .post(
            &format!("/{}/login", app.tenant_id),
            &[("csrf", "forged"), ("step", "username"), ("username", "x@contoso.test")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(page.field("csrf").is_some());
    let cookie_line = page.status;
    assert_eq!(cookie_line, StatusCode::OK);
}

#[tokio::test]
async fn a_pass_sign_in_without_an_application_lands_on_my_security_info_and_sign_out_ends_the_session() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    app.create_user(&t, "quinn@contoso.test", "Member").await;
    let (code, _) = issue_pass(&app, "quinn@contoso.test", json!({})).await;
    let mut b = Browser::new(&app.base);
    let login = b.get(&format!("/{}/login", app.tenant_id)).await;
    let csrf = login.field("csrf").unwrap();
    let prompt = b
        .post(
            &format!("/{}/login", app.tenant_id),
            &[("csrf", &csrf), ("step", "username"), ("username", "quinn@contoso.test")],
        )
        .await;
    let done = b
        .post(
            &format!("/{}/login", app.tenant_id),
            &[("csrf", &csrf), ("step", "tap"), ("username", "quinn@contoso.test"), ("tap", &code)],
        )
        .await;
    // Nothing but the pass: the person lands where they can add a method, with the banner.
    assert_eq!(done.location.as_deref(), Some("/mysecurityinfo"), "{}", prompt.body);
    let info = b.get("/mysecurityinfo").await;
    assert!(info.body.contains("Add a new sign-in method"), "{}", info.body);
    let me = b.get("/whoami").await;
    assert!(
        me.body.contains("quinn@contoso.test") && me.body.contains("Temporary Access Pass"),
        "{}",
        me.body
    );
    let out = b.post("/signout", &[("csrf", &me.field("csrf").unwrap())]).await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(b.get("/whoami").await.status, StatusCode::SEE_OTHER);
}

async fn futures_join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(f);
    }
    let mut out = Vec::new();
    let handles: Vec<_> = set.into_iter().map(Box::pin).collect();
    for h in join_all_inner(handles).await {
        out.push(h);
    }
    out
}

async fn join_all_inner<F: std::future::Future + Unpin>(futures: Vec<F>) -> Vec<F::Output> {
    // Poll all together so the attempts really race.
    let mut slots: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    let mut futures: Vec<Option<F>> = futures.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in futures.iter_mut().enumerate() {
            if let Some(fut) = f {
                match std::pin::Pin::new(fut).poll(cx) {
                    std::task::Poll::Ready(v) => {
                        slots[i] = Some(v);
                        *f = None;
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    slots.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn a_federated_user_is_sent_to_their_provider_unless_they_hold_a_usable_pass() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app).await;
    let t = app.app_token().await;
    let (s, d) = app.post("/v1.0/domains", &t, json!({"id": "fabrikam.test"})).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(d["authenticationType"], "Managed");
    let fed = json!({
        "@odata.type": "#microsoft.graph.internalDomainFederation",
        "displayName": "Fabrikam AD FS",
        "issuerUri": "http://adfs.fabrikam.test/adfs/services/trust",
        "passiveSignInUri": "https://adfs.fabrikam.test/adfs/ls",
        "preferredAuthenticationProtocol": "wsFed",
    });
    let (s, f) = app
        .post("/v1.0/domains/fabrikam.test/federationConfiguration", &t, fed.clone())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{f}");
    let (_, d) = app.get("/v1.0/domains/fabrikam.test", &t).await;
    assert_eq!(d["authenticationType"], "Federated");
    let (s, _) = app.post("/v1.0/domains/contoso.test/federationConfiguration", &t, fed).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "the primary domain stays managed");
    let (s, _) = app.post("/v1.0/domains", &t, json!({"id": "not a domain"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    app.create_user(&t, "fay@fabrikam.test", "Member").await;
    let mut b = Browser::new(&app.base);
    let r = start(&app, &mut b, &client, "fay@fabrikam.test").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location.as_deref(),
        Some("https://adfs.fabrikam.test/adfs/ls?username=fay%40fabrikam.test")
    );

    // With a usable pass the person signs in here and is not redirected (seed 001).
    let (code, _) = issue_pass(&app, "fay@fabrikam.test", json!({})).await;
    let prompt = start(&app, &mut b, &client, "fay@fabrikam.test").await;
    assert_eq!(prompt.status, StatusCode::OK);
    assert!(prompt.body.contains(r#"name="tap""#));
    let done = submit_secret(&app, &mut b, &prompt, "tap", &code).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(done.location.unwrap().starts_with(REDIRECT));
}

#[tokio::test]
async fn an_admin_signed_in_with_a_pass_manages_passes_as_themselves_with_their_roles() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app).await;
    let t = app.app_token().await;
    let helper = app.create_user(&t, "helpdesk@contoso.test", "Member").await;
    app.assign(&helper, latchkey_core::directory::DirectoryRole::AuthenticationAdministrator)
        .await;
    let member = app.create_user(&t, "newhire@contoso.test", "Member").await;
    let (code, _) = issue_pass(&app, "helpdesk@contoso.test", json!({})).await;
    let mut b = Browser::new(&app.base);
    let prompt = start(&app, &mut b, &client, "helpdesk@contoso.test").await;
    let done = submit_secret(&app, &mut b, &prompt, "tap", &code).await;
    let (_, tokens) = redeem(&app, &client, &code_from(done.location.as_deref().unwrap()), VERIFIER).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(claims(access)["wids"], json!(["c4e39bd9-1100-46d3-8c65-fb160da0071f"]));
    let (s, p) = app
        .post(
            &format!("/v1.0/users/{member}/authentication/temporaryAccessPassMethods"),
            access,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, _) = app
        .post(
            &format!("/v1.0/users/{}/authentication/temporaryAccessPassMethods", app.admin_id),
            access,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "an Authentication Administrator cannot issue to an admin");
    let (s, _) = app
        .post(
            &format!("/v1.0/users/{helper}/authentication/temporaryAccessPassMethods"),
            access,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "nor to themselves");
    let (_, audit) = app.get("/v1.0/auditLogs/directoryAudits?$top=1", &t).await;
    assert_eq!(
        audit["value"][0]["initiatedBy"]["user"]["userPrincipalName"],
        "helpdesk@contoso.test"
    );
}

#[tokio::test]
async fn an_authorization_code_expires_after_ten_minutes() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app).await;
    let t = app.app_token().await;
    app.create_user(&t, "rae@contoso.test", "Member").await;
    let (code, _) = issue_pass(&app, "rae@contoso.test", json!({"lifetimeInMinutes": 480})).await;
    let mut b = Browser::new(&app.base);
    let prompt = start(&app, &mut b, &client, "rae@contoso.test").await;
    let done = submit_secret(&app, &mut b, &prompt, "tap", &code).await;
    let auth_code = code_from(done.location.as_deref().unwrap());
    app.advance(Duration::minutes(10));
    let (s, e) = redeem(&app, &client, &auth_code, VERIFIER).await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{e}");
    assert!(e["error_description"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn an_oversized_sign_in_form_gets_a_clear_413_page() {
    let app = TestApp::spawn().await;
    let mut b = Browser::new(&app.base);
    let login = b.get(&format!("/{}/login", app.tenant_id)).await;
    let big = "x".repeat(40_000);
    let r = b
        .post(
            &format!("/{}/login", app.tenant_id),
            &[("csrf", &login.field("csrf").unwrap()), ("step", "username"), ("username", &big)],
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body.contains("<h1>"));
}
