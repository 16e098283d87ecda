//! My Security Info over HTTP: passkeys with a software authenticator (registration,
//! username-less sign-in, hostile WebAuthn input), authenticator apps (enrolment, sign-in,
//! replay, lockout, password + code), the registration rules, deletion, the banner, and
//! the Graph fido2Methods / softwareOathMethods lists.

use crate::browser::{Browser, Page};
use crate::helpers::TestApp;
use crate::sign_in::issue_pass;
use chrono::Duration;
use latchkey_testkit::authenticator::SoftPasskey;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Signs in at the login page (no application) with a pass; returns where it lands.
async fn sign_in_with_pass(app: &TestApp, b: &mut Browser, upn: &str, code: &str) -> Page {
    let login = b.get(&format!("/{}/login", app.tenant_id)).await;
    let csrf = login.field("csrf").unwrap();
    let prompt = b
        .post(
            &format!("/{}/login", app.tenant_id),
            &[("csrf", &csrf), ("step", "username"), ("username", upn)],
        )
        .await;
    assert!(prompt.body.contains(r#"name="tap""#), "{}", prompt.body);
    b.post(
        &format!("/{}/login", app.tenant_id),
        &[("csrf", &csrf), ("step", "tap"), ("username", upn), ("tap", code)],
    )
    .await
}

/// The user-name step, returning the page that asks for a credential.
async fn username_step(app: &TestApp, b: &mut Browser, upn: &str) -> Page {
    let login = b.get(&format!("/{}/login", app.tenant_id)).await;
    let csrf = login.field("csrf").unwrap();
    b.post(
        &format!("/{}/login", app.tenant_id),
        &[("csrf", &csrf), ("step", "username"), ("username", upn)],
    )
    .await
}

async fn register_passkey(app: &TestApp, b: &mut Browser, name: &str) -> (SoftPasskey, Page) {
    let options = b.post_json("/mysecurityinfo/passkey/options", &json!({}), None).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let options: Value = serde_json::from_str(&options.body).unwrap();
    assert_eq!(
        options["options"]["publicKey"]["authenticatorSelection"]["residentKey"], "required",
        "a discoverable credential, for username-less sign-in"
    );
    assert_eq!(options["options"]["publicKey"]["rp"]["id"], "localhost");
    let (passkey, credential) = SoftPasskey::register("localhost", &app.base, &options["options"]);
    let done = b
        .post_json(
            "/mysecurityinfo/passkey/register",
            &json!({ "ceremony": options["ceremony"], "credential": credential, "name": name }),
            None,
        )
        .await;
    (passkey, done)
}

async fn passkey_options(app: &TestApp, b: &mut Browser) -> Value {
    // The login page sets the CSRF cookie the script sends back.
    b.get(&format!("/{}/login", app.tenant_id)).await;
    let r = b.post_json(&format!("/{}/passkey/options", app.tenant_id), &json!({}), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

async fn post_assertion(app: &TestApp, b: &mut Browser, ceremony: &Value, credential: &Value, username: Option<&str>) -> Page {
    b.post_json(
        &format!("/{}/passkey", app.tenant_id),
        &json!({ "ceremony": ceremony, "credential": credential, "username": username }),
        None,
    )
    .await
}

fn error_of(page: &Page) -> String {
    serde_json::from_str::<Value>(&page.body)
        .map(|v| v["error"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_pass_holder_registers_a_passkey_and_then_signs_in_with_it_alone() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let user_id = app.create_user(&t, "nia@contoso.test", "Member").await;
    let (code, _) = issue_pass(&app, "nia@contoso.test", json!({"isUsableOnce": false})).await;

    let mut b = Browser::new(&app.base);
    let landed = sign_in_with_pass(&app, &mut b, "nia@contoso.test", &code).await;
    assert_eq!(landed.location.as_deref(), Some("/mysecurityinfo"));
    let info = b.get("/mysecurityinfo").await;
    assert!(
        info.body.contains("Add a new sign-in method"),
        "the banner while the pass is all they have"
    );

    let (mut passkey, done) = register_passkey(&app, &mut b, "Work laptop").await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    let info = b.get("/mysecurityinfo").await;
    assert!(
        !info.body.contains("Add a new sign-in method"),
        "the banner goes once a passkey exists"
    );
    assert!(info.body.contains("Work laptop"), "{}", info.body);

    // Graph shows it with its AAGUID, and the methods list names its type.
    let (s, list) = app.get(&format!("/v1.0/users/{user_id}/authentication/fido2Methods"), &t).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let method = &list["value"][0];
    assert_eq!(method["@odata.type"], "#microsoft.graph.fido2AuthenticationMethod");
    assert_eq!(method["displayName"], "Work laptop");
    assert_eq!(method["aaGuid"], "01020304-0506-0708-0102-030405060708");
    assert_eq!(method["attestationLevel"], "notAttested");
    let (_, all) = app.get(&format!("/v1.0/users/{user_id}/authentication/methods"), &t).await;
    let types: Vec<&str> = all["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["@odata.type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"#microsoft.graph.fido2AuthenticationMethod"), "{types:?}");
    let (_, audit) = app.get("/v1.0/auditLogs/directoryAudits", &t).await;
    assert!(
        audit["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["activityDisplayName"] == "User registered security info"),
        "{audit}"
    );

    // A new browser, no user name typed: the passkey alone signs in.
    let mut fresh = Browser::new(&app.base);
    let options = passkey_options(&app, &mut fresh).await;
    let assertion = passkey.assert(&options["options"], &app.base);
    let signed_in = post_assertion(&app, &mut fresh, &options["ceremony"], &assertion, None).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert!(fresh.cookies.contains_key("lk_session"));
    let me = fresh.get("/whoami").await;
    assert!(me.body.contains("nia@contoso.test") && me.body.contains("Passkey"), "{}", me.body);

    // After the user name, the usable pass still comes first, with the passkey offered
    // beside it; the passkey step has the ceremony button.
    let mut third = Browser::new(&app.base);
    let step = username_step(&app, &mut third, "nia@contoso.test").await;
    assert!(
        step.body.contains(r#"name="tap""#) && step.body.contains("Use a passkey instead"),
        "{}",
        step.body
    );
    let switch = third
        .post(
            &format!("/{}/login", app.tenant_id),
            &[
                ("csrf", &step.field("csrf").unwrap()),
                ("step", "switch"),
                ("method", "passkey"),
                ("username", "nia@contoso.test"),
            ],
        )
        .await;
    assert!(
        switch.body.contains("data-passkey-signin") && switch.body.contains("/assets/webauthn.js"),
        "{}",
        switch.body
    );

    let (_, sign_ins) = app.get("/v1.0/auditLogs/signIns", &t).await;
    assert!(
        sign_ins["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| { s["status"]["errorCode"] == 0 && s["authenticationDetails"][0]["authenticationMethod"] == "Passkey" }),
        "{sign_ins}"
    );
}

#[tokio::test]
async fn hostile_webauthn_answers_get_clear_4xx_errors() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    app.create_user(&t, "otto@contoso.test", "Member").await;
    app.create_user(&t, "pia@contoso.test", "Member").await;
    let (code, _) = issue_pass(&app, "otto@contoso.test", json!({})).await;
    let mut b = Browser::new(&app.base);
    sign_in_with_pass(&app, &mut b, "otto@contoso.test", &code).await;
    let (mut passkey, done) = register_passkey(&app, &mut b, "").await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);

    let mut att = Browser::new(&app.base);
    // Replayed assertion: the challenge was answered once; the ceremony is gone.
    let options = passkey_options(&app, &mut att).await;
    let assertion = passkey.assert(&options["options"], &app.base);
    assert_eq!(
        post_assertion(&app, &mut att, &options["ceremony"], &assertion, None).await.status,
        StatusCode::OK
    );
    let replay = post_assertion(&app, &mut att, &options["ceremony"], &assertion, None).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert!(error_of(&replay).contains("expired or was already used"), "{}", replay.body);
    // The same old assertion against a fresh challenge.
    let fresh = passkey_options(&app, &mut att).await;
    let stale = post_assertion(&app, &mut att, &fresh["ceremony"], &assertion, None).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED, "{}", stale.body);
    assert!(error_of(&stale).contains("could not be verified"), "{}", stale.body);
    // Wrong challenge, wrong origin.
    let options = passkey_options(&app, &mut att).await;
    let wrong = passkey.assert_challenge("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &app.base);
    let r = post_assertion(&app, &mut att, &options["ceremony"], &wrong, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    let options = passkey_options(&app, &mut att).await;
    let phished = passkey.assert(&options["options"], "https://evil.example");
    let r = post_assertion(&app, &mut att, &options["ceremony"], &phished, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    // Someone else's user name.
    let options = passkey_options(&app, &mut att).await;
    let good = passkey.assert(&options["options"], &app.base);
    let r = post_assertion(&app, &mut att, &options["ceremony"], &good, Some("pia@contoso.test")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(error_of(&r).contains("different account"), "{}", r.body);
    // Garbage: not a credential, broken base64/CBOR, unknown ceremony, bad JSON, no CSRF.
    let options = passkey_options(&app, &mut att).await;
    let mut garbage = passkey.assert(&options["options"], &app.base);
    garbage["response"]["authenticatorData"] = json!("%%%not-base64%%%");
    let r = post_assertion(&app, &mut att, &options["ceremony"], &garbage, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert!(!error_of(&r).is_empty());
    let r = post_assertion(&app, &mut att, &json!(uuid::Uuid::new_v4()), &json!({"id": 1}), None).await;
    assert!(r.status.is_client_error(), "{}", r.body);
    let r = att
        .post_json(&format!("/{}/passkey", app.tenant_id), &json!("just a string"), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = att
        .post_json(&format!("/{}/passkey/options", app.tenant_id), &json!({}), Some("forged"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Registration: garbage CBOR in the attestation object, and a wrong origin.
    let options = b.post_json("/mysecurityinfo/passkey/options", &json!({}), None).await;
    let options: Value = serde_json::from_str(&options.body).unwrap();
    let (_, mut cred) = SoftPasskey::register("localhost", &app.base, &options["options"]);
    cred["response"]["attestationObject"] = json!("oWNmbXQ"); // a truncated CBOR map
    let r = b
        .post_json(
            "/mysecurityinfo/passkey/register",
            &json!({ "ceremony": options["ceremony"], "credential": cred }),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let options = b.post_json("/mysecurityinfo/passkey/options", &json!({}), None).await;
    let options: Value = serde_json::from_str(&options.body).unwrap();
    let (_, cred) = SoftPasskey::register("localhost", "https://evil.example", &options["options"]);
    let r = b
        .post_json(
            "/mysecurityinfo/passkey/register",
            &json!({ "ceremony": options["ceremony"], "credential": cred }),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(error_of(&r).contains("could not be verified"), "{}", r.body);
}

#[tokio::test]
async fn only_a_recent_strong_sign_in_may_register_methods() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let id = app.create_user(&t, "rosa@contoso.test", "Member").await;
    // A password alone is not strong enough.
    let (s, _) = app
        .patch(
            &format!("/v1.0/users/{id}"),
            &t,
            json!({"passwordProfile": {"password": "correct horse battery staple"}}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let mut b = Browser::new(&app.base);
    let step = username_step(&app, &mut b, "rosa@contoso.test").await;
    let csrf = step.field("csrf").unwrap();
    b.post(
        &format!("/{}/login", app.tenant_id),
        &[
            ("csrf", &csrf),
            ("step", "password"),
            ("username", "rosa@contoso.test"),
            ("password", "correct horse battery staple"),
        ],
    )
    .await;
    let r = b.post_json("/mysecurityinfo/passkey/options", &json!({}), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(error_of(&r).contains("recent sign-in"), "{}", r.body);
    let page = b.get("/mysecurityinfo").await;
    assert!(page.body.contains("Sign in again"), "{}", page.body);

    // A one-time pass: ten minutes, then no more.
    let (code, _) = issue_pass(&app, "rosa@contoso.test", json!({"isUsableOnce": true})).await;
    let mut b = Browser::new(&app.base);
    sign_in_with_pass(&app, &mut b, "rosa@contoso.test", &code).await;
    assert_eq!(
        b.post_json("/mysecurityinfo/passkey/options", &json!({}), None).await.status,
        StatusCode::OK
    );
    app.advance(Duration::minutes(10) + Duration::seconds(1));
    let late = b.post_json("/mysecurityinfo/passkey/options", &json!({}), None).await;
    assert_eq!(late.status, StatusCode::FORBIDDEN, "{}", late.body);
    assert!(!b.get("/mysecurityinfo/authenticator").await.body.contains("totp-secret"));
}

fn totp_code(secret_base32: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).unwrap();
    let totp = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(secret)
        .build_noncompliant();
    totp.generate(u64::try_from(at.timestamp()).unwrap()).to_string()
}

fn between(body: &str, start: &str, end: &str) -> String {
    body.split(start).nth(1).unwrap().split(end).next().unwrap().to_owned()
}

#[tokio::test]
async fn an_authenticator_app_is_enrolled_once_and_its_codes_sign_in_once() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let id = app.create_user(&t, "sam@contoso.test", "Member").await;
    let (code, _) = issue_pass(&app, "sam@contoso.test", json!({})).await;
    let mut b = Browser::new(&app.base);
    sign_in_with_pass(&app, &mut b, "sam@contoso.test", &code).await;

    let enrol = b.get("/mysecurityinfo/authenticator").await;
    assert_eq!(enrol.status, StatusCode::OK);
    assert!(enrol.body.contains("<svg"), "an inline QR code");
    let secret = between(&enrol.body, r#"<code class="secret" id="totp-secret">"#, "</code>");
    assert_eq!(secret.len(), 32, "160-bit seed in base32");
    let ceremony = enrol.field("ceremony").unwrap();
    let csrf = enrol.field("csrf").unwrap();
    // A wrong first code keeps the enrolment open with the same key.
    let wrong = b
        .post(
            "/mysecurityinfo/authenticator",
            &[("csrf", &csrf), ("ceremony", &ceremony), ("otp", "000000")],
        )
        .await;
    assert!(
        wrong.body.contains("The code is not correct") && wrong.body.contains(&secret),
        "{}",
        wrong.body
    );
    let now = app.core.now();
    let ok = b
        .post(
            "/mysecurityinfo/authenticator",
            &[("csrf", &csrf), ("ceremony", &ceremony), ("otp", &totp_code(&secret, now))],
        )
        .await;
    assert!(ok.body.contains("Your authenticator app is added"), "{}", ok.body);
    assert!(!ok.body.contains(&secret), "the key is shown once");
    let (_, list) = app.get(&format!("/v1.0/users/{id}/authentication/softwareOathMethods"), &t).await;
    assert_eq!(list["value"][0]["@odata.type"], "#microsoft.graph.softwareOathAuthenticationMethod");
    assert_eq!(list["value"][0]["secretKey"], Value::Null);
    // The seed is sealed in the database, never stored in clear.
    let db = std::fs::read(app.dir.join("latchkey.db")).unwrap();
    assert!(!db.windows(secret.len()).any(|w| w == secret.as_bytes()));

    // The code that confirmed the app cannot also sign in; the next one can, once.
    let delete_pass = app
        .delete(
            &format!(
                "/v1.0/users/{id}/authentication/temporaryAccessPassMethods/{}",
                list_pass_id(&app, &t, &id).await
            ),
            &t,
        )
        .await;
    assert_eq!(delete_pass.0, StatusCode::NO_CONTENT);
    let mut c = Browser::new(&app.base);
    let step = username_step(&app, &mut c, "sam@contoso.test").await;
    assert!(
        step.body.contains(r#"name="otp""#),
        "an authenticator app holder is asked for a code: {}",
        step.body
    );
    let otp_form = |csrf: &str, code: String| {
        vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("step".to_owned(), "otp".to_owned()),
            ("username".to_owned(), "sam@contoso.test".to_owned()),
            ("otp".to_owned(), code),
        ]
    };
    let post = async |c: &mut Browser, form: Vec<(String, String)>| {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        c.post(&format!("/{}/login", app.tenant_id), &form).await
    };
    let c_csrf = step.field("csrf").unwrap();
    let reused = post(&mut c, otp_form(&c_csrf, totp_code(&secret, now))).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    assert!(reused.body.contains("already used"), "{}", reused.body);
    app.advance(Duration::seconds(30));
    let next = totp_code(&secret, app.core.now());
    let signed = post(&mut c, otp_form(&c_csrf, next.clone())).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    assert!(c.get("/whoami").await.body.contains("OATH verification code"));
    let mut d = Browser::new(&app.base);
    let d_csrf = username_step(&app, &mut d, "sam@contoso.test").await.field("csrf").unwrap();
    let replay = post(&mut d, otp_form(&d_csrf, next)).await;
    assert!(replay.body.contains("already used"), "a replayed code is refused: {}", replay.body);

    // Wrong codes are throttled like passes: ten, then a lockout.
    for _ in 0..10 {
        post(&mut d, otp_form(&d_csrf, "123456".into())).await;
    }
    app.advance(Duration::seconds(30));
    let locked = post(&mut d, otp_form(&d_csrf, totp_code(&secret, app.core.now()))).await;
    assert!(locked.body.contains("Too many wrong codes"), "{}", locked.body);
}

async fn list_pass_id(app: &TestApp, t: &str, user: &str) -> String {
    let (_, l) = app
        .get(&format!("/v1.0/users/{user}/authentication/temporaryAccessPassMethods"), t)
        .await;
    l["value"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_password_needs_the_authenticator_code_once_an_app_is_registered() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let id = app.create_user(&t, "tia@contoso.test", "Member").await;
    app.patch(
        &format!("/v1.0/users/{id}"),
        &t,
        json!({"passwordProfile": {"password": "pw-tia-123456"}}),
    )
    .await;
    let (code, _) = issue_pass(&app, "tia@contoso.test", json!({})).await;
    let mut b = Browser::new(&app.base);
    sign_in_with_pass(&app, &mut b, "tia@contoso.test", &code).await;
    let enrol = b.get("/mysecurityinfo/authenticator").await;
    let secret = between(&enrol.body, r#"id="totp-secret">"#, "</code>");
    let ok = b
        .post(
            "/mysecurityinfo/authenticator",
            &[
                ("csrf", &enrol.field("csrf").unwrap()),
                ("ceremony", &enrol.field("ceremony").unwrap()),
                ("otp", &totp_code(&secret, app.core.now())),
            ],
        )
        .await;
    assert!(ok.body.contains("Your authenticator app is added"));
    app.advance(Duration::seconds(30));

    let mut c = Browser::new(&app.base);
    let step = username_step(&app, &mut c, "tia@contoso.test").await;
    let csrf = step.field("csrf").unwrap();
    let form = |extra: &[(&'static str, String)]| {
        let mut f = vec![
            ("csrf", csrf.clone()),
            ("step", "password".to_owned()),
            ("username", "tia@contoso.test".to_owned()),
            ("password", "pw-tia-123456".to_owned()),
        ];
        f.extend_from_slice(extra);
        f
    };
    let without = form(&[]);
    let without: Vec<(&str, &str)> = without.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = c.post(&format!("/{}/login", app.tenant_id), &without).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("Enter the code from your authenticator app") && r.body.contains(r#"name="otp""#));
    let with = form(&[("otp", totp_code(&secret, app.core.now()))]);
    let with: Vec<(&str, &str)> = with.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = c.post(&format!("/{}/login", app.tenant_id), &with).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Password + code is strong: this session may register methods.
    assert_eq!(
        c.post_json("/mysecurityinfo/passkey/options", &json!({}), None).await.status,
        StatusCode::OK
    );
    // Deleting the pass beside the app needs no confirmation; deleting the app then would
    // leave only the password, so it asks first.
    let page = c.get("/mysecurityinfo").await;
    let csrf = page.field("csrf").unwrap();
    let pass_id = list_pass_id(&app, &t, &id).await;
    let gone = c
        .post("/mysecurityinfo/delete", &[("csrf", &csrf), ("kind", "pass"), ("id", &pass_id)])
        .await;
    assert!(gone.body.contains("The method was deleted"), "{}", gone.body);
    let (_, apps) = app.get(&format!("/v1.0/users/{id}/authentication/softwareOathMethods"), &t).await;
    let app_id = apps["value"][0]["id"].as_str().unwrap().to_owned();
    let ask = c
        .post(
            "/mysecurityinfo/delete",
            &[("csrf", &csrf), ("kind", "authenticator"), ("id", &app_id)],
        )
        .await;
    assert!(ask.body.contains("last strong sign-in method"), "{}", ask.body);
    let (_, still) = app.get(&format!("/v1.0/users/{id}/authentication/softwareOathMethods"), &t).await;
    assert_eq!(still["value"].as_array().unwrap().len(), 1, "nothing deleted before the second yes");
}

#[tokio::test]
async fn deleting_the_pass_ends_its_session_and_admins_delete_passkeys_through_graph() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let id = app.create_user(&t, "uma@contoso.test", "Member").await;
    let (code, pass_id) = issue_pass(&app, "uma@contoso.test", json!({})).await;
    let mut b = Browser::new(&app.base);
    sign_in_with_pass(&app, &mut b, "uma@contoso.test", &code).await;
    let (_, done) = register_passkey(&app, &mut b, "Phone").await;
    let method_id = serde_json::from_str::<Value>(&done.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Deleting the pass on My Security Info: it stops working, and the session made with it ends.
    let page = b.get("/mysecurityinfo").await;
    let csrf = page.field("csrf").unwrap();
    let r = b
        .post("/mysecurityinfo/delete", &[("csrf", &csrf), ("kind", "pass"), ("id", &pass_id)])
        .await;
    assert!(r.body.contains("Your Temporary Access Pass is deleted"), "{}", r.body);
    assert_eq!(b.get("/mysecurityinfo").await.status, StatusCode::SEE_OTHER, "the session ended");
    let mut again = Browser::new(&app.base);
    let step = username_step(&app, &mut again, "uma@contoso.test").await;
    assert!(!step.body.contains(r#"name="tap""#), "no pass prompt any more");
    let (_, audit) = app.get("/v1.0/auditLogs/directoryAudits", &t).await;
    assert!(
        audit["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["activityDisplayName"] == "User deleted security info")
    );

    let (s, l) = app.get(&format!("/v1.0/users/{id}/authentication/fido2Methods"), &t).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(l["value"].as_array().unwrap().len(), 1, "the passkey stays");

    // An admin deletes it through Graph instead; unknown ids are 404s with Graph's envelope.
    let (s, _) = app
        .delete(&format!("/v1.0/users/{id}/authentication/fido2Methods/{method_id}"), &t)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, body) = app
        .delete(&format!("/v1.0/users/{id}/authentication/fido2Methods/{method_id}"), &t)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body["error"]["code"].is_string());
    let (s, _) = app
        .get(&format!("/v1.0/users/{id}/authentication/fido2Methods/not-a-guid"), &t)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, audit) = app.get("/v1.0/auditLogs/directoryAudits", &t).await;
    assert!(
        audit["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["activityDisplayName"] == "Admin deleted security info")
    );
}

#[tokio::test]
async fn deleting_the_last_method_asks_for_confirmation() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    app.create_user(&t, "vic@contoso.test", "Member").await;
    let (code, pass_id) = issue_pass(&app, "vic@contoso.test", json!({})).await;
    let mut b = Browser::new(&app.base);
    sign_in_with_pass(&app, &mut b, "vic@contoso.test", &code).await;
    let page = b.get("/mysecurityinfo").await;
    let csrf = page.field("csrf").unwrap();
    let ask = b
        .post("/mysecurityinfo/delete", &[("csrf", &csrf), ("kind", "pass"), ("id", &pass_id)])
        .await;
    assert!(ask.body.contains("Delete your last sign-in method?"), "{}", ask.body);
    assert!(b.get("/mysecurityinfo").await.body.contains(&pass_id), "nothing deleted yet");
    let confirmed = b
        .post(
            "/mysecurityinfo/delete",
            &[("csrf", &csrf), ("kind", "pass"), ("id", &pass_id), ("confirm", "yes")],
        )
        .await;
    assert!(
        confirmed.body.contains("Your Temporary Access Pass is deleted"),
        "{}",
        confirmed.body
    );
    // No CSRF: refused, nothing changes.
    let r = b.post("/mysecurityinfo/delete", &[("kind", "pass"), ("id", &pass_id)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_pass_sign_in_to_an_application_offers_a_passkey_with_a_way_on() {
    let app = TestApp::spawn().await;
    let client = crate::sign_in::spa_client(&app).await;
    let t = app.app_token().await;
    app.create_user(&t, "wes@contoso.test", "Member").await;
    let (code, _) = issue_pass(&app, "wes@contoso.test", json!({})).await;
    let mut b = Browser::new(&app.base);
    let prompt = crate::sign_in::start(&app, &mut b, &client, "wes@contoso.test").await;
    let form = [
        ("csrf", prompt.field("csrf").unwrap()),
        ("request", prompt.field("request").unwrap()),
        ("step", "tap".to_owned()),
        ("username", "wes@contoso.test".to_owned()),
        ("tap", code),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let offer = b.post(&format!("/{}/login", app.tenant_id), &form).await;
    assert_eq!(offer.status, StatusCode::OK);
    assert!(offer.body.contains("Set up a passkey?") && offer.body.contains("Skip for now and continue"));
    let on = crate::sign_in::skip_passkey_offer(&mut b, offer).await;
    assert_eq!(on.status, StatusCode::SEE_OTHER);
    assert!(on.location.unwrap().contains("code="), "the application gets its code");
}

#[tokio::test]
async fn anonymous_passkey_challenges_are_under_the_per_address_limit() {
    let app = TestApp::spawn().await;
    let limited = app.state.clone().with_rate_limit(3);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    tokio::spawn(latchkey_http::serve(listener, limited, std::future::pending()));
    let mut b = Browser::new(&base);
    b.get(&format!("/{}/login", app.tenant_id)).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let r = b.post_json(&format!("/{}/passkey/options", app.tenant_id), &json!({}), None).await;
        statuses.push(r.status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 3, "{statuses:?}");
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
}
