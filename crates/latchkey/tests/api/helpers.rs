//! `TestApp::spawn`: a fresh database, a fake clock, the real router on port 0.

use chrono::Duration;
use latchkey::startup;
use latchkey_core::authz::Caller;
use latchkey_core::directory::DirectoryRole;
use latchkey_core::service::InitRequest;
use latchkey_core::{Clock, Latchkey};
use latchkey_http::AppState;
use latchkey_http::tokens::AccessClaims;
use latchkey_testkit::FakeClock;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

pub struct TestApp {
    pub base: String,
    pub clock: Arc<FakeClock>,
    pub state: AppState,
    pub core: Latchkey,
    pub dir: PathBuf,
    pub tenant_id: String,
    pub admin_id: String,
    pub admin_upn: String,
    pub client_id: String,
    pub client_secret: String,
    pub http: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("latchkey-test-{tag}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fresh SQLite file URL in `dir`.
pub fn sqlite_url(dir: &std::path::Path) -> String {
    format!("sqlite:{}", dir.join("latchkey.db").display())
}

impl TestApp {
    /// A new tenant on a fresh SQLite database.
    pub async fn spawn() -> Self {
        let dir = temp_dir("app");
        let url = sqlite_url(&dir);
        Self::spawn_on(dir, url).await
    }

    /// A new tenant on the given (empty) database.
    pub async fn spawn_on(dir: PathBuf, database_url: String) -> Self {
        let clock = Arc::new(FakeClock::at(
            latchkey_core::Clock::now(&latchkey_core::SystemClock).with_nanosecond_zeroed(),
        ));
        let store = startup::open_serving_store(&database_url, true, latchkey_store::ChangeWatch::Exact)
            .await
            .unwrap();
        let core = startup::core(store, Some(clock.clone() as Arc<dyn Clock>));
        let key_file = dir.join("latchkey.key");
        let (key, _) = latchkey::master_key::read_or_create(&key_file).unwrap();
        let signing_key = latchkey_http::tokens::generate_signing_key(&key, core.now()).unwrap();
        let out = core
            .initialise(
                InitRequest {
                    domain: "contoso.test".into(),
                    admin_upn: None,
                    signing_key,
                },
                &key,
            )
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        // localhost, not 127.0.0.1: a passkey's relying-party id must be a domain name.
        let base = format!("http://localhost:{}", listener.local_addr().unwrap().port());
        let state = startup::server_state(core.clone(), &key_file, &base).await.unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(latchkey_http::serve(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        Self {
            base,
            clock,
            state,
            core,
            dir,
            tenant_id: out.tenant.id.to_string(),
            admin_id: out.admin.id.to_string(),
            admin_upn: out.admin.user_principal_name.to_string(),
            client_id: out.client_app_id.to_string(),
            client_secret: out.client_secret.expose().to_owned(),
            http: reqwest::Client::new(),
            shutdown: Some(tx),
        }
    }

    /// An app-only token from the token endpoint, as automation gets one.
    pub async fn app_token(&self) -> String {
        let r = self
            .http
            .post(format!("{}/{}/oauth2/v2.0/token", self.base, self.tenant_id))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &self.client_id),
                ("client_secret", &self.client_secret),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
    }

    /// Claims as the token endpoint would write them, for the init client, valid an hour.
    fn claims(&self, idtyp: &str, sub: &str) -> AccessClaims {
        let now = self.clock.now().timestamp();
        AccessClaims {
            aud: "https://graph.microsoft.com".into(),
            iss: self.state.issuer(),
            iat: now,
            nbf: Some(now),
            exp: now + 3600,
            tid: self.tenant_id.clone(),
            sub: sub.into(),
            azp: self.client_id.clone(),
            appid: self.client_id.clone(),
            idtyp: idtyp.into(),
            roles: vec![],
            oid: None,
            wids: vec![],
            scp: None,
            preferred_username: None,
            ver: "2.0".into(),
            jti: uuid::Uuid::new_v4().to_string(),
            sid: None,
        }
    }

    /// A delegated token for a user, naming the given roles in `wids`, signed with the
    /// tenant's key but from no session. (Tests that need the real thing sign in: see
    /// `roles.rs` and `sign_in.rs`.)
    pub fn user_token(&self, user_id: &str, upn: &str, roles: &[DirectoryRole]) -> String {
        let claims = AccessClaims {
            oid: Some(user_id.into()),
            wids: roles.iter().map(|r| r.template_id().to_owned()).collect(),
            scp: Some("UserAuthenticationMethod.ReadWrite.All".into()),
            preferred_username: Some(upn.into()),
            ..self.claims("user", user_id)
        };
        self.state.keys.sign(&claims).unwrap()
    }

    /// An app-only token for the init client naming only `roles` (its application
    /// permissions are the intersection of these and what it was granted).
    pub fn app_token_with_roles(&self, roles: &[&str]) -> String {
        let claims = AccessClaims {
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            ..self.claims("app", &self.client_id)
        };
        self.state.keys.sign(&claims).unwrap()
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }
    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(token), Some(body)).await
    }
    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Creates a user through the API and returns its id.
    pub async fn create_user(&self, token: &str, upn: &str, user_type: &str) -> String {
        let (s, v) = self
            .post(
                "/v1.0/users",
                token,
                json!({"userPrincipalName": upn, "displayName": upn.split('@').next().unwrap(), "userType": user_type}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["id"].as_str().unwrap().to_owned()
    }

    /// Gives a user a role directly (as an operator would).
    pub async fn assign(&self, user_id: &str, role: DirectoryRole) {
        self.core
            .assign_role(&Caller::Operator { name: "test".into() }, user_id, role.template_id(), "/")
            .await
            .unwrap();
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }
}

/// Asserts a Graph error envelope with the given status.
pub fn assert_graph_error(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    let e = &body["error"];
    assert!(e["code"].as_str().is_some_and(|c| !c.is_empty()), "no code: {body}");
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "no message: {body}");
    assert!(e["innerError"]["request-id"].as_str().is_some(), "no request-id: {body}");
    assert!(e["innerError"]["date"].as_str().is_some(), "no date: {body}");
}

trait ZeroNanos {
    fn with_nanosecond_zeroed(self) -> Self;
}
impl ZeroNanos for chrono::DateTime<chrono::Utc> {
    fn with_nanosecond_zeroed(self) -> Self {
        chrono::DateTime::from_timestamp(self.timestamp(), 0).unwrap()
    }
}
