//! `Store::data_version`, which the server's read cache trusts: it must move whenever any
//! process commits a change to what the cache copies, at once for this process's own
//! writes. A second `SqlStore` on the same database stands for another process (the
//! `latchkey` CLI beside a server, or a second server).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use latchkey_core::Store;
use latchkey_core::audit::TargetResource;
use latchkey_core::policy::TapPolicy;
use latchkey_store::{ChangeWatch, ConnectOptions, SqlStore};
use latchkey_testkit::conformance::{audit_record, t0, user};
use std::time::{Duration, Instant};

async fn open(url: &str, watch_changes: ChangeWatch) -> SqlStore {
    SqlStore::connect(
        url,
        &ConnectOptions {
            create_if_missing: true,
            watch_changes,
            ..ConnectOptions::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("open {url}: {e}"))
}

async fn add_user(store: &SqlStore, upn: &str) {
    let u = user(upn, "Someone", t0());
    let a = audit_record(t0(), "Add user", TargetResource::user(&u));
    store.insert_user(&u, &a).await.unwrap();
}

/// Waits (bounded) for `store`'s version to leave `from`. SQLite answers on the first
/// look; PostgreSQL's notification takes a moment to arrive.
async fn moved_from(store: &SqlStore, from: Option<u64>) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let now = store.data_version();
        if now.is_some() && now != from {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

async fn check(url: &str) {
    let server = open(url, ChangeWatch::Notified).await;
    let other = open(url, ChangeWatch::Notified).await;
    let v0 = server.data_version();
    assert!(v0.is_some(), "a watching store reports a version");
    assert_eq!(server.data_version(), v0, "nothing changed, so the version stands still");

    // Its own write: the very next look sees a new version (read-your-writes in-process).
    add_user(&server, "own@contoso.test").await;
    let v1 = server.data_version();
    assert!(
        v1.is_some() && v1 != v0,
        "own write must move the version at once: {v0:?} -> {v1:?}"
    );

    // Another process's writes: a user, the policy.
    add_user(&other, "other@contoso.test").await;
    assert!(moved_from(&server, v1).await, "another process's write must move the version");
    let v2 = server.data_version();
    let a = audit_record(t0(), "Update policy", TargetResource::other("Policy", "TemporaryAccessPass", None));
    other
        .save_policy(
            &TapPolicy {
                default_length: 12,
                ..TapPolicy::default()
            },
            &a,
        )
        .await
        .unwrap();
    assert!(moved_from(&server, v2).await, "a policy change elsewhere must move the version");

    let off = open(url, ChangeWatch::Off).await;
    assert_eq!(
        off.data_version(),
        None,
        "a store that does not watch reports no version, so nothing is cached"
    );
}

#[tokio::test]
async fn sqlite_data_version_moves_with_every_commit_from_any_connection() {
    let dir = std::env::temp_dir().join(format!("latchkey-changes-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:{}", dir.join("latchkey.db").display());
    check(&url).await;
    assert!(
        open(&url, ChangeWatch::Exact).await.data_version().is_some(),
        "SQLite's version is exact, so it is on by default"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn postgres_data_version_moves_with_every_commit_from_any_process() {
    let Some(base) = latchkey_testkit::postgres_url_or_skip("postgres_data_version_moves_with_every_commit_from_any_process") else {
        return;
    };
    let url = latchkey_testkit::fresh_postgres_database(&base).await;
    check(&url).await;
    // By default PostgreSQL reports no version: NOTIFY trails the commit, so only an
    // operator's explicit choice (`--postgres-read-cache`) caches there.
    assert_eq!(open(&url, ChangeWatch::Exact).await.data_version(), None);
    latchkey_testkit::drop_postgres_database(&base, &url);
}

/// SQLite's first look reads the WAL index header and skips the probe while it stands
/// still: every commit from another connection must still show in the very next look,
/// with no waiting, and looks in between must agree.
#[tokio::test]
async fn sqlite_sees_another_connections_commit_on_the_very_next_look() {
    let dir = std::env::temp_dir().join(format!("latchkey-changes-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:{}", dir.join("latchkey.db").display());
    let server = open(&url, ChangeWatch::Exact).await;
    let other = open(&url, ChangeWatch::Off).await;
    for i in 0..40 {
        let before = server.data_version();
        assert!(before.is_some());
        assert_eq!(server.data_version(), before, "no commit, no change (look {i})");
        add_user(&other, &format!("u{i}@contoso.test")).await;
        let after = server.data_version();
        assert!(
            after.is_some() && after != before,
            "commit {i} not seen at once: {before:?} -> {after:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
