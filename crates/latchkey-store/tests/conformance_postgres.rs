//! The Store conformance suite against PostgreSQL: each check on a fresh database of its
//! own, created on the server `LATCHKEY_TEST_DATABASE_URL` names. Without that variable each
//! test says SKIPPED on stderr and passes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use latchkey_core::Store;
use latchkey_store::{ConnectOptions, SqlStore};
use latchkey_testkit::{drop_postgres_database, fresh_postgres_database, postgres_url_or_skip};

/// A store on a database of its own, dropped when the test passes (kept when it fails, to
/// look at).
struct FreshPostgres {
    store: SqlStore,
    base_url: String,
    url: String,
}

impl std::ops::Deref for FreshPostgres {
    type Target = dyn Store;
    fn deref(&self) -> &Self::Target {
        &self.store
    }
}

impl Drop for FreshPostgres {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            drop_postgres_database(&self.base_url, &self.url);
        }
    }
}

async fn open(test: &str) -> Option<FreshPostgres> {
    let base_url = postgres_url_or_skip(test)?;
    let url = fresh_postgres_database(&base_url).await;
    let store = SqlStore::connect(
        &url,
        &ConnectOptions {
            create_if_missing: true,
            max_connections: 8,
            ..ConnectOptions::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("open a fresh PostgreSQL database for {test}: {e}"));
    Some(FreshPostgres { store, base_url, url })
}

latchkey_testkit::conformance_tests!(open);
