//! The Store conformance suite against SQLite: each check on a fresh database file of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use latchkey_core::Store;
use latchkey_store::{ConnectOptions, SqlStore};
use std::path::PathBuf;

/// A store on a new file in a new temporary directory, removed when the test ends.
struct TempSqlite {
    store: SqlStore,
    dir: PathBuf,
}

impl std::ops::Deref for TempSqlite {
    type Target = dyn Store;
    fn deref(&self) -> &Self::Target {
        &self.store
    }
}

impl Drop for TempSqlite {
    fn drop(&mut self) {
        // Best effort: the pool may still hold the file open, which Unix allows.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn open(test: &str) -> Option<TempSqlite> {
    let dir = std::env::temp_dir().join(format!("latchkey-conformance-{test}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    let url = format!("sqlite:{}", dir.join("latchkey.db").display());
    let store = SqlStore::connect(
        &url,
        &ConnectOptions {
            create_if_missing: true,
            max_connections: 8,
            ..ConnectOptions::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("open {url}: {e}"));
    Some(TempSqlite { store, dir })
}

latchkey_testkit::conformance_tests!(open);
