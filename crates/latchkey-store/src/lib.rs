//! latchkey's [`Store`] on SQLite (the embedded default) and PostgreSQL (for several server
//! processes sharing one database).
//!
//! One implementation serves both through sqlx's `Any` driver: the schema keeps to types
//! both databases share (text, 64-bit integers), queries use `$n` parameters that both
//! accept, and each backend has its own migrations folder with the same version numbers.
//! Where the two differ (how a write transaction starts, connection pragmas) the
//! difference lives in [`Backend`], not in the queries.

mod changes;
mod device;
mod methods;
mod rows;
mod sign_in;

use async_trait::async_trait;
use changes::ChangeFeed;
use chrono::{DateTime, Utc};
use latchkey_core::audit::AuditRecord;
use latchkey_core::device::{DeviceCode, DeviceDecision};
use latchkey_core::directory::{DirectoryRole, FilterOp, Group, Page, RoleAssignment, User, UserField, UserFilter};
use latchkey_core::ids::{AppId, ApplicationObjectId, GroupId, MethodId, PassId, RoleAssignmentId, UserId};
use latchkey_core::methods::{Ceremony, Fido2Method, SoftwareOathMethod};
use latchkey_core::pass::TemporaryAccessPass;
use latchkey_core::policy::TapPolicy;
use latchkey_core::session::{AuthRequest, AuthorizationCode, Domain, Redemption, RefreshToken, Rotation, Session, SignInRecord};
use latchkey_core::signin::Throttle;
use latchkey_core::store::{Store, StoreError, StoreResult, TenantSeed, UserAuthState};
use latchkey_core::tenant::{Application, ClientSecret, SigningKeyRecord, Tenant};
use rows::{Row as _, ms};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, AssertSqlSafe, Executor as _};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Chooses by URL scheme: `sqlite:` or `postgres://` / `postgresql://`.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::Backend(format!(
                "unsupported database URL '{}': use sqlite:PATH or postgres://...",
                url.split('@').next_back().unwrap_or_default()
            )))
        }
    }

    /// How a transaction that will write starts. SQLite takes the write lock up front
    /// (`BEGIN IMMEDIATE`) so two writers queue on the busy timeout instead of one failing
    /// when it upgrades a read lock.
    const fn begin_write(self) -> &'static str {
        match self {
            Self::Sqlite => "BEGIN IMMEDIATE",
            Self::Postgres => "BEGIN",
        }
    }
}

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Create the SQLite file if it is missing (`init` does; `serve` does not).
    pub create_if_missing: bool,
    pub max_connections: u32,
    /// Whether to report a [`Store::data_version`], so hot reads can be cached.
    pub watch_changes: ChangeWatch,
}

/// How a store may learn that another process changed the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChangeWatch {
    /// No version: nothing is cached (one-shot CLI commands).
    Off,
    /// Only a version that is exact for every process: SQLite's `PRAGMA data_version`.
    /// PostgreSQL has no such signal without a round trip, so there it reports none and
    /// every read goes to the database.
    #[default]
    Exact,
    /// As `Exact`, and on PostgreSQL a version fed by `LISTEN latchkey_changes`: this
    /// process sees its own writes at once, another server's once the notification
    /// arrives (a moment after that server's commit; under heavy load it can trail a
    /// client that goes straight from one server to the other).
    Notified,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            create_if_missing: false,
            max_connections: 16,
            watch_changes: ChangeWatch::default(),
        }
    }
}

/// The SQL store.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    changes: Arc<ChangeFeed>,
    _listener: Option<Arc<changes::Listener>>,
}

pub(crate) fn backend_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(db.message().to_owned()),
        // A write naming a user or group deleted meanwhile: the object is gone.
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound {
            kind: "object",
            id: "(referenced object)".into(),
        },
        _ => StoreError::Backend(e.to_string()),
    }
}

/// The file a `sqlite:` URL names, without its query string.
#[must_use]
pub fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    Some(rest.split('?').next().unwrap_or(rest))
}

impl SqlStore {
    /// Opens the database and brings its schema up to date.
    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let mut url = url.to_owned();
        if backend == Backend::Sqlite {
            let path = sqlite_path(&url).unwrap_or_default().to_owned();
            if path.is_empty() || path == ":memory:" {
                return Err(StoreError::Backend(
                    "an in-memory SQLite database cannot be shared; give a file path".into(),
                ));
            }
            if !options.create_if_missing && !std::path::Path::new(&path).exists() {
                return Err(StoreError::Backend(format!(
                    "the database file {path} does not exist: run `latchkey init` first"
                )));
            }
            if !url.contains("mode=") {
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str(if options.create_if_missing { "mode=rwc" } else { "mode=rw" });
            }
        }
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; the busy timeout queues writers.
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|e| StoreError::Backend(format!("cannot open the database: {e}")))?;
        let mut store = Self {
            pool,
            backend,
            changes: Arc::new(ChangeFeed::Off),
            _listener: None,
        };
        store.migrate().await?;
        match (backend, options.watch_changes) {
            (_, ChangeWatch::Off) | (Backend::Postgres, ChangeWatch::Exact) => {}
            (Backend::Sqlite, ChangeWatch::Exact | ChangeWatch::Notified) => {
                let path = sqlite_path(&url).unwrap_or_default();
                store.changes = Arc::new(ChangeFeed::sqlite(path).map_err(StoreError::Backend)?);
            }
            (Backend::Postgres, ChangeWatch::Notified) => {
                let feed = Arc::new(changes::PgFeed::default());
                store._listener = Some(Arc::new(changes::listen_postgres(url.clone(), Arc::clone(&feed)).await));
                store.changes = Arc::new(ChangeFeed::Postgres(feed));
            }
        }
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migrating the schema: {e}")))
    }

    #[must_use]
    pub const fn backend(&self) -> Backend {
        self.backend
    }

    #[must_use]
    pub const fn pool(&self) -> &AnyPool {
        &self.pool
    }

    async fn begin(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        self.pool.begin_with(self.backend.begin_write()).await.map_err(backend_err)
    }

    /// Closes every connection (graceful shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

pub(crate) async fn insert_audit(tx: &mut sqlx::AnyConnection, a: &AuditRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, activity_at, activity, category, logged_by_service, operation_type, result, result_reason, initiated_by, target_resources)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(a.id.to_string())
    .bind(ms(a.activity_date_time))
    .bind(&a.activity_display_name)
    .bind(&a.category)
    .bind(&a.logged_by_service)
    .bind(&a.operation_type)
    .bind(&a.result)
    .bind(&a.result_reason)
    .bind(serde_json::to_string(&a.initiated_by).map_err(|e| StoreError::Backend(e.to_string()))?)
    .bind(serde_json::to_string(&a.target_resources).map_err(|e| StoreError::Backend(e.to_string()))?)
    .execute(&mut *tx)
    .await
    .map_err(backend_err)?;
    Ok(())
}

async fn insert_user_row(tx: &mut sqlx::AnyConnection, u: &User) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO users (id, upn, upn_normalized, display_name, mail, user_type, origin, account_enabled, password_hash, password_set_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(u.id.to_string())
    .bind(u.user_principal_name.as_str())
    .bind(u.user_principal_name.normalized())
    .bind(&u.display_name)
    .bind(u.mail.clone())
    .bind(u.user_type.as_str())
    .bind(rows::origin_str(u.origin))
    .bind(i64::from(u.account_enabled))
    .bind(u.password_hash.clone())
    .bind(u.password_set_at.map(ms))
    .bind(ms(u.created_at))
    .execute(&mut *tx)
    .await
    .map_err(backend_err)?;
    Ok(())
}

async fn insert_role_row(tx: &mut sqlx::AnyConnection, a: &RoleAssignment) -> StoreResult<()> {
    sqlx::query("INSERT INTO role_assignments (id, principal_id, role_template, created_at) VALUES ($1, $2, $3, $4)")
        .bind(a.id.to_string())
        .bind(a.principal_id.to_string())
        .bind(a.role.template_id())
        .bind(ms(a.created_at))
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
    Ok(())
}

async fn upsert_pass_row(tx: &mut sqlx::AnyConnection, p: &TemporaryAccessPass) -> StoreResult<()> {
    // One pass per user: a new pass takes the place of the old row, atomically.
    sqlx::query(
        "INSERT INTO passes (id, user_id, created_at, start_at, lifetime_minutes, is_usable_once, used_at, code_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (user_id) DO UPDATE SET id = excluded.id, created_at = excluded.created_at, start_at = excluded.start_at,
             lifetime_minutes = excluded.lifetime_minutes, is_usable_once = excluded.is_usable_once, used_at = excluded.used_at,
             code_hash = excluded.code_hash",
    )
    .bind(p.id.to_string())
    .bind(p.user_id.to_string())
    .bind(ms(p.created_at))
    .bind(ms(p.start_at))
    .bind(i64::from(p.lifetime_in_minutes))
    .bind(i64::from(p.is_usable_once))
    .bind(p.used_at.map(ms))
    .bind(&p.code_hash)
    .execute(&mut *tx)
    .await
    .map_err(backend_err)?;
    Ok(())
}

async fn save_policy_row(tx: &mut sqlx::AnyConnection, p: &TapPolicy) -> StoreResult<()> {
    let body = serde_json::to_string(p).map_err(|e| StoreError::Backend(e.to_string()))?;
    sqlx::query("INSERT INTO tap_policy (singleton, body) VALUES (1, $1) ON CONFLICT (singleton) DO UPDATE SET body = excluded.body")
        .bind(body)
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
    Ok(())
}

fn page_args(page: Page) -> (i64, i64) {
    (i64::from(page.top), i64::try_from(page.skip).unwrap_or(i64::MAX))
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` prefix match.
fn like_prefix(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 1);
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// `WHERE` text and its bound values for user filters. Columns come from an enum and values
/// are always bound, so no caller text reaches the SQL.
///
/// The UPN column holds Rust's lower case (`UserPrincipalName::normalized`), so its value is
/// lowered by Rust too. Other columns are lowered by the database on both sides: SQLite's
/// `lower()` only folds ASCII, so lowering the value in Rust instead would stop `Émile`
/// from matching a stored `Émile`.
fn user_where(filters: &[UserFilter]) -> (String, Vec<String>) {
    let mut clauses = Vec::new();
    let mut values = Vec::new();
    for f in filters {
        let n = values.len() + 1;
        let (column, param, value) = match f.field {
            UserField::UserPrincipalName => ("upn_normalized", format!("${n}"), f.value.to_lowercase()),
            UserField::DisplayName => ("lower(display_name)", format!("lower(${n})"), f.value.clone()),
            UserField::UserType => ("lower(user_type)", format!("lower(${n})"), f.value.clone()),
            UserField::Mail => ("lower(mail)", format!("lower(${n})"), f.value.clone()),
        };
        match f.op {
            FilterOp::Eq => {
                clauses.push(format!("{column} = {param}"));
                values.push(value);
            }
            FilterOp::StartsWith => {
                clauses.push(format!("{column} LIKE {param} ESCAPE '\\'"));
                values.push(like_prefix(&value));
            }
        }
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    (sql, values)
}

const USER_COLUMNS: &str = "id, upn, display_name, mail, user_type, origin, account_enabled, password_hash, password_set_at, created_at";
const USER_BY_ID: &str = "SELECT id, upn, display_name, mail, user_type, origin, account_enabled, password_hash, password_set_at, created_at FROM users WHERE id = $1";
const USER_BY_UPN: &str = "SELECT id, upn, display_name, mail, user_type, origin, account_enabled, password_hash, password_set_at, created_at FROM users WHERE upn_normalized = $1";
const USER_WITH_PASS: &str = "SELECT u.id, u.upn, u.display_name, u.mail, u.user_type, u.origin, u.account_enabled, u.password_hash, u.password_set_at, u.created_at,
        p.id AS pass_id, p.created_at AS pass_created_at, p.start_at AS pass_start_at, p.lifetime_minutes AS pass_lifetime_minutes,
        p.is_usable_once AS pass_is_usable_once, p.used_at AS pass_used_at, p.code_hash AS pass_code_hash
    FROM users u LEFT JOIN passes p ON p.user_id = u.id WHERE u.id = $1";
const GROUPS_AND_ROLES: &str = "SELECT 'g' AS kind, group_id AS value FROM group_members WHERE user_id = $1
    UNION ALL SELECT 'r' AS kind, role_template AS value FROM role_assignments WHERE principal_id = $1";
const PASS_COLUMNS: &str = "id, user_id, created_at, start_at, lifetime_minutes, is_usable_once, used_at, code_hash";

impl SqlStore {
    async fn fetch_users(&self, sql: String, values: Vec<String>, page: Option<Page>) -> StoreResult<Vec<User>> {
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for v in values {
            q = q.bind(v);
        }
        if let Some(page) = page {
            let (limit, offset) = page_args(page);
            q = q.bind(limit).bind(offset);
        }
        q.fetch_all(&self.pool).await.map_err(backend_err)?.iter().map(rows::user).collect()
    }

    async fn write(&self, audit: &AuditRecord, f: impl AsyncFnOnce(&mut sqlx::AnyConnection) -> StoreResult<()>) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        f(&mut tx).await?;
        insert_audit(&mut tx, audit).await?;
        self.commit(tx).await
    }

    /// Passes `result` on, telling the change feed first when a write went through.
    fn noted<T>(&self, result: StoreResult<T>) -> StoreResult<T> {
        if result.is_ok() {
            self.changes.committed();
        }
        result
    }

    /// Commits, and tells the change feed, so this process never serves a copy older
    /// than its own write.
    async fn commit(&self, tx: sqlx::Transaction<'static, sqlx::Any>) -> StoreResult<()> {
        tx.commit().await.map_err(backend_err)?;
        self.changes.committed();
        Ok(())
    }
}

pub(crate) fn require_one(affected: u64, kind: &'static str, id: impl ToString) -> StoreResult<()> {
    if affected == 0 {
        Err(StoreError::NotFound { kind, id: id.to_string() })
    } else {
        Ok(())
    }
}

#[async_trait]
impl Store for SqlStore {
    fn data_version(&self) -> Option<u64> {
        self.changes.version()
    }

    async fn initialise(&self, seed: &TenantSeed) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let exists: Option<AnyRow> = sqlx::query("SELECT id FROM tenant")
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend_err)?;
        if exists.is_some() {
            return Err(StoreError::AlreadyInitialised);
        }
        sqlx::query(
            "INSERT INTO tenant (singleton, id, primary_domain, display_name, master_key_check, created_at) VALUES (1, $1, $2, $3, $4, $5)",
        )
        .bind(seed.tenant.id.to_string())
        .bind(&seed.tenant.primary_domain)
        .bind(&seed.tenant.display_name)
        .bind(&seed.master_key_check)
        .bind(ms(seed.tenant.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| match backend_err(e) {
            StoreError::Conflict(_) => StoreError::AlreadyInitialised,
            other => other,
        })?;
        save_policy_row(&mut tx, &seed.policy).await?;
        insert_user_row(&mut tx, &seed.admin).await?;
        insert_role_row(&mut tx, &seed.admin_role).await?;
        upsert_pass_row(&mut tx, &seed.admin_pass).await?;
        insert_application_row(&mut tx, &seed.client).await?;
        let k = &seed.signing_key;
        sqlx::query("INSERT INTO signing_keys (kid, algorithm, sealed_private_key, created_at, retired_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&k.kid)
            .bind(&k.algorithm)
            .bind(&k.sealed_private_key)
            .bind(ms(k.created_at))
            .bind(k.retired_at.map(ms))
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        for a in &seed.audit {
            insert_audit(&mut tx, a).await?;
        }
        self.commit(tx).await
    }

    async fn find_tenant(&self) -> StoreResult<Option<Tenant>> {
        let row = sqlx::query("SELECT id, primary_domain, display_name, created_at FROM tenant")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        row.as_ref().map(rows::tenant).transpose()
    }

    async fn master_key_check(&self) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT master_key_check FROM tenant")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        row.map(|r| r.text("master_key_check")).transpose()
    }

    async fn insert_user(&self, user: &User, audit: &AuditRecord) -> StoreResult<()> {
        self.write(audit, async |tx| insert_user_row(tx, user).await).await
    }

    async fn update_user(&self, u: &User, audit: &AuditRecord) -> StoreResult<()> {
        self.write(audit, async |tx| {
            let r = sqlx::query("UPDATE users SET display_name = $1, mail = $2, user_type = $3, account_enabled = $4, password_hash = $5, password_set_at = $6 WHERE id = $7")
                .bind(&u.display_name)
                .bind(u.mail.clone())
                .bind(u.user_type.as_str())
                .bind(i64::from(u.account_enabled))
                .bind(u.password_hash.clone())
                .bind(u.password_set_at.map(ms))
                .bind(u.id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            require_one(r.rows_affected(), "user", u.id)
        })
        .await
    }

    async fn delete_user(&self, id: UserId, audit: &AuditRecord) -> StoreResult<()> {
        self.write(audit, async |tx| {
            let r = sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            require_one(r.rows_affected(), "user", id)
        })
        .await
    }

    async fn find_user(&self, id: UserId) -> StoreResult<Option<User>> {
        let row = sqlx::query(USER_BY_ID)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn find_user_by_upn(&self, normalized_upn: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query(USER_BY_UPN)
            .bind(normalized_upn.to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn list_users(&self, filters: &[UserFilter], page: Page) -> StoreResult<Vec<User>> {
        let (where_sql, values) = user_where(filters);
        let n = values.len();
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users{where_sql} ORDER BY upn_normalized LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        self.fetch_users(sql, values, Some(page)).await
    }

    async fn count_users(&self, filters: &[UserFilter]) -> StoreResult<u64> {
        let (where_sql, values) = user_where(filters);
        let mut q = sqlx::query(AssertSqlSafe(format!("SELECT COUNT(*) AS n FROM users{where_sql}")));
        for v in values {
            q = q.bind(v);
        }
        let row = q.fetch_one(&self.pool).await.map_err(backend_err)?;
        Ok(u64::try_from(row.int("n")?).unwrap_or(0))
    }

    async fn find_user_auth_state(&self, id: UserId) -> StoreResult<Option<UserAuthState>> {
        // Two statements rather than four: this read sits under every pass and sign-in
        // request. The user and their pass come from one statement, so they agree.
        let id_s = id.to_string();
        let Some(row) = sqlx::query(USER_WITH_PASS)
            .bind(id_s.clone())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?
        else {
            return Ok(None);
        };
        let user = rows::user(&row)?;
        let pass = rows::joined_pass(&row, id)?;
        let mut groups = Vec::new();
        let mut roles = Vec::new();
        for r in sqlx::query(GROUPS_AND_ROLES)
            .bind(id_s)
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?
        {
            if r.text("kind")? == "g" {
                groups.push(r.id::<GroupId>("value")?);
            } else {
                roles.push(DirectoryRole::find(&r.text("value")?).ok_or_else(|| StoreError::Backend("stored role is malformed".into()))?);
            }
        }
        Ok(Some(UserAuthState { user, pass, groups, roles }))
    }

    async fn insert_group(&self, g: &Group, audit: &AuditRecord) -> StoreResult<()> {
        self.write(audit, async |tx| {
            sqlx::query(
                "INSERT INTO directory_groups (id, display_name, description, mail_nickname, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(g.id.to_string())
            .bind(&g.display_name)
            .bind(g.description.clone())
            .bind(g.mail_nickname.clone())
            .bind(ms(g.created_at))
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
            Ok(())
        })
        .await
    }

    async fn delete_group(&self, id: GroupId, audit: &AuditRecord) -> StoreResult<()> {
        self.write(audit, async |tx| {
            let r = sqlx::query("DELETE FROM directory_groups WHERE id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            require_one(r.rows_affected(), "group", id)
        })
        .await
    }

    async fn find_group(&self, id: GroupId) -> StoreResult<Option<Group>> {
        let row = sqlx::query("SELECT id, display_name, description, mail_nickname, created_at FROM directory_groups WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        row.as_ref().map(rows::group).transpose()
    }

    async fn list_groups(&self, page: Page) -> StoreResult<Vec<Group>> {
        let (limit, offset) = page_args(page);
        sqlx::query("SELECT id, display_name, description, mail_nickname, created_at FROM directory_groups ORDER BY lower(display_name), id LIMIT $1 OFFSET $2")
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?
            .iter()
            .map(rows::group)
            .collect()
    }

    async fn add_member(&self, group: GroupId, user: UserId, audit: &AuditRecord) -> StoreResult<()> {
        self.write(audit, async |tx| {
            sqlx::query("INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)")
                .bind(group.to_string())
                .bind(user.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            Ok(())
        })
        .await
    }

    async fn remove_member(&self, group: GroupId, user: UserId, audit: &AuditRecord) -> StoreResult<()> {
        self.write(audit, async |tx| {
            let r = sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
                .bind(group.to_string())
                .bind(user.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            require_one(r.rows_affected(), "member", user)
        })
        .await
    }

    async fn list_members(&self, group: GroupId, page: Page) -> StoreResult<Vec<User>> {
        let cols = USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {cols} FROM users u JOIN group_members m ON m.user_id = u.id WHERE m.group_id = $1 ORDER BY u.upn_normalized LIMIT $2 OFFSET $3"
        );
        self.fetch_users(sql, vec![group.to_string()], Some(page)).await
    }

    async fn insert_role_assignment(&self, a: &RoleAssignment, audit: &AuditRecord) -> StoreResult<()> {
        self.write(audit, async |tx| insert_role_row(tx, a).await).await
    }

    async fn delete_role_assignment(&self, id: RoleAssignmentId, audit: &AuditRecord) -> StoreResult<()> {
        self.write(audit, async |tx| {
            let r = sqlx::query("DELETE FROM role_assignments WHERE id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            require_one(r.rows_affected(), "roleAssignment", id)
        })
        .await
    }

    async fn find_role_assignment(&self, id: RoleAssignmentId) -> StoreResult<Option<RoleAssignment>> {
        let row = sqlx::query("SELECT id, principal_id, role_template, created_at FROM role_assignments WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        row.as_ref().map(rows::role_assignment).transpose()
    }

    async fn list_role_assignments(&self, principal: Option<UserId>, page: Page) -> StoreResult<Vec<RoleAssignment>> {
        let (limit, offset) = page_args(page);
        let q = match principal {
            Some(p) => sqlx::query("SELECT id, principal_id, role_template, created_at FROM role_assignments WHERE principal_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3").bind(p.to_string()),
            None => sqlx::query("SELECT id, principal_id, role_template, created_at FROM role_assignments ORDER BY created_at, id LIMIT $1 OFFSET $2"),
        };
        q.bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?
            .iter()
            .map(rows::role_assignment)
            .collect()
    }

    async fn get_policy(&self) -> StoreResult<TapPolicy> {
        let row = sqlx::query("SELECT body FROM tap_policy")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        match row {
            Some(r) => serde_json::from_str(&r.text("body")?).map_err(|e| StoreError::Backend(format!("stored policy unreadable: {e}"))),
            None => Err(StoreError::NotFound {
                kind: "policy",
                id: "TemporaryAccessPass".into(),
            }),
        }
    }

    async fn save_policy(&self, policy: &TapPolicy, audit: &AuditRecord) -> StoreResult<()> {
        self.write(audit, async |tx| save_policy_row(tx, policy).await).await
    }

    async fn replace_pass(&self, pass: &TemporaryAccessPass, audit: &AuditRecord) -> StoreResult<()> {
        self.write(audit, async |tx| upsert_pass_row(tx, pass).await).await
    }

    async fn delete_pass(&self, user: UserId, id: PassId, audit: &AuditRecord) -> StoreResult<()> {
        self.write(audit, async |tx| {
            let r = sqlx::query("DELETE FROM passes WHERE id = $1 AND user_id = $2")
                .bind(id.to_string())
                .bind(user.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            require_one(r.rows_affected(), "temporaryAccessPassMethod", id)
        })
        .await
    }

    async fn find_pass_for_user(&self, user: UserId) -> StoreResult<Option<TemporaryAccessPass>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {PASS_COLUMNS} FROM passes WHERE user_id = $1")))
            .bind(user.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        row.as_ref().map(rows::pass).transpose()
    }

    async fn record_pass_expiries(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        audit_for: &(dyn for<'p, 'u> Fn(&'p TemporaryAccessPass, &'u User) -> AuditRecord + Send + Sync),
    ) -> StoreResult<Vec<(TemporaryAccessPass, User)>> {
        let mut tx = self.begin().await?;
        let cols = PASS_COLUMNS.split(", ").map(|c| format!("p.{c}")).collect::<Vec<_>>().join(", ");
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {cols} FROM passes p WHERE p.expiry_recorded_at IS NULL AND p.start_at + p.lifetime_minutes * 60000 <= $1 ORDER BY p.start_at LIMIT $2"
        )))
        .bind(ms(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(backend_err)?;
        let mut recorded = Vec::new();
        for row in &rows {
            let pass = rows::pass(row)?;
            let claimed = sqlx::query("UPDATE passes SET expiry_recorded_at = $1 WHERE id = $2 AND expiry_recorded_at IS NULL")
                .bind(ms(now))
                .bind(pass.id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            let user_row = sqlx::query(USER_BY_ID)
                .bind(pass.user_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend_err)?;
            if let (1, Some(user_row)) = (claimed.rows_affected(), user_row) {
                let user = rows::user(&user_row)?;
                insert_audit(&mut tx, &audit_for(&pass, &user)).await?;
                recorded.push((pass, user));
            }
        }
        self.commit(tx).await?;
        Ok(recorded)
    }

    async fn consume_pass(&self, id: PassId, at: DateTime<Utc>) -> StoreResult<bool> {
        // A single conditional UPDATE: the database lets exactly one caller flip used_at.
        let r = sqlx::query("UPDATE passes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
            .bind(ms(at))
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend_err)?;
        self.changes.committed();
        Ok(r.rows_affected() == 1)
    }

    async fn find_application_by_app_id(&self, app_id: AppId) -> StoreResult<Option<Application>> {
        // One round trip: the token endpoint and every sign-in page read an application
        // with its secrets, so the join saves a query on the hottest paths.
        let rows = sqlx::query(
            "SELECT a.id, a.app_id, a.display_name, a.permissions, a.redirect_uris, a.created_at, \
                    s.key_id AS s_key_id, s.display_name AS s_display_name, s.hint AS s_hint, s.digest AS s_digest, \
                    s.created_at AS s_created_at, s.expires_at AS s_expires_at \
             FROM applications a LEFT JOIN application_secrets s ON s.app_id = a.app_id \
             WHERE a.app_id = $1 ORDER BY s.created_at, s.key_id",
        )
        .bind(app_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(backend_err)?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let secrets = rows
            .iter()
            .filter(|r| r.opt_text("s_key_id").ok().flatten().is_some())
            .map(|r| rows::client_secret_with_prefix(r, "s_"))
            .collect::<StoreResult<Vec<_>>>()?;
        rows::application(first, secrets).map(Some)
    }

    async fn rotate_signing_key(&self, new: &SigningKeyRecord, now: DateTime<Utc>, audit: &AuditRecord) -> StoreResult<()> {
        self.write(audit, async |tx| {
            sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
                .bind(ms(now))
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            sqlx::query(
                "INSERT INTO signing_keys (kid, algorithm, sealed_private_key, created_at, retired_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(new.kid.clone())
            .bind(new.algorithm.clone())
            .bind(new.sealed_private_key.clone())
            .bind(ms(new.created_at))
            .bind(new.retired_at.map(ms))
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
            Ok(())
        })
        .await
    }

    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        sqlx::query("SELECT kid, algorithm, sealed_private_key, created_at, retired_at FROM signing_keys ORDER BY created_at DESC")
            .fetch_all(&self.pool)
            .await
            .map_err(backend_err)?
            .iter()
            .map(rows::signing_key)
            .collect()
    }

    async fn insert_auth_request(&self, request: &AuthRequest) -> StoreResult<()> {
        sign_in::insert_auth_request(&self.pool, request).await
    }
    async fn find_auth_request(&self, id: &str) -> StoreResult<Option<AuthRequest>> {
        sign_in::find_auth_request(&self.pool, id).await
    }
    async fn delete_auth_request(&self, id: &str) -> StoreResult<()> {
        sign_in::delete_auth_request(&self.pool, id).await
    }
    async fn insert_session(&self, session: &Session, token_digest: &str) -> StoreResult<()> {
        sign_in::insert_session(&self.pool, session, token_digest).await
    }
    async fn find_session_by_token(&self, token_digest: &str) -> StoreResult<Option<Session>> {
        sign_in::find_session_by_token(&self.pool, token_digest).await
    }
    async fn find_session(&self, id: Uuid) -> StoreResult<Option<Session>> {
        sign_in::find_session(&self.pool, id).await
    }
    async fn revoke_session(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
        sign_in::revoke_session(&self.pool, self.backend.begin_write(), id, at).await
    }
    async fn insert_authorization_code(&self, code: &AuthorizationCode) -> StoreResult<()> {
        sign_in::insert_authorization_code(&self.pool, code).await
    }
    async fn redeem_authorization_code(&self, digest: &str, at: DateTime<Utc>) -> StoreResult<Redemption> {
        sign_in::redeem_authorization_code(&self.pool, digest, at).await
    }
    async fn insert_refresh_token(&self, token: &RefreshToken) -> StoreResult<()> {
        sign_in::insert_refresh_token(&self.pool, token).await
    }
    async fn find_refresh_token(&self, digest: &str) -> StoreResult<Option<RefreshToken>> {
        sign_in::find_refresh_token(&self.pool, digest).await
    }
    async fn rotate_refresh_token(&self, old_digest: &str, new: &RefreshToken, at: DateTime<Utc>) -> StoreResult<Rotation> {
        sign_in::rotate_refresh_token(&self.pool, self.backend.begin_write(), old_digest, new, at).await
    }
    async fn revoke_refresh_family(&self, family: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
        sign_in::revoke_refresh_family(&self.pool, family, at).await
    }
    async fn get_throttle(&self, user: UserId) -> StoreResult<Throttle> {
        sign_in::get_throttle(&self.pool, user).await
    }
    async fn save_throttle(&self, user: UserId, throttle: &Throttle) -> StoreResult<()> {
        sign_in::save_throttle(&self.pool, user, throttle).await
    }
    async fn insert_sign_in(&self, record: &SignInRecord) -> StoreResult<()> {
        sign_in::insert_sign_in(&self.pool, record).await
    }
    async fn list_sign_ins(&self, page: Page) -> StoreResult<Vec<SignInRecord>> {
        sign_in::list_sign_ins(&self.pool, page).await
    }
    async fn insert_domain(&self, domain: &Domain, audit: &AuditRecord) -> StoreResult<()> {
        sign_in::save_domain(&self.pool, self.backend.begin_write(), domain, audit, true).await
    }
    async fn update_domain(&self, domain: &Domain, audit: &AuditRecord) -> StoreResult<()> {
        sign_in::save_domain(&self.pool, self.backend.begin_write(), domain, audit, false).await
    }
    async fn find_domain(&self, id: &str) -> StoreResult<Option<Domain>> {
        sign_in::find_domain(&self.pool, id).await
    }
    async fn list_domains(&self) -> StoreResult<Vec<Domain>> {
        sign_in::list_domains(&self.pool).await
    }

    async fn list_audit(&self, page: Page) -> StoreResult<Vec<AuditRecord>> {
        let (limit, offset) = page_args(page);
        sqlx::query(
            "SELECT id, activity_at, activity, category, logged_by_service, operation_type, result, result_reason, initiated_by, target_resources
             FROM audit_log ORDER BY seq DESC LIMIT $1 OFFSET $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await
        .map_err(backend_err)?
        .iter()
        .map(rows::audit)
        .collect()
    }

    async fn insert_application(&self, app: &Application, audit: &AuditRecord) -> StoreResult<()> {
        self.write(audit, async |tx| insert_application_row(tx, app).await).await
    }

    async fn list_applications(&self, page: Page) -> StoreResult<Vec<Application>> {
        let (limit, offset) = page_args(page);
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {APPLICATION_COLUMNS} FROM applications ORDER BY created_at, id LIMIT $1 OFFSET $2"
        )))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await
        .map_err(backend_err)?;
        self.with_secrets(rows).await
    }

    async fn find_application(&self, id: ApplicationObjectId) -> StoreResult<Option<Application>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {APPLICATION_COLUMNS} FROM applications WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(backend_err)?;
        Ok(self.with_secrets(rows).await?.pop())
    }

    async fn delete_application(&self, id: ApplicationObjectId, audit: &AuditRecord) -> StoreResult<()> {
        self.write(audit, async |tx| {
            // The foreign key cascades too; deleting the secrets here does not depend on it.
            sqlx::query("DELETE FROM application_secrets WHERE app_id IN (SELECT app_id FROM applications WHERE id = $1)")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            let r = sqlx::query("DELETE FROM applications WHERE id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            require_one(r.rows_affected(), "application", id)
        })
        .await
    }

    async fn add_client_secret(&self, app_id: AppId, secret: &ClientSecret, audit: &AuditRecord) -> StoreResult<()> {
        self.write(audit, async |tx| {
            let exists = sqlx::query("SELECT id FROM applications WHERE app_id = $1")
                .bind(app_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend_err)?;
            if exists.is_none() {
                return Err(StoreError::NotFound {
                    kind: "application",
                    id: app_id.to_string(),
                });
            }
            insert_secret_row(tx, app_id, secret).await
        })
        .await
    }

    async fn insert_fido2_method(&self, method: &Fido2Method, audit: &AuditRecord) -> StoreResult<()> {
        let result = methods::insert_fido2(&self.pool, self.backend.begin_write(), method, audit).await;
        self.noted(result)
    }
    async fn list_fido2_methods(&self, user: UserId) -> StoreResult<Vec<Fido2Method>> {
        methods::list_fido2(&self.pool, user).await
    }
    async fn find_fido2_by_credential_id(&self, credential_id: &str) -> StoreResult<Option<Fido2Method>> {
        methods::find_fido2_by_credential_id(&self.pool, credential_id).await
    }
    async fn record_fido2_use(&self, id: MethodId, passkey: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let result = methods::record_fido2_use(&self.pool, id, passkey, at).await;
        self.noted(result)
    }
    async fn delete_fido2_method(&self, user: UserId, id: MethodId, audit: &AuditRecord) -> StoreResult<()> {
        let result = methods::delete_method(&self.pool, self.backend.begin_write(), methods::Table::Fido2, user, id, audit).await;
        self.noted(result)
    }
    async fn insert_software_oath_method(&self, method: &SoftwareOathMethod, audit: &AuditRecord) -> StoreResult<()> {
        let result = methods::insert_oath(&self.pool, self.backend.begin_write(), method, audit).await;
        self.noted(result)
    }
    async fn list_software_oath_methods(&self, user: UserId) -> StoreResult<Vec<SoftwareOathMethod>> {
        methods::list_oath(&self.pool, user).await
    }
    async fn use_totp_step(&self, id: MethodId, step: i64) -> StoreResult<bool> {
        let result = methods::use_totp_step(&self.pool, id, step).await;
        self.noted(result)
    }
    async fn delete_software_oath_method(&self, user: UserId, id: MethodId, audit: &AuditRecord) -> StoreResult<()> {
        let result = methods::delete_method(
            &self.pool,
            self.backend.begin_write(),
            methods::Table::SoftwareOath,
            user,
            id,
            audit,
        )
        .await;
        self.noted(result)
    }
    async fn insert_ceremony(&self, ceremony: &Ceremony) -> StoreResult<()> {
        methods::insert_ceremony(&self.pool, ceremony).await
    }
    async fn take_ceremony(&self, id: Uuid) -> StoreResult<Option<Ceremony>> {
        methods::take_ceremony(&self.pool, id).await
    }
    async fn purge_ceremonies(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        methods::purge_ceremonies(&self.pool, now).await
    }

    // --- device authorization grant (RFC 8628) ---
    async fn insert_device_code(&self, code: &DeviceCode) -> StoreResult<()> {
        device::insert_device_code(&self.pool, code).await
    }
    async fn find_device_code(&self, device_code_digest: &str) -> StoreResult<Option<DeviceCode>> {
        device::find_device_code(&self.pool, device_code_digest).await
    }
    async fn find_device_code_by_user_code(&self, user_code_digest: &str) -> StoreResult<Option<DeviceCode>> {
        device::find_device_code_by_user_code(&self.pool, user_code_digest).await
    }
    async fn decide_device_code(&self, user_code_digest: &str, decision: DeviceDecision, at: DateTime<Utc>) -> StoreResult<bool> {
        device::decide_device_code(&self.pool, user_code_digest, decision, at).await
    }
    async fn record_device_poll(
        &self,
        device_code_digest: &str,
        previous: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
        interval_seconds: i64,
    ) -> StoreResult<bool> {
        device::record_device_poll(&self.pool, device_code_digest, previous, at, interval_seconds).await
    }
    async fn redeem_device_code(&self, device_code_digest: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        device::redeem_device_code(&self.pool, device_code_digest, at).await
    }
}

const APPLICATION_COLUMNS: &str = "id, app_id, display_name, permissions, redirect_uris, created_at";

async fn insert_application_row(tx: &mut sqlx::AnyConnection, app: &Application) -> StoreResult<()> {
    let perms: Vec<&str> = app.permissions.iter().map(|p| p.as_str()).collect();
    sqlx::query(
        "INSERT INTO applications (id, app_id, display_name, permissions, redirect_uris, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(app.id.to_string())
    .bind(app.app_id.to_string())
    .bind(&app.display_name)
    .bind(serde_json::to_string(&perms).map_err(|e| StoreError::Backend(e.to_string()))?)
    .bind(serde_json::to_string(&app.redirect_uris).map_err(|e| StoreError::Backend(e.to_string()))?)
    .bind(ms(app.created_at))
    .execute(&mut *tx)
    .await
    .map_err(backend_err)?;
    for s in &app.secrets {
        insert_secret_row(tx, app.app_id, s).await?;
    }
    Ok(())
}

async fn insert_secret_row(tx: &mut sqlx::AnyConnection, app_id: AppId, s: &ClientSecret) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO application_secrets (key_id, app_id, display_name, hint, digest, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(s.key_id.to_string())
    .bind(app_id.to_string())
    .bind(s.display_name.clone())
    .bind(&s.hint)
    .bind(&s.digest)
    .bind(ms(s.created_at))
    .bind(ms(s.expires_at))
    .execute(&mut *tx)
    .await
    .map_err(backend_err)?;
    Ok(())
}

impl SqlStore {
    /// Turns application rows into applications, reading all their secrets in one query
    /// (oldest first), so a page of applications costs two queries.
    async fn with_secrets(&self, rows: Vec<AnyRow>) -> StoreResult<Vec<Application>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let app_ids = rows.iter().map(|r| r.text("app_id")).collect::<StoreResult<Vec<_>>>()?;
        let params = (1..=app_ids.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "SELECT key_id, app_id, display_name, hint, digest, created_at, expires_at FROM application_secrets WHERE app_id IN ({params}) ORDER BY created_at, key_id"
        )));
        for id in &app_ids {
            q = q.bind(id.clone());
        }
        let mut secrets: std::collections::HashMap<String, Vec<ClientSecret>> = std::collections::HashMap::new();
        for r in q.fetch_all(&self.pool).await.map_err(backend_err)? {
            secrets.entry(r.text("app_id")?).or_default().push(rows::client_secret(&r)?);
        }
        rows.iter()
            .zip(app_ids)
            .map(|(r, app_id)| rows::application(r, secrets.remove(&app_id).unwrap_or_default()))
            .collect()
    }
}

/// Parses a store id column.
pub(crate) fn parse_id<T: FromStr>(raw: &str, column: &str) -> StoreResult<T> {
    raw.parse()
        .map_err(|_| StoreError::Backend(format!("column {column} holds a malformed id")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_choose_their_backend() {
        assert_eq!(Backend::from_url("sqlite:./latchkey.db").unwrap(), Backend::Sqlite);
        assert_eq!(Backend::from_url("postgres://localhost/test").unwrap(), Backend::Postgres);
        assert!(Backend::from_url("mysql://x").is_err());
        assert_eq!(sqlite_path("sqlite://./a.db?mode=rwc"), Some("./a.db"));
        assert_eq!(sqlite_path("sqlite:/tmp/x.db"), Some("/tmp/x.db"));
    }

    #[test]
    fn like_prefixes_escape_wildcards() {
        assert_eq!(like_prefix("A_b%\\"), "A\\_b\\%\\\\%");
    }
}
