//! Users, groups, invitations: shapes, paging, `$filter`, `$select`.

use crate::helpers::{TestApp, assert_graph_error};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn users_are_found_by_id_upn_key_syntax_and_percent_encoding() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let id = app.create_user(&t, "Alice.Smith@contoso.test", "Member").await;
    for path in [
        format!("/v1.0/users/{id}"),
        format!("/v1.0/users/{}", id.to_uppercase()),
        "/v1.0/users/alice.smith@contoso.test".to_owned(),
        "/v1.0/users/Alice.Smith%40contoso.test".to_owned(),
        "/v1.0/users('alice.smith@contoso.test')".to_owned(),
        "/beta/users('Alice.Smith%40contoso.test')".to_owned(),
    ] {
        let (s, u) = app.get(&path, &t).await;
        assert_eq!(s, StatusCode::OK, "{path}: {u}");
        assert_eq!(u["id"], id.as_str());
        assert_eq!(u["userPrincipalName"], "Alice.Smith@contoso.test", "spelling kept");
    }
    let (s, e) = app.get("/v1.0/users/nobody@contoso.test", &t).await;
    assert_graph_error(s, &e, StatusCode::NOT_FOUND);
    assert_eq!(e["error"]["code"], "Request_ResourceNotFound");
}

#[tokio::test]
async fn user_principal_names_are_unique_ignoring_case() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    app.create_user(&t, "dup@contoso.test", "Member").await;
    let (s, e) = app
        .post(
            "/v1.0/users",
            &t,
            json!({"userPrincipalName": "DUP@contoso.test", "displayName": "Dup"}),
        )
        .await;
    assert_graph_error(s, &e, StatusCode::BAD_REQUEST);
    assert!(e["error"]["message"].as_str().unwrap().contains("already exists"));
}

#[tokio::test]
async fn users_page_with_top_and_next_link_until_the_end() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    for i in 0..7 {
        app.create_user(&t, &format!("u{i}@contoso.test"), "Member").await;
    }
    let mut seen = Vec::new();
    let mut url = "/v1.0/users?$top=3".to_owned();
    loop {
        let (s, page) = app.get(&url, &t).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        seen.extend(
            page["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["userPrincipalName"].as_str().unwrap().to_owned()),
        );
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = next.strip_prefix(&app.base).expect("absolute link to this server").to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 8, "7 users and the admin: {seen:?}");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 8, "no duplicates across pages");
}

#[tokio::test]
async fn users_filter_with_eq_and_startswith_and_select_trims_properties() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    app.create_user(&t, "ann@contoso.test", "Member").await;
    app.create_user(&t, "andy@contoso.test", "Guest").await;
    app.create_user(&t, "bob@contoso.test", "Member").await;
    let (s, r) = app.get("/v1.0/users?$filter=startswith(userPrincipalName,'an')", &t).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["value"].as_array().unwrap().len(), 2);
    let (_, r) = app
        .get("/v1.0/users?$filter=startswith(displayName,'AN') and userType eq 'Guest'", &t)
        .await;
    assert_eq!(r["value"].as_array().unwrap().len(), 1);
    assert_eq!(r["value"][0]["userPrincipalName"], "andy@contoso.test");
    let (_, r) = app
        .get(
            "/v1.0/users?$filter=userPrincipalName eq 'BOB@contoso.test'&$select=displayName&$count=true",
            &t,
        )
        .await;
    assert_eq!(r["@odata.count"], 1);
    let bob = r["value"][0].as_object().unwrap();
    let mut keys: Vec<&str> = bob.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["displayName", "id"], "{bob:?}");
    let (_, r) = app.get("/v1.0/users?$filter=startswith(displayName,'%')", &t).await;
    assert!(r["value"].as_array().unwrap().is_empty(), "% is literal");
    for bad in [
        "/v1.0/users?$filter=jobTitle eq 'x'",
        "/v1.0/users?$orderby=displayName",
        "/v1.0/users?$top=0",
        "/v1.0/users?$top=1000",
        "/v1.0/users?$top=x",
        "/v1.0/users?$select=nope",
        "/v1.0/users?$skiptoken=abc",
    ] {
        let (s, e) = app.get(bad, &t).await;
        assert_graph_error(s, &e, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn users_can_be_updated_and_deleted_and_deletion_takes_their_pass() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let id = app.create_user(&t, "cara@contoso.test", "Member").await;
    app.post(
        &format!("/v1.0/users/{id}/authentication/temporaryAccessPassMethods"),
        &t,
        json!({}),
    )
    .await;
    let (s, _) = app
        .patch(
            &format!("/v1.0/users/{id}"),
            &t,
            json!({"displayName": "Cara B", "userType": "Guest", "accountEnabled": false}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, u) = app.get(&format!("/v1.0/users/{id}"), &t).await;
    assert_eq!(
        (u["displayName"].as_str(), u["userType"].as_str(), u["accountEnabled"].as_bool()),
        (Some("Cara B"), Some("Guest"), Some(false))
    );
    let (s, e) = app.patch(&format!("/v1.0/users/{id}"), &t, json!({"jobTitle": "x"})).await;
    assert_graph_error(s, &e, StatusCode::BAD_REQUEST);
    let (s, _) = app.delete(&format!("/v1.0/users/{id}"), &t).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app
        .get(&format!("/v1.0/users/{id}/authentication/temporaryAccessPassMethods"), &t)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invitations_create_external_guests_in_entras_form() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let (s, inv) = app.post("/v1.0/invitations", &t, json!({"invitedUserEmailAddress": "Eve@Fabrikam.test", "inviteRedirectUrl": "https://myapps.example", "sendInvitationMessage": false})).await;
    assert_eq!(s, StatusCode::CREATED, "{inv}");
    assert_eq!(inv["status"], "PendingAcceptance");
    let (_, u) = app
        .get(&format!("/v1.0/users/{}", inv["invitedUser"]["id"].as_str().unwrap()), &t)
        .await;
    assert_eq!(u["userType"], "Guest");
    assert_eq!(u["creationType"], "Invitation");
    assert_eq!(u["userPrincipalName"], "Eve_Fabrikam.test#EXT#@contoso.test");
    let (s, e) = app
        .post(
            "/v1.0/invitations",
            &t,
            json!({"invitedUserEmailAddress": "not-an-address", "inviteRedirectUrl": "https://x.example"}),
        )
        .await;
    assert_graph_error(s, &e, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn groups_hold_members_added_by_reference() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    let (s, g) = app
        .post(
            "/v1.0/groups",
            &t,
            json!({"displayName": "New hires", "mailEnabled": false, "mailNickname": "newhires", "securityEnabled": true}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    let gid = g["id"].as_str().unwrap();
    let reference = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{bob}")});
    let (s, _) = app.post(&format!("/v1.0/groups/{gid}/members/$ref"), &t, reference.clone()).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, e) = app.post(&format!("/v1.0/groups/{gid}/members/$ref"), &t, reference).await;
    assert_graph_error(s, &e, StatusCode::BAD_REQUEST);
    let (_, m) = app.get(&format!("/v1.0/groups/{gid}/members"), &t).await;
    assert_eq!(m["value"][0]["id"], bob.as_str());
    assert_eq!(m["value"][0]["@odata.type"], "#microsoft.graph.user");
    let (s, _) = app.delete(&format!("/v1.0/groups/{gid}/members/{bob}/$ref"), &t).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, e) = app.delete(&format!("/v1.0/groups/{gid}/members/{bob}/$ref"), &t).await;
    assert_graph_error(s, &e, StatusCode::NOT_FOUND);
    let (_, list) = app.get("/v1.0/groups", &t).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    let (s, _) = app.delete(&format!("/v1.0/groups/{gid}"), &t).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, e) = app.get(&format!("/v1.0/groups/{gid}"), &t).await;
    assert_graph_error(s, &e, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn role_definitions_carry_entras_template_ids_and_assignments_round_trip() {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let (_, defs) = app.get("/v1.0/roleManagement/directory/roleDefinitions", &t).await;
    let ids: Vec<&str> = defs["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"62e90394-69f5-4237-9190-012177145e10"));
    assert!(ids.contains(&"c4e39bd9-1100-46d3-8c65-fb160da0071f"));
    let bob = app.create_user(&t, "bob@contoso.test", "Member").await;
    let body = json!({"principalId": bob, "roleDefinitionId": "c4e39bd9-1100-46d3-8c65-fb160da0071f", "directoryScopeId": "/"});
    let (s, a) = app.post("/v1.0/roleManagement/directory/roleAssignments", &t, body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let (s, e) = app.post("/v1.0/roleManagement/directory/roleAssignments", &t, body).await;
    assert_graph_error(s, &e, StatusCode::BAD_REQUEST);
    let (s, e) = app.post("/v1.0/roleManagement/directory/roleAssignments", &t, json!({"principalId": bob, "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10", "directoryScopeId": "/administrativeUnits/x"})).await;
    assert_graph_error(s, &e, StatusCode::BAD_REQUEST);
    let (_, list) = app
        .get(
            &format!("/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq '{bob}'"),
            &t,
        )
        .await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    let (s, got) = app
        .get(
            &format!("/v1.0/roleManagement/directory/roleAssignments/{}", a["id"].as_str().unwrap()),
            &t,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got["directoryScopeId"], "/");
}
