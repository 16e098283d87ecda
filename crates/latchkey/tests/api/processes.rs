//! The real binary as separate processes: several servers on one PostgreSQL database,
//! and a server killed in the middle of writes.

use crate::cli::latchkey;
use crate::helpers::{sqlite_url, temp_dir};
use latchkey_core::authz::Caller;
use latchkey_core::directory::Page;
use serde_json::{Value, json};
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};

/// A `latchkey serve` child process; its stderr (the log) is captured.
pub struct ServerProcess {
    child: Child,
    pub base: String,
    logs: Arc<Mutex<String>>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl ServerProcess {
    pub fn start(dir: &Path, db: &str) -> Self {
        Self::start_with_public_url(dir, db, None)
    }

    /// Servers behind one load balancer share a public URL (it names the token issuer).
    pub fn start_with_public_url(dir: &Path, db: &str, public_url: Option<&str>) -> Self {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let public = public_url.map_or_else(|| base.clone(), str::to_owned);
        let mut child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .current_dir(dir)
            .env("LATCHKEY_LOG", "debug")
            .args([
                "--database-url",
                db,
                "--master-key-file",
                dir.join("latchkey.key").to_str().unwrap(),
            ])
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--public-url", &public])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let logs = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("latchkey serving") {
                    let _ = ready_tx.send(());
                }
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        ready_rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("server did not start: {}", logs.lock().unwrap()));
        Self { child, base, logs }
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn init_json(dir: &Path, db: &str) -> Value {
    let out = latchkey(dir, db, &["init", "--output", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

pub async fn app_token(http: &reqwest::Client, base: &str, init: &Value) -> String {
    let r: Value = http
        .post(format!("{base}/{}/oauth2/v2.0/token", init["tenantId"].as_str().unwrap()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", init["client"]["clientId"].as_str().unwrap()),
            ("client_secret", init["client"]["clientSecret"].as_str().unwrap()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn two_servers_on_one_postgres_database_see_each_others_writes_at_once() {
    let Some(base_url) = latchkey_testkit::postgres_url_or_skip("two_servers_on_one_postgres_database_see_each_others_writes_at_once")
    else {
        return;
    };
    let db = latchkey_testkit::fresh_postgres_database(&base_url).await;
    let dir = temp_dir("pg2");
    let init = init_json(&dir, &db);
    let a = ServerProcess::start_with_public_url(&dir, &db, Some("https://id.contoso.test"));
    let b = ServerProcess::start_with_public_url(&dir, &db, Some("https://id.contoso.test"));
    let http = reqwest::Client::new();
    let ta = app_token(&http, &a.base, &init).await;
    let tb = app_token(&http, &b.base, &init).await;
    let get = |base: &str, path: &str, t: &str| {
        let req = http.get(format!("{base}{path}")).bearer_auth(t);
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // A token from one server works on the other: same keys, same issuer tenant.
    let r = http
        .post(format!("{}/v1.0/users", a.base))
        .bearer_auth(&tb)
        .json(&json!({"userPrincipalName": "pg@contoso.test", "displayName": "PG"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (s, u) = get(&b.base, "/v1.0/users/pg@contoso.test", &ta).await;
    assert_eq!(s, 200, "{u}");
    let id = u["id"].as_str().unwrap().to_owned();
    // Each server reads first, so a stale copy (latchkey_core::read_cache) would show below.
    let passes = format!("/v1.0/users/{id}/authentication/temporaryAccessPassMethods");
    let tap_policy = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass";
    for _ in 0..2 {
        assert!(get(&a.base, &passes, &ta).await.1["value"].as_array().unwrap().is_empty());
        assert!(get(&b.base, &passes, &tb).await.1["value"].as_array().unwrap().is_empty());
        assert_eq!(get(&b.base, tap_policy, &tb).await.1["defaultLength"], 8);
    }
    let r = http
        .post(format!("{}/v1.0/users/{id}/authentication/temporaryAccessPassMethods", b.base))
        .bearer_auth(&tb)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let pass: Value = r.json().await.unwrap();
    let (_, list) = get(&a.base, &format!("/v1.0/users/{id}/authentication/temporaryAccessPassMethods"), &ta).await;
    assert_eq!(list["value"][0]["id"], pass["id"]);
    let r = http
        .patch(format!(
            "{}/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
            a.base
        ))
        .bearer_auth(&ta)
        .json(&json!({"defaultLength": 20}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (_, p) = get(
        &b.base,
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
        &tb,
    )
    .await;
    assert_eq!(p["defaultLength"], 20);
    let r = http
        .delete(format!(
            "{}/v1.0/users/{id}/authentication/temporaryAccessPassMethods/{}",
            a.base,
            pass["id"].as_str().unwrap()
        ))
        .bearer_auth(&ta)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (_, list) = get(&b.base, &format!("/v1.0/users/{id}/authentication/temporaryAccessPassMethods"), &tb).await;
    assert!(list["value"].as_array().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_server_killed_mid_write_leaves_each_change_whole_with_its_audit_record() {
    let dir = temp_dir("kill");
    let db = sqlite_url(&dir);
    let init = init_json(&dir, &db);
    let mut server = ServerProcess::start(&dir, &db);
    let http = reqwest::Client::new();
    let token = app_token(&http, &server.base, &init).await;
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..60 {
        let (http, base, token, done) = (http.clone(), server.base.clone(), token.clone(), done_tx.clone());
        tokio::spawn(async move {
            let r = http
                .post(format!("{base}/v1.0/users"))
                .bearer_auth(&token)
                .json(&json!({"userPrincipalName": format!("k{i}@contoso.test"), "displayName": "K"}))
                .send()
                .await;
            if let Ok(r) = r
                && r.status() == 201
            {
                let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
                let _ = http
                    .post(format!("{base}/v1.0/users/{id}/authentication/temporaryAccessPassMethods"))
                    .bearer_auth(&token)
                    .json(&json!({}))
                    .send()
                    .await;
            }
            let _ = done.send(());
        });
    }
    // Kill without warning once some writes have landed and others are in flight.
    for _ in 0..15 {
        done_rx.recv().await;
    }
    server.kill();

    let store = latchkey::startup::open_store(&db, false).await.unwrap();
    let core = latchkey::startup::core(store, None);
    let op = Caller::Operator { name: "test".into() };
    let users = core.list_users(&op, &[], Page { skip: 0, top: 999 }).await.unwrap().items;
    let audit = core.list_audit(&op, Page { skip: 0, top: 999 }).await.unwrap().items;
    let added: Vec<&str> = audit
        .iter()
        .filter(|a| a.activity_display_name == "Add user")
        .map(|a| a.target_resources[0].id.as_str())
        .collect();
    assert_eq!(added.len(), users.len(), "one Add user record per user, no more, no fewer");
    for u in &users {
        assert!(
            added.contains(&u.id.to_string().as_str()),
            "{} has no audit record",
            u.user_principal_name
        );
        let pass = core.store().find_pass_for_user(u.id).await.unwrap();
        let issued: Vec<_> = audit
            .iter()
            .filter(|a| a.activity_display_name == "Admin registered security info" && a.target_resources[0].id == u.id.to_string())
            .flat_map(|a| {
                a.target_resources[0]
                    .modified_properties
                    .iter()
                    .filter(|m| m.display_name == "TemporaryAccessPass.Id")
                    .filter_map(|m| m.new_value.clone())
            })
            .collect();
        match pass {
            Some(p) => assert!(
                issued.contains(&p.id.to_string()),
                "pass {} of {} has no audit record",
                p.id,
                u.user_principal_name
            ),
            None => assert!(issued.is_empty(), "an audit record for a pass that does not exist"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Reaches the pass prompt at `base` without an application.
async fn pass_prompt(base: &str, tenant: &str, upn: &str) -> (crate::browser::Browser, String) {
    let mut b = crate::browser::Browser::new(base);
    let login = b.get(&format!("/{tenant}/login")).await;
    let csrf = login.field("csrf").unwrap();
    let prompt = b
        .post(
            &format!("/{tenant}/login"),
            &[("csrf", &csrf), ("step", "username"), ("username", upn)],
        )
        .await;
    assert!(prompt.body.contains(r#"name="tap""#), "{}", prompt.body);
    (b, csrf)
}

#[tokio::test]
async fn a_one_time_pass_wins_exactly_once_across_two_servers_on_postgres() {
    let Some(base_url) = latchkey_testkit::postgres_url_or_skip("a_one_time_pass_wins_exactly_once_across_two_servers_on_postgres") else {
        return;
    };
    let db = latchkey_testkit::fresh_postgres_database(&base_url).await;
    let dir = temp_dir("pg-once");
    let init = init_json(&dir, &db);
    let a = ServerProcess::start_with_public_url(&dir, &db, Some("https://id.contoso.test"));
    let b = ServerProcess::start_with_public_url(&dir, &db, Some("https://id.contoso.test"));
    let out = latchkey(&dir, &db, &["user", "add", "once@contoso.test", "--output", "json"]);
    assert!(out.status.success());
    let tap = latchkey(&dir, &db, &["tap", "create", "once@contoso.test", "--once", "--output", "json"]);
    let code = serde_json::from_slice::<Value>(&tap.stdout).unwrap()["temporaryAccessPass"]
        .as_str()
        .unwrap()
        .to_owned();
    let tenant = init["tenantId"].as_str().unwrap().to_owned();
    // Everyone reaches the prompt first, then all submit the code at once.
    let mut prompts = Vec::new();
    for i in 0..12 {
        prompts.push(pass_prompt(if i % 2 == 0 { &a.base } else { &b.base }, &tenant, "once@contoso.test").await);
    }
    let attempts: Vec<_> = prompts
        .into_iter()
        .map(|(mut browser, csrf)| {
            let (tenant, code) = (tenant.clone(), code.clone());
            tokio::spawn(async move {
                browser
                    .post(
                        &format!("/{tenant}/login"),
                        &[("csrf", &csrf), ("step", "tap"), ("username", "once@contoso.test"), ("tap", &code)],
                    )
                    .await
                    .status
            })
        })
        .collect();
    let mut wins = 0;
    for h in attempts {
        if h.await.unwrap() == reqwest::StatusCode::SEE_OTHER {
            wins += 1;
        }
    }
    assert_eq!(wins, 1, "exactly one of twelve sign-ins across two servers wins");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The server keeps copies of hot reads (`latchkey_core::read_cache`). A change made by
/// another process, here the `latchkey` CLI on the same SQLite file, must show on the very
/// next request: a deleted pass, a policy change, a removed application's token.
#[tokio::test]
async fn a_change_by_the_cli_beside_a_running_server_shows_in_its_next_answer() {
    let app = crate::helpers::TestApp::spawn().await;
    let db = crate::helpers::sqlite_url(&app.dir);
    let token = app.app_token().await;
    let methods = format!("{}/v1.0/users/{}/authentication/methods", app.base, app.admin_id);
    let policy = format!(
        "{}/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
        app.base
    );
    let get = |url: String| {
        let req = app.http.get(url).bearer_auth(&token);
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let is_pass = |m: &Value| m["@odata.type"] == "#microsoft.graph.temporaryAccessPassAuthenticationMethod";
    // Read twice, so the second answer may come from the copy.
    for _ in 0..2 {
        let (s, body) = get(methods.clone()).await;
        assert_eq!(s, 200, "{body}");
        assert!(
            body["value"].as_array().unwrap().iter().any(is_pass),
            "init gave the admin a pass: {body}"
        );
        assert_eq!(get(policy.clone()).await.1["defaultLength"], 8);
    }

    let out = crate::cli::latchkey(&app.dir, &db, &["tap", "delete", &app.admin_upn]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, body) = get(methods.clone()).await;
    assert!(
        !body["value"].as_array().unwrap().iter().any(is_pass),
        "the pass deleted by the CLI still shows: {body}"
    );

    let out = crate::cli::latchkey(&app.dir, &db, &["policy", "set", "--length", "12"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(get(policy.clone()).await.1["defaultLength"], 12);

    let out = crate::cli::latchkey(&app.dir, &db, &["app", "remove", &app.client_id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (s, body) = get(methods).await;
    assert_eq!(s, 401, "a removed application's token must stop working at once: {body}");
}
