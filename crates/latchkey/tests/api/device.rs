//! The device authorization grant (RFC 8628): a device asks for codes, the person types
//! the user code at `/devicelogin`, signs in with their pass and confirms, and the device
//! polls until it gets tokens that obey the pass's lifetime (DESIGN.md "Use").

use crate::browser::{Browser, Page};
use crate::helpers::TestApp;
use crate::sign_in::{Client, claims, issue_pass, refresh};
use chrono::Duration;
use latchkey_core::authz::Caller;
use latchkey_core::tenant::RedirectUris;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A form's fields, some built at run time.
type Form<'a> = Vec<(&'a str, String)>;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const SCOPE: &str = "openid profile offline_access User.Read";

/// Registers a public client (a desktop or mobile app, Entra's "publicClient" platform).
async fn device_client(app: &TestApp) -> Client {
    let created = app
        .core
        .create_application(
            &Caller::Operator { name: "test".into() },
            "Laptop Setup",
            RedirectUris {
                public_client: vec!["http://localhost".into()],
                ..RedirectUris::default()
            },
        )
        .await
        .unwrap();
    Client {
        app_id: created.app_id.to_string(),
    }
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = app
        .http
        .post(format!("{}/{}/oauth2/v2.0/{path}", app.base, app.tenant_id))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")),
    )
}

/// `POST /devicecode` for the client: the codes, as the device gets them.
async fn start(app: &TestApp, client: &Client) -> Value {
    let (s, v) = post_form(app, "devicecode", &[("client_id", &client.app_id), ("scope", SCOPE)]).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn poll(app: &TestApp, client: &Client, device_code: &str) -> (StatusCode, Value) {
    post_form(
        app,
        "token",
        &[("grant_type", GRANT), ("client_id", &client.app_id), ("device_code", device_code)],
    )
    .await
}

async fn poll_error(app: &TestApp, client: &Client, device_code: &str) -> String {
    let (s, v) = poll(app, client, device_code).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error_description"].as_str().is_some_and(|d| !d.is_empty()), "{v}");
    v["error"].as_str().unwrap().to_owned()
}

/// Types the code at `/devicelogin` in a browser without a session: it is sent to sign in
/// and back. Signs in with the pass and returns the confirmation page.
async fn type_code_and_sign_in(app: &TestApp, b: &mut Browser, user_code: &str, upn: &str, pass: &str) -> Page {
    let form = b.get("/devicelogin").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(r#"<label for="user_code">Code</label>"#), "{}", form.body);
    assert!(!form.body.contains("<script"), "no JavaScript");
    let csrf = form.field("csrf").unwrap();
    // Typed lower case and without the dash: still the same code.
    let typed = user_code.replace('-', "").to_lowercase();
    let r = b.post("/devicelogin", &[("csrf", &csrf), ("user_code", &typed)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let login = b.get(r.location.as_deref().unwrap()).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let next = login.field("next").unwrap();
    assert_eq!(next, format!("/devicelogin?user_code={user_code}"));
    let csrf = login.field("csrf").unwrap();
    let login_path = format!("/{}/login", app.tenant_id);
    let prompt = b
        .post(
            &login_path,
            &[("csrf", &csrf), ("next", &next), ("step", "username"), ("username", upn)],
        )
        .await;
    assert!(prompt.body.contains(r#"<label for="tap">"#), "{}", prompt.body);
    let done = b
        .post(
            &login_path,
            &[("csrf", &csrf), ("next", &next), ("step", "tap"), ("username", upn), ("tap", pass)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some(next.as_str()));
    let confirm = b.get(&next).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    confirm
}

async fn answer(b: &mut Browser, confirm: &Page, answer: &str) -> Page {
    let csrf = confirm.field("csrf").unwrap();
    let code = confirm.field("user_code").unwrap();
    b.post("/devicelogin", &[("csrf", &csrf), ("user_code", &code), ("answer", answer)])
        .await
}

/// A member with a pass, a device that asked for codes, and the person's browser at the
/// confirmation page, signed in with the pass.
struct Approving {
    app: TestApp,
    client: Client,
    codes: Value,
    browser: Browser,
    confirm: Page,
    user_id: String,
    pass_id: String,
    admin_token: String,
}

async fn approving(lifetime_minutes: u32) -> Approving {
    let app = TestApp::spawn().await;
    let client = device_client(&app).await;
    let t = app.app_token().await;
    let user_id = app.create_user(&t, "nia@contoso.test", "Member").await;
    let (pass, pass_id) = issue_pass(&app, "nia@contoso.test", json!({"lifetimeInMinutes": lifetime_minutes})).await;
    let codes = start(&app, &client).await;
    let mut browser = Browser::new(&app.base);
    let user_code = codes["user_code"].as_str().unwrap().to_owned();
    let confirm = type_code_and_sign_in(&app, &mut browser, &user_code, "nia@contoso.test", &pass).await;
    Approving {
        app,
        client,
        codes,
        browser,
        confirm,
        user_id,
        pass_id,
        admin_token: t,
    }
}

#[tokio::test]
async fn a_device_signs_in_with_a_pass_through_devicelogin_and_gets_tokens_bound_to_it() {
    let app = TestApp::spawn().await;
    let client = device_client(&app).await;
    let t = app.app_token().await;
    let nia = app.create_user(&t, "nia@contoso.test", "Member").await;
    let (pass, _) = issue_pass(&app, "nia@contoso.test", json!({"lifetimeInMinutes": 60})).await;
    app.advance(Duration::minutes(30));

    let codes = start(&app, &client).await;
    let user_code = codes["user_code"].as_str().unwrap();
    let device_code = codes["device_code"].as_str().unwrap();
    assert!(
        user_code.len() == 9 && &user_code[4..5] == "-" && user_code.chars().filter(|c| *c != '-').all(|c| c.is_ascii_uppercase()),
        "{user_code}"
    );
    assert!(device_code.len() >= 43, "a high-entropy device code");
    let verification_uri = format!("{}/devicelogin", app.base);
    assert_eq!(codes["verification_uri"], verification_uri.as_str());
    assert_eq!(codes["expires_in"], 900);
    assert_eq!(codes["interval"], 5);
    assert_eq!(
        codes["message"],
        format!("To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate.")
    );
    assert_eq!(poll_error(&app, &client, device_code).await, "authorization_pending");

    let mut b = Browser::new(&app.base);
    let confirm = type_code_and_sign_in(&app, &mut b, user_code, "nia@contoso.test", &pass).await;
    assert!(
        confirm.body.contains("Are you trying to sign in to <strong>Laptop Setup</strong>?"),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains(user_code), "the page repeats the code to compare");
    app.advance(Duration::seconds(5));
    assert_eq!(
        poll_error(&app, &client, device_code).await,
        "authorization_pending",
        "signing in is not yet approving"
    );
    let done = answer(&mut b, &confirm, "continue").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("signed in to Laptop Setup on your device"), "{}", done.body);

    app.advance(Duration::seconds(5));
    let (s, tokens) = poll(&app, &client, device_code).await;
    assert_eq!(s, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], SCOPE);
    let pass_end = app.clock_now().timestamp() + 30 * 60;
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], client.app_id.as_str());
    assert_eq!(id["oid"], nia.as_str());
    assert_eq!(id["preferred_username"], "nia@contoso.test");
    assert_eq!(id["amr"], json!(["otp", "mfa"]));
    assert_eq!(id["iss"], app.state.issuer().as_str());
    assert!(id.get("nonce").is_none_or(Value::is_null), "{id}");
    let access = tokens["access_token"].as_str().unwrap();
    let ac = claims(access);
    assert_eq!(ac["scp"], "User.Read");
    assert_eq!(ac["sid"], id["sid"], "both tokens name the approving session");
    for tok in ["access_token", "id_token"] {
        assert!(
            claims(tokens[tok].as_str().unwrap())["exp"].as_i64().unwrap() <= pass_end,
            "{tok} outlives the pass"
        );
    }
    assert!(tokens["expires_in"].as_i64().unwrap() <= 30 * 60);
    assert!(
        tokens["refresh_token"].as_str().is_some_and(|r| !r.is_empty()),
        "offline_access gives one"
    );

    let (s, me) = app.get("/v1.0/me", access).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["id"], nia.as_str());
    let (s, refreshed) = refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(s, StatusCode::OK, "{refreshed}");

    app.advance(Duration::minutes(31));
    let (s, e) = refresh(&app, &client, refreshed["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "refresh ends with the pass"
    );
}

#[tokio::test]
async fn deleting_the_pass_after_approval_ends_the_device_tokens_and_the_session() {
    let mut a = approving(120).await;
    let device_code = a.codes["device_code"].as_str().unwrap().to_owned();
    answer(&mut a.browser, &a.confirm, "continue").await;
    let (s, tokens) = poll(&a.app, &a.client, &device_code).await;
    assert_eq!(s, StatusCode::OK, "{tokens}");
    let (s, _) = a
        .app
        .delete(
            &format!("/v1.0/users/{}/authentication/temporaryAccessPassMethods/{}", a.user_id, a.pass_id),
            &a.admin_token,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, e) = refresh(&a.app, &a.client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{e}");
    let (s, _) = a.app.get("/v1.0/me", tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(a.browser.get("/whoami").await.status, StatusCode::SEE_OTHER, "the session ended");
}

#[tokio::test]
async fn a_pass_deleted_before_the_device_polls_gets_it_no_tokens() {
    let mut a = approving(120).await;
    let device_code = a.codes["device_code"].as_str().unwrap().to_owned();
    answer(&mut a.browser, &a.confirm, "continue").await;
    a.app
        .delete(
            &format!("/v1.0/users/{}/authentication/temporaryAccessPassMethods/{}", a.user_id, a.pass_id),
            &a.admin_token,
        )
        .await;
    assert_eq!(poll_error(&a.app, &a.client, &device_code).await, "invalid_grant");
}

#[tokio::test]
async fn a_device_code_is_redeemed_once_and_a_replay_revokes_what_it_gave() {
    let mut a = approving(120).await;
    let device_code = a.codes["device_code"].as_str().unwrap().to_owned();
    answer(&mut a.browser, &a.confirm, "continue").await;
    // Two polls at once after approval: exactly one gets the tokens.
    let (first, second) = tokio::join!(poll(&a.app, &a.client, &device_code), poll(&a.app, &a.client, &device_code));
    let results = [first, second];
    let winners: Vec<&Value> = results.iter().filter(|(s, _)| *s == StatusCode::OK).map(|(_, v)| v).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let loser = results.iter().find(|(s, _)| *s != StatusCode::OK).unwrap();
    assert_eq!(loser.1["error"], "invalid_grant", "{loser:?}");
    let refresh_token = winners[0]["refresh_token"].as_str().unwrap().to_owned();

    assert_eq!(poll_error(&a.app, &a.client, &device_code).await, "invalid_grant");
    let (s, e) = refresh(&a.app, &a.client, &refresh_token).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "a replayed device code revokes the refresh tokens it gave: {e}"
    );
    // The code cannot be answered again either.
    let again = answer(&mut a.browser, &a.confirm, "continue").await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("already been used"), "{}", again.body);
}

#[tokio::test]
async fn declining_on_the_confirmation_page_gives_the_device_access_denied() {
    let mut a = approving(60).await;
    let device_code = a.codes["device_code"].as_str().unwrap().to_owned();
    let done = answer(&mut a.browser, &a.confirm, "cancel").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("Laptop Setup was not signed in"), "{}", done.body);
    assert_eq!(poll_error(&a.app, &a.client, &device_code).await, "access_denied");
    a.app.advance(Duration::seconds(10));
    assert_eq!(poll_error(&a.app, &a.client, &device_code).await, "access_denied");
}

#[tokio::test]
async fn polling_faster_than_the_interval_is_told_to_slow_down_and_the_interval_grows() {
    let app = TestApp::spawn().await;
    let client = device_client(&app).await;
    let codes = start(&app, &client).await;
    let dc = codes["device_code"].as_str().unwrap();
    assert_eq!(poll_error(&app, &client, dc).await, "authorization_pending");
    assert_eq!(poll_error(&app, &client, dc).await, "slow_down", "at once again");
    app.advance(Duration::seconds(5));
    assert_eq!(
        poll_error(&app, &client, dc).await,
        "slow_down",
        "the interval is now 10 s, so 5 s is too soon"
    );
    app.advance(Duration::seconds(15));
    assert_eq!(
        poll_error(&app, &client, dc).await,
        "authorization_pending",
        "15 s after is on time"
    );
}

#[tokio::test]
async fn a_device_code_expires_after_fifteen_minutes() {
    let app = TestApp::spawn().await;
    let client = device_client(&app).await;
    let t = app.app_token().await;
    app.create_user(&t, "oli@contoso.test", "Member").await;
    let (pass, _) = issue_pass(&app, "oli@contoso.test", json!({})).await;
    let codes = start(&app, &client).await;
    let dc = codes["device_code"].as_str().unwrap();
    let user_code = codes["user_code"].as_str().unwrap();
    let mut b = Browser::new(&app.base);
    let confirm = type_code_and_sign_in(&app, &mut b, user_code, "oli@contoso.test", &pass).await;
    app.advance(Duration::minutes(15));
    assert_eq!(poll_error(&app, &client, dc).await, "expired_token");
    let late = answer(&mut b, &confirm, "continue").await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    assert!(late.body.contains("expired"), "{}", late.body);
    let page = b.get(&format!("/devicelogin?user_code={user_code}")).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("That code has expired"), "{}", page.body);
    assert_eq!(poll_error(&app, &client, dc).await, "expired_token");
}

#[tokio::test]
async fn wrong_and_malformed_user_codes_are_refused_with_a_clear_message() {
    let app = TestApp::spawn().await;
    let mut b = Browser::new(&app.base);
    let form = b.get("/devicelogin").await;
    let csrf = form.field("csrf").unwrap();
    let r = b.post("/devicelogin", &[("csrf", &csrf), ("user_code", "BCDF-GHJK")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("wasn&#39;t recognised") || r.body.contains("wasn't recognised"),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"value="BCDF-GHJK""#), "what was typed stays in the field");
    for malformed in ["", "1234-5678", "BCDF-GHJ", "<script>alert(1)</script>"] {
        let r = b.post("/devicelogin", &[("csrf", &csrf), ("user_code", malformed)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{malformed}");
        assert!(r.body.contains("eight letters"), "{}", r.body);
        assert!(!r.body.contains("<script>"), "typed text is escaped");
    }
    let r = b.get("/devicelogin?user_code=BCDF-GHJK").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = b
        .post("/devicelogin", &[("csrf", &csrf), ("user_code", "BCDF-GHJK"), ("answer", "maybe")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_devicelogin_post_without_the_csrf_token_is_refused() {
    let mut a = approving(60).await;
    let code = a.confirm.field("user_code").unwrap();
    let r = a
        .browser
        .post("/devicelogin", &[("user_code", code.as_str()), ("answer", "continue")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = a
        .browser
        .post(
            "/devicelogin",
            &[
                ("csrf", "x".repeat(43).as_str()),
                ("user_code", code.as_str()),
                ("answer", "continue"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let dc = a.codes["device_code"].as_str().unwrap();
    assert_eq!(
        poll_error(&a.app, &a.client, dc).await,
        "authorization_pending",
        "nothing was approved"
    );
}

#[tokio::test]
async fn wrong_user_codes_are_rate_limited_per_address() {
    let app = TestApp::spawn().await;
    let limited = app.state.clone().with_rate_limit(5);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(latchkey_http::serve(listener, limited, std::future::pending()));
    let mut b = Browser::new(&base);
    let csrf = b.get("/devicelogin").await.field("csrf").unwrap();
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let r = b.post("/devicelogin", &[("csrf", &csrf), ("user_code", "BCDF-GHJK")]).await;
        statuses.push(r.status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::BAD_REQUEST).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
    let r = b.get("/devicelogin?user_code=BCDF-GHJK").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "looking codes up by GET counts too");
}

#[tokio::test]
async fn bad_device_requests_get_oauth_errors_never_a_server_error() {
    let app = TestApp::spawn().await;
    let client = device_client(&app).await;
    let cases: Vec<(Form, StatusCode, &str)> = vec![
        (vec![("scope", SCOPE.into())], StatusCode::BAD_REQUEST, "invalid_request"),
        (
            vec![("client_id", client.app_id.clone())],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![("client_id", uuid::Uuid::new_v4().to_string()), ("scope", SCOPE.into())],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            vec![("client_id", "not-a-guid".into()), ("scope", SCOPE.into())],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            vec![("client_id", client.app_id.clone()), ("scope", "api://other/.default".into())],
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            vec![("client_id", client.app_id.clone()), ("scope", "openid ".repeat(1000))],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            // The automation client is confidential: it must send its secret.
            vec![("client_id", app.client_id.clone()), ("scope", SCOPE.into())],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
    ];
    for (form, status, error) in cases {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, v) = post_form(&app, "devicecode", &form).await;
        assert_eq!((s, v["error"].as_str()), (status, Some(error)), "{form:?}: {v}");
    }
    // A confidential client may use the flow with its secret.
    let (s, v) = post_form(
        &app,
        "devicecode",
        &[
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
            ("scope", SCOPE),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let huge = "a".repeat(100 * 1024);
    for path in ["devicecode", "token"] {
        let r = app
            .http
            .post(format!("{}/{}/oauth2/v2.0/{path}", app.base, app.tenant_id))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("client_id={}&scope={huge}", client.app_id))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"], "invalid_request");
    }

    let codes = start(&app, &client).await;
    let other = device_client(&app).await;
    let dc = codes["device_code"].as_str().unwrap();
    assert_eq!(poll_error(&app, &other, dc).await, "invalid_grant", "another client's code");
    assert_eq!(poll_error(&app, &client, "garbage").await, "invalid_grant");
    assert_eq!(poll_error(&app, &client, &"\u{1F600}".repeat(500)).await, "invalid_grant");
    let (s, v) = post_form(&app, "token", &[("grant_type", GRANT), ("client_id", &client.app_id)]).await;
    assert_eq!((s, v["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
    let (s, v) = post_form(&app, "token", &[("grant_type", GRANT), ("device_code", dc)]).await;
    assert_eq!((s, v["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{v}");
    let (s, v) = post_form(
        &app,
        "token",
        &[
            ("grant_type", GRANT),
            ("client_id", &client.app_id),
            ("device_code", dc),
            ("device_code", dc),
        ],
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{v}");
    let r = app
        .http
        .post(format!("{}/fabrikam.test/oauth2/v2.0/devicecode", app.base))
        .form(&[("client_id", client.app_id.as_str()), ("scope", SCOPE)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "an unknown tenant");
}

#[tokio::test]
async fn discovery_names_the_device_authorization_endpoint_and_grant() {
    let app = TestApp::spawn().await;
    let r = app
        .http
        .get(format!("{}/contoso.test/v2.0/.well-known/openid-configuration", app.base))
        .send()
        .await
        .unwrap();
    let d: Value = r.json().await.unwrap();
    assert_eq!(
        d["device_authorization_endpoint"],
        format!("{}/{}/oauth2/v2.0/devicecode", app.base, app.tenant_id)
    );
    assert!(
        d["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("urn:ietf:params:oauth:grant-type:device_code")),
        "{d}"
    );
}
