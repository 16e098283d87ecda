//! Audit records: every change writes one with Entra's activity names, newest first.

use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn activities(app: &TestApp, t: &str) -> Vec<Value> {
    let (s, r) = app.get("/v1.0/auditLogs/directoryAudits?$top=50", t).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    r["value"].as_array().unwrap().clone()
}

#[tokio::test]
async fn issuing_and_deleting_a_pass_are_audited_with_entras_names_and_no_code() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    let (_, p) = app
        .post(
            &format!("/v1.0/users/{bob}/authentication/temporaryAccessPassMethods"),
            &t,
            json!({"isUsableOnce": true}),
        )
        .await;
    let code = p["temporaryAccessPass"].as_str().unwrap().to_owned();
    let id = p["id"].as_str().unwrap();
    app.delete(&format!("/v1.0/users/{bob}/authentication/temporaryAccessPassMethods/{id}"), &t)
        .await;
    let log = activities(&app, &t).await;
    assert_eq!(log[0]["activityDisplayName"], "Admin deleted security info");
    assert_eq!(log[0]["resultReason"], "Admin deleted temporary access pass method for user");
    assert_eq!(log[1]["activityDisplayName"], "Admin registered security info");
    assert_eq!(log[1]["resultReason"], "Admin registered temporary access pass method for user");
    assert_eq!(log[1]["loggedByService"], "Authentication Methods");
    assert_eq!(log[1]["result"], "success");
    assert_eq!(log[1]["initiatedBy"]["app"]["appId"], app.client_id.as_str());
    assert_eq!(log[1]["targetResources"][0]["userPrincipalName"], "bob@contoso.test");
    let props: Vec<&str> = log[1]["targetResources"][0]["modifiedProperties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["displayName"].as_str().unwrap())
        .collect();
    assert!(props.contains(&"TemporaryAccessPass.EndDateTime"));
    let usage = log[1]["targetResources"][0]["modifiedProperties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["displayName"] == "TemporaryAccessPass.AccessPassUsage")
        .unwrap();
    assert_eq!(usage["newValue"], "OneTime");
    let whole = serde_json::to_string(&log).unwrap();
    assert!(!whole.contains(&code), "the audit log never holds a code");
}

#[tokio::test]
async fn directory_and_policy_changes_are_audited_newest_first_and_paged() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    let (_, g) = app.post("/v1.0/groups", &t, json!({"displayName": "G"})).await;
    let gid = g["id"].as_str().unwrap();
    app.post(
        &format!("/v1.0/groups/{gid}/members/$ref"),
        &t,
        json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{bob}")}),
    )
    .await;
    app.post(
        "/v1.0/roleManagement/directory/roleAssignments",
        &t,
        json!({"principalId": bob, "roleDefinitionId": "f2ef992c-3afb-46b9-b7cf-a126ee74c451", "directoryScopeId": "/"}),
    )
    .await;
    app.patch(
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
        &t,
        json!({"defaultLength": 10}),
    )
    .await;
    app.patch(&format!("/v1.0/users/{bob}"), &t, json!({"displayName": "Robert"})).await;
    app.delete(&format!("/v1.0/users/{bob}"), &t).await;
    let log = activities(&app, &t).await;
    let names: Vec<&str> = log.iter().map(|a| a["activityDisplayName"].as_str().unwrap()).collect();
    assert_eq!(
        &names[..7],
        [
            "Delete user",
            "Update user",
            "Update authentication methods policy",
            "Add member to role",
            "Add member to group",
            "Add group",
            "Add user"
        ]
    );
    let policy = &log[2]["targetResources"][0]["modifiedProperties"][0];
    assert!(policy["oldValue"].as_str().unwrap().contains("\"defaultLength\":8"));
    assert!(policy["newValue"].as_str().unwrap().contains("\"defaultLength\":10"));
    let times: Vec<&str> = log.iter().map(|a| a["activityDateTime"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");
    let (_, page1) = app.get("/v1.0/auditLogs/directoryAudits?$top=3", &t).await;
    let next = page1["@odata.nextLink"]
        .as_str()
        .unwrap()
        .strip_prefix(&app.base)
        .unwrap()
        .to_owned();
    let (_, page2) = app.get(&next, &t).await;
    assert_eq!(page2["value"][0]["id"], log[3]["id"]);
}

#[tokio::test]
async fn a_refused_change_writes_no_audit_record() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let before = activities(&app, &t).await.len();
    let (s, _) = app
        .patch(
            "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
            &t,
            json!({"defaultLength": 99}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = app
        .post(
            "/v1.0/users",
            &t,
            json!({"userPrincipalName": "admin@contoso.test", "displayName": "dup"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(activities(&app, &t).await.len(), before);
}

#[tokio::test]
async fn a_pass_expiring_is_recorded_once_in_the_audit_and_sign_in_logs() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    let (_, p) = app
        .post(
            &format!("/v1.0/users/{bob}/authentication/temporaryAccessPassMethods"),
            &t,
            json!({}),
        )
        .await;
    assert_eq!(app.core.record_expired_passes().await.unwrap(), 0, "nothing has expired yet");
    app.advance(chrono::Duration::minutes(61));
    // Both the admin's pass from init and Bob's have now expired.
    assert_eq!(app.core.record_expired_passes().await.unwrap(), 2);
    assert_eq!(app.core.record_expired_passes().await.unwrap(), 0, "each expiry is recorded once");
    let t = app.app_token().await;
    let log = activities(&app, &t).await;
    let expired: Vec<&Value> = log
        .iter()
        .filter(|a| a["activityDisplayName"] == "Temporary Access Pass expired")
        .collect();
    assert_eq!(expired.len(), 2);
    assert!(
        expired
            .iter()
            .any(|a| a["targetResources"][0]["modifiedProperties"][0]["oldValue"] == p["id"])
    );
    let (_, sign_ins) = app.get("/v1.0/auditLogs/signIns", &t).await;
    assert!(
        sign_ins["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["status"]["errorCode"] == 130_504 && s["userPrincipalName"] == "bob@contoso.test"),
        "{sign_ins}"
    );
}
