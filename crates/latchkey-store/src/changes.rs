//! How a store learns, without a round trip, that any process changed the database:
//! the source of [`Store::data_version`](latchkey_core::Store::data_version), which the
//! service's read cache checks on every request.
//!
//! - SQLite: first a read of the WAL index header in the `-shm` file, which every commit
//!   by any connection rewrites; while it stands still nothing was committed, and that
//!   look is one `pread`. When it moved, `PRAGMA data_version` on connections of its own
//!   (SQLite changes the value whenever another connection, in this process or any other,
//!   such as a `latchkey` CLI command beside the server, commits to the file), and then a
//!   counter that triggers on the cached tables bump (migration 0008) tells whether the
//!   commit touched anything copied. Exact either way.
//! - PostgreSQL (only with `ChangeWatch::Notified`): triggers on the cached tables `NOTIFY latchkey_changes` (migration 0007),
//!   which a listener connection counts. The count also moves when this process commits
//!   a write through this store (so it reads its own writes at once) and when the listener
//!   reconnects (notifications may have been missed); while the listener is down there is
//!   no version, and nothing is cached.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) const CHANNEL: &str = "latchkey_changes";

#[derive(Debug)]
pub(crate) enum ChangeFeed {
    /// No version: every read goes to the database.
    Off,
    Sqlite(SqliteProbes),
    Postgres(Arc<PgFeed>),
}

/// Several probe connections, so request threads do not queue on one lock.
///
/// `PRAGMA data_version` is the cheap first look: it moves with every commit by another
/// connection, but to every table (each sign-in writes sessions, codes and logs). When
/// it moves, the probe reads `cache_changes.counter` (migration 0008: triggers on the
/// cached tables bump it in the writing transaction), and only a moved counter starts a
/// new epoch, which is the version reported. Each connection counts `data_version` its
/// own way, so each probe remembers its own last value.
#[derive(Debug)]
pub(crate) struct SqliteProbes {
    /// The cheap first look; `None` when the `-shm` file cannot be read (then every look
    /// runs a probe).
    wal_index: Option<WalIndexWatch>,
    probes: Vec<Mutex<Probe>>,
    /// The counter last seen by any probe; held while the epoch moves.
    counter: Mutex<i64>,
    epoch: AtomicU64,
}

#[derive(Debug)]
struct Probe {
    conn: rusqlite::Connection,
    last_data_version: i64,
}

impl Probe {
    fn data_version(&self) -> Option<i64> {
        let mut statement = self.conn.prepare_cached("PRAGMA data_version").ok()?;
        statement.query_row([], |r| r.get(0)).ok()
    }

    fn counter(&self) -> Option<i64> {
        let mut statement = self.conn.prepare_cached("SELECT counter FROM cache_changes").ok()?;
        statement.query_row([], |r| r.get(0)).ok()
    }
}

/// Watches the WAL index header (SQLite's file format, "WAL-Index Format"): 48 bytes at
/// the start of the `-shm` file, stored twice. A committing writer rewrites the second
/// copy, then the first, before its commit returns; the header's `iChange` counts commits,
/// so any commit changes it. Reading both copies in that order and finding them equal
/// gives a header no older than the last finished commit. The format is shared by every
/// SQLite version that opens the file, so it does not drift.
///
/// `pread` rather than `mmap`: a mapping would take the process down with `SIGBUS` if
/// anything ever truncated the file; a read just fails, and the probe takes over.
#[derive(Debug)]
struct WalIndexWatch {
    shm: std::fs::File,
    /// The header read just before the last probe that brought the epoch up to date.
    settled: Mutex<Option<WalIndexHeader>>,
}

const WAL_INDEX_HEADER_BYTES: usize = 48;
type WalIndexHeader = [u8; WAL_INDEX_HEADER_BYTES];

impl WalIndexWatch {
    fn open(db_path: &str) -> Option<Self> {
        let shm = std::fs::File::open(format!("{db_path}-shm")).ok()?;
        let watch = Self {
            shm,
            settled: Mutex::new(None),
        };
        watch.read()?;
        Some(watch)
    }

    /// The header, when both copies agree and it is initialised (byte 12, `isInit`).
    fn read(&self) -> Option<WalIndexHeader> {
        use std::os::unix::fs::FileExt as _;
        let mut both = [0u8; 2 * WAL_INDEX_HEADER_BYTES];
        self.shm.read_exact_at(&mut both, 0).ok()?;
        let (first, second) = both.split_at(WAL_INDEX_HEADER_BYTES);
        (first == second && first[12] == 1).then(|| first.try_into().ok())?
    }

    fn is_settled(&self, header: &WalIndexHeader) -> bool {
        self.settled.lock().is_ok_and(|s| s.as_ref() == Some(header))
    }

    fn settle(&self, header: WalIndexHeader) {
        if let Ok(mut settled) = self.settled.lock() {
            *settled = Some(header);
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct PgFeed {
    count: AtomicU64,
    listening: AtomicBool,
}

impl ChangeFeed {
    /// Probes on the SQLite file at `path` (which must exist), one per core.
    pub(crate) fn sqlite(path: &str) -> Result<Self, String> {
        use rusqlite::OpenFlags;
        let count = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let mut probes = Vec::with_capacity(count);
        for _ in 0..count {
            let conn = rusqlite::Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
            )
            .map_err(|e| format!("opening the change probe on {path}: {e}"))?;
            conn.busy_timeout(Duration::from_secs(1)).map_err(|e| e.to_string())?;
            let mut probe = Probe {
                conn,
                last_data_version: 0,
            };
            probe.last_data_version = probe
                .data_version()
                .ok_or_else(|| "the change probe cannot read PRAGMA data_version".to_owned())?;
            probes.push(Mutex::new(probe));
        }
        let counter = probes
            .first()
            .and_then(|p| p.lock().ok()?.counter())
            .ok_or_else(|| "the change probe cannot read cache_changes".to_owned())?;
        Ok(Self::Sqlite(SqliteProbes {
            // After the probes: they hold the file open in WAL mode, so `-shm` exists and
            // stays while this process runs.
            wal_index: WalIndexWatch::open(path),
            probes,
            counter: Mutex::new(counter),
            epoch: AtomicU64::new(1),
        }))
    }

    /// The current version, or `None` when it cannot be told.
    pub(crate) fn version(&self) -> Option<u64> {
        match self {
            Self::Off => None,
            Self::Sqlite(sqlite) => {
                let watched = sqlite.wal_index.as_ref().and_then(|w| Some((w, w.read()?)));
                if let Some((watch, header)) = &watched
                    && watch.is_settled(header)
                {
                    // Nothing committed since a probe that came after this header.
                    return Some(sqlite.epoch.load(Ordering::Acquire));
                }
                // Any free probe will do; wait on the first only when all are busy.
                let mut probe = sqlite
                    .probes
                    .iter()
                    .find_map(|p| p.try_lock().ok())
                    .or_else(|| sqlite.probes.first()?.lock().ok())?;
                let data_version = probe.data_version()?;
                if data_version != probe.last_data_version {
                    // Someone committed since this probe last looked. The counter is read
                    // after data_version, so it is at least as new as that commit; the
                    // epoch moves (under the lock, before this probe is let go) only if
                    // a cached table changed.
                    let mut last_counter = sqlite.counter.lock().ok()?;
                    let counter = probe.counter()?;
                    if counter != *last_counter {
                        *last_counter = counter;
                        sqlite.epoch.fetch_add(1, Ordering::AcqRel);
                    }
                    probe.last_data_version = data_version;
                }
                drop(probe);
                // This probe looked after `header` was read, so the epoch now covers every
                // commit that header shows.
                if let Some((watch, header)) = watched {
                    watch.settle(header);
                }
                // Unchanged data_version: nothing was committed since this probe's last
                // look, whose epoch (or a later one) is what we read here.
                Some(sqlite.epoch.load(Ordering::Acquire))
            }
            Self::Postgres(feed) => feed.listening.load(Ordering::Acquire).then(|| feed.count.load(Ordering::Acquire)),
        }
    }

    /// This process committed a write. SQLite sees it by itself; PostgreSQL's notification
    /// comes back a little later, and this process must not serve an older copy meanwhile.
    pub(crate) fn committed(&self) {
        if let Self::Postgres(feed) = self {
            feed.count.fetch_add(1, Ordering::AcqRel);
        }
    }
}

impl PgFeed {
    fn bump(&self) {
        self.count.fetch_add(1, Ordering::AcqRel);
    }
}

/// The listener task; aborted when the last clone of its store goes.
#[derive(Debug)]
pub(crate) struct Listener(tokio::task::JoinHandle<()>);

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts listening on `url`; returns once the first `LISTEN` is in place or has failed
/// (then the feed reports no version until a later attempt, every second, succeeds).
pub(crate) async fn listen_postgres(url: String, pg: Arc<PgFeed>) -> Listener {
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let handle = tokio::spawn(async move {
        let mut ready = Some(ready_tx);
        loop {
            match sqlx::postgres::PgListener::connect(&url).await {
                Ok(mut listener) => match listener.listen(CHANNEL).await {
                    Ok(()) => {
                        // Whatever changed while nobody listened is covered by a new version.
                        pg.bump();
                        pg.listening.store(true, Ordering::Release);
                        if let Some(tx) = ready.take() {
                            let _ = tx.send(());
                        }
                        loop {
                            match listener.try_recv().await {
                                // A change, or a reconnect with LISTEN renewed (what happened
                                // in the gap is unknown): either way older copies must go.
                                Ok(_) => pg.bump(),
                                Err(e) => {
                                    pg.listening.store(false, Ordering::Release);
                                    pg.bump();
                                    tracing::warn!(error = %e, "lost the database change listener; reads are not cached until it is back");
                                    break;
                                }
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot LISTEN for database changes; reads are not cached"),
                },
                Err(e) => tracing::warn!(error = %e, "cannot open the database change listener; reads are not cached"),
            }
            if let Some(tx) = ready.take() {
                let _ = tx.send(());
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let _ = ready_rx.await;
    Listener(handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wal_index_header_moves_with_every_commit_and_only_then() {
        let dir = std::env::temp_dir().join(format!("latchkey-wal-index-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let writer = rusqlite::Connection::open(&path).unwrap();
        writer
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);")
            .unwrap();
        let watch = WalIndexWatch::open(path.to_str().unwrap()).expect("the -shm file of a WAL database");
        let mut last = watch.read().unwrap();
        for i in 0..20 {
            assert_eq!(watch.read().unwrap(), last, "no commit, same header");
            writer.execute("INSERT INTO t VALUES (?1)", [i]).unwrap();
            let now = watch.read().unwrap();
            assert_ne!(now, last, "commit {i} must change the header");
            last = now;
        }
        // A checkpoint copies pages but commits nothing; the next commit restarts the WAL
        // (new salts, frame count back to the start) and must still show.
        writer.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
        let after_checkpoint = watch.read().unwrap();
        writer.execute("INSERT INTO t VALUES (99)", []).unwrap();
        assert_ne!(watch.read().unwrap(), after_checkpoint);
        drop(writer);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn no_shm_file_means_no_first_look() {
        assert!(WalIndexWatch::open("/nonexistent/latchkey.db").is_none());
    }
}
