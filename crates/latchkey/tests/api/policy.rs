//! The TAP policy over Graph (DESIGN.md "Policy").

use crate::helpers::{TestApp, assert_graph_error};
use reqwest::StatusCode;
use serde_json::json;

const POLICY: &str = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass";

#[tokio::test]
async fn the_policy_starts_with_the_seed_defaults_and_its_odata_type() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let (s, p) = app.get(POLICY, &t).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        p["@odata.type"],
        "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration"
    );
    assert_eq!(p["id"], "TemporaryAccessPass");
    assert_eq!(p["state"], "enabled");
    assert_eq!(
        (
            p["minimumLifetimeInMinutes"].as_u64(),
            p["maximumLifetimeInMinutes"].as_u64(),
            p["defaultLifetimeInMinutes"].as_u64()
        ),
        (Some(60), Some(480), Some(60))
    );
    assert_eq!(p["defaultLength"], 8);
    assert_eq!(p["isUsableOnce"], false);
    assert_eq!(
        p["includeTargets"],
        json!([{"targetType": "group", "id": "all_users", "isRegistrationRequired": false}])
    );
    let (_, whole) = app.get("/v1.0/policies/authenticationMethodsPolicy", &t).await;
    assert_eq!(whole["authenticationMethodConfigurations"][0]["id"], "TemporaryAccessPass");
    let (s, e) = app
        .get(
            "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Fido2",
            &t,
        )
        .await;
    assert_graph_error(s, &e, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_policies_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    for bad in [
        json!({"minimumLifetimeInMinutes": 9}),
        json!({"maximumLifetimeInMinutes": 43_201}),
        json!({"defaultLifetimeInMinutes": 30}),
        json!({"minimumLifetimeInMinutes": 500}),
        json!({"defaultLength": 7}),
        json!({"defaultLength": 49}),
        json!({"defaultLength": "twelve"}),
        json!({"state": "maybe"}),
        json!({"includeTargets": [{"targetType": "group", "id": "not-a-guid"}]}),
        json!({"includeTargets": [{"targetType": "group", "id": uuid::Uuid::new_v4().to_string()}]}),
        json!({"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration", "defaultLength": 10}),
        json!({"unknownSetting": true}),
    ] {
        let (s, e) = app.patch(POLICY, &t, bad.clone()).await;
        assert_graph_error(s, &e, StatusCode::BAD_REQUEST);
        let _ = bad;
    }
    let (_, p) = app.get(POLICY, &t).await;
    assert_eq!(p["defaultLength"], 8);
    assert_eq!(p["minimumLifetimeInMinutes"], 60);
}

#[tokio::test]
async fn a_patch_changes_only_what_it_names_and_delete_resets_to_defaults() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let (s, e) = app.patch(POLICY, &t, json!({"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration", "minimumLifetimeInMinutes": 10, "defaultLifetimeInMinutes": 10, "maximumLifetimeInMinutes": 43_200, "defaultLength": 48})).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
    let (_, p) = app.get(POLICY, &t).await;
    assert_eq!(
        (
            p["minimumLifetimeInMinutes"].as_u64(),
            p["maximumLifetimeInMinutes"].as_u64(),
            p["defaultLength"].as_u64()
        ),
        (Some(10), Some(43_200), Some(48))
    );
    assert_eq!(p["state"], "enabled", "untouched");
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    let (_, pass) = app
        .post(
            &format!("/v1.0/users/{bob}/authentication/temporaryAccessPassMethods"),
            &t,
            json!({"lifetimeInMinutes": 43_200}),
        )
        .await;
    assert_eq!(pass["temporaryAccessPass"].as_str().unwrap().len(), 48);
    let (s, _) = app.delete(POLICY, &t).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, p) = app.get(POLICY, &t).await;
    assert_eq!(p["defaultLength"], 8);
    assert_eq!(p["maximumLifetimeInMinutes"], 480);
}
