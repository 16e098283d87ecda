//! The OpenAPI document at `/openapi.json` lists exactly the operations the server routes,
//! is OpenAPI 3.1, and every reference in it resolves; each documented operation answers an
//! anonymous request with a documented status and media type. `openapi_fuzz.sh` then checks
//! the running server's answers against it in depth.

use latchkey_http::openapi::{ApiDoc, OpenApi as _};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;

/// Every operation the server routes: `graph::routes()` (under `/v1.0`; `/beta` is the
/// same), `oauth::routes()`, `web::routes()` and `openapi::routes()`, with the status each
/// answers a request that has no token, cookie or parameters. A route added to the server
/// without a line here, or a line here without a route, fails a test below.
const ROUTES: &[(&str, &str, u16)] = &[
    ("GET", "/v1.0/users", 401),
    ("POST", "/v1.0/users", 401),
    ("GET", "/v1.0/users/{user}", 401),
    ("PATCH", "/v1.0/users/{user}", 401),
    ("DELETE", "/v1.0/users/{user}", 401),
    ("POST", "/v1.0/invitations", 401),
    ("GET", "/v1.0/groups", 401),
    ("POST", "/v1.0/groups", 401),
    ("GET", "/v1.0/groups/{group}", 401),
    ("DELETE", "/v1.0/groups/{group}", 401),
    ("GET", "/v1.0/groups/{group}/members", 401),
    ("POST", "/v1.0/groups/{group}/members/$ref", 401),
    ("DELETE", "/v1.0/groups/{group}/members/{member}/$ref", 401),
    ("GET", "/v1.0/roleManagement/directory/roleDefinitions", 401),
    ("GET", "/v1.0/roleManagement/directory/roleDefinitions/{id}", 401),
    ("GET", "/v1.0/roleManagement/directory/roleAssignments", 401),
    ("POST", "/v1.0/roleManagement/directory/roleAssignments", 401),
    ("GET", "/v1.0/roleManagement/directory/roleAssignments/{id}", 401),
    ("DELETE", "/v1.0/roleManagement/directory/roleAssignments/{id}", 401),
    ("GET", "/v1.0/users/{user}/authentication/methods", 401),
    ("GET", "/v1.0/users/{user}/authentication/temporaryAccessPassMethods", 401),
    ("POST", "/v1.0/users/{user}/authentication/temporaryAccessPassMethods", 401),
    ("GET", "/v1.0/users/{user}/authentication/temporaryAccessPassMethods/{id}", 401),
    ("DELETE", "/v1.0/users/{user}/authentication/temporaryAccessPassMethods/{id}", 401),
    ("GET", "/v1.0/me", 401),
    ("GET", "/v1.0/me/authentication/methods", 401),
    ("GET", "/v1.0/me/authentication/temporaryAccessPassMethods", 401),
    ("GET", "/v1.0/me/authentication/temporaryAccessPassMethods/{id}", 401),
    ("DELETE", "/v1.0/me/authentication/temporaryAccessPassMethods/{id}", 401),
    ("GET", "/v1.0/policies/authenticationMethodsPolicy", 401),
    (
        "GET",
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
        401,
    ),
    (
        "GET",
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id}",
        401,
    ),
    (
        "PATCH",
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id}",
        401,
    ),
    (
        "DELETE",
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id}",
        401,
    ),
    ("GET", "/v1.0/auditLogs/directoryAudits", 401),
    ("GET", "/v1.0/auditLogs/signIns", 401),
    ("GET", "/v1.0/applications", 401),
    ("POST", "/v1.0/applications", 401),
    ("GET", "/v1.0/applications/{application}", 401),
    ("DELETE", "/v1.0/applications/{application}", 401),
    ("POST", "/v1.0/applications/{application}/addPassword", 401),
    ("GET", "/v1.0/domains", 401),
    ("POST", "/v1.0/domains", 401),
    ("GET", "/v1.0/domains/{id}", 401),
    ("POST", "/v1.0/domains/{id}/federationConfiguration", 401),
    ("GET", "/{tenant}/v2.0/.well-known/openid-configuration", 200),
    ("POST", "/{tenant}/oauth2/v2.0/token", 400),
    ("POST", "/{tenant}/oauth2/v2.0/devicecode", 400),
    ("GET", "/{tenant}/discovery/v2.0/keys", 200),
    ("GET", "/{tenant}/openid/userinfo", 401),
    ("POST", "/{tenant}/openid/userinfo", 401),
    ("GET", "/{tenant}/oauth2/v2.0/authorize", 400),
    ("POST", "/{tenant}/oauth2/v2.0/authorize", 400),
    ("GET", "/{tenant}/login", 200),
    ("POST", "/{tenant}/login", 403),
    ("GET", "/{tenant}/oauth2/v2.0/logout", 200),
    ("POST", "/{tenant}/oauth2/v2.0/logout", 200),
    ("GET", "/devicelogin", 200),
    ("POST", "/devicelogin", 403),
    ("GET", "/whoami", 303),
    ("POST", "/signout", 403),
    ("GET", "/v1.0/users/{user}/authentication/fido2Methods", 401),
    ("GET", "/v1.0/users/{user}/authentication/fido2Methods/{id}", 401),
    ("DELETE", "/v1.0/users/{user}/authentication/fido2Methods/{id}", 401),
    ("GET", "/v1.0/users/{user}/authentication/softwareOathMethods", 401),
    ("GET", "/v1.0/users/{user}/authentication/softwareOathMethods/{id}", 401),
    ("DELETE", "/v1.0/users/{user}/authentication/softwareOathMethods/{id}", 401),
    ("GET", "/v1.0/me/authentication/fido2Methods", 401),
    ("GET", "/v1.0/me/authentication/fido2Methods/{id}", 401),
    ("DELETE", "/v1.0/me/authentication/fido2Methods/{id}", 401),
    ("GET", "/v1.0/me/authentication/softwareOathMethods", 401),
    ("GET", "/v1.0/me/authentication/softwareOathMethods/{id}", 401),
    ("DELETE", "/v1.0/me/authentication/softwareOathMethods/{id}", 401),
    ("GET", "/{tenant}/login/continue", 303),
    ("POST", "/{tenant}/passkey/options", 403),
    ("POST", "/{tenant}/passkey", 403),
    ("GET", "/mysecurityinfo", 303),
    ("POST", "/mysecurityinfo/delete", 403),
    ("GET", "/mysecurityinfo/passkey", 303),
    ("POST", "/mysecurityinfo/passkey/options", 403),
    ("POST", "/mysecurityinfo/passkey/register", 403),
    ("GET", "/mysecurityinfo/authenticator", 303),
    ("POST", "/mysecurityinfo/authenticator", 403),
    ("GET", "/assets/webauthn.js", 200),
    ("GET", "/", 200),
    ("GET", "/openapi.json", 200),
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace", "query"];

/// The document as JSON, so the checks read what clients read.
fn document() -> Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap()
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                out.push((method.to_uppercase(), path.clone(), op));
            }
        }
    }
    out
}

#[test]
fn the_document_lists_exactly_the_routes_the_server_has() {
    let doc = document();
    let documented: BTreeSet<(String, String)> = operations(&doc).into_iter().map(|(m, p, _)| (m, p)).collect();
    let expected: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned())).collect();
    let missing: Vec<_> = expected.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "not documented: {missing:?}; documented but not routed: {extra:?}"
    );
}

#[test]
fn the_document_is_openapi_3_1_with_bearer_auth_on_every_graph_operation() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."), "{}", doc["openapi"]);
    assert_eq!(doc["info"]["title"], "latchkey");
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http");
    assert_eq!(bearer["scheme"], "bearer");
    assert_eq!(bearer["bearerFormat"], "JWT");
    assert_eq!(doc["security"], serde_json::json!([{"bearer": []}]));
    let mut operation_ids = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(operation_ids.insert(id.to_owned()), "operationId {id} is used twice");
        assert!(
            op["responses"].as_object().unwrap().keys().any(|s| s.starts_with('2')),
            "{method} {path} has no success response"
        );
        if path.starts_with("/v1.0/") {
            assert!(op.get("security").is_none(), "{method} {path} overrides the bearer requirement");
            for status in ["400", "401", "403"] {
                assert!(op["responses"].get(status).is_some(), "{method} {path} lacks {status}");
            }
            if op.get("requestBody").is_some() {
                assert_eq!(
                    op["requestBody"]["content"].as_object().unwrap().keys().collect::<Vec<_>>(),
                    ["application/json"]
                );
                for status in ["413", "415"] {
                    assert!(op["responses"].get(status).is_some(), "{method} {path} lacks {status}");
                }
            }
        } else {
            // Outside the Graph API each operation says what it needs: nothing, or a bearer
            // token (UserInfo); its errors are OAuth's or the sign-in pages' own.
            let security = op["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} must declare its security"));
            assert!(!security.is_empty(), "{method} {path}");
        }
        for p in op["parameters"].as_array().into_iter().flatten() {
            assert_ne!(
                p["name"], "$select",
                "{method} {path}: $select removes properties, so it is not documented"
            );
        }
        if let Some(body) = op.get("requestBody") {
            for media in body["content"].as_object().unwrap().values() {
                assert!(
                    media["schema"].get("oneOf").is_none(),
                    "{method} {path}: a body is never JSON null: {media}"
                );
            }
        }
    }
}

#[test]
fn every_reference_in_the_document_resolves() {
    fn walk<'a>(v: &'a Value, refs: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    refs.push(r);
                }
                m.values().for_each(|c| walk(c, refs));
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, refs)),
            _ => {}
        }
    }
    let doc = document();
    let mut refs = Vec::new();
    walk(&doc, &mut refs);
    assert!(refs.len() > 50, "the document uses components");
    for r in refs {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external reference {r}"));
        assert!(doc.pointer(pointer).is_some(), "dangling reference {r}");
    }
    // Links name their target by operationId and fill its path parameters.
    let ops = operations(&doc);
    for (method, path, op) in &ops {
        for (status, response) in op["responses"].as_object().unwrap() {
            for (name, link) in response["links"].as_object().into_iter().flatten() {
                let target = link["operationId"].as_str().unwrap();
                let (_, target_path, _) = ops
                    .iter()
                    .find(|(_, _, o)| o["operationId"] == target)
                    .unwrap_or_else(|| panic!("{method} {path} {status} link {name} names no operation {target}"));
                for param in link["parameters"].as_object().unwrap().keys() {
                    assert!(
                        target_path.contains(&format!("{{{param}}}")),
                        "link {name} fills {param}, which {target_path} lacks"
                    );
                }
            }
        }
    }
}

#[test]
fn a_pass_code_is_documented_as_a_nullable_string() {
    let doc = document();
    let tap = &doc["components"]["schemas"]["TemporaryAccessPassResponse"]["properties"]["temporaryAccessPass"];
    let types: BTreeSet<&str> = match &tap["type"] {
        Value::Array(a) => a.iter().map(|t| t.as_str().unwrap()).collect(),
        Value::String(s) => [s.as_str()].into(),
        other => panic!("{other}"),
    };
    assert_eq!(types, ["null", "string"].into(), "{tap}");
}

#[tokio::test]
async fn every_documented_operation_is_routed_under_v1_and_beta() {
    let app = crate::helpers::TestApp::spawn().await;
    let (base, tenant, admin) = (app.base.clone(), app.tenant_id.clone(), app.admin_id.clone());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let doc = document();
    for (method, path, _) in operations(&doc) {
        let (_, _, anonymous) = ROUTES.iter().find(|(m, p, _)| *m == method && *p == path).unwrap();
        let concrete = path
            .replace("{tenant}", &tenant)
            .replace("{user}", &admin)
            .replace("{group}", &uuid::Uuid::new_v4().to_string())
            .replace("{application}", &uuid::Uuid::new_v4().to_string())
            .replace("{member}", &admin)
            .replace(
                "{id}",
                if path.contains("authenticationMethodConfigurations") {
                    "TemporaryAccessPass"
                } else if path.contains("/domains/") {
                    "contoso.test"
                } else {
                    "6f1967b7-15e8-4935-ac26-d50770ed07a7"
                },
            );
        let mut urls = vec![format!("{base}{concrete}")];
        if let Some(rest) = concrete.strip_prefix("/v1.0/") {
            urls.push(format!("{base}/beta/{rest}"));
        }
        for url in urls {
            let r = http
                .request(Method::from_bytes(method.as_bytes()).unwrap(), &url)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let content_type = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            let text = r.text().await.unwrap();
            // Not the router's fallbacks (404 "Resource not found for the segment", 405), but
            // the handler: authentication comes first on the Graph API, so there it is a 401.
            assert_eq!(status, StatusCode::from_u16(*anonymous).unwrap(), "{method} {url}: {text}");
            if status == StatusCode::UNAUTHORIZED && path.starts_with("/v1.0/") {
                let body: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(body["error"]["code"], "InvalidAuthenticationToken", "{method} {url}: {body}");
            }
            // The answer's media type is one the document lists for that status.
            let documented = &doc["paths"][&path][method.to_lowercase()]["responses"][status.as_str()];
            let documented = match documented["$ref"].as_str() {
                Some(r) => doc.pointer(r.strip_prefix('#').unwrap()).unwrap(),
                None => documented,
            };
            assert!(!documented.is_null(), "{method} {url}: {status} is not documented");
            if let Some(content) = documented["content"].as_object() {
                let media = content_type.split(';').next().unwrap().trim();
                assert!(
                    content.contains_key(media),
                    "{method} {url}: {status} {media} is not among {:?}",
                    content.keys()
                );
            }
            if path == "/openapi.json" {
                assert_eq!(
                    serde_json::from_str::<Value>(&text).unwrap(),
                    doc,
                    "the served document is the one built here"
                );
            }
        }
    }
}
