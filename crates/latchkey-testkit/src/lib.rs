//! Test support shared by the crates' tests: a clock tests can move, and the store
//! conformance suite that SQLite and PostgreSQL must both pass.

pub mod authenticator;
pub mod conformance;

use chrono::{DateTime, Duration, TimeZone, Utc};
use latchkey_core::Clock;
use std::sync::Mutex;

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct FakeClock(Mutex<DateTime<Utc>>);

impl FakeClock {
    /// Starts at a fixed, readable instant: 2026-01-05 09:00:00 UTC (a Monday morning).
    #[must_use]
    pub fn new() -> Self {
        Self::at(Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).single().unwrap_or_default())
    }
    #[must_use]
    pub fn at(t: DateTime<Utc>) -> Self {
        Self(Mutex::new(t))
    }
    /// Moves time forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *t += by;
    }
    pub fn set(&self, to: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = to;
    }
}

impl Default for FakeClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The PostgreSQL URL for tests, or `None` (and a note on stderr) when
/// `LATCHKEY_TEST_DATABASE_URL` is unset, so a run without PostgreSQL says what it skipped.
#[must_use]
pub fn postgres_url_or_skip(test: &str) -> Option<String> {
    use std::io::Write as _;
    match std::env::var("LATCHKEY_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            // Straight to stderr rather than `eprintln!`, which the test harness captures and
            // hides for a passing test: a skip should be seen.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: LATCHKEY_TEST_DATABASE_URL is not set, so the PostgreSQL half of this test did not run"
            );
            None
        }
    }
}

/// Creates an empty database `latchkey_t_<random hex>` on the server `base_url` names and
/// returns its URL, so every test gets a database of its own and tests run in any order,
/// side by side. [`drop_postgres_database`] removes one when its test is done; any left
/// behind (a failed test keeps its database to look at) are all named `latchkey_t_*`.
///
/// # Panics
/// When the server cannot be reached or refuses `CREATE DATABASE`: a test cannot go on.
pub async fn fresh_postgres_database(base_url: &str) -> String {
    use sqlx::{Connection as _, Executor as _};
    let name = format!("latchkey_t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(base_url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL server ({}): {e}", redact(base_url)));
    // The name is made here from hex digits only, so it is safe to splice into the SQL.
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed on {}: {e}", redact(base_url)));
    conn.close().await.ok();
    with_database(base_url, &name)
}

/// Drops a database made by [`fresh_postgres_database`], ending any connection still open to
/// it (`WITH (FORCE)`, PostgreSQL 13+). Best effort: a failure is reported on stderr and
/// ignored. It blocks, running on a thread of its own, so a guard's `Drop` can call it from
/// inside an async test; it refuses any database not named `latchkey_t_*`.
pub fn drop_postgres_database(base_url: &str, database_url: &str) {
    use std::io::Write as _;
    let name = database_name(database_url);
    if !name.starts_with("latchkey_t_") || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        let _ = writeln!(
            std::io::stderr(),
            "not dropping database {name:?}: fresh_postgres_database did not make it"
        );
        return;
    }
    let base_url = base_url.to_owned();
    let outcome = std::thread::spawn(move || -> Result<(), String> {
        use sqlx::{Connection as _, Executor as _};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&base_url).await.map_err(|e| e.to_string())?;
            conn.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .await
                .map_err(|e| e.to_string())?;
            conn.close().await.map_err(|e| e.to_string())
        })
    })
    .join();
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            let _ = writeln!(std::io::stderr(), "could not drop test database {}: {e}", redact(database_url));
        }
        Err(_) => {
            let _ = writeln!(std::io::stderr(), "dropping test database {} panicked", redact(database_url));
        }
    }
}

/// The database name in a PostgreSQL URL: its path, without the query string.
fn database_name(url: &str) -> String {
    let base = url.split('?').next().unwrap_or(url);
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_start = base[scheme_end..].rfind('@').map_or(scheme_end, |at| scheme_end + at + 1);
    base[authority_start..]
        .split_once('/')
        .map(|(_, db)| db.to_owned())
        .unwrap_or_default()
}

/// `url` with its path (the database name) replaced by `database`, keeping any query string.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    // The host starts after the user information, which may hold a '/' in its password.
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_start = base[scheme_end..].rfind('@').map_or(scheme_end, |at| scheme_end + at + 1);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// The URL without its user information, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_database_url_keeps_the_server_and_the_query_string() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgresql://h:5432", "x"), "postgresql://h:5432/x");
        assert_eq!(
            with_database("postgres://h/?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u:a/b@h/test", "x"), "postgres://u:a/b@h/x");
        assert_eq!(
            database_name("postgres://u:a/b@h:5432/latchkey_t_ab?sslmode=disable"),
            "latchkey_t_ab"
        );
        assert_eq!(database_name("postgres://h"), "");
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://***@h/db");
    }
}
