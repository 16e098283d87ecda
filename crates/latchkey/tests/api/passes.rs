//! Issuing, reading and deleting passes over the Graph API (DESIGN.md "Passes").

use crate::helpers::{TestApp, assert_graph_error};
use chrono::{Duration, SecondsFormat};
use reqwest::StatusCode;
use serde_json::json;

const TAPS: &str = "authentication/temporaryAccessPassMethods";

#[tokio::test]
async fn a_pass_is_created_with_the_policy_defaults_and_its_code_shown_once() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    let (s, created) = app.post(&format!("/v1.0/users/{bob}/{TAPS}"), &t, json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert_eq!(created["@odata.type"], "#microsoft.graph.temporaryAccessPassAuthenticationMethod");
    let code = created["temporaryAccessPass"].as_str().unwrap();
    assert_eq!(code.len(), 8, "default length 8");
    assert_eq!(created["lifetimeInMinutes"], 60);
    assert_eq!(created["isUsableOnce"], false);
    assert_eq!(created["isUsable"], true);
    assert_eq!(created["methodUsabilityReason"], "EnabledByPolicy");
    let id = created["id"].as_str().unwrap();

    let (s, list) = app.get(&format!("/v1.0/users/{bob}/{TAPS}"), &t).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    let item = &list["value"][0];
    assert_eq!(item["id"], id);
    assert!(item.as_object().unwrap().contains_key("temporaryAccessPass"), "the key is present");
    assert!(item["temporaryAccessPass"].is_null(), "but the code is never readable again");
    let (s, one) = app.get(&format!("/beta/users/bob@contoso.test/{TAPS}/{id}"), &t).await;
    assert_eq!(s, StatusCode::OK);
    assert!(one["temporaryAccessPass"].is_null());
}

#[tokio::test]
async fn the_first_admin_holds_global_administrator_and_a_usable_pass_from_init() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let (_, list) = app.get(&format!("/v1.0/users/{}/{TAPS}", app.admin_upn), &t).await;
    assert_eq!(list["value"][0]["methodUsabilityReason"], "EnabledByPolicy");
    let (_, roles) = app
        .get(
            &format!(
                "/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq '{}'",
                app.admin_id
            ),
            &t,
        )
        .await;
    assert_eq!(roles["value"][0]["roleDefinitionId"], "62e90394-69f5-4237-9190-012177145e10");
}

#[tokio::test]
async fn creating_a_second_pass_replaces_the_first() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    let (_, first) = app.post(&format!("/v1.0/users/{bob}/{TAPS}"), &t, json!({})).await;
    let (s, second) = app
        .post(&format!("/v1.0/users/{bob}/{TAPS}"), &t, json!({"lifetimeInMinutes": 120}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_ne!(first["id"], second["id"]);
    let (_, list) = app.get(&format!("/v1.0/users/{bob}/{TAPS}"), &t).await;
    let items = list["value"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one pass per user");
    assert_eq!(items[0]["id"], second["id"]);
    let (s, _) = app
        .get(&format!("/v1.0/users/{bob}/{TAPS}/{}", first["id"].as_str().unwrap()), &t)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_expired_pass_is_replaced_too() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    app.post(&format!("/v1.0/users/{bob}/{TAPS}"), &t, json!({})).await;
    app.advance(Duration::minutes(61));
    let t = app.app_token().await;
    let (_, list) = app.get(&format!("/v1.0/users/{bob}/{TAPS}"), &t).await;
    assert_eq!(list["value"][0]["methodUsabilityReason"], "Expired");
    assert_eq!(list["value"][0]["isUsable"], false);
    let (s, fresh) = app.post(&format!("/v1.0/users/{bob}/{TAPS}"), &t, json!({})).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(fresh["methodUsabilityReason"], "EnabledByPolicy");
}

#[tokio::test]
async fn a_delayed_pass_is_not_yet_valid_until_its_start() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    // The Python SDK sends an offset, not Z (graph-tap-spec.md §1.4).
    let start = (app.clock_now() + Duration::hours(2)).format("%Y-%m-%dT%H:%M:%S+00:00").to_string();
    let (s, p) = app
        .post(
            &format!("/v1.0/users/{bob}/{TAPS}"),
            &t,
            json!({"startDateTime": start, "lifetimeInMinutes": 60, "isUsableOnce": true}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(p["isUsable"], false);
    assert_eq!(p["methodUsabilityReason"], "NotYetValid");
    assert_eq!(
        p["startDateTime"],
        (app.clock_now() + Duration::hours(2)).to_rfc3339_opts(SecondsFormat::Millis, true)
    );
    app.advance(Duration::hours(2));
    let t = app.app_token().await;
    let (_, list) = app.get(&format!("/v1.0/users/{bob}/{TAPS}"), &t).await;
    assert_eq!(list["value"][0]["methodUsabilityReason"], "EnabledByPolicy");
    app.advance(Duration::minutes(60));
    let t = app.app_token().await;
    let (_, list) = app.get(&format!("/v1.0/users/{bob}/{TAPS}"), &t).await;
    assert_eq!(list["value"][0]["methodUsabilityReason"], "Expired");
}

#[tokio::test]
async fn lifetimes_outside_the_policy_range_are_refused_with_a_clear_message() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    for bad in [json!(59), json!(481), json!(0), json!(-1), json!(43_201)] {
        let (s, e) = app
            .post(&format!("/v1.0/users/{bob}/{TAPS}"), &t, json!({"lifetimeInMinutes": bad}))
            .await;
        assert_graph_error(s, &e, StatusCode::BAD_REQUEST);
        assert!(e["error"]["message"].as_str().unwrap().contains("between 60 and 480"), "{e}");
    }
    let (s, _) = app
        .post(&format!("/v1.0/users/{bob}/{TAPS}"), &t, json!({"lifetimeInMinutes": 480}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test]
async fn a_policy_forcing_one_time_use_refuses_multi_use_and_defaults_to_one_time() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    let (s, _) = app
        .patch(
            "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
            &t,
            json!({"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration", "isUsableOnce": true}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, e) = app
        .post(&format!("/v1.0/users/{bob}/{TAPS}"), &t, json!({"isUsableOnce": false}))
        .await;
    assert_graph_error(s, &e, StatusCode::BAD_REQUEST);
    let (s, p) = app.post(&format!("/v1.0/users/{bob}/{TAPS}"), &t, json!({})).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(p["isUsableOnce"], true);
}

#[tokio::test]
async fn a_multi_use_pass_becomes_disabled_by_policy_when_the_policy_demands_one_time() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    app.post(&format!("/v1.0/users/{bob}/{TAPS}"), &t, json!({"isUsableOnce": false}))
        .await;
    app.patch(
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
        &t,
        json!({"isUsableOnce": true}),
    )
    .await;
    let (_, list) = app.get(&format!("/v1.0/users/{bob}/{TAPS}"), &t).await;
    assert_eq!(list["value"][0]["methodUsabilityReason"], "DisabledByPolicy");
    assert_eq!(list["value"][0]["isUsable"], false);
}

#[tokio::test]
async fn passes_are_created_for_users_outside_the_policy_scope_but_report_disabled_by_policy() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    let (_, g) = app
        .post(
            "/v1.0/groups",
            &t,
            json!({"displayName": "Onboarding", "mailEnabled": false, "securityEnabled": true, "mailNickname": "onb"}),
        )
        .await;
    let gid = g["id"].as_str().unwrap();
    let (s, e) = app
        .patch(
            "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations('TemporaryAccessPass')",
            &t,
            json!({"includeTargets": [{"targetType": "group", "id": gid, "isRegistrationRequired": false}]}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
    let (s, p) = app.post(&format!("/v1.0/users/{bob}/{TAPS}"), &t, json!({})).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(p["methodUsabilityReason"], "DisabledByPolicy");
    let (s, _) = app
        .post(
            &format!("/v1.0/groups/{gid}/members/$ref"),
            &t,
            json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{bob}")}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, list) = app.get(&format!("/v1.0/users/{bob}/{TAPS}"), &t).await;
    assert_eq!(list["value"][0]["methodUsabilityReason"], "EnabledByPolicy");
    // Exclusion wins over inclusion.
    app.patch(
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryaccesspass",
        &t,
        json!({"excludeTargets": [{"targetType": "group", "id": gid}]}),
    )
    .await;
    let (_, list) = app.get(&format!("/v1.0/users/{bob}/{TAPS}"), &t).await;
    assert_eq!(list["value"][0]["methodUsabilityReason"], "DisabledByPolicy");
}

#[tokio::test]
async fn a_disabled_policy_refuses_new_passes_with_entras_message() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    app.patch(
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
        &t,
        json!({"state": "disabled"}),
    )
    .await;
    let (s, e) = app.post(&format!("/v1.0/users/{bob}/{TAPS}"), &t, json!({})).await;
    assert_graph_error(s, &e, StatusCode::BAD_REQUEST);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Converged UserCredentialPolicy does not allow"),
        "{e}"
    );
}

#[tokio::test]
async fn an_external_guest_cannot_get_a_pass_but_an_internal_guest_can() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let (s, inv) = app
        .post(
            "/v1.0/invitations",
            &t,
            json!({"invitedUserEmailAddress": "eve@fabrikam.test", "inviteRedirectUrl": "https://myapps.example"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{inv}");
    let eve = inv["invitedUser"]["id"].as_str().unwrap();
    let (s, e) = app.post(&format!("/v1.0/users/{eve}/{TAPS}"), &t, json!({})).await;
    assert_graph_error(s, &e, StatusCode::BAD_REQUEST);
    assert_eq!(
        e["error"]["message"],
        "Temporary Access Pass cannot be added to an external guest user."
    );
    let guest = app.create_user(&t, "gina@contoso.test", "Guest").await;
    let (s, p) = app.post(&format!("/v1.0/users/{guest}/{TAPS}"), &t, json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
}

#[tokio::test]
async fn deleting_a_pass_removes_it_and_a_wrong_id_is_not_found() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    let (_, p) = app.post(&format!("/v1.0/users/{bob}/{TAPS}"), &t, json!({})).await;
    let id = p["id"].as_str().unwrap();
    let (s, e) = app.delete(&format!("/v1.0/users/{bob}/{TAPS}/{}", uuid::Uuid::new_v4()), &t).await;
    assert_graph_error(s, &e, StatusCode::NOT_FOUND);
    let (s, e) = app.delete(&format!("/v1.0/users/{bob}/{TAPS}/not-a-guid"), &t).await;
    assert_graph_error(s, &e, StatusCode::NOT_FOUND);
    let (s, body) = app.delete(&format!("/v1.0/users/{bob}/{TAPS}/{id}"), &t).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(body.is_null());
    let (_, list) = app.get(&format!("/v1.0/users/{bob}/{TAPS}"), &t).await;
    assert!(list["value"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_methods_list_is_polymorphic_and_shows_the_password_when_set() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let (s, u) = app.post("/v1.0/users", &t, json!({"userPrincipalName": "pat@contoso.test", "displayName": "Pat", "passwordProfile": {"password": "correct horse battery", "forceChangePasswordNextSignIn": false}})).await;
    assert_eq!(s, StatusCode::CREATED, "{u}");
    let pat = u["id"].as_str().unwrap();
    app.post(&format!("/v1.0/users/{pat}/{TAPS}"), &t, json!({})).await;
    let (s, m) = app.get(&format!("/v1.0/users/{pat}/authentication/methods"), &t).await;
    assert_eq!(s, StatusCode::OK);
    let types: Vec<&str> = m["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["@odata.type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "#microsoft.graph.passwordAuthenticationMethod",
            "#microsoft.graph.temporaryAccessPassAuthenticationMethod"
        ]
    );
    assert!(m["value"][0]["password"].is_null());
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    let (_, m) = app.get(&format!("/v1.0/users/{bob}/authentication/methods"), &t).await;
    assert!(m["value"].as_array().unwrap().is_empty(), "no password, no pass: {m}");
}

#[tokio::test]
async fn a_code_cannot_be_chosen_by_the_caller() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    let (s, e) = app
        .post(
            &format!("/v1.0/users/{bob}/{TAPS}"),
            &t,
            json!({"temporaryAccessPass": "letmein123"}),
        )
        .await;
    assert_graph_error(s, &e, StatusCode::BAD_REQUEST);
    // An SDK echoing the read-only properties back is fine.
    let (s, _) = app.post(&format!("/v1.0/users/{bob}/{TAPS}"), &t, json!({"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethod", "temporaryAccessPass": null, "isUsable": true, "methodUsabilityReason": "x"})).await;
    assert_eq!(s, StatusCode::CREATED);
}

impl TestApp {
    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        latchkey_core::Clock::now(&*self.clock)
    }
}
