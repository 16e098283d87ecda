//! Opening what the server needs, in order, with a clear message for each way it can fail.

use crate::master_key;
use anyhow::{Context as _, anyhow};
use latchkey_core::secrets::SecretHasher;
use latchkey_core::{Clock, CoreError, Latchkey, SystemClock};
use latchkey_http::AppState;
use latchkey_http::tokens::KeyRing;
use latchkey_store::{ChangeWatch, ConnectOptions, SqlStore};
use std::path::Path;
use std::sync::Arc;

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:./latchkey.db";
pub const DEFAULT_MASTER_KEY_FILE: &str = "latchkey.key";

/// Opens the store for a one-shot command; `create` makes a missing SQLite file (only
/// `init` does).
pub async fn open_store(database_url: &str, create: bool) -> anyhow::Result<SqlStore> {
    open_serving_store(database_url, create, ChangeWatch::Off).await
}

/// Opens the store for `serve`: it also watches the database for changes made by any
/// process, so the server may keep copies of hot reads (`latchkey_core::read_cache`).
pub async fn open_serving_store(database_url: &str, create: bool, watch_changes: ChangeWatch) -> anyhow::Result<SqlStore> {
    SqlStore::connect(
        database_url,
        &ConnectOptions {
            create_if_missing: create,
            watch_changes,
            ..ConnectOptions::default()
        },
    )
    .await
    .map_err(|e| anyhow!("{e}"))
}

/// The use-case layer over a store, with the real clock unless one is given.
#[must_use]
pub fn core(store: SqlStore, clock: Option<Arc<dyn Clock>>) -> Latchkey {
    Latchkey::new(
        Arc::new(store),
        clock.unwrap_or_else(|| Arc::new(SystemClock)),
        SecretHasher::default(),
    )
}

/// Everything `serve` needs: refuses an uninitialised database and a wrong master key.
pub async fn server_state(core: Latchkey, master_key_file: &Path, public_url: &str) -> anyhow::Result<AppState> {
    let tenant = match core.tenant().await {
        Err(CoreError::NotInitialised) => {
            return Err(anyhow!(
                "this database has not been initialised: run `latchkey init` (or `latchkey demo`) first"
            ));
        }
        other => other.map_err(|e| anyhow!("{e}"))?,
    };
    let key = master_key::read(master_key_file)?;
    core.check_master_key(&key)
        .await
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| format!("checking the master key file {}", master_key_file.display()))?;
    let records = core.signing_keys().await.map_err(|e| anyhow!("{e}"))?;
    let keys = KeyRing::open(&records, &key, core.now()).map_err(|e| anyhow!("{e}"))?;
    Ok(AppState::new(core, keys, tenant, public_url))
}
