//! Storage of sign-in state: authorization requests, sessions, codes, refresh tokens,
//! wrong-code counters, domains and the sign-in log.

use crate::rows::{Row as _, ms};
use crate::{backend_err, insert_audit, require_one};
use chrono::{DateTime, Utc};
use latchkey_core::audit::AuditRecord;
use latchkey_core::directory::Page;
use latchkey_core::ids::UserId;
use latchkey_core::session::{
    AuthRequest, AuthorizationCode, Domain, Federation, Redemption, RefreshToken, ResponseMode, Rotation, Session, SignInMethod,
    SignInRecord,
};
use latchkey_core::signin::Throttle;
use latchkey_core::store::{StoreError, StoreResult};
use sqlx::AnyPool;
use sqlx::any::AnyRow;
use uuid::Uuid;

fn uuid(r: &AnyRow, c: &str) -> StoreResult<Uuid> {
    r.id(c)
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("stored {what} is malformed"))
}

fn auth_request(r: &AnyRow) -> StoreResult<AuthRequest> {
    Ok(AuthRequest {
        id: r.text("id")?,
        client_id: r.id("client_id")?,
        redirect_uri: r.text("redirect_uri")?,
        scope: r.text("scope")?,
        state: r.opt_text("state")?,
        nonce: r.opt_text("nonce")?,
        code_challenge: r.opt_text("code_challenge")?,
        response_mode: if r.text("response_mode")? == "form_post" {
            ResponseMode::FormPost
        } else {
            ResponseMode::Query
        },
        login_hint: r.opt_text("login_hint")?,
        created_at: r.time("created_at")?,
        expires_at: r.time("expires_at")?,
    })
}

fn session(r: &AnyRow) -> StoreResult<Session> {
    Ok(Session {
        id: uuid(r, "id")?,
        user_id: r.id("user_id")?,
        method: SignInMethod::parse(&r.text("method")?).ok_or_else(|| corrupt("sign-in method"))?,
        pass_id: r.opt_text("pass_id")?.map(|p| crate::parse_id(&p, "pass_id")).transpose()?,
        created_at: r.time("created_at")?,
        expires_at: r.time("expires_at")?,
        registration_until: r.opt_time("registration_until")?,
        revoked_at: r.opt_time("revoked_at")?,
    })
}

fn code(r: &AnyRow) -> StoreResult<AuthorizationCode> {
    Ok(AuthorizationCode {
        digest: r.text("digest")?,
        client_id: r.id("client_id")?,
        redirect_uri: r.text("redirect_uri")?,
        session_id: uuid(r, "session_id")?,
        scope: r.text("scope")?,
        nonce: r.opt_text("nonce")?,
        code_challenge: r.opt_text("code_challenge")?,
        created_at: r.time("created_at")?,
        expires_at: r.time("expires_at")?,
        used_at: r.opt_time("used_at")?,
    })
}

fn refresh(r: &AnyRow) -> StoreResult<RefreshToken> {
    Ok(RefreshToken {
        digest: r.text("digest")?,
        family_id: uuid(r, "family_id")?,
        session_id: uuid(r, "session_id")?,
        client_id: r.id("client_id")?,
        scope: r.text("scope")?,
        created_at: r.time("created_at")?,
        expires_at: r.time("expires_at")?,
        used_at: r.opt_time("used_at")?,
        revoked_at: r.opt_time("revoked_at")?,
    })
}

fn domain(r: &AnyRow) -> StoreResult<Domain> {
    let federation = match r.text("authentication_type")?.as_str() {
        "Federated" => Some(Federation {
            passive_sign_in_uri: r.opt_text("passive_sign_in_uri")?.unwrap_or_default(),
            issuer_uri: r.opt_text("issuer_uri")?.unwrap_or_default(),
            display_name: r.opt_text("federation_display_name")?.unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(Domain {
        id: r.text("id")?,
        federation,
        created_at: r.time("created_at")?,
    })
}

fn sign_in(r: &AnyRow) -> StoreResult<SignInRecord> {
    Ok(SignInRecord {
        id: uuid(r, "id")?,
        created_at: r.time("created_at")?,
        user_id: r.opt_text("user_id")?.map(|u| crate::parse_id(&u, "user_id")).transpose()?,
        user_principal_name: r.text("user_principal_name")?,
        app_id: r.opt_text("app_id")?.map(|a| crate::parse_id(&a, "app_id")).transpose()?,
        app_display_name: r.opt_text("app_display_name")?,
        ip_address: r.opt_text("ip_address")?,
        correlation_id: r.text("correlation_id")?,
        method: r.opt_text("method")?.and_then(|m| SignInMethod::parse(&m)),
        error_code: r.int("error_code")?,
        failure_reason: r.opt_text("failure_reason")?,
        additional_details: r.opt_text("additional_details")?,
    })
}

pub async fn insert_auth_request(pool: &AnyPool, a: &AuthRequest) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO auth_requests (id, client_id, redirect_uri, scope, state, nonce, code_challenge, response_mode, login_hint, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(a.id.clone())
    .bind(a.client_id.to_string())
    .bind(a.redirect_uri.clone())
    .bind(a.scope.clone())
    .bind(a.state.clone())
    .bind(a.nonce.clone())
    .bind(a.code_challenge.clone())
    .bind(a.response_mode.as_str())
    .bind(a.login_hint.clone())
    .bind(ms(a.created_at))
    .bind(ms(a.expires_at))
    .execute(pool)
    .await
    .map_err(backend_err)?;
    Ok(())
}

pub async fn find_auth_request(pool: &AnyPool, id: &str) -> StoreResult<Option<AuthRequest>> {
    let row = sqlx::query(
        "SELECT id, client_id, redirect_uri, scope, state, nonce, code_challenge, response_mode, login_hint, created_at, expires_at FROM auth_requests WHERE id = $1",
    )
    .bind(id.to_owned())
    .fetch_optional(pool)
    .await
    .map_err(backend_err)?;
    row.as_ref().map(auth_request).transpose()
}

pub async fn delete_auth_request(pool: &AnyPool, id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM auth_requests WHERE id = $1")
        .bind(id.to_owned())
        .execute(pool)
        .await
        .map_err(backend_err)?;
    Ok(())
}

pub async fn insert_session(pool: &AnyPool, s: &Session, token_digest: &str) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id, token_digest, user_id, method, pass_id, created_at, expires_at, registration_until, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(s.id.to_string())
    .bind(token_digest.to_owned())
    .bind(s.user_id.to_string())
    .bind(s.method.as_str())
    .bind(s.pass_id.map(|p| p.to_string()))
    .bind(ms(s.created_at))
    .bind(ms(s.expires_at))
    .bind(s.registration_until.map(ms))
    .bind(s.revoked_at.map(ms))
    .execute(pool)
    .await
    .map_err(backend_err)?;
    Ok(())
}

const SESSION_COLUMNS: &str = "id, user_id, method, pass_id, created_at, expires_at, registration_until, revoked_at";

pub async fn find_session_by_token(pool: &AnyPool, digest: &str) -> StoreResult<Option<Session>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE token_digest = $1"
    )))
    .bind(digest.to_owned())
    .fetch_optional(pool)
    .await
    .map_err(backend_err)?;
    row.as_ref().map(session).transpose()
}

pub async fn find_session(pool: &AnyPool, id: Uuid) -> StoreResult<Option<Session>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1")))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await
        .map_err(backend_err)?;
    row.as_ref().map(session).transpose()
}

pub async fn revoke_session(pool: &AnyPool, begin: &'static str, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
    let mut tx = pool.begin_with(begin).await.map_err(backend_err)?;
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(ms(at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
    sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE session_id = $2 AND revoked_at IS NULL")
        .bind(ms(at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
    tx.commit().await.map_err(backend_err)
}

pub async fn insert_authorization_code(pool: &AnyPool, c: &AuthorizationCode) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO authorization_codes (digest, client_id, redirect_uri, session_id, scope, nonce, code_challenge, created_at, expires_at, used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(c.digest.clone())
    .bind(c.client_id.to_string())
    .bind(c.redirect_uri.clone())
    .bind(c.session_id.to_string())
    .bind(c.scope.clone())
    .bind(c.nonce.clone())
    .bind(c.code_challenge.clone())
    .bind(ms(c.created_at))
    .bind(ms(c.expires_at))
    .bind(c.used_at.map(ms))
    .execute(pool)
    .await
    .map_err(backend_err)?;
    Ok(())
}

async fn find_code(pool: &AnyPool, digest: &str) -> StoreResult<Option<AuthorizationCode>> {
    let row = sqlx::query(
        "SELECT digest, client_id, redirect_uri, session_id, scope, nonce, code_challenge, created_at, expires_at, used_at FROM authorization_codes WHERE digest = $1",
    )
    .bind(digest.to_owned())
    .fetch_optional(pool)
    .await
    .map_err(backend_err)?;
    row.as_ref().map(code).transpose()
}

pub async fn redeem_authorization_code(pool: &AnyPool, digest: &str, at: DateTime<Utc>) -> StoreResult<Redemption> {
    // One conditional UPDATE decides the winner, as for one-time passes.
    let r = sqlx::query("UPDATE authorization_codes SET used_at = $1 WHERE digest = $2 AND used_at IS NULL")
        .bind(ms(at))
        .bind(digest.to_owned())
        .execute(pool)
        .await
        .map_err(backend_err)?;
    Ok(match (r.rows_affected(), find_code(pool, digest).await?) {
        (1, Some(c)) => Redemption::Redeemed(c),
        (_, Some(c)) => Redemption::AlreadyUsed(c),
        (_, None) => Redemption::Unknown,
    })
}

async fn insert_refresh(tx: &mut sqlx::AnyConnection, t: &RefreshToken) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (digest, family_id, session_id, client_id, scope, created_at, expires_at, used_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(t.digest.clone())
    .bind(t.family_id.to_string())
    .bind(t.session_id.to_string())
    .bind(t.client_id.to_string())
    .bind(t.scope.clone())
    .bind(ms(t.created_at))
    .bind(ms(t.expires_at))
    .bind(t.used_at.map(ms))
    .bind(t.revoked_at.map(ms))
    .execute(&mut *tx)
    .await
    .map_err(backend_err)?;
    Ok(())
}

pub async fn insert_refresh_token(pool: &AnyPool, t: &RefreshToken) -> StoreResult<()> {
    let mut conn = pool.acquire().await.map_err(backend_err)?;
    insert_refresh(&mut conn, t).await
}

pub async fn find_refresh_token(pool: &AnyPool, digest: &str) -> StoreResult<Option<RefreshToken>> {
    let row = sqlx::query(
        "SELECT digest, family_id, session_id, client_id, scope, created_at, expires_at, used_at, revoked_at FROM refresh_tokens WHERE digest = $1",
    )
    .bind(digest.to_owned())
    .fetch_optional(pool)
    .await
    .map_err(backend_err)?;
    row.as_ref().map(refresh).transpose()
}

pub async fn rotate_refresh_token(
    pool: &AnyPool,
    begin: &'static str,
    old: &str,
    new: &RefreshToken,
    at: DateTime<Utc>,
) -> StoreResult<Rotation> {
    let mut tx = pool.begin_with(begin).await.map_err(backend_err)?;
    let r = sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE digest = $2 AND used_at IS NULL AND revoked_at IS NULL")
        .bind(ms(at))
        .bind(old.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
    let row = sqlx::query(
        "SELECT digest, family_id, session_id, client_id, scope, created_at, expires_at, used_at, revoked_at FROM refresh_tokens WHERE digest = $1",
    )
    .bind(old.to_owned())
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend_err)?;
    let Some(found) = row.as_ref().map(refresh).transpose()? else {
        tx.rollback().await.map_err(backend_err)?;
        return Ok(Rotation::Unknown);
    };
    if r.rows_affected() == 1 {
        insert_refresh(&mut tx, new).await?;
        tx.commit().await.map_err(backend_err)?;
        return Ok(Rotation::Rotated(found));
    }
    // A replay of a rotated (or revoked) token: revoke the whole family.
    sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
        .bind(ms(at))
        .bind(found.family_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
    tx.commit().await.map_err(backend_err)?;
    Ok(Rotation::Reused(found))
}

pub async fn revoke_refresh_family(pool: &AnyPool, family: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
        .bind(ms(at))
        .bind(family.to_string())
        .execute(pool)
        .await
        .map_err(backend_err)?;
    Ok(())
}

pub async fn get_throttle(pool: &AnyPool, user: UserId) -> StoreResult<Throttle> {
    let row = sqlx::query("SELECT failures, lockouts, locked_until FROM sign_in_throttle WHERE user_id = $1")
        .bind(user.to_string())
        .fetch_optional(pool)
        .await
        .map_err(backend_err)?;
    row.map_or(Ok(Throttle::default()), |r| {
        Ok(Throttle {
            failures: u32::try_from(r.int("failures")?).unwrap_or(u32::MAX),
            lockouts: u32::try_from(r.int("lockouts")?).unwrap_or(u32::MAX),
            locked_until: r.opt_time("locked_until")?,
        })
    })
}

pub async fn save_throttle(pool: &AnyPool, user: UserId, t: &Throttle) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sign_in_throttle (user_id, failures, lockouts, locked_until) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO UPDATE SET failures = excluded.failures, lockouts = excluded.lockouts, locked_until = excluded.locked_until",
    )
    .bind(user.to_string())
    .bind(i64::from(t.failures))
    .bind(i64::from(t.lockouts))
    .bind(t.locked_until.map(ms))
    .execute(pool)
    .await
    .map_err(backend_err)?;
    Ok(())
}

pub async fn insert_sign_in(pool: &AnyPool, s: &SignInRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sign_ins (id, created_at, user_id, user_principal_name, app_id, app_display_name, ip_address, correlation_id, method, error_code, failure_reason, additional_details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(s.id.to_string())
    .bind(ms(s.created_at))
    .bind(s.user_id.map(|u| u.to_string()))
    .bind(s.user_principal_name.clone())
    .bind(s.app_id.map(|a| a.to_string()))
    .bind(s.app_display_name.clone())
    .bind(s.ip_address.clone())
    .bind(s.correlation_id.clone())
    .bind(s.method.map(|m| m.as_str().to_owned()))
    .bind(s.error_code)
    .bind(s.failure_reason.clone())
    .bind(s.additional_details.clone())
    .execute(pool)
    .await
    .map_err(backend_err)?;
    Ok(())
}

pub async fn list_sign_ins(pool: &AnyPool, page: Page) -> StoreResult<Vec<SignInRecord>> {
    sqlx::query(
        "SELECT id, created_at, user_id, user_principal_name, app_id, app_display_name, ip_address, correlation_id, method, error_code, failure_reason, additional_details
         FROM sign_ins ORDER BY seq DESC LIMIT $1 OFFSET $2",
    )
    .bind(i64::from(page.top))
    .bind(i64::try_from(page.skip).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await
    .map_err(backend_err)?
    .iter()
    .map(sign_in)
    .collect()
}

async fn write_domain(tx: &mut sqlx::AnyConnection, d: &Domain, insert: bool) -> StoreResult<()> {
    let (kind, uri, issuer, name) = match &d.federation {
        Some(f) => (
            "Federated",
            Some(f.passive_sign_in_uri.clone()),
            Some(f.issuer_uri.clone()),
            Some(f.display_name.clone()),
        ),
        None => ("Managed", None, None, None),
    };
    let sql = if insert {
        "INSERT INTO domains (authentication_type, passive_sign_in_uri, issuer_uri, federation_display_name, id, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
    } else {
        "UPDATE domains SET authentication_type = $1, passive_sign_in_uri = $2, issuer_uri = $3, federation_display_name = $4 WHERE id = $5 AND created_at <= $6"
    };
    let r = sqlx::query(sql)
        .bind(kind)
        .bind(uri)
        .bind(issuer)
        .bind(name)
        .bind(d.id.clone())
        .bind(ms(d.created_at))
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
    require_one(r.rows_affected(), "domain", &d.id)
}

pub async fn save_domain(pool: &AnyPool, begin: &'static str, d: &Domain, audit: &AuditRecord, insert: bool) -> StoreResult<()> {
    let mut tx = pool.begin_with(begin).await.map_err(backend_err)?;
    write_domain(&mut tx, d, insert).await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await.map_err(backend_err)
}

pub async fn find_domain(pool: &AnyPool, id: &str) -> StoreResult<Option<Domain>> {
    let row = sqlx::query(
        "SELECT id, authentication_type, passive_sign_in_uri, issuer_uri, federation_display_name, created_at FROM domains WHERE id = $1",
    )
    .bind(id.to_lowercase())
    .fetch_optional(pool)
    .await
    .map_err(backend_err)?;
    row.as_ref().map(domain).transpose()
}

pub async fn list_domains(pool: &AnyPool) -> StoreResult<Vec<Domain>> {
    sqlx::query(
        "SELECT id, authentication_type, passive_sign_in_uri, issuer_uri, federation_display_name, created_at FROM domains ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .map_err(backend_err)?
    .iter()
    .map(domain)
    .collect()
}
