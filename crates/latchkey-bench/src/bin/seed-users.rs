//! Bulk-inserts directory users straight into latchkey's database (SQLite or PostgreSQL),
//! far faster than `POST /v1.0/users`: multi-row INSERTs inside large transactions.
//!
//! Rows match what latchkey itself writes for an internal member (see
//! `crates/latchkey-store/migrations/*/0001_initial.sql`): a random UUID v4 id,
//! `user{n}@{domain}` as UPN (already lower case, so `upn_normalized` is the same text),
//! `User {n}` as display name, `user_type` Member, `origin` internal, enabled, no password.
//!
//! Usage:
//! `seed-users --database-url sqlite:/tmp/x.db --from 0 --to 10000 --sample-out ids.txt`
//!
//! Prints `key=value` lines: `seeded`, `seconds`, `users_per_s`, `total_users`.

use anyhow::Context as _;
use clap::Parser;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{AssertSqlSafe, ConnectOptions as _, Connection as _, Executor as _, Row as _};
use std::io::Write as _;
use std::path::PathBuf;
use std::str::FromStr as _;
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(about = "Bulk-insert users into a latchkey database")]
struct Args {
    /// `sqlite:/path/x.db` or `postgres://user@host:port/db` (an initialised latchkey database).
    #[arg(long)]
    database_url: String,
    /// First user number (inclusive).
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// Last user number (exclusive).
    #[arg(long)]
    to: u64,
    /// Domain of the generated user principal names.
    #[arg(long, default_value = "contoso.test")]
    domain: String,
    /// Rows per COMMIT.
    #[arg(long, default_value_t = 100_000)]
    tx_rows: u64,
    /// After seeding, write a random sample of the seeded users' ids here, one a line.
    #[arg(long)]
    sample_out: Option<PathBuf>,
    /// How many ids to sample.
    #[arg(long, default_value_t = 2000)]
    sample: i64,
}

/// Columns each generated row binds; the others are constants in the SQL.
struct UserRow {
    id: String,
    upn: String,
    display_name: String,
}

fn row(n: u64, domain: &str) -> UserRow {
    UserRow {
        id: uuid::Uuid::new_v4().to_string(),
        upn: format!("user{n}@{domain}").to_lowercase(),
        display_name: format!("User {n}"),
    }
}

// Seeding stamps rows with the real time; there is no clock to inject outside the server.
#[allow(clippy::disallowed_methods)]
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

const SAMPLE_SQL: &str = "SELECT id FROM users WHERE upn_normalized LIKE 'user%' ORDER BY random() LIMIT $1";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.to >= args.from, "--to must be at least --from");
    let started = Instant::now();
    let (total, sample) = if args.database_url.starts_with("sqlite:") {
        seed_sqlite(&args).await?
    } else if args.database_url.starts_with("postgres://") || args.database_url.starts_with("postgresql://") {
        seed_postgres(&args).await?
    } else {
        anyhow::bail!("unsupported database URL: use sqlite:PATH or postgres://...");
    };
    let seconds = started.elapsed().as_secs_f64();
    let seeded = args.to - args.from;
    if let Some(path) = &args.sample_out {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?);
        for id in &sample {
            writeln!(f, "{id}")?;
        }
        f.flush()?;
    }
    println!("seeded={seeded}");
    println!("seconds={seconds:.2}");
    #[allow(clippy::cast_precision_loss)]
    let per_s = seeded as f64 / seconds.max(1e-9);
    println!("users_per_s={per_s:.0}");
    println!("total_users={total}");
    Ok(())
}

fn progress(done: u64, all: u64, started: Instant) {
    eprintln!("seed-users: {done}/{all} rows ({:.1} s)", started.elapsed().as_secs_f64());
}

async fn seed_sqlite(args: &Args) -> anyhow::Result<(i64, Vec<String>)> {
    // One connection, no fsync, a large page cache: random UUID primary keys scatter
    // inserts over the whole index, and the cache keeps that in memory.
    let mut conn = SqliteConnectOptions::from_str(&args.database_url)?
        .create_if_missing(false)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Off)
        .pragma("cache_size", "-524288")
        .pragma("temp_store", "memory")
        .busy_timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
        .context("opening the SQLite database")?;
    const ROWS: usize = 1000; // 5 parameters a row, well under SQLite's 32766
    let sql_for = |rows: usize| {
        let mut sql = String::from(
            "INSERT INTO users (id, upn, upn_normalized, display_name, user_type, origin, account_enabled, created_at) VALUES ",
        );
        for i in 0..rows {
            let p = i * 5;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${},${},${},${},'Member','internal',1,${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5
            ));
        }
        sql
    };
    let full = sql_for(ROWS);
    let started = Instant::now();
    let all = args.to - args.from;
    let mut n = args.from;
    while n < args.to {
        let tx_end = (n + args.tx_rows).min(args.to);
        let mut tx = conn.begin().await?;
        while n < tx_end {
            let end = (n + ROWS as u64).min(tx_end);
            let rows: Vec<UserRow> = (n..end).map(|i| row(i, &args.domain)).collect();
            let sql = if rows.len() == ROWS { full.clone() } else { sql_for(rows.len()) };
            let mut q = sqlx::query(AssertSqlSafe(sql));
            let at = now_ms();
            for r in rows {
                q = q.bind(r.id).bind(r.upn.clone()).bind(r.upn).bind(r.display_name).bind(at);
            }
            q.execute(&mut *tx).await.context("inserting users")?;
            n = end;
        }
        tx.commit().await?;
        progress(n - args.from, all, started);
    }
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
    let total: i64 = sqlx::query("SELECT COUNT(*) FROM users").fetch_one(&mut conn).await?.try_get(0)?;
    let sample = sample_ids(sqlx::query(SAMPLE_SQL).bind(args.sample).fetch_all(&mut conn).await?)?;
    conn.close().await?;
    Ok((total, sample))
}

async fn seed_postgres(args: &Args) -> anyhow::Result<(i64, Vec<String>)> {
    let mut conn = PgConnectOptions::from_str(&args.database_url)?
        .options([("synchronous_commit", "off")])
        .connect()
        .await
        .context("opening the PostgreSQL database")?;
    const ROWS: u64 = 10_000; // one UNNEST statement binds arrays, so rows per statement are free
    let sql = "INSERT INTO users (id, upn, upn_normalized, display_name, user_type, origin, account_enabled, created_at)
               SELECT id, upn, upn, display_name, 'Member', 'internal', 1, $4
               FROM UNNEST($1::text[], $2::text[], $3::text[]) AS t(id, upn, display_name)";
    let started = Instant::now();
    let all = args.to - args.from;
    let mut n = args.from;
    while n < args.to {
        let tx_end = (n + args.tx_rows).min(args.to);
        let mut tx = conn.begin().await?;
        while n < tx_end {
            let end = (n + ROWS).min(tx_end);
            let (mut ids, mut upns, mut names) = (Vec::new(), Vec::new(), Vec::new());
            for i in n..end {
                let r = row(i, &args.domain);
                ids.push(r.id);
                upns.push(r.upn);
                names.push(r.display_name);
            }
            sqlx::query(sql)
                .bind(ids)
                .bind(upns)
                .bind(names)
                .bind(now_ms())
                .execute(&mut *tx)
                .await
                .context("inserting users")?;
            n = end;
        }
        tx.commit().await?;
        progress(n - args.from, all, started);
    }
    // What autovacuum would do soon after a bulk load (statistics, visibility map), done
    // now so it does not run, and take CPU, in the middle of a measurement.
    conn.execute("VACUUM (ANALYZE) users").await?;
    let total: i64 = sqlx::query("SELECT COUNT(*) FROM users").fetch_one(&mut conn).await?.try_get(0)?;
    let sample = sample_ids(sqlx::query(SAMPLE_SQL).bind(args.sample).fetch_all(&mut conn).await?)?;
    conn.close().await?;
    Ok((total, sample))
}

fn sample_ids<R: sqlx::Row>(rows: Vec<R>) -> anyhow::Result<Vec<String>>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    rows.iter().map(|r| r.try_get::<String, _>(0).map_err(Into::into)).collect()
}
