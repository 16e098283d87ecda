//! Turning rows into domain values, in one place; a malformed row is a backend error.

use crate::parse_id;
use chrono::{DateTime, Utc};
use latchkey_core::audit::AuditRecord;
use latchkey_core::authz::Permission;
use latchkey_core::directory::{DirectoryRole, Group, RoleAssignment, User, UserOrigin, UserPrincipalName, UserType};
use latchkey_core::pass::TemporaryAccessPass;
use latchkey_core::store::{StoreError, StoreResult};
use latchkey_core::tenant::{Application, ClientSecret, SigningKeyRecord, Tenant};
use sqlx::Row as _;
use sqlx::any::AnyRow;
use std::str::FromStr;

/// Unix milliseconds, the stored form of every instant.
pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64, column: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| StoreError::Backend(format!("column {column} holds an impossible time")))
}

pub const fn origin_str(o: UserOrigin) -> &'static str {
    match o {
        UserOrigin::Internal => "internal",
        UserOrigin::External => "external",
    }
}

/// Typed column access with errors that name the column.
pub trait Row {
    fn text(&self, c: &str) -> StoreResult<String>;
    fn opt_text(&self, c: &str) -> StoreResult<Option<String>>;
    fn int(&self, c: &str) -> StoreResult<i64>;
    fn opt_int(&self, c: &str) -> StoreResult<Option<i64>>;
    fn time(&self, c: &str) -> StoreResult<DateTime<Utc>> {
        from_ms(self.int(c)?, c)
    }
    fn opt_time(&self, c: &str) -> StoreResult<Option<DateTime<Utc>>> {
        self.opt_int(c)?.map(|v| from_ms(v, c)).transpose()
    }
    fn id<T: FromStr>(&self, c: &str) -> StoreResult<T> {
        parse_id(&self.text(c)?, c)
    }
}

fn col_err(c: &str, e: &sqlx::Error) -> StoreError {
    StoreError::Backend(format!("column {c}: {e}"))
}

impl Row for AnyRow {
    fn text(&self, c: &str) -> StoreResult<String> {
        self.try_get(c).map_err(|e| col_err(c, &e))
    }
    fn opt_text(&self, c: &str) -> StoreResult<Option<String>> {
        self.try_get(c).map_err(|e| col_err(c, &e))
    }
    fn int(&self, c: &str) -> StoreResult<i64> {
        self.try_get(c).map_err(|e| col_err(c, &e))
    }
    fn opt_int(&self, c: &str) -> StoreResult<Option<i64>> {
        self.try_get(c).map_err(|e| col_err(c, &e))
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("stored {what} is malformed"))
}

pub fn user(r: &AnyRow) -> StoreResult<User> {
    Ok(User {
        id: r.id("id")?,
        user_principal_name: UserPrincipalName::parse(&r.text("upn")?).map_err(|_| corrupt("user principal name"))?,
        display_name: r.text("display_name")?,
        mail: r.opt_text("mail")?,
        user_type: UserType::parse(&r.text("user_type")?).map_err(|_| corrupt("user type"))?,
        origin: if r.text("origin")? == "external" {
            UserOrigin::External
        } else {
            UserOrigin::Internal
        },
        account_enabled: r.int("account_enabled")? != 0,
        password_hash: r.opt_text("password_hash")?,
        password_set_at: r.opt_time("password_set_at")?,
        created_at: r.time("created_at")?,
    })
}

pub fn group(r: &AnyRow) -> StoreResult<Group> {
    Ok(Group {
        id: r.id("id")?,
        display_name: r.text("display_name")?,
        description: r.opt_text("description")?,
        mail_nickname: r.opt_text("mail_nickname")?,
        created_at: r.time("created_at")?,
    })
}

pub fn role(r: &AnyRow) -> StoreResult<DirectoryRole> {
    DirectoryRole::find(&r.text("role_template")?).ok_or_else(|| corrupt("role"))
}

pub fn role_assignment(r: &AnyRow) -> StoreResult<RoleAssignment> {
    Ok(RoleAssignment {
        id: r.id("id")?,
        principal_id: r.id("principal_id")?,
        role: role(r)?,
        created_at: r.time("created_at")?,
    })
}

pub fn pass(r: &AnyRow) -> StoreResult<TemporaryAccessPass> {
    Ok(TemporaryAccessPass {
        id: r.id("id")?,
        user_id: r.id("user_id")?,
        created_at: r.time("created_at")?,
        start_at: r.time("start_at")?,
        lifetime_in_minutes: u32::try_from(r.int("lifetime_minutes")?).map_err(|_| corrupt("lifetime"))?,
        is_usable_once: r.int("is_usable_once")? != 0,
        used_at: r.opt_time("used_at")?,
        code_hash: r.text("code_hash")?,
    })
}

/// The pass columns of `USER_WITH_PASS` (prefixed `pass_`), absent when the user has none.
pub fn joined_pass(r: &AnyRow, user_id: latchkey_core::ids::UserId) -> StoreResult<Option<TemporaryAccessPass>> {
    let Some(id) = r.opt_text("pass_id")? else { return Ok(None) };
    Ok(Some(TemporaryAccessPass {
        id: crate::parse_id(&id, "pass_id")?,
        user_id,
        created_at: r.time("pass_created_at")?,
        start_at: r.time("pass_start_at")?,
        lifetime_in_minutes: u32::try_from(r.int("pass_lifetime_minutes")?).map_err(|_| corrupt("lifetime"))?,
        is_usable_once: r.int("pass_is_usable_once")? != 0,
        used_at: r.opt_time("pass_used_at")?,
        code_hash: r.text("pass_code_hash")?,
    }))
}

pub fn tenant(r: &AnyRow) -> StoreResult<Tenant> {
    Ok(Tenant {
        id: r.id("id")?,
        primary_domain: r.text("primary_domain")?,
        display_name: r.text("display_name")?,
        created_at: r.time("created_at")?,
    })
}

pub fn client_secret(r: &AnyRow) -> StoreResult<ClientSecret> {
    client_secret_with_prefix(r, "")
}

/// A secret from columns named with `prefix` (`s_key_id`, ... in a join with its
/// application).
pub fn client_secret_with_prefix(r: &AnyRow, prefix: &str) -> StoreResult<ClientSecret> {
    let c = |name: &str| format!("{prefix}{name}");
    Ok(ClientSecret {
        key_id: r.id(&c("key_id"))?,
        display_name: r.opt_text(&c("display_name"))?,
        hint: r.text(&c("hint"))?,
        digest: r.text(&c("digest"))?,
        created_at: r.time(&c("created_at"))?,
        expires_at: r.time(&c("expires_at"))?,
    })
}

pub fn application(r: &AnyRow, secrets: Vec<ClientSecret>) -> StoreResult<Application> {
    let names: Vec<String> = serde_json::from_str(&r.text("permissions")?).map_err(|_| corrupt("permissions"))?;
    Ok(Application {
        id: r.id("id")?,
        app_id: r.id("app_id")?,
        display_name: r.text("display_name")?,
        permissions: names.iter().filter_map(|n| Permission::parse(n)).collect(),
        secrets,
        redirect_uris: serde_json::from_str(&r.text("redirect_uris")?).map_err(|_| corrupt("redirect URIs"))?,
        created_at: r.time("created_at")?,
    })
}

pub fn signing_key(r: &AnyRow) -> StoreResult<SigningKeyRecord> {
    Ok(SigningKeyRecord {
        kid: r.text("kid")?,
        algorithm: r.text("algorithm")?,
        sealed_private_key: r.text("sealed_private_key")?,
        created_at: r.time("created_at")?,
        retired_at: r.opt_time("retired_at")?,
    })
}

pub fn audit(r: &AnyRow) -> StoreResult<AuditRecord> {
    Ok(AuditRecord {
        id: r.id("id")?,
        activity_date_time: r.time("activity_at")?,
        activity_display_name: r.text("activity")?,
        category: r.text("category")?,
        logged_by_service: r.text("logged_by_service")?,
        operation_type: r.text("operation_type")?,
        result: r.text("result")?,
        result_reason: r.text("result_reason")?,
        initiated_by: serde_json::from_str(&r.text("initiated_by")?).map_err(|_| corrupt("audit initiator"))?,
        target_resources: serde_json::from_str(&r.text("target_resources")?).map_err(|_| corrupt("audit targets"))?,
    })
}
