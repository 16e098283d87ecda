//! Storage of device authorizations (RFC 8628). Every change of state is one conditional
//! `UPDATE`, so of concurrent answers, polls or redemptions exactly one wins, on SQLite and
//! PostgreSQL alike.

use crate::backend_err;
use crate::rows::{Row as _, ms};
use chrono::{DateTime, Utc};
use latchkey_core::device::{DeviceCode, DeviceCodeStatus, DeviceDecision};
use latchkey_core::store::{StoreError, StoreResult};
use sqlx::AnyPool;
use sqlx::any::AnyRow;

const COLUMNS: &str = "device_code_digest, user_code_digest, client_id, scope, created_at, expires_at, interval_seconds, last_polled_at, status, session_id, decided_at, redeemed_at";

fn device_code(r: &AnyRow) -> StoreResult<DeviceCode> {
    Ok(DeviceCode {
        device_code_digest: r.text("device_code_digest")?,
        user_code_digest: r.text("user_code_digest")?,
        client_id: r.id("client_id")?,
        scope: r.text("scope")?,
        created_at: r.time("created_at")?,
        expires_at: r.time("expires_at")?,
        interval_seconds: r.int("interval_seconds")?,
        last_polled_at: r.opt_time("last_polled_at")?,
        status: DeviceCodeStatus::parse(&r.text("status")?)
            .ok_or_else(|| StoreError::Backend("stored device code status is malformed".into()))?,
        session_id: r.opt_text("session_id")?.map(|s| crate::parse_id(&s, "session_id")).transpose()?,
        decided_at: r.opt_time("decided_at")?,
        redeemed_at: r.opt_time("redeemed_at")?,
    })
}

pub async fn insert_device_code(pool: &AnyPool, c: &DeviceCode) -> StoreResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO device_codes ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    )))
    .bind(c.device_code_digest.clone())
    .bind(c.user_code_digest.clone())
    .bind(c.client_id.to_string())
    .bind(c.scope.clone())
    .bind(ms(c.created_at))
    .bind(ms(c.expires_at))
    .bind(c.interval_seconds)
    .bind(c.last_polled_at.map(ms))
    .bind(c.status.as_str())
    .bind(c.session_id.map(|s| s.to_string()))
    .bind(c.decided_at.map(ms))
    .bind(c.redeemed_at.map(ms))
    .execute(pool)
    .await
    .map_err(backend_err)?;
    Ok(())
}

async fn find_by(pool: &AnyPool, column: &'static str, digest: &str) -> StoreResult<Option<DeviceCode>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM device_codes WHERE {column} = $1"
    )))
    .bind(digest.to_owned())
    .fetch_optional(pool)
    .await
    .map_err(backend_err)?;
    row.as_ref().map(device_code).transpose()
}

pub async fn find_device_code(pool: &AnyPool, digest: &str) -> StoreResult<Option<DeviceCode>> {
    find_by(pool, "device_code_digest", digest).await
}

pub async fn find_device_code_by_user_code(pool: &AnyPool, digest: &str) -> StoreResult<Option<DeviceCode>> {
    find_by(pool, "user_code_digest", digest).await
}

pub async fn decide_device_code(pool: &AnyPool, user_code_digest: &str, decision: DeviceDecision, at: DateTime<Utc>) -> StoreResult<bool> {
    let (status, session) = match decision {
        DeviceDecision::Approve { session_id } => (DeviceCodeStatus::Approved, Some(session_id.to_string())),
        DeviceDecision::Deny => (DeviceCodeStatus::Denied, None),
    };
    let r = sqlx::query(
        "UPDATE device_codes SET status = $1, session_id = $2, decided_at = $3
         WHERE user_code_digest = $4 AND status = 'pending' AND expires_at > $3",
    )
    .bind(status.as_str())
    .bind(session)
    .bind(ms(at))
    .bind(user_code_digest.to_owned())
    .execute(pool)
    .await
    .map_err(backend_err)?;
    Ok(r.rows_affected() == 1)
}

pub async fn record_device_poll(
    pool: &AnyPool,
    digest: &str,
    previous: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
    interval_seconds: i64,
) -> StoreResult<bool> {
    // COALESCE with -1 (no instant is stored as -1 ms) compares "never polled" portably.
    let r = sqlx::query(
        "UPDATE device_codes SET last_polled_at = $1, interval_seconds = $2
         WHERE device_code_digest = $3 AND COALESCE(last_polled_at, -1) = $4",
    )
    .bind(ms(at))
    .bind(interval_seconds)
    .bind(digest.to_owned())
    .bind(previous.map_or(-1, ms))
    .execute(pool)
    .await
    .map_err(backend_err)?;
    Ok(r.rows_affected() == 1)
}

pub async fn redeem_device_code(pool: &AnyPool, digest: &str, at: DateTime<Utc>) -> StoreResult<bool> {
    // One conditional UPDATE decides the winner, as for authorization codes.
    let r =
        sqlx::query("UPDATE device_codes SET status = 'redeemed', redeemed_at = $1 WHERE device_code_digest = $2 AND status = 'approved'")
            .bind(ms(at))
            .bind(digest.to_owned())
            .execute(pool)
            .await
            .map_err(backend_err)?;
    Ok(r.rows_affected() == 1)
}
