//! A pass's code appears in its create response and nowhere else: not in the database
//! files, not in the logs (run at debug level).

use crate::helpers::{sqlite_url, temp_dir};
use crate::processes::{ServerProcess, app_token, init_json};
use serde_json::{Value, json};

#[tokio::test]
async fn codes_and_client_secrets_never_reach_the_database_or_the_logs() {
    let dir = temp_dir("secrets");
    let db = sqlite_url(&dir);
    let init = init_json(&dir, &db);
    let mut secrets = vec![
        init["admin"]["temporaryAccessPass"].as_str().unwrap().to_owned(),
        init["client"]["clientSecret"].as_str().unwrap().to_owned(),
    ];
    let mut server = ServerProcess::start(&dir, &db);
    let http = reqwest::Client::new();
    let token = app_token(&http, &server.base, &init).await;
    for i in 0..5 {
        let r = http.post(format!("{}/v1.0/users", server.base)).bearer_auth(&token).json(&json!({"userPrincipalName": format!("s{i}@contoso.test"), "displayName": "S", "passwordProfile": {"password": format!("pw-{i}-Correct-Horse")}})).send().await.unwrap();
        let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        secrets.push(format!("pw-{i}-Correct-Horse"));
        let p: Value = http
            .post(format!("{}/v1.0/users/{id}/authentication/temporaryAccessPassMethods", server.base))
            .bearer_auth(&token)
            .json(&json!({"lifetimeInMinutes": 480}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let code = p["temporaryAccessPass"].as_str().unwrap().to_owned();
        assert!(code.len() >= 8);
        secrets.push(code);
    }
    secrets.push(token.clone());

    // A sign-in leaves a session cookie; it must not be logged or stored either.
    let mut b = crate::browser::Browser::new(&server.base);
    let tenant = init["tenantId"].as_str().unwrap();
    let login = b.get(&format!("/{tenant}/login")).await;
    let csrf = login.field("csrf").unwrap();
    b.post(
        &format!("/{tenant}/login"),
        &[("csrf", &csrf), ("step", "username"), ("username", "s0@contoso.test")],
    )
    .await;
    let code = secrets[3].clone();
    let done = b
        .post(
            &format!("/{tenant}/login"),
            &[("csrf", &csrf), ("step", "tap"), ("username", "s0@contoso.test"), ("tap", &code)],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some("/mysecurityinfo"));
    secrets.push(b.cookies["lk_session"].clone());
    secrets.push(csrf);
    server.kill();
    let logs = server.logs();
    assert!(
        logs.contains("temporary access pass issued"),
        "the log is captured at debug level: {logs}"
    );
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("latchkey.db") {
            files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    assert!(!files.is_empty());
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret is in the log");
        for (name, bytes) in &files {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a secret is in {name}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
