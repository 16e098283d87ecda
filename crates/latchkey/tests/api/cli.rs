//! The `latchkey` binary: `init`, `serve` refusals, and the operator commands.

use crate::helpers::{sqlite_url, temp_dir};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

pub fn latchkey(dir: &Path, db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .current_dir(dir)
        .env_remove("LATCHKEY_DATABASE_URL")
        .env_remove("LATCHKEY_MASTER_KEY_FILE")
        .args([
            "--database-url",
            db,
            "--master-key-file",
            dir.join("latchkey.key").to_str().unwrap(),
        ])
        .args(args)
        .output()
        .unwrap()
}

fn json_of(o: &Output) -> Value {
    assert!(o.status.success(), "failed: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

#[test]
fn init_prints_one_json_object_and_a_second_init_fails_changing_nothing() {
    let dir = temp_dir("cli");
    let db = sqlite_url(&dir);
    let out = latchkey(&dir, &db, &["init", "--output", "json", "--domain", "fabrikam.test"]);
    let v = json_of(&out);
    assert_eq!(v["primaryDomain"], "fabrikam.test");
    assert!(v["tenantId"].as_str().unwrap().parse::<uuid::Uuid>().is_ok());
    assert_eq!(v["admin"]["userPrincipalName"], "admin@fabrikam.test");
    assert_eq!(v["admin"]["temporaryAccessPass"].as_str().unwrap().len(), 8);
    assert_eq!(v["admin"]["lifetimeInMinutes"], 60);
    assert!(v["client"]["clientId"].as_str().is_some() && v["client"]["clientSecret"].as_str().is_some());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(dir.join("latchkey.key")).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let before = std::fs::read(dir.join("latchkey.key")).unwrap();
    let again = latchkey(&dir, &db, &["init", "--output", "json"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a tenant"));
    assert_eq!(
        std::fs::read(dir.join("latchkey.key")).unwrap(),
        before,
        "the key file is untouched"
    );
    let users = json_of(&latchkey(&dir, &db, &["user", "list", "--output", "json"]));
    assert_eq!(users.as_array().unwrap().len(), 1, "still one user");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_refuses_an_uninitialised_database_and_a_wrong_master_key() {
    let dir = temp_dir("cli");
    let db = sqlite_url(&dir);
    let out = latchkey(&dir, &db, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("latchkey init"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_of(&latchkey(&dir, &db, &["init", "--output", "json"]));
    std::fs::write(
        dir.join("latchkey.key"),
        latchkey_core::secrets::MasterKey::generate().unwrap().to_file_contents(),
    )
    .unwrap();
    let out = latchkey(&dir, &db, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("master key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(dir.join("latchkey.key")).unwrap();
    let out = latchkey(&dir, &db, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn operators_manage_users_groups_roles_passes_and_the_policy_from_the_cli() {
    let dir = temp_dir("cli");
    let db = sqlite_url(&dir);
    json_of(&latchkey(&dir, &db, &["init", "--output", "json"]));
    let u = json_of(&latchkey(
        &dir,
        &db,
        &["user", "add", "carol@contoso.test", "--display-name", "Carol", "--output", "json"],
    ));
    assert_eq!(u["userType"], "Member");
    let g = json_of(&latchkey(&dir, &db, &["group", "add", "New hires", "--output", "json"]));
    let gid = g["id"].as_str().unwrap();
    json_of(&latchkey(
        &dir,
        &db,
        &["group", "add-member", gid, "carol@contoso.test", "--output", "json"],
    ));
    json_of(&latchkey(
        &dir,
        &db,
        &["role", "assign", "carol@contoso.test", "authentication-admin", "--output", "json"],
    ));
    let p = json_of(&latchkey(
        &dir,
        &db,
        &["policy", "set", "--include-group", gid, "--max-lifetime", "600", "--output", "json"],
    ));
    assert_eq!(p["maximumLifetimeInMinutes"], 600);
    assert_eq!(p["includeTargets"][0]["id"], gid);
    let tap = json_of(&latchkey(
        &dir,
        &db,
        &[
            "tap",
            "create",
            "carol@contoso.test",
            "--lifetime",
            "600",
            "--once",
            "--output",
            "json",
        ],
    ));
    let code = tap["temporaryAccessPass"].as_str().unwrap().to_owned();
    assert_eq!(tap["isUsableOnce"], true);
    assert_eq!(tap["methodUsabilityReason"], "EnabledByPolicy");
    let text = latchkey(&dir, &db, &["tap", "create", "admin@contoso.test"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("shown once"));
    // Pass delivery: a QR code of a sign-in link with the user name, never the code.
    let with_qr = latchkey(
        &dir,
        &db,
        &[
            "tap",
            "create",
            "admin@contoso.test",
            "--qr",
            "--public-url",
            "https://id.contoso.test/",
        ],
    );
    let out = String::from_utf8_lossy(&with_qr.stdout).to_string();
    let code_line = out.lines().next().unwrap();
    let admin_code = code_line.rsplit(' ').next().unwrap();
    let link = out.lines().find(|l| l.starts_with("Sign-in link")).unwrap();
    assert!(
        link.contains("https://id.contoso.test/") && link.contains("/login?username=admin%40contoso.test&next=%2Fmysecurityinfo"),
        "{link}"
    );
    assert!(!link.contains(admin_code), "the code is never in the link");
    assert!(
        out.contains('\u{2580}') || out.contains('\u{2584}') || out.contains('\u{2588}'),
        "a QR code in block characters"
    );
    let as_json = json_of(&latchkey(
        &dir,
        &db,
        &["tap", "create", "admin@contoso.test", "--qr", "--output", "json"],
    ));
    let link = as_json["signInLink"].as_str().unwrap();
    assert!(link.starts_with("http://localhost:8080/") && !link.contains(as_json["temporaryAccessPass"].as_str().unwrap()));
    let shown = latchkey(&dir, &db, &["tap", "show", "carol@contoso.test", "--output", "json"]);
    let shown_text = String::from_utf8_lossy(&shown.stdout).to_string();
    assert!(!shown_text.contains(&code), "show never prints the code");
    assert_eq!(
        json_of(&shown)["methodUsabilityReason"],
        "EnabledByPolicy",
        "carol is in the included group"
    );
    let shown = json_of(&latchkey(&dir, &db, &["tap", "show", "admin@contoso.test", "--output", "json"]));
    assert_eq!(shown["methodUsabilityReason"], "DisabledByPolicy", "the admin is not in the group");
    json_of(&latchkey(&dir, &db, &["tap", "delete", "carol@contoso.test", "--output", "json"]));
    let gone = latchkey(&dir, &db, &["tap", "show", "carol@contoso.test", "--output", "json"]);
    assert_eq!(json_of(&gone), Value::Null);
    let bad = latchkey(&dir, &db, &["policy", "set", "--length", "4"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("defaultLength"));
    let _ = std::fs::remove_dir_all(&dir);
}
