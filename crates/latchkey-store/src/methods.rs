//! Storage of passkeys, authenticator apps and pending WebAuthn/TOTP ceremonies.

use crate::rows::{Row as _, ms};
use crate::{backend_err, insert_audit, require_one};
use chrono::{DateTime, Utc};
use latchkey_core::audit::AuditRecord;
use latchkey_core::ids::{MethodId, UserId};
use latchkey_core::methods::{Ceremony, CeremonyKind, Fido2Method, SoftwareOathMethod};
use latchkey_core::store::{StoreError, StoreResult};
use sqlx::AnyPool;
use sqlx::any::AnyRow;
use uuid::Uuid;

const FIDO2_COLUMNS: &str = "id, user_id, display_name, aaguid, model, credential_id, passkey, created_at, last_used_at";
const OATH_COLUMNS: &str = "id, user_id, sealed_secret, created_at, last_used_step";

fn fido2(r: &AnyRow) -> StoreResult<Fido2Method> {
    Ok(Fido2Method {
        id: r.id("id")?,
        user_id: r.id("user_id")?,
        display_name: r.text("display_name")?,
        aaguid: r.opt_text("aaguid")?.and_then(|a| Uuid::parse_str(&a).ok()),
        model: r.opt_text("model")?,
        credential_id: r.text("credential_id")?,
        passkey: r.text("passkey")?,
        created_at: r.time("created_at")?,
        last_used_at: r.opt_time("last_used_at")?,
    })
}

fn oath(r: &AnyRow) -> StoreResult<SoftwareOathMethod> {
    Ok(SoftwareOathMethod {
        id: r.id("id")?,
        user_id: r.id("user_id")?,
        sealed_secret: r.text("sealed_secret")?,
        created_at: r.time("created_at")?,
        last_used_step: r.opt_int("last_used_step")?,
    })
}

fn ceremony(r: &AnyRow) -> StoreResult<Ceremony> {
    let kind = r.text("kind")?;
    Ok(Ceremony {
        id: Uuid::parse_str(&r.text("id")?).map_err(|_| StoreError::Backend("stored ceremony id is malformed".into()))?,
        kind: CeremonyKind::parse(&kind).ok_or_else(|| StoreError::Backend(format!("unknown ceremony kind {kind}")))?,
        user_id: r.opt_text("user_id")?.map(|u| crate::parse_id(&u, "user_id")).transpose()?,
        session_id: r.opt_text("session_id")?.and_then(|s| Uuid::parse_str(&s).ok()),
        state: r.text("state")?,
        expires_at: r.time("expires_at")?,
    })
}

pub async fn insert_fido2(pool: &AnyPool, begin: &'static str, m: &Fido2Method, audit: &AuditRecord) -> StoreResult<()> {
    let mut tx = pool.begin_with(begin).await.map_err(backend_err)?;
    sqlx::query(
        "INSERT INTO fido2_methods (id, user_id, display_name, aaguid, model, credential_id, passkey, created_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(m.id.to_string())
    .bind(m.user_id.to_string())
    .bind(m.display_name.clone())
    .bind(m.aaguid.map(|a| a.hyphenated().to_string()))
    .bind(m.model.clone())
    .bind(m.credential_id.clone())
    .bind(m.passkey.clone())
    .bind(ms(m.created_at))
    .bind(m.last_used_at.map(ms))
    .execute(&mut *tx)
    .await
    .map_err(backend_err)?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await.map_err(backend_err)
}

pub async fn list_fido2(pool: &AnyPool, user: UserId) -> StoreResult<Vec<Fido2Method>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {FIDO2_COLUMNS} FROM fido2_methods WHERE user_id = $1 ORDER BY created_at, id"
    )))
    .bind(user.to_string())
    .fetch_all(pool)
    .await
    .map_err(backend_err)?;
    rows.iter().map(fido2).collect()
}

pub async fn find_fido2_by_credential_id(pool: &AnyPool, credential_id: &str) -> StoreResult<Option<Fido2Method>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {FIDO2_COLUMNS} FROM fido2_methods WHERE credential_id = $1"
    )))
    .bind(credential_id.to_owned())
    .fetch_optional(pool)
    .await
    .map_err(backend_err)?;
    row.as_ref().map(fido2).transpose()
}

pub async fn record_fido2_use(pool: &AnyPool, id: MethodId, passkey: &str, at: DateTime<Utc>) -> StoreResult<()> {
    let r = sqlx::query("UPDATE fido2_methods SET passkey = $1, last_used_at = $2 WHERE id = $3")
        .bind(passkey.to_owned())
        .bind(ms(at))
        .bind(id.to_string())
        .execute(pool)
        .await
        .map_err(backend_err)?;
    require_one(r.rows_affected(), "fido2AuthenticationMethod", id)
}

pub async fn delete_method(
    pool: &AnyPool,
    begin: &'static str,
    table: Table,
    user: UserId,
    id: MethodId,
    audit: &AuditRecord,
) -> StoreResult<()> {
    let mut tx = pool.begin_with(begin).await.map_err(backend_err)?;
    let sql = match table {
        Table::Fido2 => "DELETE FROM fido2_methods WHERE id = $1 AND user_id = $2",
        Table::SoftwareOath => "DELETE FROM software_oath_methods WHERE id = $1 AND user_id = $2",
    };
    let r = sqlx::query(sql)
        .bind(id.to_string())
        .bind(user.to_string())
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
    let kind = match table {
        Table::Fido2 => "fido2AuthenticationMethod",
        Table::SoftwareOath => "softwareOathAuthenticationMethod",
    };
    require_one(r.rows_affected(), kind, id)?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await.map_err(backend_err)
}

/// Which method table a deletion touches.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Fido2,
    SoftwareOath,
}

pub async fn insert_oath(pool: &AnyPool, begin: &'static str, m: &SoftwareOathMethod, audit: &AuditRecord) -> StoreResult<()> {
    let mut tx = pool.begin_with(begin).await.map_err(backend_err)?;
    sqlx::query("INSERT INTO software_oath_methods (id, user_id, sealed_secret, created_at, last_used_step) VALUES ($1, $2, $3, $4, $5)")
        .bind(m.id.to_string())
        .bind(m.user_id.to_string())
        .bind(m.sealed_secret.clone())
        .bind(ms(m.created_at))
        .bind(m.last_used_step)
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await.map_err(backend_err)
}

pub async fn list_oath(pool: &AnyPool, user: UserId) -> StoreResult<Vec<SoftwareOathMethod>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {OATH_COLUMNS} FROM software_oath_methods WHERE user_id = $1 ORDER BY created_at, id"
    )))
    .bind(user.to_string())
    .fetch_all(pool)
    .await
    .map_err(backend_err)?;
    rows.iter().map(oath).collect()
}

pub async fn use_totp_step(pool: &AnyPool, id: MethodId, step: i64) -> StoreResult<bool> {
    // One conditional UPDATE: the database lets exactly one caller move the step forward.
    let r = sqlx::query(
        "UPDATE software_oath_methods SET last_used_step = $1 WHERE id = $2 AND (last_used_step IS NULL OR last_used_step < $1)",
    )
    .bind(step)
    .bind(id.to_string())
    .execute(pool)
    .await
    .map_err(backend_err)?;
    Ok(r.rows_affected() == 1)
}

pub async fn insert_ceremony(pool: &AnyPool, c: &Ceremony) -> StoreResult<()> {
    sqlx::query("INSERT INTO ceremonies (id, kind, user_id, session_id, state, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(c.id.to_string())
        .bind(c.kind.as_str())
        .bind(c.user_id.map(|u| u.to_string()))
        .bind(c.session_id.map(|s| s.to_string()))
        .bind(c.state.clone())
        .bind(ms(c.expires_at))
        .execute(pool)
        .await
        .map_err(backend_err)?;
    Ok(())
}

pub async fn take_ceremony(pool: &AnyPool, id: Uuid) -> StoreResult<Option<Ceremony>> {
    // DELETE … RETURNING (SQLite ≥ 3.35, PostgreSQL): of two concurrent answers to one
    // challenge, only one gets the state.
    let row = sqlx::query("DELETE FROM ceremonies WHERE id = $1 RETURNING id, kind, user_id, session_id, state, expires_at")
        .bind(id.to_string())
        .fetch_optional(pool)
        .await
        .map_err(backend_err)?;
    row.as_ref().map(ceremony).transpose()
}

pub async fn purge_ceremonies(pool: &AnyPool, now: DateTime<Utc>) -> StoreResult<u64> {
    let r = sqlx::query("DELETE FROM ceremonies WHERE expires_at < $1")
        .bind(ms(now))
        .execute(pool)
        .await
        .map_err(backend_err)?;
    Ok(r.rows_affected())
}
