//! Application registrations: `/applications`, `addPassword`, the new secret at the token
//! endpoint, who may do what, and `latchkey app` on the command line.

use crate::cli::latchkey;
use crate::helpers::{TestApp, assert_graph_error, sqlite_url, temp_dir};
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use latchkey_core::directory::DirectoryRole;
use latchkey_core::secrets::SecretString;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Registers an application through the API; returns its Graph body.
async fn register(app: &TestApp, token: &str, body: Value) -> Value {
    let (s, v) = app.post("/v1.0/applications", token, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

/// Client credentials at the token endpoint, as the OIDC provider's clients will send them.
async fn client_credentials(app: &TestApp, client_id: &str, secret: &str) -> (StatusCode, Value) {
    let r = app
        .http
        .post(format!("{}/{}/oauth2/v2.0/token", app.base, app.tenant_id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

/// The claims of a JWT, read without checking it (the token tests check signatures).
fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn applications_are_registered_listed_read_and_deleted() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    // Applications list in creation order; the fake clock moves so the order is not a tie.
    app.advance(Duration::seconds(1));
    let created = register(
        &app,
        &t,
        json!({
            "displayName": "Contoso Portal",
            "web": {"redirectUris": ["https://portal.contoso.test/signin-oidc"]},
            "spa": {"redirectUris": ["https://spa.contoso.test/", "http://localhost:5173/"]},
            "publicClient": {"redirectUris": ["com.contoso.app:/callback", "http://127.0.0.1"]},
        }),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let app_id = created["appId"].as_str().unwrap().to_owned();
    assert_ne!(id, app_id, "the object id and the appId are different GUIDs");
    assert!(app_id.parse::<uuid::Uuid>().is_ok());
    assert!(
        created["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/v1.0/$metadata#applications/$entity")
    );
    assert_eq!(created["displayName"], "Contoso Portal");
    assert_eq!(created["signInAudience"], "AzureADMyOrg");
    assert_eq!(created["web"]["redirectUris"], json!(["https://portal.contoso.test/signin-oidc"]));
    assert_eq!(
        created["spa"]["redirectUris"],
        json!(["https://spa.contoso.test/", "http://localhost:5173/"])
    );
    assert_eq!(
        created["publicClient"]["redirectUris"],
        json!(["com.contoso.app:/callback", "http://127.0.0.1"])
    );
    assert_eq!(created["passwordCredentials"], json!([]), "a new application has no secret");
    assert_eq!(time(&created["createdDateTime"]), app.core.now());

    let (s, got) = app.get(&format!("/v1.0/applications/{id}"), &t).await;
    assert_eq!(s, StatusCode::OK, "{got}");
    assert_eq!(got, created, "GET reads back what POST returned");
    let (s, beta) = app.get(&format!("/beta/applications/{id}"), &t).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(beta["appId"], app_id.as_str());

    app.advance(Duration::seconds(1));
    let bare = register(&app, &t, json!({"displayName": "Bare"})).await;
    assert_eq!(bare["web"]["redirectUris"], json!([]));
    assert_eq!(bare["publicClient"]["redirectUris"], json!([]));

    let (s, list) = app.get("/v1.0/applications", &t).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let names: Vec<&str> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["latchkey automation", "Contoso Portal", "Bare"], "oldest first");
    assert!(list["@odata.context"].as_str().unwrap().ends_with("#applications"));
    let automation = &list["value"][0];
    assert_eq!(automation["appId"], app.client_id.as_str());
    assert_eq!(automation["passwordCredentials"].as_array().unwrap().len(), 1);
    assert_eq!(
        automation["passwordCredentials"][0]["secretText"],
        Value::Null,
        "a listed secret has no text"
    );

    let (s, first) = app.get("/v1.0/applications?$top=2&$select=displayName,appId", &t).await;
    assert_eq!(s, StatusCode::OK, "{first}");
    assert_eq!(first["value"].as_array().unwrap().len(), 2);
    assert!(first["value"][0].get("web").is_none(), "$select trims: {first}");
    let next = first["@odata.nextLink"]
        .as_str()
        .unwrap()
        .strip_prefix(&app.base)
        .unwrap()
        .to_owned();
    let (_, second) = app.get(&next, &t).await;
    assert_eq!(second["value"][0]["displayName"], "Bare");
    assert!(second.get("@odata.nextLink").is_none());

    let (s, body) = app.delete(&format!("/v1.0/applications/{id}"), &t).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    let (s, body) = app.get(&format!("/v1.0/applications/{id}"), &t).await;
    assert_graph_error(s, &body, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "Request_ResourceNotFound");
    let (s, body) = app.delete(&format!("/v1.0/applications/{id}"), &t).await;
    assert_graph_error(s, &body, StatusCode::NOT_FOUND);
    let (_, list) = app.get("/v1.0/applications", &t).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn unknown_and_malformed_application_ids_are_not_found() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let created = register(&app, &t, json!({"displayName": "Portal"})).await;
    let app_id = created["appId"].as_str().unwrap();
    for path in [
        "/v1.0/applications/not-a-guid".to_owned(),
        format!("/v1.0/applications/{}", uuid::Uuid::new_v4()),
        // The appId is the client_id, not the object's id.
        format!("/v1.0/applications/{app_id}"),
    ] {
        let (s, body) = app.get(&path, &t).await;
        assert_graph_error(s, &body, StatusCode::NOT_FOUND);
        let (s, body) = app.post(&format!("{path}/addPassword"), &t, json!({})).await;
        assert_graph_error(s, &body, StatusCode::NOT_FOUND);
        let (s, body) = app.delete(&path, &t).await;
        assert_graph_error(s, &body, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn add_password_shows_the_secret_once_and_the_secret_gets_a_token() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let created = register(
        &app,
        &t,
        json!({"displayName": "Payroll", "web": {"redirectUris": ["https://payroll.contoso.test/cb"]}}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let client_id = created["appId"].as_str().unwrap().to_owned();

    let (s, cred) = app
        .post(
            &format!("/v1.0/applications/{id}/addPassword"),
            &t,
            json!({"passwordCredential": {"displayName": "ci"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "Graph answers addPassword with 200: {cred}");
    assert!(
        cred["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#microsoft.graph.passwordCredential")
    );
    let secret = cred["secretText"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 40, "a high-entropy secret");
    assert_eq!(cred["hint"], secret[..3], "the hint is the first three characters");
    assert_eq!(cred["displayName"], "ci");
    assert!(cred["keyId"].as_str().unwrap().parse::<uuid::Uuid>().is_ok());
    let start = time(&cred["startDateTime"]);
    assert_eq!(start, app.core.now());
    assert_eq!(time(&cred["endDateTime"]) - start, Duration::days(730), "two years by default");

    let (_, got) = app.get(&format!("/v1.0/applications/{id}"), &t).await;
    let listed = &got["passwordCredentials"][0];
    assert_eq!(got["passwordCredentials"].as_array().unwrap().len(), 1);
    assert_eq!(listed["keyId"], cred["keyId"]);
    assert_eq!(listed["hint"], cred["hint"]);
    assert_eq!(listed["secretText"], Value::Null, "the secret is shown once");
    assert!(!got.to_string().contains(&secret));

    // A new application has no application permissions: its token carries no roles, but it is issued.
    let (s, tok) = client_credentials(&app, &client_id, &secret).await;
    assert_eq!(s, StatusCode::OK, "{tok}");
    let access = tok["access_token"].as_str().unwrap();
    let c = claims(access);
    assert_eq!(c["appid"], client_id.as_str());
    assert_eq!(c["idtyp"], "app");
    assert!(c.get("roles").is_none_or(|r| r.as_array().is_some_and(Vec::is_empty)), "{c}");
    let (s, body) = app.get("/v1.0/users", access).await;
    assert_graph_error(s, &body, StatusCode::FORBIDDEN);
    let (s, body) = app.get("/v1.0/applications", access).await;
    assert_graph_error(s, &body, StatusCode::FORBIDDEN);

    let (s, body) = client_credentials(&app, &client_id, "not-the-secret").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "invalid_client");

    // A second secret, with an end date: both work until the first is gone with the app.
    let end = app.core.now() + Duration::days(30);
    let (s, second) = app
        .post(
            &format!("/v1.0/applications/{id}/addPassword"),
            &t,
            json!({"passwordCredential": {"displayName": "rotation", "endDateTime": end.to_rfc3339()}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{second}");
    assert_eq!(time(&second["endDateTime"]), end);
    let second_secret = second["secretText"].as_str().unwrap();
    assert_ne!(second_secret, secret);
    assert_eq!(client_credentials(&app, &client_id, second_secret).await.0, StatusCode::OK);
    assert_eq!(client_credentials(&app, &client_id, &secret).await.0, StatusCode::OK);
    app.advance(Duration::days(31));
    assert_eq!(
        client_credentials(&app, &client_id, second_secret).await.0,
        StatusCode::UNAUTHORIZED,
        "an expired secret no longer authenticates"
    );
    let (s, body) = client_credentials(&app, &client_id, &secret).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let fresh = body["access_token"].as_str().unwrap().to_owned();

    let t = app.app_token().await;
    let (s, _) = app.delete(&format!("/v1.0/applications/{id}"), &t).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, body) = client_credentials(&app, &client_id, &secret).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "a deleted application's secrets stop working: {body}");
    let (s, body) = app.get("/v1.0/me", &fresh).await;
    assert_graph_error(s, &body, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn add_password_refuses_bad_end_dates_and_server_chosen_values() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let id = register(&app, &t, json!({"displayName": "Portal"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1.0/applications/{id}/addPassword");
    let now = app.core.now();
    for (body, why) in [
        (
            json!({"passwordCredential": {"endDateTime": (now - Duration::hours(1)).to_rfc3339()}}),
            "future",
        ),
        (
            json!({"passwordCredential": {"endDateTime": (now + Duration::days(800)).to_rfc3339()}}),
            "2 years",
        ),
        (json!({"passwordCredential": {"endDateTime": "next tuesday"}}), "passwordCredential"),
        (json!({"passwordCredential": {"secretText": "my-own-secret-text"}}), "secretText"),
        (json!({"passwordCredential": {"keyId": uuid::Uuid::new_v4().to_string()}}), "keyId"),
        (json!({"passwordCredential": {"startDateTime": now.to_rfc3339()}}), "startDateTime"),
        (json!({"passwordCredential": {"displayName": "x", "colour": "blue"}}), "colour"),
        (json!({"keyCredential": {}}), "keyCredential"),
    ] {
        let (s, v) = app.post(&path, &t, body.clone()).await;
        assert_graph_error(s, &v, StatusCode::BAD_REQUEST);
        assert!(v["error"]["message"].as_str().unwrap().contains(why), "{body}: {v}");
    }
    let (_, got) = app.get(&format!("/v1.0/applications/{id}"), &t).await;
    assert_eq!(got["passwordCredentials"], json!([]), "refused requests add no secret");
    // What SDKs send: nulls for server-chosen values, an empty body, an annotation.
    for body in [
        json!({"passwordCredential": {"displayName": "sdk", "secretText": null, "keyId": null, "hint": null, "startDateTime": null, "customKeyIdentifier": null}}),
        json!({}),
        json!({"passwordCredential": {"@odata.type": "#microsoft.graph.passwordCredential", "endDateTime": (now + Duration::days(365)).to_rfc3339()}}),
    ] {
        let (s, v) = app.post(&path, &t, body.clone()).await;
        assert_eq!(s, StatusCode::OK, "{body}: {v}");
        assert!(v["secretText"].as_str().is_some());
    }
}

#[tokio::test]
async fn bad_redirect_uris_are_refused_with_400() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let too_long = format!("https://portal.contoso.test/{}", "a".repeat(250));
    for (platform, uri, why) in [
        ("web", "http://portal.contoso.test/cb", "https"),
        ("spa", "http://spa.contoso.test/", "https"),
        ("web", "https://portal.contoso.test/cb#token", "fragment"),
        ("web", "/signin-oidc", "absolute"),
        ("web", "portal.contoso.test/cb", "absolute"),
        ("web", "https://*.contoso.test/cb", "wildcard"),
        ("spa", "com.contoso.app:/callback", "publicClient"),
        ("publicClient", "javascript:alert(1)", "scheme"),
        ("web", "https://admin:pw@portal.contoso.test/", "user information"),
        ("web", "https://portal.contoso.test/a b", "percent-encode"),
        ("web", too_long.as_str(), "256"),
        ("web", "", "empty"),
    ] {
        let body = json!({"displayName": "Bad", platform: {"redirectUris": [uri]}});
        let (s, v) = app.post("/v1.0/applications", &t, body.clone()).await;
        assert_graph_error(s, &v, StatusCode::BAD_REQUEST);
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{body}: {message}");
        assert!(message.starts_with(&format!("{platform}.redirectUris")), "{message}");
    }
    let dup = json!({
        "displayName": "Twice",
        "web": {"redirectUris": ["https://a.contoso.test/cb"]},
        "spa": {"redirectUris": ["https://a.contoso.test/cb"]},
    });
    let (s, v) = app.post("/v1.0/applications", &t, dup).await;
    assert_graph_error(s, &v, StatusCode::BAD_REQUEST);
    assert!(v["error"]["message"].as_str().unwrap().contains("more than once"), "{v}");
    let many: Vec<String> = (0..257).map(|i| format!("https://a.contoso.test/{i}")).collect();
    let (s, v) = app
        .post(
            "/v1.0/applications",
            &t,
            json!({"displayName": "Many", "web": {"redirectUris": many}}),
        )
        .await;
    assert_graph_error(s, &v, StatusCode::BAD_REQUEST);
    let (_, list) = app.get("/v1.0/applications", &t).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1, "nothing refused was registered");
}

#[tokio::test]
async fn unknown_properties_and_bad_bodies_are_refused_with_400() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    for (body, why) in [
        (json!({"displayName": "X", "identifierUris": ["api://x"]}), "'identifierUris'"),
        (
            json!({"displayName": "X", "web": {"redirectUris": [], "logoutUrl": "https://x.contoso.test/"}}),
            "'logoutUrl'",
        ),
        (
            json!({"displayName": "X", "web": {"redirectUris": "https://x.contoso.test/"}}),
            "microsoft.graph.application",
        ),
        (json!({"web": {"redirectUris": []}}), "displayName"),
        (json!({"displayName": "   "}), "displayName"),
        (json!({"displayName": "X", "signInAudience": "AzureADMultipleOrgs"}), "AzureADMyOrg"),
        (json!({"displayName": "X", "requiredResourceAccess@odata.bind": []}), "annotation"),
        (json!(["not", "an", "object"]), "JSON object"),
    ] {
        let (s, v) = app.post("/v1.0/applications", &t, body.clone()).await;
        assert_graph_error(s, &v, StatusCode::BAD_REQUEST);
        assert!(v["error"]["message"].as_str().unwrap().contains(why), "{body}: {v}");
    }
    // What SDKs send: annotations (nested too), echoed read-only properties, null platforms.
    let ok = register(
        &app,
        &t,
        json!({
            "@odata.type": "#microsoft.graph.application",
            "id": "ignored",
            "appId": "ignored",
            "displayName": "From an SDK",
            "signInAudience": "AzureADMyOrg",
            "web": {"@odata.type": "#microsoft.graph.webApplication", "redirectUris": ["https://sdk.contoso.test/cb"]},
            "spa": null,
        }),
    )
    .await;
    assert_ne!(ok["id"], "ignored");
    assert_eq!(ok["web"]["redirectUris"], json!(["https://sdk.contoso.test/cb"]));
}

#[tokio::test]
async fn a_global_reader_reads_applications_but_cannot_register_or_change_them() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let id = register(&app, &t, json!({"displayName": "Portal"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reader = app.create_user(&t, "reader@contoso.test", "Member").await;
    app.assign(&reader, DirectoryRole::GlobalReader).await;
    let rt = app.user_token(&reader, "reader@contoso.test", &[DirectoryRole::GlobalReader]);
    let (s, list) = app.get("/v1.0/applications", &rt).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list["value"].as_array().unwrap().len(), 2);
    let (s, got) = app.get(&format!("/v1.0/applications/{id}"), &rt).await;
    assert_eq!(s, StatusCode::OK, "{got}");
    let (s, v) = app.post("/v1.0/applications", &rt, json!({"displayName": "Mine"})).await;
    assert_graph_error(s, &v, StatusCode::FORBIDDEN);
    assert_eq!(v["error"]["code"], "Authorization_RequestDenied");
    let (s, v) = app.post(&format!("/v1.0/applications/{id}/addPassword"), &rt, json!({})).await;
    assert_graph_error(s, &v, StatusCode::FORBIDDEN);
    let (s, v) = app.delete(&format!("/v1.0/applications/{id}"), &rt).await;
    assert_graph_error(s, &v, StatusCode::FORBIDDEN);

    // An authentication administrator has no business with applications.
    let helpdesk = app.create_user(&t, "helpdesk@contoso.test", "Member").await;
    app.assign(&helpdesk, DirectoryRole::AuthenticationAdministrator).await;
    let ht = app.user_token(&helpdesk, "helpdesk@contoso.test", &[DirectoryRole::AuthenticationAdministrator]);
    let (s, v) = app.get("/v1.0/applications", &ht).await;
    assert_graph_error(s, &v, StatusCode::FORBIDDEN);

    // A Global Administrator registers, adds secrets and deletes.
    let gt = app.user_token(&app.admin_id, &app.admin_upn, &[DirectoryRole::GlobalAdministrator]);
    let mine = register(&app, &gt, json!({"displayName": "Admin's"})).await;
    let mine_id = mine["id"].as_str().unwrap();
    let (s, v) = app.post(&format!("/v1.0/applications/{mine_id}/addPassword"), &gt, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = app.delete(&format!("/v1.0/applications/{mine_id}"), &gt).await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // App-only: Application.Read.All reads, only Application.ReadWrite.All writes.
    let read_only = app.app_token_with_roles(&["Application.Read.All"]);
    assert_eq!(app.get("/v1.0/applications", &read_only).await.0, StatusCode::OK);
    let (s, v) = app.post("/v1.0/applications", &read_only, json!({"displayName": "No"})).await;
    assert_graph_error(s, &v, StatusCode::FORBIDDEN);
    let other = app.app_token_with_roles(&["User.ReadWrite.All"]);
    let (s, v) = app.get("/v1.0/applications", &other).await;
    assert_graph_error(s, &v, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn application_changes_are_audited_with_entras_names_and_no_secret() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let created = register(
        &app,
        &t,
        json!({"displayName": "Audited", "web": {"redirectUris": ["https://a.contoso.test/cb"]}}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let (_, cred) = app
        .post(
            &format!("/v1.0/applications/{id}/addPassword"),
            &t,
            json!({"passwordCredential": {"displayName": "ci"}}),
        )
        .await;
    let secret = cred["secretText"].as_str().unwrap();
    app.delete(&format!("/v1.0/applications/{id}"), &t).await;
    let (s, log) = app.get("/v1.0/auditLogs/directoryAudits?$top=3", &t).await;
    assert_eq!(s, StatusCode::OK, "{log}");
    let log = log["value"].as_array().unwrap();
    let names: Vec<&str> = log.iter().map(|r| r["activityDisplayName"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "Delete application",
            "Update application \u{2013} Certificates and secrets management",
            "Add application"
        ]
    );
    for r in log {
        assert_eq!(r["category"], "ApplicationManagement");
        assert_eq!(r["loggedByService"], "Core Directory");
        assert_eq!(r["targetResources"][0]["id"], id);
        assert_eq!(r["targetResources"][0]["type"], "Application");
        assert_eq!(r["targetResources"][0]["displayName"], "Audited");
        assert_eq!(r["initiatedBy"]["app"]["appId"], app.client_id.as_str());
    }
    let key = log[1]["targetResources"][0]["modifiedProperties"][0]["newValue"].as_str().unwrap();
    assert!(key.contains(cred["keyId"].as_str().unwrap()), "{key}");
    let whole = serde_json::to_string(&log).unwrap();
    assert!(!whole.contains(secret), "the audit log never holds a secret");
}

#[tokio::test]
async fn operators_register_list_and_remove_applications_from_the_cli() {
    let dir = temp_dir("cli-apps");
    let db = sqlite_url(&dir);
    let json_of = |o: std::process::Output| -> Value {
        assert!(o.status.success(), "failed: {}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
    };
    json_of(latchkey(&dir, &db, &["init", "--output", "json"]));
    let added = json_of(latchkey(
        &dir,
        &db,
        &[
            "app",
            "add",
            "Portal",
            "--web-redirect",
            "https://portal.contoso.test/signin-oidc",
            "--web-redirect",
            "https://portal.contoso.test/other",
            "--spa-redirect",
            "http://localhost:5173/",
            "--public-redirect",
            "com.contoso.app:/callback",
            "--secret",
            "--output",
            "json",
        ],
    ));
    let app_id = added["appId"].as_str().unwrap().to_owned();
    let object_id = added["id"].as_str().unwrap().to_owned();
    let secret = added["clientSecret"].as_str().unwrap().to_owned();
    assert_eq!(added["web"]["redirectUris"].as_array().unwrap().len(), 2);
    assert_eq!(added["spa"]["redirectUris"], json!(["http://localhost:5173/"]));
    assert_eq!(added["publicClient"]["redirectUris"], json!(["com.contoso.app:/callback"]));
    assert_eq!(added["passwordCredentials"][0]["hint"], secret[..3]);

    // The printed secret authenticates the client; the text output shows it once too.
    let core = latchkey::startup::core(latchkey::startup::open_store(&db, false).await.unwrap(), None);
    let client = core.authenticate_client(&app_id, &SecretString::new(secret.clone())).await.unwrap();
    assert_eq!(client.display_name, "Portal");
    let text = latchkey(&dir, &db, &["app", "add", "Plain"]);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("appId (client_id)") && !text.contains("client_secret"), "{text}");
    let with_secret = latchkey(&dir, &db, &["app", "add", "Shown", "--secret"]);
    assert!(String::from_utf8_lossy(&with_secret.stdout).contains("shown once"));

    let listed = json_of(latchkey(&dir, &db, &["app", "list", "--output", "json"]));
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["latchkey automation", "Portal", "Plain", "Shown"]);
    assert!(!listed.to_string().contains(&secret), "list never prints a secret");

    let bad = latchkey(&dir, &db, &["app", "add", "Bad", "--web-redirect", "http://portal.contoso.test/cb"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("https"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );

    let removed = json_of(latchkey(&dir, &db, &["app", "remove", &app_id, "--output", "json"]));
    assert_eq!(removed["deleted"], object_id.as_str());
    assert!(core.authenticate_client(&app_id, &SecretString::new(secret)).await.is_err());
    let plain_id = listed[2]["id"].as_str().unwrap();
    json_of(latchkey(&dir, &db, &["app", "remove", plain_id, "--output", "json"]));
    let gone = latchkey(&dir, &db, &["app", "remove", &app_id]);
    assert!(!gone.status.success(), "removing twice fails");
    let listed = json_of(latchkey(&dir, &db, &["app", "list", "--output", "json"]));
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}
