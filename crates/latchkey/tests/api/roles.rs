//! The role rules of DESIGN.md "Who may do what", over HTTP with delegated tokens:
//! every role × target kind × action.

use crate::helpers::TestApp;
use latchkey_core::directory::DirectoryRole as R;
use reqwest::StatusCode;
use serde_json::json;

const TAPS: &str = "authentication/temporaryAccessPassMethods";
const PASSWORD: &str = "correct horse battery staple";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Member,
    Admin,
    InternalGuest,
    ExternalGuest,
    Itself,
}

struct World {
    app: TestApp,
    client: crate::sign_in::Client,
    app_token: String,
    member: String,
    admin: String,
    guest: String,
    external: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let t = app.app_token().await;
    let member = app.create_user(&t, "member@contoso.test", "Member").await;
    let admin = app.create_user(&t, "helpdesk-lead@contoso.test", "Member").await;
    app.assign(&admin, R::GlobalReader).await;
    let guest = app.create_user(&t, "guest@contoso.test", "Guest").await;
    let (_, inv) = app
        .post(
            "/v1.0/invitations",
            &t,
            json!({"invitedUserEmailAddress": "ext@fabrikam.test", "inviteRedirectUrl": "https://x.example"}),
        )
        .await;
    let external = inv["invitedUser"]["id"].as_str().unwrap().to_owned();
    let client = crate::sign_in::spa_client(&app).await;
    World {
        app,
        client,
        app_token: t,
        member,
        admin,
        guest,
        external,
    }
}

impl World {
    async fn caller(&self, role: Option<R>) -> (String, String) {
        let upn = format!("caller-{}@contoso.test", uuid::Uuid::new_v4().simple());
        let (status, created) = self
            .app
            .post(
                "/v1.0/users",
                &self.app_token,
                json!({"userPrincipalName": upn, "displayName": "Caller", "passwordProfile": {"password": PASSWORD}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        if let Some(r) = role {
            self.app.assign(&id, r).await;
        }
        (id.clone(), self.sign_in(&upn).await)
    }

    /// A delegated token the real way: the sign-in pages and the code flow. Callers sign in
    /// with a password so that giving themselves a pass does not end their own session.
    async fn sign_in(&self, upn: &str) -> String {
        use crate::sign_in::{VERIFIER, code_from, redeem, start, submit_secret};
        let mut b = crate::browser::Browser::new(&self.app.base);
        let prompt = start(&self.app, &mut b, &self.client, upn).await;
        let done = submit_secret(&self.app, &mut b, &prompt, "password", PASSWORD).await;
        let (s, tokens) = redeem(&self.app, &self.client, &code_from(done.location.as_deref().unwrap()), VERIFIER).await;
        assert_eq!(s, StatusCode::OK, "{tokens}");
        tokens["access_token"].as_str().unwrap().to_owned()
    }

    fn target_id<'a>(&'a self, t: Target, caller: &'a str) -> &'a str {
        match t {
            Target::Member => &self.member,
            Target::Admin => &self.admin,
            Target::InternalGuest => &self.guest,
            Target::ExternalGuest => &self.external,
            Target::Itself => caller,
        }
    }

    async fn give_pass(&self, user: &str) -> Option<String> {
        let (s, p) = self
            .app
            .post(&format!("/v1.0/users/{user}/{TAPS}"), &self.app_token, json!({}))
            .await;
        (s == StatusCode::CREATED).then(|| p["id"].as_str().unwrap().to_owned())
    }
}

const ROLES: [Option<R>; 6] = [
    Some(R::GlobalAdministrator),
    Some(R::PrivilegedAuthenticationAdministrator),
    Some(R::AuthenticationAdministrator),
    Some(R::AuthenticationPolicyAdministrator),
    Some(R::GlobalReader),
    None,
];
const TARGETS: [Target; 5] = [
    Target::Member,
    Target::Admin,
    Target::InternalGuest,
    Target::ExternalGuest,
    Target::Itself,
];

fn can_manage(role: Option<R>, target: Target) -> bool {
    match role {
        Some(R::GlobalAdministrator | R::PrivilegedAuthenticationAdministrator) => true,
        Some(R::AuthenticationAdministrator) => target != Target::Admin,
        _ => false,
    }
}

#[tokio::test]
async fn who_may_create_a_pass_for_whom() {
    let w = world().await;
    for role in ROLES {
        let (me, token) = w.caller(role).await;
        for target in TARGETS {
            let id = w.target_id(target, &me);
            let (s, body) = w.app.post(&format!("/v1.0/users/{id}/{TAPS}"), &token, json!({})).await;
            let expected = if target == Target::Itself || !can_manage(role, target) {
                StatusCode::FORBIDDEN
            } else if target == Target::ExternalGuest {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::CREATED
            };
            assert_eq!(s, expected, "{role:?} creating for {target:?}: {body}");
            if s == StatusCode::CREATED {
                assert!(body["temporaryAccessPass"].is_string());
            }
        }
    }
}

#[tokio::test]
async fn who_may_read_a_pass() {
    let w = world().await;
    for role in ROLES {
        let (me, token) = w.caller(role).await;
        for target in TARGETS {
            let id = w.target_id(target, &me).to_owned();
            w.give_pass(&id).await;
            let (s, body) = w.app.get(&format!("/v1.0/users/{id}/{TAPS}"), &token).await;
            let allowed = target == Target::Itself || can_manage(role, target) || role == Some(R::GlobalReader);
            assert_eq!(
                s,
                if allowed { StatusCode::OK } else { StatusCode::FORBIDDEN },
                "{role:?} reading {target:?}: {body}"
            );
            if s == StatusCode::OK {
                for item in body["value"].as_array().unwrap() {
                    assert!(item["temporaryAccessPass"].is_null(), "nobody reads a code back, not even {role:?}");
                }
            }
        }
    }
}

#[tokio::test]
async fn who_may_delete_a_pass() {
    let w = world().await;
    for role in ROLES {
        let (me, token) = w.caller(role).await;
        for target in TARGETS {
            let id = w.target_id(target, &me).to_owned();
            let Some(pass) = w.give_pass(&id).await else {
                assert_eq!(target, Target::ExternalGuest);
                continue;
            };
            let (s, body) = w.app.delete(&format!("/v1.0/users/{id}/{TAPS}/{pass}"), &token).await;
            let allowed = target == Target::Itself || can_manage(role, target);
            assert_eq!(
                s,
                if allowed { StatusCode::NO_CONTENT } else { StatusCode::FORBIDDEN },
                "{role:?} deleting {target:?}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn only_policy_and_global_admins_edit_the_policy_and_readers_only_read_it() {
    let w = world().await;
    let path = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass";
    for role in ROLES {
        let (_, token) = w.caller(role).await;
        let (s, body) = w.app.patch(path, &token, json!({"defaultLength": 12})).await;
        let may_write = matches!(role, Some(R::GlobalAdministrator | R::AuthenticationPolicyAdministrator));
        assert_eq!(
            s,
            if may_write { StatusCode::NO_CONTENT } else { StatusCode::FORBIDDEN },
            "{role:?} patching: {body}"
        );
        let (s, _) = w.app.get(path, &token).await;
        let may_read = may_write || role == Some(R::GlobalReader);
        assert_eq!(
            s,
            if may_read { StatusCode::OK } else { StatusCode::FORBIDDEN },
            "{role:?} reading the policy"
        );
    }
}

#[tokio::test]
async fn a_role_removed_in_the_directory_stops_working_at_once_even_with_a_token_naming_it() {
    let w = world().await;
    let (me, token) = w.caller(Some(R::AuthenticationAdministrator)).await;
    let (s, _) = w.app.post(&format!("/v1.0/users/{}/{TAPS}", w.member), &token, json!({})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, list) = w
        .app
        .get(
            &format!("/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq '{me}'"),
            &w.app_token,
        )
        .await;
    let assignment = list["value"][0]["id"].as_str().unwrap().to_owned();
    let (s, _) = w
        .app
        .delete(
            &format!("/v1.0/roleManagement/directory/roleAssignments/{assignment}"),
            &w.app_token,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = w.app.post(&format!("/v1.0/users/{}/{TAPS}", w.member), &token, json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_user_can_list_and_delete_their_own_pass_through_me() {
    let w = world().await;
    let (me, token) = w.caller(None).await;
    let pass = w.give_pass(&me).await.unwrap();
    let (s, list) = w.app.get("/v1.0/me/authentication/temporaryAccessPassMethods", &token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["value"][0]["id"], pass.as_str());
    let (s, methods) = w.app.get("/v1.0/me/authentication/methods", &token).await;
    assert_eq!(s, StatusCode::OK);
    let kinds: Vec<&str> = methods["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["@odata.type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "#microsoft.graph.passwordAuthenticationMethod",
            "#microsoft.graph.temporaryAccessPassAuthenticationMethod"
        ]
    );
    let (s, _) = w
        .app
        .delete(&format!("/v1.0/me/authentication/temporaryAccessPassMethods/{pass}"), &token)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, audit) = w.app.get("/v1.0/auditLogs/directoryAudits?$top=1", &w.app_token).await;
    assert_eq!(audit["value"][0]["activityDisplayName"], "User deleted security info");
    // App-only callers have no /me.
    let (s, _) = w.app.get("/v1.0/me/authentication/temporaryAccessPassMethods", &w.app_token).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn applications_need_the_matching_permission() {
    let w = world().await;
    let read_only = w.app.app_token_with_roles(&["UserAuthenticationMethod.Read.All"]);
    let (s, _) = w.app.get(&format!("/v1.0/users/{}/{TAPS}", w.member), &read_only).await;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = w.app.post(&format!("/v1.0/users/{}/{TAPS}", w.member), &read_only, json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    let (s, _) = w.app.get("/v1.0/users", &read_only).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "no User.Read.All");
    let (s, _) = w
        .app
        .patch(
            "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
            &read_only,
            json!({"defaultLength": 9}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let writer = w.app.app_token_with_roles(&["UserAuthenticationMethod.ReadWrite.All"]);
    let (s, _) = w.app.post(&format!("/v1.0/users/{}/{TAPS}", w.admin), &writer, json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "apps may issue passes to admins too");
    let policy = w.app.app_token_with_roles(&["Policy.ReadWrite.AuthenticationMethod"]);
    let (s, _) = w
        .app
        .patch(
            "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
            &policy,
            json!({"defaultLength": 9}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}
