//! The OAuth token endpoint for automation, discovery and the JWKS.

use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

async fn token(app: &TestApp, tenant: &str, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (StatusCode, Value) {
    let mut req = app.http.post(format!("{}/{tenant}/oauth2/v2.0/token", app.base)).form(form);
    if let Some((u, p)) = basic {
        req = req.basic_auth(u, Some(p));
    }
    let r = req.send().await.unwrap();
    (r.status(), r.json().await.unwrap())
}

#[tokio::test]
async fn client_credentials_give_an_rs256_token_with_entras_claims_verifiable_with_the_jwks() {
    let app = TestApp::spawn().await;
    let scope = "https://graph.microsoft.com/.default";
    let (s, post) = token(
        &app,
        &app.tenant_id,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
            ("scope", scope),
        ],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{post}");
    assert_eq!(post["token_type"], "Bearer");
    assert!(post["expires_in"].as_i64().unwrap() > 0);
    // client_secret_basic, and the tenant named by its domain.
    let (s, basic) = token(
        &app,
        "Contoso.Test",
        &[("grant_type", "client_credentials"), ("scope", scope)],
        Some((&app.client_id, &app.client_secret)),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{basic}");

    let discovery: Value = app
        .http
        .get(format!("{}/contoso.test/v2.0/.well-known/openid-configuration", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], format!("{}/{}/v2.0", app.base, app.tenant_id));
    let jwks: Value = app
        .http
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = &jwks["keys"][0];
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["alg"], "RS256");
    let access = post["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(access).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), jwk["kid"].as_str());
    let key = jsonwebtoken::DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&["https://graph.microsoft.com"]);
    v.set_issuer(&[discovery["issuer"].as_str().unwrap()]);
    let claims = jsonwebtoken::decode::<Value>(access, &key, &v).unwrap().claims;
    assert_eq!(claims["tid"], app.tenant_id.as_str());
    assert_eq!(claims["appid"], app.client_id.as_str());
    assert_eq!(claims["azp"], app.client_id.as_str());
    let roles: Vec<&str> = claims["roles"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    for p in [
        "UserAuthenticationMethod.ReadWrite.All",
        "Policy.ReadWrite.AuthenticationMethod",
        "User.ReadWrite.All",
        "Group.ReadWrite.All",
        "RoleManagement.ReadWrite.Directory",
        "AuditLog.Read.All",
    ] {
        assert!(roles.contains(&p), "{p} in {roles:?}");
    }
}

#[tokio::test]
async fn bad_token_requests_get_rfc6749_errors() {
    let app = TestApp::spawn().await;
    let scope = "https://graph.microsoft.com/.default";
    let tid = app.tenant_id.clone();
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<(&'a str, &'a str)>, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        (
            "wrong secret",
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &app.client_id),
                ("client_secret", "nope"),
                ("scope", scope),
            ],
            None,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            "unknown client",
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "00000000-0000-0000-0000-000000000001"),
                ("client_secret", "x"),
                ("scope", scope),
            ],
            None,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            "no credentials",
            vec![("grant_type", "client_credentials"), ("scope", scope)],
            None,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            "both methods",
            vec![
                ("grant_type", "client_credentials"),
                ("client_secret", &app.client_secret),
                ("scope", scope),
            ],
            Some((&app.client_id, &app.client_secret)),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "bad grant",
            vec![
                ("grant_type", "password"),
                ("client_id", &app.client_id),
                ("client_secret", &app.client_secret),
            ],
            None,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            "no grant",
            vec![("client_id", &app.client_id)],
            None,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "bad scope",
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &app.client_id),
                ("client_secret", &app.client_secret),
                ("scope", "openid"),
            ],
            None,
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            "other resource",
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &app.client_id),
                ("client_secret", &app.client_secret),
                ("scope", "api://x/.default"),
            ],
            None,
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            "repeated parameter",
            vec![("grant_type", "client_credentials"), ("grant_type", "client_credentials")],
            None,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (what, form, basic, status, error) in cases {
        let (s, body) = token(&app, &tid, &form, basic).await;
        assert_eq!(s, status, "{what}: {body}");
        assert_eq!(body["error"], error, "{what}");
        assert!(body["error_description"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let (s, body) = token(&app, "fabrikam.test", &[("grant_type", "client_credentials")], None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
    let r = app
        .http
        .get(format!("{}/fabrikam.test/discovery/v2.0/keys", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_address_over_its_rate_limit_gets_429_with_retry_after() {
    let app = TestApp::spawn().await;
    let limited = app.state.clone().with_rate_limit(5);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(latchkey_http::serve(listener, limited, std::future::pending()));
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.as_str()),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let r = app
            .http
            .post(format!("{base}/{}/oauth2/v2.0/token", app.tenant_id))
            .form(&form)
            .send()
            .await
            .unwrap();
        statuses.push(r.status());
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"], "temporarily_unavailable");
        }
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 5, "{statuses:?}");
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
    // The Graph API itself is not limited by this.
    let t = app.app_token().await;
    let r = app.http.get(format!("{base}/v1.0/users")).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_rotated_key_signs_new_tokens_and_the_old_one_stays_published_until_its_tokens_expire() {
    let app = TestApp::spawn().await;
    let old_token = app.app_token().await;
    let jwks = |base: String, tid: String| async move { app_jwks(&base, &tid).await };
    let before = jwks(app.base.clone(), app.tenant_id.clone()).await;
    assert_eq!(before.len(), 1);
    // A second server process's view of the same database, opened before the rotation.
    let other = latchkey::startup::server_state(app.core.clone(), &app.dir.join("latchkey.key"), &app.base)
        .await
        .unwrap();

    let key = latchkey::master_key::read(&app.dir.join("latchkey.key")).unwrap();
    let new = latchkey_http::tokens::generate_signing_key(&key, app.clock_now()).unwrap();
    let new_kid = new.kid.clone();
    app.core
        .rotate_signing_key(&latchkey_core::authz::Caller::Operator { name: "test".into() }, new)
        .await
        .unwrap();
    app.state.reload_keys().await.unwrap();

    let after = jwks(app.base.clone(), app.tenant_id.clone()).await;
    assert_eq!(after.len(), 2, "old and new keys are both published");
    let new_token = app.app_token().await;
    assert_eq!(
        jsonwebtoken::decode_header(&new_token).unwrap().kid.as_deref(),
        Some(new_kid.as_str())
    );
    let (s, _) = app.get("/v1.0/users", &old_token).await;
    assert_eq!(s, StatusCode::OK, "tokens signed by the retired key still work");
    other
        .verify_token(&new_token)
        .await
        .expect("a process that has not reloaded yet learns the new key on first sight");

    app.advance(chrono::Duration::minutes(66));
    app.state.reload_keys().await.unwrap();
    let later = jwks(app.base.clone(), app.tenant_id.clone()).await;
    assert_eq!(later.len(), 1, "the retired key is dropped once its tokens have expired");
    assert_eq!(later[0]["kid"], new_kid.as_str());
    let r = app
        .core
        .rotate_signing_key(
            &latchkey_core::authz::Caller::User {
                id: latchkey_core::ids::UserId::new_random(),
                upn: "x@y.z".into(),
                roles: vec![],
            },
            latchkey_http::tokens::generate_signing_key(&key, app.clock_now()).unwrap(),
        )
        .await;
    assert!(r.is_err(), "only an operator on the server rotates keys");
}

async fn app_jwks(base: &str, tenant: &str) -> Vec<Value> {
    let v: Value = reqwest::get(format!("{base}/{tenant}/discovery/v2.0/keys"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["keys"].as_array().unwrap().clone()
}
