//! Hostile and malformed input: always a 4xx with Graph's envelope, never a 5xx.

use crate::helpers::{TestApp, assert_graph_error};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, serde_json::Value, reqwest::header::HeaderMap) {
    let mut req = app
        .http
        .request(method, format!("{}{path}", app.base))
        .body(body)
        .header("client-request-id", "my-correlation-7");
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let r = req.send().await.unwrap();
    let (s, h) = (r.status(), r.headers().clone());
    let text = r.text().await.unwrap();
    (
        s,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{s}: not JSON: {text}")),
        h,
    )
}

#[tokio::test]
async fn malformed_bodies_get_a_400_with_graphs_envelope_and_the_request_ids() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    let path = format!("/v1.0/users/{bob}/authentication/temporaryAccessPassMethods");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not json", b"{".to_vec()),
        ("array", b"[]".to_vec()),
        ("string", b"\"x\"".to_vec()),
        ("wrong type", br#"{"lifetimeInMinutes":"60"}"#.to_vec()),
        ("float", br#"{"lifetimeInMinutes":60.5}"#.to_vec()),
        ("huge number", br#"{"lifetimeInMinutes":1e400}"#.to_vec()),
        ("unknown property", br#"{"colour":"blue"}"#.to_vec()),
        ("bad date", br#"{"startDateTime":"tomorrow"}"#.to_vec()),
        ("far future", br#"{"startDateTime":"9999-12-31T23:59:59Z"}"#.to_vec()),
        ("bool as string", br#"{"isUsableOnce":"yes"}"#.to_vec()),
        ("invalid utf8", vec![b'{', b'"', 0xff, b'"', b':', b'1', b'}']),
        ("deep nesting", format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes()),
    ];
    for (what, body) in cases {
        let (s, e, h) = raw(&app, Method::POST, &path, Some(&t), Some("application/json"), body).await;
        assert_graph_error(s, &e, StatusCode::BAD_REQUEST);
        assert_eq!(h["client-request-id"], "my-correlation-7", "{what}");
        assert_eq!(e["error"]["innerError"]["client-request-id"], "my-correlation-7");
        assert_eq!(
            h["request-id"].to_str().unwrap(),
            e["error"]["innerError"]["request-id"].as_str().unwrap(),
            "{what}"
        );
    }
}

#[tokio::test]
async fn oversized_bodies_and_wrong_content_types_are_refused() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let big = format!(
        r#"{{"displayName":"{}","userPrincipalName":"x@contoso.test"}}"#,
        "a".repeat(200_000)
    );
    let (s, e, _) = raw(
        &app,
        Method::POST,
        "/v1.0/users",
        Some(&t),
        Some("application/json"),
        big.into_bytes(),
    )
    .await;
    assert_graph_error(s, &e, StatusCode::PAYLOAD_TOO_LARGE);
    let (s, e, _) = raw(&app, Method::POST, "/v1.0/users", Some(&t), Some("text/plain"), b"{}".to_vec()).await;
    assert_graph_error(s, &e, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, e, _) = raw(
        &app,
        Method::POST,
        "/v1.0/users",
        Some(&t),
        Some("application/json"),
        br#"{"userPrincipalName":"x@contoso.test","displayName":"\u0000"}"#.to_vec(),
    )
    .await;
    assert_graph_error(s, &e, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bad_ids_unknown_paths_and_wrong_methods_get_graph_errors() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    for (method, path, expected) in [
        (Method::GET, "/v1.0/users/not-a-guid-or-upn", StatusCode::NOT_FOUND),
        (
            Method::GET,
            "/v1.0/users/00000000-0000-0000-0000-000000000000/authentication/methods",
            StatusCode::NOT_FOUND,
        ),
        (Method::GET, "/v1.0/groups/zzz", StatusCode::NOT_FOUND),
        (
            Method::GET,
            "/v1.0/roleManagement/directory/roleAssignments/%00",
            StatusCode::NOT_FOUND,
        ),
        (Method::GET, "/v1.0/nothing/here", StatusCode::NOT_FOUND),
        (Method::PUT, "/v1.0/users", StatusCode::METHOD_NOT_ALLOWED),
        (
            Method::PATCH,
            "/v1.0/users/x/authentication/temporaryAccessPassMethods",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ] {
        let (s, e, _) = raw(&app, method.clone(), path, Some(&t), None, Vec::new()).await;
        assert_graph_error(s, &e, expected);
        let _ = method;
    }
}

#[tokio::test]
async fn missing_and_forged_tokens_get_401() {
    let app = TestApp::spawn().await;
    let good = app.app_token().await;
    let (header, payload, _sig) = {
        let mut parts = good.split('.');
        (
            parts.next().unwrap().to_owned(),
            parts.next().unwrap().to_owned(),
            parts.next().unwrap().to_owned(),
        )
    };
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let none_header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let hs_header = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let mut claims: serde_json::Value = serde_json::from_slice(&b64.decode(&payload).unwrap()).unwrap();
    claims["roles"] = json!(["UserAuthenticationMethod.ReadWrite.All"]);
    claims["exp"] = json!(claims["exp"].as_i64().unwrap() + 99_999);
    let tampered_payload = b64.encode(serde_json::to_vec(&claims).unwrap());
    let other_key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let other_pem = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_pem(&other_key, rsa::pkcs8::LineEnding::LF).unwrap();
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    let kid: serde_json::Value = serde_json::from_slice(&b64.decode(&header).unwrap()).unwrap();
    h.kid = kid["kid"].as_str().map(str::to_owned);
    let wrong_key = jsonwebtoken::encode(&h, &claims, &jsonwebtoken::EncodingKey::from_rsa_pem(other_pem.as_bytes()).unwrap()).unwrap();
    let mut wrong_aud = claims.clone();
    wrong_aud["aud"] = json!("api://something-else");
    let wrong_aud = app.state.keys.sign(&wrong_aud).unwrap();
    let mut wrong_iss = claims.clone();
    wrong_iss["iss"] = json!("https://login.microsoftonline.com/other/v2.0");
    let wrong_iss = app.state.keys.sign(&wrong_iss).unwrap();
    let mut wrong_tid = claims.clone();
    wrong_tid["tid"] = json!(uuid::Uuid::new_v4().to_string());
    let wrong_tid = app.state.keys.sign(&wrong_tid).unwrap();
    let forged = [
        ("alg none", format!("{none_header}.{payload}.")),
        ("hs256", format!("{hs_header}.{payload}.c2lnbmF0dXJl")),
        ("tampered payload", format!("{header}.{tampered_payload}.{_sig}")),
        ("wrong key", wrong_key),
        ("wrong audience", wrong_aud),
        ("wrong issuer", wrong_iss),
        ("wrong tenant", wrong_tid),
        ("garbage", "abc.def.ghi".to_owned()),
        ("empty", String::new()),
    ];
    for (what, token) in forged {
        let (s, e, h) = raw(&app, Method::GET, "/v1.0/users", Some(&token), None, Vec::new()).await;
        assert_graph_error(s, &e, StatusCode::UNAUTHORIZED);
        assert!(h.contains_key("www-authenticate"), "{what}");
    }
    let (s, e, _) = raw(&app, Method::GET, "/v1.0/users", None, None, Vec::new()).await;
    assert_graph_error(s, &e, StatusCode::UNAUTHORIZED);
    let r = app
        .http
        .get(format!("{}/v1.0/users", app.base))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_expired_token_is_refused_by_the_clock_not_the_wall() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let (s, _) = app.get("/v1.0/users", &t).await;
    assert_eq!(s, StatusCode::OK);
    app.advance(chrono::Duration::minutes(61));
    let (s, e) = app.get("/v1.0/users", &t).await;
    assert_graph_error(s, &e, StatusCode::UNAUTHORIZED);
    assert!(e["error"]["message"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn undecodable_paths_and_oversized_token_requests_get_their_surfaces_errors() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let (s, e, _) = raw(
        &app,
        Method::GET,
        "/v1.0/users/%FF%FE/authentication/methods",
        Some(&t),
        None,
        Vec::new(),
    )
    .await;
    assert_graph_error(s, &e, StatusCode::BAD_REQUEST);
    let (s, e, _) = raw(
        &app,
        Method::POST,
        "/%FF/oauth2/v2.0/token",
        None,
        Some("application/x-www-form-urlencoded"),
        b"grant_type=client_credentials".to_vec(),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "invalid_request");
    let big = format!("grant_type=client_credentials&scope={}", "x".repeat(200_000));
    let (s, e, _) = raw(
        &app,
        Method::POST,
        &format!("/{}/oauth2/v2.0/token", app.tenant_id),
        None,
        Some("application/x-www-form-urlencoded"),
        big.into_bytes(),
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(e["error"], "invalid_request");
}
