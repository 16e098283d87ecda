//! The Store conformance suite: the promises of [`Store`] written down as checks, so that
//! SQLite and PostgreSQL behave alike (DESIGN.md "Shape of the code", STYLE.md habit 2).
//!
//! Every check takes a fresh, empty, migrated store and panics with a message naming the
//! promise it found broken. A backend's test file runs each check as a test of its own:
//!
//! ```ignore
//! /// `None` skips the test (say why on stderr); anything that derefs to `dyn Store` runs it.
//! async fn open(test: &str) -> Option<Box<dyn latchkey_core::Store>> { /* ... */ }
//! latchkey_testkit::conformance_tests!(open);
//! ```
//!
//! The checks are private and reached only through [`run`], which the list of names below
//! generates: a check written but left off the list is dead code, which the lints refuse.

use crate::FakeClock;
use chrono::{DateTime, Duration, Utc};
use latchkey_core::Clock as _;
use latchkey_core::audit::{AuditRecord, SERVICE_AUTH_METHODS, SERVICE_CORE_DIRECTORY, TargetResource, activity};
use latchkey_core::authz::{Caller, Permission};
use latchkey_core::device::{DeviceCode, DeviceCodeStatus, DeviceDecision};
use latchkey_core::directory::{
    DirectoryRole, FilterOp, Group, Page, RoleAssignment, User, UserField, UserFilter, UserOrigin, UserPrincipalName, UserType,
};
use latchkey_core::ids::{AppId, ApplicationObjectId, GroupId, MethodId, PassId, RoleAssignmentId, SecretKeyId, TenantId, UserId};
use latchkey_core::methods::{Ceremony, CeremonyKind, Fido2Method, SoftwareOathMethod};
use latchkey_core::pass::TemporaryAccessPass;
use latchkey_core::policy::{PolicyState, PolicyTarget, TapPolicy};
use latchkey_core::session::{Session, SignInMethod};
use latchkey_core::store::{Store, StoreError, StoreResult, TenantSeed};
use latchkey_core::tenant::{Application, ClientSecret, SigningKeyRecord, Tenant};
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

// ------------------------------------------------------------------------------------------
// The list of checks. Add a check here and write it below; the order is the order of `run`.

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_list {
    ($callback:ident $($args:tt)*) => {
        $crate::$callback! {
            [$($args)*]
            an_empty_store_has_no_tenant_policy_or_master_key_check,
            initialise_writes_the_tenant_and_everything_in_the_seed,
            a_second_initialise_is_refused_and_changes_nothing,
            a_user_round_trips_every_field,
            a_user_principal_name_is_taken_whatever_its_case,
            find_user_by_upn_looks_up_the_normalized_name,
            users_are_listed_in_user_principal_name_order_and_paged,
            user_filters_eq_and_startswith_ignore_case_on_every_field,
            wildcard_characters_in_a_filter_value_match_literally,
            a_filter_matches_a_non_ascii_value_spelled_exactly,
            users_are_counted_with_and_without_filters,
            updating_a_user_changes_their_fields_and_an_unknown_user_is_not_found,
            deleting_a_user_removes_their_pass_memberships_and_role_assignments,
            groups_are_inserted_found_listed_and_deleted,
            deleting_a_group_removes_its_memberships,
            adding_a_member_twice_is_a_conflict,
            removing_someone_who_is_not_a_member_is_not_found,
            group_members_are_listed_and_paged,
            a_users_auth_state_holds_their_pass_groups_and_roles,
            a_principal_cannot_hold_the_same_role_twice,
            role_assignments_are_found_listed_by_principal_and_deleted,
            the_policy_round_trips_through_save_and_get,
            a_new_pass_replaces_the_users_existing_pass,
            deleting_a_pass_needs_both_its_id_and_its_user,
            a_one_time_pass_is_consumed_exactly_once,
            a_one_time_pass_is_consumed_exactly_once_under_concurrency,
            concurrent_inserts_of_one_user_principal_name_admit_exactly_one,
            concurrent_new_passes_for_one_user_leave_exactly_one,
            an_application_is_found_by_app_id_with_its_secrets,
            an_application_round_trips_with_its_secrets_and_redirect_uris,
            applications_are_listed_oldest_first_and_paged,
            deleting_an_application_removes_it_with_its_secrets,
            a_client_secret_is_added_to_its_application_alone,
            an_application_whose_id_or_app_id_is_taken_is_a_conflict,
            signing_keys_are_listed_with_their_sealed_private_keys,
            the_audit_log_lists_newest_first_and_pages,
            every_successful_write_records_exactly_its_own_audit_record,
            a_failed_write_leaves_no_audit_record,
            a_write_whose_audit_record_cannot_be_stored_changes_nothing,
            // device authorization grant (RFC 8628)
            a_device_code_is_found_by_either_code_and_both_codes_are_unique,
            a_device_code_is_answered_once_and_only_while_pending_and_unexpired,
            an_approved_device_code_is_redeemed_exactly_once_under_concurrency,
            a_device_poll_is_recorded_only_over_the_poll_it_follows,
            // passkeys, authenticator apps, ceremonies (My Security Info)
            passkeys_round_trip_are_unique_per_credential_and_deleted_only_by_their_owner,
            a_totp_step_is_used_exactly_once_under_concurrency_and_only_forward,
            a_ceremony_is_taken_exactly_once_and_expired_ones_are_purged,
            deleting_a_user_removes_their_passkeys_and_authenticator_apps,
        }
    };
}

/// Expands to one `#[tokio::test]` per conformance check, named after the check.
///
/// `$open` is an async fn taking the test's name and returning `Option<S>` where `S`
/// derefs to `dyn Store` (a `Box<dyn Store>`, or a guard that deletes a temporary file):
/// a fresh, empty, migrated store for that test alone, or `None` to skip it.
/// The calling crate needs `tokio` (with `macros` and `rt-multi-thread`) as a dependency.
#[macro_export]
macro_rules! conformance_tests {
    ($open:path) => {
        $crate::__conformance_list!(__conformance_tests_each $open);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests_each {
    ([$open:path] $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(store) = $open(stringify!($name)).await else { return };
                $crate::conformance::run(stringify!($name), &*store).await;
            }
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_dispatch {
    ([] $($name:ident),* $(,)?) => {
        /// Every check's name, in the order [`run`] knows them.
        pub const CHECK_NAMES: &[&str] = &[$(stringify!($name)),*];

        /// Runs the check called `name` against `store`, which must be fresh, empty and
        /// migrated. Panics when the store breaks a promise, or when no check has that name.
        pub async fn run(name: &str, store: &dyn Store) {
            $(
                if name == stringify!($name) {
                    return $name(store).await;
                }
            )*
            panic!("there is no Store conformance check named {name}");
        }
    };
}

crate::__conformance_list!(__conformance_dispatch);

// ------------------------------------------------------------------------------------------
// Fixtures.

/// The instant every check starts at: the [`FakeClock`]'s starting time.
#[must_use]
pub fn t0() -> DateTime<Utc> {
    FakeClock::new().now()
}

/// The caller named in the audit records the checks write.
#[must_use]
pub fn operator() -> Caller {
    Caller::Operator {
        name: "conformance".into(),
    }
}

/// An audit record for a change, as the use cases write them.
#[must_use]
pub fn audit_record(at: DateTime<Utc>, activity: &str, target: TargetResource) -> AuditRecord {
    AuditRecord::success(
        at,
        &operator(),
        activity,
        (SERVICE_CORE_DIRECTORY, "Conformance", "Other"),
        "",
        vec![target],
    )
}

/// An enabled internal member with no password, mail or pass.
///
/// # Panics
/// When `upn` is not a valid user principal name.
#[must_use]
pub fn user(upn: &str, display_name: &str, at: DateTime<Utc>) -> User {
    User {
        id: UserId::new_random(),
        user_principal_name: UserPrincipalName::parse(upn).unwrap_or_else(|e| panic!("fixture UPN {upn:?}: {e}")),
        display_name: display_name.into(),
        mail: None,
        user_type: UserType::Member,
        origin: UserOrigin::Internal,
        account_enabled: true,
        password_hash: None,
        password_set_at: None,
        created_at: at,
    }
}

#[must_use]
pub fn group(display_name: &str, at: DateTime<Utc>) -> Group {
    Group {
        id: GroupId::new_random(),
        display_name: display_name.into(),
        description: None,
        mail_nickname: None,
        created_at: at,
    }
}

/// A pass for `user` that starts at `at` and lasts an hour. The hash is dummy text: the
/// store keeps it, it never checks it.
#[must_use]
pub fn pass(user: UserId, at: DateTime<Utc>, is_usable_once: bool) -> TemporaryAccessPass {
    let id = PassId::new_random();
    TemporaryAccessPass {
        id,
        user_id: user,
        created_at: at,
        start_at: at,
        lifetime_in_minutes: 60,
        is_usable_once,
        used_at: None,
        code_hash: format!(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$not-a-real-hash-{}",
            id.as_uuid().simple()
        ),
    }
}

#[must_use]
pub fn role_assignment(user: UserId, role: DirectoryRole, at: DateTime<Utc>) -> RoleAssignment {
    RoleAssignment {
        id: RoleAssignmentId::new_random(),
        principal_id: user,
        role,
        created_at: at,
    }
}

/// A valid tenant as `latchkey init` makes one: the default policy, a first Global
/// Administrator holding a pass, an automation client with one secret, a signing key (its
/// sealed text is dummy) and the audit records of all that, oldest first.
///
/// # Panics
/// Never for the fixed values used here.
#[must_use]
pub fn seed(now: DateTime<Utc>) -> TenantSeed {
    let tenant = Tenant {
        id: TenantId::new_random(),
        primary_domain: "contoso.test".into(),
        display_name: "Contoso".into(),
        created_at: now,
    };
    let mut admin = user("Admin@Contoso.Test", "Ada Admin", now);
    admin.mail = Some("admin@contoso.test".into());
    let admin_role = role_assignment(admin.id, DirectoryRole::GlobalAdministrator, now);
    let admin_pass = pass(admin.id, now, false);
    let client = Application {
        id: ApplicationObjectId::new_random(),
        app_id: AppId::new_random(),
        display_name: "latchkey automation".into(),
        permissions: Permission::AUTOMATION.to_vec(),
        secrets: vec![ClientSecret {
            key_id: SecretKeyId::new_random(),
            display_name: Some("created by latchkey".into()),
            hint: "Xy7".into(),
            digest: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            created_at: now,
            expires_at: now + Duration::days(730),
        }],
        // Not what `init` registers, but initialise must store redirect URIs too.
        redirect_uris: latchkey_core::tenant::RedirectUris {
            web: vec!["https://automation.contoso.test/signin-oidc".into()],
            spa: vec![],
            public_client: vec!["http://localhost".into()],
        },
        created_at: now,
    };
    let signing_key = SigningKeyRecord {
        kid: format!("k-{}", tenant.id.as_uuid().simple()),
        algorithm: "RS256".into(),
        sealed_private_key: "v1.bm9uY2Vub25jZQ.c2VhbGVkLXByaXZhdGUta2V5LWZvci10ZXN0cw".into(),
        created_at: now,
        retired_at: None,
    };
    let by = operator();
    let core = (SERVICE_CORE_DIRECTORY, "DirectoryManagement", "Add");
    let audit = vec![
        AuditRecord::success(
            now,
            &by,
            activity::CREATE_TENANT,
            core,
            "",
            vec![TargetResource::other("Tenant", tenant.id, Some(tenant.display_name.clone()))],
        ),
        AuditRecord::success(
            now,
            &by,
            activity::ADD_USER,
            (SERVICE_CORE_DIRECTORY, "UserManagement", "Add"),
            "",
            vec![TargetResource::user(&admin)],
        ),
        AuditRecord::success(
            now,
            &by,
            activity::ADD_MEMBER_TO_ROLE,
            (SERVICE_CORE_DIRECTORY, "RoleManagement", "Add"),
            "",
            vec![TargetResource::user(&admin).with(
                "Role.DisplayName",
                None,
                Some(DirectoryRole::GlobalAdministrator.display_name().into()),
            )],
        ),
        AuditRecord::success(
            now,
            &by,
            activity::ADMIN_REGISTERED_SECURITY_INFO,
            (SERVICE_AUTH_METHODS, "UserManagement", "Add"),
            "Admin registered temporary access pass method for user",
            vec![TargetResource::user(&admin)],
        ),
        AuditRecord::success(
            now,
            &by,
            activity::ADD_APPLICATION,
            (SERVICE_CORE_DIRECTORY, "ApplicationManagement", "Add"),
            "",
            vec![TargetResource::other(
                "Application",
                client.app_id,
                Some(client.display_name.clone()),
            )],
        ),
    ];
    TenantSeed {
        master_key_check: format!("v1.Y2hlY2s.sealed-tenant-id-{}", tenant.id.as_uuid().simple()),
        tenant,
        policy: TapPolicy::default(),
        admin,
        admin_role,
        admin_pass,
        client,
        signing_key,
        audit,
    }
}

/// A client secret created at `at` that lasts two years; the digest is dummy hex.
#[must_use]
pub fn client_secret(at: DateTime<Utc>) -> ClientSecret {
    let key_id = SecretKeyId::new_random();
    ClientSecret {
        key_id,
        display_name: Some(format!("secret {}", key_id.as_uuid().simple())),
        hint: "Ab~".into(),
        digest: format!("{0}{0}", key_id.as_uuid().simple()),
        created_at: at,
        expires_at: at + Duration::days(730),
    }
}

/// An application registered at `at` with `secrets` secrets (a second apart) and redirect
/// URIs on every platform.
#[must_use]
pub fn application(display_name: &str, at: DateTime<Utc>, secrets: u32) -> Application {
    let id = ApplicationObjectId::new_random();
    let host = id.as_uuid().simple().to_string();
    Application {
        id,
        app_id: AppId::new_random(),
        display_name: display_name.into(),
        permissions: vec![Permission::UserReadAll],
        secrets: (0..secrets).map(|i| client_secret(at + Duration::seconds(i64::from(i)))).collect(),
        redirect_uris: latchkey_core::tenant::RedirectUris {
            web: vec![
                format!("https://{host}.contoso.test/signin-oidc"),
                format!("https://{host}.contoso.test/callback?x=\"quoted\"&y=ü"),
            ],
            spa: vec![format!("https://{host}.contoso.test/spa")],
            public_client: vec!["com.contoso.app:/callback".into(), "http://127.0.0.1:8400".into()],
        },
        created_at: at,
    }
}

// ------------------------------------------------------------------------------------------
// Helpers: each failure message says which promise broke.

fn ok<T>(result: StoreResult<T>, what: &str) -> T {
    result.unwrap_or_else(|e| panic!("{what}: the store failed: {e:?}"))
}

/// Compares by `Debug` text, which shows every field (the domain types do not all derive
/// `PartialEq`, and `UserPrincipalName`'s compares case-insensitively).
#[track_caller]
fn same<T: Debug>(actual: &T, expected: &T, what: &str) {
    assert_eq!(format!("{actual:#?}"), format!("{expected:#?}"), "{what}");
}

const ALL: Page = Page {
    skip: 0,
    top: Page::MAX_TOP,
};

fn page(skip: u64, top: u32) -> Page {
    Page { skip, top }
}

/// How many audit records the store holds, reading every page.
async fn audit_count(store: &dyn Store) -> usize {
    let mut n = 0;
    loop {
        let got = ok(store.list_audit(page(n as u64, Page::MAX_TOP)).await, "list_audit").len();
        n += got;
        if got < Page::MAX_TOP as usize {
            return n;
        }
    }
}

async fn newest_audit(store: &dyn Store) -> Option<AuditRecord> {
    ok(store.list_audit(page(0, 1)).await, "list_audit").into_iter().next()
}

/// Runs a write that must succeed and must add exactly `audit`, unchanged, as the newest record.
async fn audited<T>(store: &dyn Store, audit: &AuditRecord, what: &str, call: impl Future<Output = StoreResult<T>>) -> T {
    let before = audit_count(store).await;
    let out = ok(call.await, what);
    let after = audit_count(store).await;
    assert_eq!(
        after,
        before + 1,
        "{what} must write exactly one audit record, the one it was given"
    );
    assert_eq!(
        newest_audit(store).await.as_ref(),
        Some(audit),
        "{what} must store the audit record it was given, unchanged, as the newest"
    );
    out
}

/// Runs a write that must fail, and must leave the audit log as it was.
async fn refused<T: Debug>(store: &dyn Store, what: &str, call: impl Future<Output = StoreResult<T>>) -> StoreError {
    let before = audit_count(store).await;
    let newest = newest_audit(store).await;
    let err = match call.await {
        Ok(v) => panic!("{what} must fail, but it succeeded with {v:?}"),
        Err(e) => e,
    };
    assert_eq!(
        audit_count(store).await,
        before,
        "{what} failed ({err:?}) but the audit log grew: a failed write must leave no record"
    );
    assert_eq!(
        newest_audit(store).await,
        newest,
        "{what} failed but changed the newest audit record"
    );
    err
}

#[track_caller]
fn assert_not_found(err: &StoreError, what: &str) {
    assert!(
        matches!(err, StoreError::NotFound { .. }),
        "{what} must fail with NotFound, not {err:?}"
    );
}

#[track_caller]
fn assert_conflict(err: &StoreError, what: &str) {
    assert!(
        matches!(err, StoreError::Conflict(_)),
        "{what} must fail with Conflict, not {err:?}"
    );
}

async fn initialised(store: &dyn Store) -> TenantSeed {
    let seed = seed(t0());
    ok(store.initialise(&seed).await, "initialise on a fresh store");
    seed
}

async fn add_user(store: &dyn Store, u: &User) {
    let a = audit_record(u.created_at, activity::ADD_USER, TargetResource::user(u));
    audited(
        store,
        &a,
        &format!("insert_user({})", u.user_principal_name),
        store.insert_user(u, &a),
    )
    .await;
}

async fn new_user(store: &dyn Store, upn: &str, display_name: &str) -> User {
    let u = user(upn, display_name, t0());
    add_user(store, &u).await;
    u
}

async fn new_group(store: &dyn Store, display_name: &str) -> Group {
    let g = group(display_name, t0());
    let a = audit_record(
        t0(),
        activity::ADD_GROUP,
        TargetResource::other("Group", g.id, Some(g.display_name.clone())),
    );
    audited(store, &a, &format!("insert_group({display_name})"), store.insert_group(&g, &a)).await;
    g
}

async fn join(store: &dyn Store, g: &Group, u: &User) {
    let a = audit_record(t0(), activity::ADD_MEMBER_TO_GROUP, TargetResource::user(u));
    audited(
        store,
        &a,
        &format!("add_member({}, {})", g.display_name, u.user_principal_name),
        store.add_member(g.id, u.id, &a),
    )
    .await;
}

async fn grant(store: &dyn Store, u: &User, role: DirectoryRole) -> RoleAssignment {
    let r = role_assignment(u.id, role, t0());
    let a = audit_record(t0(), activity::ADD_MEMBER_TO_ROLE, TargetResource::user(u));
    audited(
        store,
        &a,
        &format!("insert_role_assignment({}, {role:?})", u.user_principal_name),
        store.insert_role_assignment(&r, &a),
    )
    .await;
    r
}

async fn issue(store: &dyn Store, p: &TemporaryAccessPass) {
    let a = audit_record(
        p.created_at,
        activity::ADMIN_REGISTERED_SECURITY_INFO,
        TargetResource::other("User", p.user_id, None),
    );
    audited(store, &a, "replace_pass", store.replace_pass(p, &a)).await;
}

fn upn_eq(value: &str) -> UserFilter {
    UserFilter {
        field: UserField::UserPrincipalName,
        op: FilterOp::Eq,
        value: value.into(),
    }
}

fn filter(field: UserField, op: FilterOp, value: &str) -> UserFilter {
    UserFilter {
        field,
        op,
        value: value.into(),
    }
}

fn normalized_upns(users: &[User]) -> Vec<String> {
    users.iter().map(|u| u.user_principal_name.normalized().to_owned()).collect()
}

/// Lists users with `filters` and checks `count_users` agrees; returns normalized UPNs.
async fn listed(store: &dyn Store, filters: &[UserFilter]) -> Vec<String> {
    let users = ok(store.list_users(filters, ALL).await, &format!("list_users({filters:?})"));
    let n = ok(store.count_users(filters).await, &format!("count_users({filters:?})"));
    assert_eq!(
        n,
        users.len() as u64,
        "count_users({filters:?}) must count what list_users({filters:?}) lists"
    );
    normalized_upns(&users)
}

/// Reads every page of size `top` and checks the pages, put together, are the whole list.
async fn check_paging<T, F, Fut>(whole: &[T], top: u32, what: &str, mut read: F)
where
    T: Debug,
    F: FnMut(Page) -> Fut,
    Fut: Future<Output = StoreResult<Vec<T>>>,
{
    let mut pages = Vec::new();
    let mut skip = 0;
    loop {
        let got = ok(read(page(skip, top)).await, what);
        assert!(
            got.len() <= top as usize,
            "{what}: a page of top={top} returned {} items",
            got.len()
        );
        let last = got.len() < top as usize;
        skip += got.len() as u64;
        pages.extend(got);
        if last {
            break;
        }
    }
    let pages: Vec<String> = pages.iter().map(|t| format!("{t:?}")).collect();
    let whole: Vec<String> = whole.iter().map(|t| format!("{t:?}")).collect();
    assert_eq!(
        pages, whole,
        "{what}: pages of {top} read one after another must give the whole list, in the same order"
    );
    let beyond = ok(read(page(whole.len() as u64, top)).await, what);
    assert!(
        beyond.is_empty(),
        "{what}: a page that skips everything must be empty, not {beyond:?}"
    );
}

/// Polls every future until all are done, so their calls are in flight at once (each takes
/// its own pooled connection) while they borrow the store.
async fn join_all<'a, T>(mut futures: Vec<Pin<Box<dyn Future<Output = T> + Send + 'a>>>) -> Vec<T> {
    let mut out: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, fut) in out.iter_mut().zip(futures.iter_mut()) {
            if slot.is_none() {
                match fut.as_mut().poll(cx) {
                    Poll::Ready(v) => *slot = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    out.into_iter().flatten().collect()
}

// ------------------------------------------------------------------------------------------
// Tenant.

async fn an_empty_store_has_no_tenant_policy_or_master_key_check(store: &dyn Store) {
    assert!(
        ok(store.find_tenant().await, "find_tenant").is_none(),
        "a fresh store must hold no tenant"
    );
    assert!(
        ok(store.master_key_check().await, "master_key_check").is_none(),
        "a fresh store must hold no master key check"
    );
    match store.get_policy().await {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("get_policy on a fresh store must fail with NotFound, not {other:?}"),
    }
    assert!(
        ok(store.list_users(&[], ALL).await, "list_users").is_empty(),
        "a fresh store must hold no users"
    );
    assert_eq!(ok(store.count_users(&[]).await, "count_users"), 0);
    assert!(ok(store.list_groups(ALL).await, "list_groups").is_empty());
    assert!(ok(store.list_role_assignments(None, ALL).await, "list_role_assignments").is_empty());
    assert!(ok(store.list_signing_keys().await, "list_signing_keys").is_empty());
    assert!(ok(store.list_audit(ALL).await, "list_audit").is_empty());
    assert!(
        ok(
            store.find_application_by_app_id(AppId::new_random()).await,
            "find_application_by_app_id"
        )
        .is_none()
    );
}

async fn initialise_writes_the_tenant_and_everything_in_the_seed(store: &dyn Store) {
    let seed = initialised(store).await;
    assert_eq!(
        ok(store.find_tenant().await, "find_tenant"),
        Some(seed.tenant.clone()),
        "find_tenant must return the seed's tenant"
    );
    assert_eq!(
        ok(store.master_key_check().await, "master_key_check").as_deref(),
        Some(seed.master_key_check.as_str())
    );
    assert_eq!(
        ok(store.get_policy().await, "get_policy"),
        seed.policy,
        "get_policy must return the seed's policy"
    );
    same(
        &ok(store.find_user(seed.admin.id).await, "find_user(admin)"),
        &Some(seed.admin.clone()),
        "the seed's admin, as stored",
    );
    same(
        &ok(store.find_pass_for_user(seed.admin.id).await, "find_pass_for_user(admin)"),
        &Some(seed.admin_pass.clone()),
        "the admin's pass, as stored",
    );
    same(
        &ok(store.find_role_assignment(seed.admin_role.id).await, "find_role_assignment"),
        &Some(seed.admin_role.clone()),
        "the admin's role assignment",
    );
    let state = ok(store.find_user_auth_state(seed.admin.id).await, "find_user_auth_state(admin)")
        .expect("the admin's auth state after initialise");
    assert_eq!(
        state.roles,
        vec![DirectoryRole::GlobalAdministrator],
        "the seed's admin must be a Global Administrator"
    );
    assert_eq!(
        state.pass.map(|p| p.id),
        Some(seed.admin_pass.id),
        "the seed's admin must hold the seed's pass"
    );
    same(
        &ok(
            store.find_application_by_app_id(seed.client.app_id).await,
            "find_application_by_app_id",
        ),
        &Some(seed.client.clone()),
        "the seed's client",
    );
    same(
        &ok(store.list_signing_keys().await, "list_signing_keys"),
        &vec![seed.signing_key.clone()],
        "the seed's signing key",
    );
    let expected: Vec<AuditRecord> = seed.audit.iter().rev().cloned().collect();
    assert_eq!(
        ok(store.list_audit(ALL).await, "list_audit"),
        expected,
        "initialise must store the seed's audit records, listed newest first"
    );
    assert_eq!(
        ok(store.count_users(&[]).await, "count_users"),
        1,
        "initialise creates exactly one user"
    );
}

async fn a_second_initialise_is_refused_and_changes_nothing(store: &dyn Store) {
    let first = initialised(store).await;
    let audit_before = ok(store.list_audit(ALL).await, "list_audit");

    let again = store.initialise(&first).await;
    assert!(
        matches!(again, Err(StoreError::AlreadyInitialised)),
        "initialising with the same seed again must fail with AlreadyInitialised, not {again:?}"
    );

    let mut other = seed(t0() + Duration::days(1));
    other.tenant.primary_domain = "fabrikam.test".into();
    other.admin = user("Root@Fabrikam.Test", "Other Admin", t0());
    other.admin_role.principal_id = other.admin.id;
    other.admin_pass.user_id = other.admin.id;
    other.policy.state = PolicyState::Disabled;
    let second = store.initialise(&other).await;
    assert!(
        matches!(second, Err(StoreError::AlreadyInitialised)),
        "initialising a store that holds a tenant must fail with AlreadyInitialised, not {second:?}"
    );

    assert_eq!(
        ok(store.find_tenant().await, "find_tenant"),
        Some(first.tenant.clone()),
        "a refused initialise must keep the first tenant"
    );
    assert_eq!(
        ok(store.master_key_check().await, "master_key_check"),
        Some(first.master_key_check.clone()),
        "a refused initialise must keep the master key check"
    );
    assert_eq!(
        ok(store.get_policy().await, "get_policy"),
        first.policy,
        "a refused initialise must keep the policy"
    );
    assert_eq!(
        ok(store.count_users(&[]).await, "count_users"),
        1,
        "a refused initialise must add no user"
    );
    assert!(
        ok(store.find_user(other.admin.id).await, "find_user").is_none(),
        "a refused initialise must add no user"
    );
    assert!(
        ok(store.find_application_by_app_id(other.client.app_id).await, "find_application").is_none(),
        "a refused initialise must add no application"
    );
    same(
        &ok(store.list_signing_keys().await, "list_signing_keys"),
        &vec![first.signing_key.clone()],
        "a refused initialise must add no signing key",
    );
    assert_eq!(
        ok(store.list_role_assignments(None, ALL).await, "list_role_assignments").len(),
        1,
        "a refused initialise must add no role assignment"
    );
    assert_eq!(
        ok(store.list_audit(ALL).await, "list_audit"),
        audit_before,
        "a refused initialise must write no audit record"
    );
}

// ------------------------------------------------------------------------------------------
// Users.

async fn a_user_round_trips_every_field(store: &dyn Store) {
    initialised(store).await;
    let mut full = user("Émile.Zola_gmail.com#EXT#@Contoso.Test", "Émile Zola 🖋", t0() - Duration::days(3));
    full.mail = Some("Emile.Zola@Gmail.Example".into());
    full.user_type = UserType::Guest;
    full.origin = UserOrigin::External;
    full.account_enabled = false;
    full.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA".into());
    full.password_set_at = Some(t0() + Duration::milliseconds(123_456));
    add_user(store, &full).await;
    same(
        &ok(store.find_user(full.id).await, "find_user"),
        &Some(full.clone()),
        "a user with every field set must read back exactly, spelling and milliseconds included",
    );

    let bare = new_user(store, "bare@contoso.test", "Bare").await;
    same(
        &ok(store.find_user(bare.id).await, "find_user"),
        &Some(bare.clone()),
        "a user with no optional field must read back exactly",
    );
    assert!(
        ok(store.find_user(UserId::new_random()).await, "find_user").is_none(),
        "find_user of an unknown id must be None"
    );
}

async fn a_user_principal_name_is_taken_whatever_its_case(store: &dyn Store) {
    initialised(store).await;
    let alice = new_user(store, "alice@contoso.test", "Alice").await;
    let count = ok(store.count_users(&[]).await, "count_users");

    let shouting = user("ALICE@Contoso.TEST", "Another Alice", t0());
    let a = audit_record(t0(), activity::ADD_USER, TargetResource::user(&shouting));
    let err = refused(
        store,
        "insert_user with a UPN taken in another case",
        store.insert_user(&shouting, &a),
    )
    .await;
    assert_conflict(&err, "insert_user with a UPN taken in another case");

    assert_eq!(
        ok(store.count_users(&[]).await, "count_users"),
        count,
        "a refused insert must add no user"
    );
    assert!(
        ok(store.find_user(shouting.id).await, "find_user").is_none(),
        "a refused insert must add no user"
    );
    let kept = ok(store.find_user_by_upn("alice@contoso.test").await, "find_user_by_upn").expect("alice is still there");
    assert_eq!(
        (kept.id, kept.display_name.as_str()),
        (alice.id, "Alice"),
        "a refused insert must leave the first user as it was"
    );

    let admin_again = user("admin@contoso.test", "Second Admin", t0());
    let a = audit_record(t0(), activity::ADD_USER, TargetResource::user(&admin_again));
    let err = refused(
        store,
        "insert_user with the seed admin's UPN in lower case",
        store.insert_user(&admin_again, &a),
    )
    .await;
    assert_conflict(&err, "insert_user with the seed admin's UPN in lower case");
}

async fn find_user_by_upn_looks_up_the_normalized_name(store: &dyn Store) {
    initialised(store).await;
    let bob = new_user(store, "Bob.Smith@Contoso.Test", "Bob Smith").await;
    let orjan = new_user(store, "Ørjan@Contoso.Test", "Ørjan").await;
    for (key, who) in [
        ("bob.smith@contoso.test", &bob),
        (
            UserPrincipalName::parse("BOB.SMITH@CONTOSO.TEST").expect("valid").normalized(),
            &bob,
        ),
        ("ørjan@contoso.test", &orjan),
    ] {
        let found = ok(store.find_user_by_upn(key).await, "find_user_by_upn")
            .unwrap_or_else(|| panic!("find_user_by_upn({key:?}) must find {}", who.user_principal_name));
        assert_eq!(found.id, who.id, "find_user_by_upn({key:?}) found the wrong user");
        assert_eq!(
            found.user_principal_name.as_str(),
            who.user_principal_name.as_str(),
            "the UPN must keep the spelling given at creation"
        );
    }
    assert!(
        ok(store.find_user_by_upn("bob@contoso.test").await, "find_user_by_upn").is_none(),
        "find_user_by_upn is an exact lookup, not a prefix"
    );
    assert!(ok(store.find_user_by_upn("nobody@contoso.test").await, "find_user_by_upn").is_none());
}

async fn users_are_listed_in_user_principal_name_order_and_paged(store: &dyn Store) {
    let seed = initialised(store).await;
    // Punctuation sorts by code point ('.' < '@' < '_' < letters) on both backends; a
    // PostgreSQL database with a linguistic collation (en_US) would sort these differently.
    let names = [
        "zoe@contoso.test",
        "Adam@contoso.test",
        "a.z@contoso.test",
        "ab@contoso.test",
        "a_c@contoso.test",
        "bob@contoso.test",
        "Carol@contoso.test",
        "aa@fabrikam.test",
        "a@contoso.test",
    ];
    let mut users = vec![seed.admin.clone()];
    for n in names {
        users.push(new_user(store, n, n).await);
    }
    let mut expected = normalized_upns(&users);
    expected.sort();

    let listed = ok(store.list_users(&[], ALL).await, "list_users");
    assert_eq!(
        normalized_upns(&listed),
        expected,
        "list_users must order users by normalized user principal name"
    );
    for u in &users {
        let stored = listed.iter().find(|l| l.id == u.id).expect("every user is listed");
        same(stored, u, "a listed user must carry every field");
    }
    assert_eq!(
        normalized_upns(&ok(store.list_users(&[], page(2, 3)).await, "list_users")),
        expected[2..5].to_vec(),
        "list_users with skip=2, top=3"
    );
    assert_eq!(
        normalized_upns(&ok(store.list_users(&[], page(0, 1)).await, "list_users")),
        expected[..1].to_vec(),
        "list_users with top=1"
    );
    assert_eq!(
        normalized_upns(&ok(store.list_users(&[], page(7, 100)).await, "list_users")),
        expected[7..].to_vec(),
        "list_users with skip=7"
    );
    check_paging(&listed, 4, "list_users", |p| store.list_users(&[], p)).await;
}

async fn user_filters_eq_and_startswith_ignore_case_on_every_field(store: &dyn Store) {
    initialised(store).await; // adds admin@contoso.test, "Ada Admin", Member, mail admin@contoso.test
    let mut alice = user("alice.jones@contoso.test", "Alice Jones", t0());
    alice.mail = Some("Alice.Jones@Contoso.Test".into());
    add_user(store, &alice).await;
    let mut alicia = user("alicia@contoso.test", "Alicia Keys", t0());
    alicia.user_type = UserType::Guest;
    add_user(store, &alicia).await;
    let mut bob = user("bob@contoso.test", "Bob Alison", t0());
    bob.mail = Some("bob@contoso.test".into());
    add_user(store, &bob).await;
    let mut albert = user("ALbert@fabrikam.test", "albert", t0());
    albert.user_type = UserType::Guest;
    albert.origin = UserOrigin::External;
    add_user(store, &albert).await;

    use FilterOp::{Eq, StartsWith};
    use UserField::{DisplayName, Mail, UserPrincipalName as Upn, UserType as Type};
    let cases: Vec<(Vec<UserFilter>, Vec<&str>)> = vec![
        (vec![filter(Upn, Eq, "ALICE.JONES@CONTOSO.TEST")], vec!["alice.jones@contoso.test"]),
        (vec![filter(Upn, Eq, "alice")], vec![]),
        (
            vec![filter(Upn, StartsWith, "ALI")],
            vec!["alice.jones@contoso.test", "alicia@contoso.test"],
        ),
        (
            vec![filter(Upn, StartsWith, "al")],
            vec!["albert@fabrikam.test", "alice.jones@contoso.test", "alicia@contoso.test"],
        ),
        (vec![filter(DisplayName, Eq, "alice JONES")], vec!["alice.jones@contoso.test"]),
        (vec![filter(DisplayName, Eq, "Alice")], vec![]),
        (
            vec![filter(DisplayName, StartsWith, "ALI")],
            vec!["alice.jones@contoso.test", "alicia@contoso.test"],
        ),
        (
            vec![filter(DisplayName, StartsWith, "a")],
            vec![
                "admin@contoso.test",
                "albert@fabrikam.test",
                "alice.jones@contoso.test",
                "alicia@contoso.test",
            ],
        ),
        (vec![filter(Type, Eq, "guest")], vec!["albert@fabrikam.test", "alicia@contoso.test"]),
        (
            vec![filter(Type, Eq, "MEMBER")],
            vec!["admin@contoso.test", "alice.jones@contoso.test", "bob@contoso.test"],
        ),
        (
            vec![filter(Type, StartsWith, "gU")],
            vec!["albert@fabrikam.test", "alicia@contoso.test"],
        ),
        (vec![filter(Mail, Eq, "alice.jones@contoso.test")], vec!["alice.jones@contoso.test"]),
        (vec![filter(Mail, StartsWith, "BOB")], vec!["bob@contoso.test"]),
        (
            vec![filter(Mail, StartsWith, "")],
            vec!["admin@contoso.test", "alice.jones@contoso.test", "bob@contoso.test"],
        ),
        (
            vec![filter(Upn, StartsWith, "al"), filter(Type, Eq, "Guest")],
            vec!["albert@fabrikam.test", "alicia@contoso.test"],
        ),
        (
            vec![
                filter(Upn, StartsWith, "al"),
                filter(DisplayName, StartsWith, "alicia"),
                filter(Type, Eq, "guest"),
            ],
            vec!["alicia@contoso.test"],
        ),
        (vec![filter(Upn, StartsWith, "bob"), filter(Type, Eq, "guest")], vec![]),
    ];
    for (filters, expected) in cases {
        assert_eq!(
            listed(store, &filters).await,
            expected,
            "list_users with {filters:?} (filters are case-insensitive, combined with AND, ordered by UPN)"
        );
    }
    let guests = ok(store.list_users(&[filter(Type, Eq, "guest")], page(1, 1)).await, "list_users");
    assert_eq!(
        normalized_upns(&guests),
        vec!["alicia@contoso.test"],
        "filters and paging together: the second guest"
    );
}

async fn wildcard_characters_in_a_filter_value_match_literally(store: &dyn Store) {
    initialised(store).await;
    for (upn, name) in [
        ("a_b@w.test", "100% sure"),
        ("axb@w.test", "1000 sure"),
        ("a%c@w.test", "under_score"),
        ("abc@w.test", "underXscore"),
        ("a%%@w.test", "back\\slash"),
        ("a%x@w.test", "backXslash"),
    ] {
        new_user(store, upn, name).await;
    }
    use FilterOp::{Eq, StartsWith};
    use UserField::{DisplayName, UserPrincipalName as Upn};
    let cases: Vec<(UserFilter, Vec<&str>)> = vec![
        (filter(Upn, StartsWith, "a_"), vec!["a_b@w.test"]),
        (filter(Upn, StartsWith, "a%"), vec!["a%%@w.test", "a%c@w.test", "a%x@w.test"]),
        (filter(Upn, StartsWith, "a%%"), vec!["a%%@w.test"]),
        (filter(Upn, StartsWith, "%"), vec![]),
        (filter(Upn, StartsWith, "_"), vec![]),
        (filter(Upn, Eq, "a_b@w.test"), vec!["a_b@w.test"]),
        (filter(Upn, Eq, "a%@w.test"), vec![]),
        (filter(DisplayName, StartsWith, "100%"), vec!["a_b@w.test"]),
        (filter(DisplayName, StartsWith, "under_"), vec!["a%c@w.test"]),
        (filter(DisplayName, StartsWith, "back\\"), vec!["a%%@w.test"]),
        (filter(DisplayName, StartsWith, "back\\s"), vec!["a%%@w.test"]),
        (filter(DisplayName, Eq, "under_score"), vec!["a%c@w.test"]),
        (filter(DisplayName, Eq, "back\\slash"), vec!["a%%@w.test"]),
        (filter(DisplayName, StartsWith, "_"), vec![]),
        (filter(DisplayName, StartsWith, "%"), vec![]),
    ];
    for (f, expected) in cases {
        assert_eq!(
            listed(store, std::slice::from_ref(&f)).await,
            expected,
            "list_users with {f:?}: % _ and \\ in a value must match only themselves"
        );
    }
}

async fn a_filter_matches_a_non_ascii_value_spelled_exactly(store: &dyn Store) {
    initialised(store).await;
    let mut emile = user("emile@contoso.test", "Émile Ölund", t0());
    emile.mail = Some("Émile@Exämple.Test".into());
    add_user(store, &emile).await;
    new_user(store, "other@contoso.test", "Emile Olund").await;
    use FilterOp::{Eq, StartsWith};
    use UserField::{DisplayName, Mail};
    for f in [
        filter(DisplayName, Eq, "Émile Ölund"),
        filter(DisplayName, StartsWith, "Émile"),
        filter(DisplayName, StartsWith, "É"),
        filter(Mail, Eq, "Émile@Exämple.Test"),
        filter(Mail, StartsWith, "Émile@Exä"),
    ] {
        assert_eq!(
            listed(store, std::slice::from_ref(&f)).await,
            vec!["emile@contoso.test"],
            "list_users with {f:?}: a value spelled exactly as stored must match, whatever its letters"
        );
    }
}

async fn users_are_counted_with_and_without_filters(store: &dyn Store) {
    initialised(store).await;
    assert_eq!(ok(store.count_users(&[]).await, "count_users"), 1, "the seed's admin");
    let mut made = Vec::new();
    for i in 0..12 {
        let mut u = user(&format!("user{i:02}@contoso.test"), &format!("User {i:02}"), t0());
        if i % 3 == 0 {
            u.user_type = UserType::Guest;
        }
        add_user(store, &u).await;
        made.push(u);
    }
    assert_eq!(ok(store.count_users(&[]).await, "count_users"), 13);
    let guests = [filter(UserField::UserType, FilterOp::Eq, "Guest")];
    assert_eq!(ok(store.count_users(&guests).await, "count_users(guests)"), 4);
    let user1 = [filter(UserField::UserPrincipalName, FilterOp::StartsWith, "user1")];
    assert_eq!(ok(store.count_users(&user1).await, "count_users(startswith user1)"), 2);
    assert_eq!(ok(store.count_users(&[upn_eq("nobody@contoso.test")]).await, "count_users"), 0);
    assert_eq!(
        ok(store.list_users(&[], page(0, 5)).await, "list_users").len(),
        5,
        "count_users is not limited by a page, list_users is"
    );
    let victim = &made[0];
    let a = audit_record(t0(), activity::DELETE_USER, TargetResource::user(victim));
    audited(store, &a, "delete_user", store.delete_user(victim.id, &a)).await;
    assert_eq!(
        ok(store.count_users(&[]).await, "count_users"),
        12,
        "a deleted user is no longer counted"
    );
    assert_eq!(ok(store.count_users(&guests).await, "count_users(guests)"), 3);
}

async fn updating_a_user_changes_their_fields_and_an_unknown_user_is_not_found(store: &dyn Store) {
    initialised(store).await;
    let before = new_user(store, "carol@contoso.test", "Carol").await;
    let mut after = before.clone();
    after.display_name = "Carol Danvers".into();
    after.mail = Some("carol.danvers@contoso.test".into());
    after.user_type = UserType::Guest;
    after.account_enabled = false;
    after.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA".into());
    after.password_set_at = Some(t0() + Duration::minutes(5) + Duration::milliseconds(7));
    let a = audit_record(
        t0(),
        activity::UPDATE_USER,
        TargetResource::user(&after).with("DisplayName", Some("Carol".into()), Some("Carol Danvers".into())),
    );
    audited(store, &a, "update_user", store.update_user(&after, &a)).await;
    same(
        &ok(store.find_user(after.id).await, "find_user"),
        &Some(after.clone()),
        "update_user must store every changed field",
    );
    assert_eq!(
        listed(store, &[filter(UserField::DisplayName, FilterOp::Eq, "carol danvers")]).await,
        vec!["carol@contoso.test"],
        "filters must see the new display name"
    );
    assert!(
        listed(store, &[filter(UserField::DisplayName, FilterOp::Eq, "Carol")])
            .await
            .is_empty(),
        "filters must not see the old display name"
    );

    let mut cleared = after.clone();
    cleared.mail = None;
    cleared.password_hash = None;
    cleared.password_set_at = None;
    cleared.account_enabled = true;
    let a = audit_record(t0(), activity::UPDATE_USER, TargetResource::user(&cleared));
    audited(store, &a, "update_user clearing fields", store.update_user(&cleared, &a)).await;
    same(
        &ok(store.find_user(after.id).await, "find_user"),
        &Some(cleared),
        "update_user must clear fields set to None",
    );

    let ghost = user("ghost@contoso.test", "Ghost", t0());
    let a = audit_record(t0(), activity::UPDATE_USER, TargetResource::user(&ghost));
    let err = refused(store, "update_user of an unknown user", store.update_user(&ghost, &a)).await;
    assert_not_found(&err, "update_user of an unknown user");
    assert!(
        ok(store.find_user(ghost.id).await, "find_user").is_none(),
        "update_user must not create a user"
    );
}

async fn deleting_a_user_removes_their_pass_memberships_and_role_assignments(store: &dyn Store) {
    let seed = initialised(store).await;
    let doomed = new_user(store, "doomed@contoso.test", "Doomed").await;
    let stays = new_user(store, "stays@contoso.test", "Stays").await;
    let g = new_group(store, "Helpdesk").await;
    join(store, &g, &doomed).await;
    join(store, &g, &stays).await;
    let doomed_role = grant(store, &doomed, DirectoryRole::AuthenticationAdministrator).await;
    let stays_role = grant(store, &stays, DirectoryRole::AuthenticationAdministrator).await;
    let doomed_pass = pass(doomed.id, t0(), true);
    issue(store, &doomed_pass).await;
    let stays_pass = pass(stays.id, t0(), true);
    issue(store, &stays_pass).await;

    let a = audit_record(t0(), activity::DELETE_USER, TargetResource::user(&doomed));
    audited(store, &a, "delete_user", store.delete_user(doomed.id, &a)).await;

    assert!(
        ok(store.find_user(doomed.id).await, "find_user").is_none(),
        "a deleted user must be gone"
    );
    assert!(
        ok(store.find_user_by_upn("doomed@contoso.test").await, "find_user_by_upn").is_none(),
        "a deleted user must be gone by UPN too"
    );
    assert!(
        ok(store.find_user_auth_state(doomed.id).await, "find_user_auth_state").is_none(),
        "a deleted user has no auth state"
    );
    assert!(
        ok(store.find_pass_for_user(doomed.id).await, "find_pass_for_user").is_none(),
        "deleting a user must delete their pass"
    );
    assert!(
        !ok(store.consume_pass(doomed_pass.id, t0()).await, "consume_pass"),
        "a deleted user's pass must not be usable"
    );
    assert!(
        ok(store.find_role_assignment(doomed_role.id).await, "find_role_assignment").is_none(),
        "deleting a user must delete their role assignments"
    );
    assert!(
        ok(store.list_role_assignments(Some(doomed.id), ALL).await, "list_role_assignments").is_empty(),
        "deleting a user must delete their role assignments"
    );
    let members = ok(store.list_members(g.id, ALL).await, "list_members");
    assert_eq!(
        members.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![stays.id],
        "deleting a user must remove them, and only them, from their groups"
    );

    assert!(
        ok(store.find_group(g.id).await, "find_group").is_some(),
        "deleting a member must keep the group"
    );
    same(
        &ok(store.find_pass_for_user(stays.id).await, "find_pass_for_user"),
        &Some(stays_pass),
        "deleting a user must keep others' passes",
    );
    assert!(
        ok(store.find_role_assignment(stays_role.id).await, "find_role_assignment").is_some(),
        "deleting a user must keep others' roles"
    );
    assert!(ok(store.find_role_assignment(seed.admin_role.id).await, "find_role_assignment").is_some());

    let a = audit_record(t0(), activity::DELETE_USER, TargetResource::user(&doomed));
    let err = refused(store, "delete_user of a deleted user", store.delete_user(doomed.id, &a)).await;
    assert_not_found(&err, "delete_user of a deleted user");

    // The UPN is free again.
    new_user(store, "Doomed@contoso.test", "Doomed again").await;
}

// ------------------------------------------------------------------------------------------
// Groups.

async fn groups_are_inserted_found_listed_and_deleted(store: &dyn Store) {
    initialised(store).await;
    let mut described = group("Alpha", t0() + Duration::milliseconds(1));
    described.description = Some("The first letter, 🅰".into());
    described.mail_nickname = Some("alpha".into());
    let a = audit_record(
        t0(),
        activity::ADD_GROUP,
        TargetResource::other("Group", described.id, Some("Alpha".into())),
    );
    audited(store, &a, "insert_group", store.insert_group(&described, &a)).await;
    same(
        &ok(store.find_group(described.id).await, "find_group"),
        &Some(described.clone()),
        "a group must read back exactly",
    );

    let mut groups = vec![described.clone()];
    for name in ["beta", "alpha two", "Gamma", "delta", "Epsilon"] {
        groups.push(new_group(store, name).await);
    }
    let listed = ok(store.list_groups(ALL).await, "list_groups");
    let listed_ids: BTreeSet<GroupId> = listed.iter().map(|g| g.id).collect();
    assert_eq!(
        listed_ids,
        groups.iter().map(|g| g.id).collect(),
        "list_groups must list every group once"
    );
    assert_eq!(listed.len(), groups.len(), "list_groups must list every group once");
    check_paging(&listed, 2, "list_groups", |p| store.list_groups(p)).await;

    let a = audit_record(t0(), activity::DELETE_GROUP, TargetResource::other("Group", described.id, None));
    audited(store, &a, "delete_group", store.delete_group(described.id, &a)).await;
    assert!(
        ok(store.find_group(described.id).await, "find_group").is_none(),
        "a deleted group must be gone"
    );
    assert!(
        ok(store.list_groups(ALL).await, "list_groups").iter().all(|g| g.id != described.id),
        "a deleted group must not be listed"
    );
    assert_eq!(ok(store.list_groups(ALL).await, "list_groups").len(), groups.len() - 1);
    let err = refused(store, "delete_group of a deleted group", store.delete_group(described.id, &a)).await;
    assert_not_found(&err, "delete_group of a deleted group");
    assert!(ok(store.find_group(GroupId::new_random()).await, "find_group").is_none());
}

async fn deleting_a_group_removes_its_memberships(store: &dyn Store) {
    initialised(store).await;
    let u = new_user(store, "member@contoso.test", "Member").await;
    let doomed = new_group(store, "Doomed").await;
    let stays = new_group(store, "Stays").await;
    join(store, &doomed, &u).await;
    join(store, &stays, &u).await;
    let a = audit_record(t0(), activity::DELETE_GROUP, TargetResource::other("Group", doomed.id, None));
    audited(store, &a, "delete_group", store.delete_group(doomed.id, &a)).await;
    let state = ok(store.find_user_auth_state(u.id).await, "find_user_auth_state").expect("the member still exists");
    assert_eq!(
        state.groups,
        vec![stays.id],
        "deleting a group must remove its memberships, and keep the others"
    );
    assert!(
        ok(store.find_user(u.id).await, "find_user").is_some(),
        "deleting a group must keep its members"
    );
    assert!(
        ok(store.list_members(doomed.id, ALL).await, "list_members").is_empty(),
        "a deleted group has no members"
    );
    let a = audit_record(t0(), activity::REMOVE_MEMBER_FROM_GROUP, TargetResource::user(&u));
    let err = refused(
        store,
        "remove_member from a deleted group",
        store.remove_member(doomed.id, u.id, &a),
    )
    .await;
    assert_not_found(&err, "remove_member from a deleted group");
}

async fn adding_a_member_twice_is_a_conflict(store: &dyn Store) {
    initialised(store).await;
    let u = new_user(store, "twice@contoso.test", "Twice").await;
    let g = new_group(store, "Pairs").await;
    join(store, &g, &u).await;
    let a = audit_record(t0(), activity::ADD_MEMBER_TO_GROUP, TargetResource::user(&u));
    let err = refused(store, "add_member of a member", store.add_member(g.id, u.id, &a)).await;
    assert_conflict(&err, "add_member of someone already a member");
    let members = ok(store.list_members(g.id, ALL).await, "list_members");
    assert_eq!(
        members.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![u.id],
        "a refused add_member must leave one membership"
    );
    let state = ok(store.find_user_auth_state(u.id).await, "find_user_auth_state").expect("the user exists");
    assert_eq!(state.groups, vec![g.id], "a refused add_member must leave one membership");
}

async fn removing_someone_who_is_not_a_member_is_not_found(store: &dyn Store) {
    initialised(store).await;
    let u = new_user(store, "outsider@contoso.test", "Outsider").await;
    let insider = new_user(store, "insider@contoso.test", "Insider").await;
    let g = new_group(store, "Club").await;
    join(store, &g, &insider).await;
    let a = audit_record(t0(), activity::REMOVE_MEMBER_FROM_GROUP, TargetResource::user(&u));
    let err = refused(store, "remove_member of a non-member", store.remove_member(g.id, u.id, &a)).await;
    assert_not_found(&err, "remove_member of someone who is not a member");
    let err = refused(
        store,
        "remove_member from an unknown group",
        store.remove_member(GroupId::new_random(), insider.id, &a),
    )
    .await;
    assert_not_found(&err, "remove_member from an unknown group");

    let a = audit_record(t0(), activity::REMOVE_MEMBER_FROM_GROUP, TargetResource::user(&insider));
    audited(store, &a, "remove_member", store.remove_member(g.id, insider.id, &a)).await;
    assert!(
        ok(store.list_members(g.id, ALL).await, "list_members").is_empty(),
        "remove_member must remove the membership"
    );
    assert!(
        ok(store.find_user(insider.id).await, "find_user").is_some(),
        "remove_member must keep the user"
    );
    let err = refused(store, "remove_member twice", store.remove_member(g.id, insider.id, &a)).await;
    assert_not_found(&err, "remove_member of someone already removed");
}

async fn group_members_are_listed_and_paged(store: &dyn Store) {
    initialised(store).await;
    let g = new_group(store, "Big").await;
    let other = new_group(store, "Other").await;
    let empty = new_group(store, "Empty").await;
    let mut members = Vec::new();
    for i in [5, 3, 9, 1, 7, 2] {
        let u = new_user(store, &format!("m{i}@contoso.test"), &format!("Member {i}")).await;
        join(store, &g, &u).await;
        members.push(u);
    }
    let outsider = new_user(store, "outsider@contoso.test", "Outsider").await;
    join(store, &other, &outsider).await;

    let listed = ok(store.list_members(g.id, ALL).await, "list_members");
    let ids: BTreeSet<UserId> = listed.iter().map(|u| u.id).collect();
    assert_eq!(
        ids,
        members.iter().map(|u| u.id).collect(),
        "list_members must list exactly the group's members"
    );
    assert_eq!(listed.len(), members.len(), "list_members must list each member once");
    for m in &members {
        same(
            listed.iter().find(|l| l.id == m.id).expect("listed"),
            m,
            "a listed member must carry every field",
        );
    }
    check_paging(&listed, 4, "list_members", |p| store.list_members(g.id, p)).await;
    assert!(
        ok(store.list_members(empty.id, ALL).await, "list_members").is_empty(),
        "an empty group lists no members"
    );
}

async fn a_users_auth_state_holds_their_pass_groups_and_roles(store: &dyn Store) {
    initialised(store).await;
    let u = new_user(store, "state@contoso.test", "State").await;
    let g1 = new_group(store, "One").await;
    let g2 = new_group(store, "Two").await;
    let g3 = new_group(store, "Three").await;
    join(store, &g1, &u).await;
    join(store, &g2, &u).await;
    grant(store, &u, DirectoryRole::AuthenticationAdministrator).await;
    grant(store, &u, DirectoryRole::GlobalReader).await;
    let p = pass(u.id, t0(), true);
    issue(store, &p).await;
    let bare = new_user(store, "bare@contoso.test", "Bare").await;
    join(store, &g3, &bare).await;

    let state = ok(store.find_user_auth_state(u.id).await, "find_user_auth_state").expect("the user exists");
    same(&state.user, &u, "the auth state's user");
    same(&state.pass, &Some(p), "the auth state's pass");
    let groups: BTreeSet<GroupId> = state.groups.iter().copied().collect();
    assert_eq!(
        groups,
        BTreeSet::from([g1.id, g2.id]),
        "the auth state must list the user's groups, and only theirs"
    );
    assert_eq!(state.groups.len(), 2, "each group once");
    let roles: BTreeSet<DirectoryRole> = state.roles.iter().copied().collect();
    assert_eq!(
        roles,
        BTreeSet::from([DirectoryRole::AuthenticationAdministrator, DirectoryRole::GlobalReader]),
        "the auth state must list the user's roles"
    );
    assert_eq!(state.roles.len(), 2, "each role once");

    let bare_state = ok(store.find_user_auth_state(bare.id).await, "find_user_auth_state").expect("the user exists");
    assert!(
        bare_state.pass.is_none() && bare_state.roles.is_empty(),
        "a user with no pass or role has none in their auth state"
    );
    assert_eq!(bare_state.groups, vec![g3.id]);
    assert!(
        ok(store.find_user_auth_state(UserId::new_random()).await, "find_user_auth_state").is_none(),
        "an unknown user has no auth state"
    );
}

// ------------------------------------------------------------------------------------------
// Directory roles.

async fn a_principal_cannot_hold_the_same_role_twice(store: &dyn Store) {
    initialised(store).await;
    let u = new_user(store, "helpdesk@contoso.test", "Helpdesk").await;
    let v = new_user(store, "helpdesk2@contoso.test", "Helpdesk 2").await;
    grant(store, &u, DirectoryRole::AuthenticationAdministrator).await;
    let again = role_assignment(u.id, DirectoryRole::AuthenticationAdministrator, t0());
    let a = audit_record(t0(), activity::ADD_MEMBER_TO_ROLE, TargetResource::user(&u));
    let err = refused(
        store,
        "insert_role_assignment of a role already held",
        store.insert_role_assignment(&again, &a),
    )
    .await;
    assert_conflict(&err, "insert_role_assignment of a role the principal already holds");
    assert!(
        ok(store.find_role_assignment(again.id).await, "find_role_assignment").is_none(),
        "a refused assignment must not be stored"
    );
    grant(store, &u, DirectoryRole::GlobalReader).await;
    grant(store, &v, DirectoryRole::AuthenticationAdministrator).await;
    assert_eq!(
        ok(store.list_role_assignments(Some(u.id), ALL).await, "list_role_assignments").len(),
        2,
        "two roles, one assignment each"
    );
}

async fn role_assignments_are_found_listed_by_principal_and_deleted(store: &dyn Store) {
    let seed = initialised(store).await;
    let u = new_user(store, "roles@contoso.test", "Roles").await;
    let v = new_user(store, "reader@contoso.test", "Reader").await;
    let mut mine = Vec::new();
    for role in [
        DirectoryRole::PrivilegedAuthenticationAdministrator,
        DirectoryRole::AuthenticationPolicyAdministrator,
        DirectoryRole::GlobalReader,
    ] {
        mine.push(grant(store, &u, role).await);
    }
    let theirs = grant(store, &v, DirectoryRole::GlobalReader).await;
    for r in mine.iter().chain([&theirs, &seed.admin_role]) {
        same(
            &ok(store.find_role_assignment(r.id).await, "find_role_assignment"),
            &Some(r.clone()),
            "a role assignment must read back exactly",
        );
    }
    assert!(
        ok(
            store.find_role_assignment(RoleAssignmentId::new_random()).await,
            "find_role_assignment"
        )
        .is_none()
    );

    let of_u = ok(store.list_role_assignments(Some(u.id), ALL).await, "list_role_assignments(u)");
    assert_eq!(
        of_u.iter().map(|r| r.id).collect::<BTreeSet<_>>(),
        mine.iter().map(|r| r.id).collect(),
        "list_role_assignments(principal) must list that principal's, and only theirs"
    );
    let all = ok(store.list_role_assignments(None, ALL).await, "list_role_assignments(None)");
    assert_eq!(
        all.iter().map(|r| r.id).collect::<BTreeSet<_>>(),
        mine.iter().chain([&theirs, &seed.admin_role]).map(|r| r.id).collect(),
        "list_role_assignments(None) must list every assignment"
    );
    assert_eq!(all.len(), 5, "each assignment once");
    check_paging(&all, 2, "list_role_assignments(None)", |p| store.list_role_assignments(None, p)).await;
    check_paging(&of_u, 2, "list_role_assignments(u)", |p| store.list_role_assignments(Some(u.id), p)).await;

    let gone = &mine[1];
    let a = audit_record(t0(), activity::REMOVE_MEMBER_FROM_ROLE, TargetResource::user(&u));
    audited(store, &a, "delete_role_assignment", store.delete_role_assignment(gone.id, &a)).await;
    assert!(
        ok(store.find_role_assignment(gone.id).await, "find_role_assignment").is_none(),
        "a deleted assignment must be gone"
    );
    assert_eq!(
        ok(store.list_role_assignments(Some(u.id), ALL).await, "list_role_assignments").len(),
        2
    );
    let state = ok(store.find_user_auth_state(u.id).await, "find_user_auth_state").expect("exists");
    assert!(!state.roles.contains(&gone.role), "a deleted assignment must leave the auth state");
    let err = refused(store, "delete_role_assignment twice", store.delete_role_assignment(gone.id, &a)).await;
    assert_not_found(&err, "delete_role_assignment of a deleted assignment");
    // The role can be granted again.
    grant(store, &u, gone.role).await;
}

// ------------------------------------------------------------------------------------------
// Policy.

async fn the_policy_round_trips_through_save_and_get(store: &dyn Store) {
    initialised(store).await;
    assert_eq!(ok(store.get_policy().await, "get_policy"), TapPolicy::default());
    let changed = TapPolicy {
        state: PolicyState::Disabled,
        include_targets: vec![
            PolicyTarget::Group(GroupId::new_random()),
            PolicyTarget::Group(GroupId::new_random()),
            PolicyTarget::User(UserId::new_random()),
        ],
        exclude_targets: vec![PolicyTarget::Group(GroupId::new_random())],
        minimum_lifetime_in_minutes: 10,
        maximum_lifetime_in_minutes: 43_200,
        default_lifetime_in_minutes: 100,
        default_length: 48,
        is_usable_once: true,
    };
    changed.validate().unwrap_or_else(|e| panic!("fixture policy: {e}"));
    let a = audit_record(
        t0(),
        activity::UPDATE_POLICY,
        TargetResource::other("Policy", "TemporaryAccessPass", None).with("state", Some("enabled".into()), Some("disabled".into())),
    );
    audited(store, &a, "save_policy", store.save_policy(&changed, &a)).await;
    assert_eq!(
        ok(store.get_policy().await, "get_policy"),
        changed,
        "get_policy must return what save_policy stored, targets in order"
    );
    let a = audit_record(
        t0(),
        activity::RESET_POLICY,
        TargetResource::other("Policy", "TemporaryAccessPass", None),
    );
    audited(store, &a, "save_policy (reset)", store.save_policy(&TapPolicy::default(), &a)).await;
    assert_eq!(
        ok(store.get_policy().await, "get_policy"),
        TapPolicy::default(),
        "a second save_policy must replace the first"
    );
}

// ------------------------------------------------------------------------------------------
// Passes.

async fn a_new_pass_replaces_the_users_existing_pass(store: &dyn Store) {
    let seed = initialised(store).await;
    let u = new_user(store, "newhire@contoso.test", "New Hire").await;
    assert!(
        ok(store.find_pass_for_user(u.id).await, "find_pass_for_user").is_none(),
        "a new user holds no pass"
    );
    let mut first = pass(u.id, t0(), true);
    first.start_at = t0() + Duration::hours(2);
    first.lifetime_in_minutes = 480;
    issue(store, &first).await;
    same(
        &ok(store.find_pass_for_user(u.id).await, "find_pass_for_user"),
        &Some(first.clone()),
        "a pass must read back exactly",
    );
    assert!(
        ok(store.consume_pass(first.id, t0()).await, "consume_pass"),
        "the first pass is unused"
    );

    let second = pass(u.id, t0() + Duration::minutes(1), false);
    issue(store, &second).await;
    same(
        &ok(store.find_pass_for_user(u.id).await, "find_pass_for_user"),
        &Some(second.clone()),
        "replace_pass must leave the new pass, with its id, unused",
    );
    let state = ok(store.find_user_auth_state(u.id).await, "find_user_auth_state").expect("exists");
    assert_eq!(state.pass.map(|p| p.id), Some(second.id), "the auth state must show the new pass");

    let a = audit_record(t0(), activity::ADMIN_DELETED_SECURITY_INFO, TargetResource::user(&u));
    let err = refused(store, "delete_pass of the replaced pass", store.delete_pass(u.id, first.id, &a)).await;
    assert_not_found(&err, "delete_pass of a pass that was replaced");
    assert!(
        !ok(store.consume_pass(first.id, t0()).await, "consume_pass"),
        "a replaced pass must be gone"
    );

    let third = pass(u.id, t0() + Duration::minutes(2), true);
    issue(store, &third).await;
    same(
        &ok(store.find_pass_for_user(u.id).await, "find_pass_for_user"),
        &Some(third.clone()),
        "a third pass replaces the second",
    );
    let err = refused(store, "delete_pass of the second pass", store.delete_pass(u.id, second.id, &a)).await;
    assert_not_found(&err, "delete_pass of a pass that was replaced");
    audited(store, &a, "delete_pass of the current pass", store.delete_pass(u.id, third.id, &a)).await;
    assert!(
        ok(store.find_pass_for_user(u.id).await, "find_pass_for_user").is_none(),
        "after deleting the only pass there is none: the replaced ones must not reappear"
    );

    same(
        &ok(store.find_pass_for_user(seed.admin.id).await, "find_pass_for_user(admin)"),
        &Some(seed.admin_pass),
        "replacing one user's pass must keep another's",
    );
}

async fn deleting_a_pass_needs_both_its_id_and_its_user(store: &dyn Store) {
    let seed = initialised(store).await;
    let u = new_user(store, "u@contoso.test", "U").await;
    let p = pass(u.id, t0(), false);
    issue(store, &p).await;
    let a = audit_record(t0(), activity::ADMIN_DELETED_SECURITY_INFO, TargetResource::user(&u));

    let err = refused(
        store,
        "delete_pass with a wrong id",
        store.delete_pass(u.id, PassId::new_random(), &a),
    )
    .await;
    assert_not_found(&err, "delete_pass with an id the user does not hold");
    let err = refused(store, "delete_pass with another user", store.delete_pass(seed.admin.id, p.id, &a)).await;
    assert_not_found(&err, "delete_pass of a pass held by another user");
    let err = refused(
        store,
        "delete_pass with an unknown user",
        store.delete_pass(UserId::new_random(), p.id, &a),
    )
    .await;
    assert_not_found(&err, "delete_pass for an unknown user");
    same(
        &ok(store.find_pass_for_user(u.id).await, "find_pass_for_user"),
        &Some(p.clone()),
        "refused deletes must keep the pass",
    );
    same(
        &ok(store.find_pass_for_user(seed.admin.id).await, "find_pass_for_user"),
        &Some(seed.admin_pass.clone()),
        "refused deletes must keep the other user's pass",
    );

    audited(store, &a, "delete_pass", store.delete_pass(u.id, p.id, &a)).await;
    assert!(
        ok(store.find_pass_for_user(u.id).await, "find_pass_for_user").is_none(),
        "delete_pass must delete the pass"
    );
    assert!(
        ok(store.find_user(u.id).await, "find_user").is_some(),
        "delete_pass must keep the user"
    );
    same(
        &ok(store.find_pass_for_user(seed.admin.id).await, "find_pass_for_user"),
        &Some(seed.admin_pass),
        "delete_pass must keep others' passes",
    );
    let err = refused(store, "delete_pass twice", store.delete_pass(u.id, p.id, &a)).await;
    assert_not_found(&err, "delete_pass of a deleted pass");
}

async fn a_one_time_pass_is_consumed_exactly_once(store: &dyn Store) {
    initialised(store).await;
    let u = new_user(store, "once@contoso.test", "Once").await;
    let p = pass(u.id, t0(), true);
    issue(store, &p).await;
    let audit_before = audit_count(store).await;
    let used_at = t0() + Duration::minutes(3) + Duration::milliseconds(250);
    assert!(
        ok(store.consume_pass(p.id, used_at).await, "consume_pass"),
        "the first consume_pass of an unused pass must return true"
    );
    assert!(
        !ok(store.consume_pass(p.id, used_at + Duration::seconds(1)).await, "consume_pass"),
        "a second consume_pass must return false"
    );
    let stored = ok(store.find_pass_for_user(u.id).await, "find_pass_for_user").expect("the pass is kept after use");
    assert_eq!(
        stored.used_at,
        Some(used_at),
        "used_at must be the first consumer's time, to the millisecond"
    );
    let mut expected = p.clone();
    expected.used_at = Some(used_at);
    same(&stored, &expected, "consume_pass must change used_at and nothing else");
    assert!(
        !ok(store.consume_pass(PassId::new_random(), used_at).await, "consume_pass"),
        "consume_pass of an unknown pass must return false"
    );
    assert_eq!(
        audit_count(store).await,
        audit_before,
        "consume_pass takes no audit record and must write none"
    );
}

async fn a_one_time_pass_is_consumed_exactly_once_under_concurrency(store: &dyn Store) {
    initialised(store).await;
    for round in 0..3 {
        let u = new_user(store, &format!("race{round}@contoso.test"), "Racer").await;
        let p = pass(u.id, t0(), true);
        issue(store, &p).await;
        let times: Vec<DateTime<Utc>> = (0..16).map(|i| t0() + Duration::milliseconds(i)).collect();
        let results = join_all(times.iter().map(|at| store.consume_pass(p.id, *at)).collect()).await;
        let results: Vec<bool> = results.into_iter().map(|r| ok(r, "concurrent consume_pass")).collect();
        let winners: Vec<usize> = results.iter().enumerate().filter(|(_, won)| **won).map(|(i, _)| i).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one of 16 concurrent consume_pass calls must return true, got {results:?}"
        );
        let stored = ok(store.find_pass_for_user(u.id).await, "find_pass_for_user").expect("the pass is kept");
        assert_eq!(
            stored.used_at,
            Some(times[winners[0]]),
            "round {round}: used_at must be the winner's time"
        );
    }
}

async fn concurrent_inserts_of_one_user_principal_name_admit_exactly_one(store: &dyn Store) {
    initialised(store).await;
    let before_users = ok(store.count_users(&[]).await, "count_users");
    let before_audit = audit_count(store).await;
    let spellings = [
        "dup@contoso.test",
        "DUP@contoso.test",
        "Dup@Contoso.Test",
        "dUp@contoso.TEST",
        "duP@CONTOSO.test",
        "DuP@contoso.test",
        "dup@Contoso.test",
        "DUP@CONTOSO.TEST",
    ];
    let users: Vec<User> = spellings.iter().map(|s| user(s, s, t0())).collect();
    let audits: Vec<AuditRecord> = users
        .iter()
        .map(|u| audit_record(t0(), activity::ADD_USER, TargetResource::user(u)))
        .collect();
    let results = join_all(users.iter().zip(&audits).map(|(u, a)| store.insert_user(u, a)).collect()).await;
    let winners: Vec<usize> = results.iter().enumerate().filter(|(_, r)| r.is_ok()).map(|(i, _)| i).collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one of 8 concurrent inserts of one UPN must succeed: {results:?}"
    );
    for r in &results {
        if let Err(e) = r {
            assert_conflict(e, "a concurrent insert that lost the race");
        }
    }
    assert_eq!(ok(store.count_users(&[]).await, "count_users"), before_users + 1, "one user added");
    assert_eq!(audit_count(store).await, before_audit + 1, "one audit record: only the winner's");
    assert_eq!(
        newest_audit(store).await.as_ref(),
        Some(&audits[winners[0]]),
        "the audit record is the winner's"
    );
    let stored = ok(store.find_user_by_upn("dup@contoso.test").await, "find_user_by_upn").expect("the winner");
    assert_eq!(stored.id, users[winners[0]].id, "the stored user is the winner");
}

async fn concurrent_new_passes_for_one_user_leave_exactly_one(store: &dyn Store) {
    initialised(store).await;
    let u = new_user(store, "busy@contoso.test", "Busy").await;
    issue(store, &pass(u.id, t0(), false)).await;
    let before_audit = audit_count(store).await;
    let passes: Vec<TemporaryAccessPass> = (0..8).map(|i| pass(u.id, t0() + Duration::seconds(i), i % 2 == 0)).collect();
    let audits: Vec<AuditRecord> = passes
        .iter()
        .map(|p| audit_record(p.created_at, activity::ADMIN_REGISTERED_SECURITY_INFO, TargetResource::user(&u)))
        .collect();
    let results = join_all(passes.iter().zip(&audits).map(|(p, a)| store.replace_pass(p, a)).collect()).await;
    for r in results {
        ok(r, "concurrent replace_pass");
    }
    assert_eq!(
        audit_count(store).await,
        before_audit + 8,
        "each replace_pass writes its own audit record"
    );
    let kept = ok(store.find_pass_for_user(u.id).await, "find_pass_for_user").expect("one pass is left");
    let kept_fixture = passes
        .iter()
        .find(|p| p.id == kept.id)
        .expect("the pass left must be one of those just issued");
    same(&kept, kept_fixture, "the pass left must be stored whole, not a mix of two");
    let a = audit_record(t0(), activity::ADMIN_DELETED_SECURITY_INFO, TargetResource::user(&u));
    for p in passes.iter().filter(|p| p.id != kept.id) {
        let err = refused(store, "delete_pass of a pass that lost the race", store.delete_pass(u.id, p.id, &a)).await;
        assert_not_found(&err, "delete_pass of a pass replaced by a concurrent replace_pass");
    }
}

// ------------------------------------------------------------------------------------------
// Applications, keys, audit.

async fn an_application_is_found_by_app_id_with_its_secrets(store: &dyn Store) {
    let seed = initialised(store).await;
    let app = ok(
        store.find_application_by_app_id(seed.client.app_id).await,
        "find_application_by_app_id",
    )
    .expect("the seed's client");
    same(
        &app,
        &seed.client,
        "the application must read back with its permissions and secrets",
    );
    assert_eq!(app.secrets.len(), 1, "the seed's client has one secret");
    assert!(
        ok(
            store.find_application_by_app_id(AppId::new_random()).await,
            "find_application_by_app_id"
        )
        .is_none(),
        "an unknown appId finds nothing"
    );
    let object_id_as_app_id = AppId::from_uuid(*seed.client.id.as_uuid());
    assert!(
        ok(
            store.find_application_by_app_id(object_id_as_app_id).await,
            "find_application_by_app_id"
        )
        .is_none(),
        "the application object's id is not its appId"
    );
}

async fn add_application(store: &dyn Store, app: &Application) {
    let a = audit_record(
        app.created_at,
        activity::ADD_APPLICATION,
        TargetResource::other("Application", app.id, Some(app.display_name.clone())),
    );
    audited(
        store,
        &a,
        &format!("insert_application({})", app.display_name),
        store.insert_application(app, &a),
    )
    .await;
}

async fn found_application(store: &dyn Store, id: ApplicationObjectId) -> Option<Application> {
    ok(store.find_application(id).await, "find_application")
}

async fn an_application_round_trips_with_its_secrets_and_redirect_uris(store: &dyn Store) {
    let seed = initialised(store).await;
    let app = application("Contoso \"Portal\" – ünïcode", t0(), 3);
    add_application(store, &app).await;
    same(
        &found_application(store, app.id).await,
        &Some(app.clone()),
        "find_application must read back every field: permissions, secrets oldest first, redirect URIs by platform",
    );
    same(
        &ok(store.find_application_by_app_id(app.app_id).await, "find_application_by_app_id"),
        &Some(app.clone()),
        "find_application_by_app_id must read back the same application",
    );
    same(
        &found_application(store, seed.client.id).await,
        &Some(seed.client.clone()),
        "initialise must store the seed's client with its redirect URIs, found by object id too",
    );
    assert!(
        found_application(store, ApplicationObjectId::from_uuid(*app.app_id.as_uuid()))
            .await
            .is_none(),
        "an appId is not an object id"
    );
    assert!(
        found_application(store, ApplicationObjectId::new_random()).await.is_none(),
        "an unknown object id finds nothing"
    );
    let bare = Application {
        permissions: Vec::new(),
        secrets: Vec::new(),
        redirect_uris: latchkey_core::tenant::RedirectUris::default(),
        ..application("Bare", t0(), 0)
    };
    add_application(store, &bare).await;
    same(
        &found_application(store, bare.id).await,
        &Some(bare.clone()),
        "an application with no permissions, secrets or redirect URIs reads back as empty lists",
    );
}

async fn applications_are_listed_oldest_first_and_paged(store: &dyn Store) {
    let seed = initialised(store).await;
    let mut expected = vec![seed.client.clone()];
    for i in 0..7_i64 {
        // Pairs share a creation time, so the id decides between them.
        let app = application(
            &format!("App {i}"),
            t0() + Duration::seconds(1 + i / 2),
            u32::try_from(i % 3).unwrap_or(0),
        );
        add_application(store, &app).await;
        expected.push(app);
    }
    expected[1..].sort_by_key(|a| (a.created_at, a.id.to_string()));
    let listed = ok(store.list_applications(ALL).await, "list_applications");
    same(
        &listed,
        &expected,
        "list_applications must list every application with its secrets, by creation time, then id",
    );
    check_paging(&listed, 3, "list_applications", |p| store.list_applications(p)).await;
}

async fn deleting_an_application_removes_it_with_its_secrets(store: &dyn Store) {
    let seed = initialised(store).await;
    let app = application("Doomed", t0(), 2);
    add_application(store, &app).await;
    let a = audit_record(
        t0(),
        activity::DELETE_APPLICATION,
        TargetResource::other("Application", app.id, Some(app.display_name.clone())),
    );
    audited(store, &a, "delete_application", store.delete_application(app.id, &a)).await;
    assert!(
        found_application(store, app.id).await.is_none(),
        "a deleted application is not found"
    );
    assert!(
        ok(store.find_application_by_app_id(app.app_id).await, "find_application_by_app_id").is_none(),
        "a deleted application is not found by appId, so its secrets no longer authenticate"
    );
    same(
        &ok(store.list_applications(ALL).await, "list_applications"),
        &vec![seed.client.clone()],
        "a deleted application is not listed; the others stay",
    );
    // Its secrets went with it: the same registration, secrets and all, can be stored again.
    add_application(store, &app).await;
    same(
        &found_application(store, app.id).await,
        &Some(app.clone()),
        "a deleted application's secrets must be gone, not waiting to reattach",
    );
    assert_not_found(
        &refused(
            store,
            "delete_application of an unknown id",
            store.delete_application(ApplicationObjectId::new_random(), &a),
        )
        .await,
        "delete_application of an unknown id",
    );
    assert_not_found(
        &refused(
            store,
            "delete_application given an appId",
            store.delete_application(ApplicationObjectId::from_uuid(*app.app_id.as_uuid()), &a),
        )
        .await,
        "delete_application given an appId instead of the object id",
    );
}

async fn a_client_secret_is_added_to_its_application_alone(store: &dyn Store) {
    let seed = initialised(store).await;
    let mut app = application("Portal", t0(), 1);
    add_application(store, &app).await;
    let secret = client_secret(t0() + Duration::minutes(5));
    let a = audit_record(
        t0(),
        activity::UPDATE_APPLICATION_SECRETS,
        TargetResource::other("Application", app.id, Some(app.display_name.clone())),
    );
    audited(store, &a, "add_client_secret", store.add_client_secret(app.app_id, &secret, &a)).await;
    app.secrets.push(secret.clone());
    same(
        &found_application(store, app.id).await,
        &Some(app.clone()),
        "the new secret is read back after the older one",
    );
    same(
        &ok(store.find_application_by_app_id(app.app_id).await, "find_application_by_app_id"),
        &Some(app.clone()),
        "by appId too: every secret, oldest first",
    );
    let bare = application("Bare", t0(), 0);
    add_application(store, &bare).await;
    same(
        &ok(store.find_application_by_app_id(bare.app_id).await, "find_application_by_app_id"),
        &Some(bare.clone()),
        "an application without secrets reads back with none",
    );
    same(
        &ok(
            store.find_application_by_app_id(seed.client.app_id).await,
            "find_application_by_app_id",
        ),
        &Some(seed.client.clone()),
        "other applications keep exactly their own secrets",
    );
    assert_not_found(
        &refused(
            store,
            "add_client_secret to an unknown appId",
            store.add_client_secret(AppId::new_random(), &client_secret(t0()), &a),
        )
        .await,
        "add_client_secret to an unknown appId",
    );
    assert_not_found(
        &refused(
            store,
            "add_client_secret given an object id",
            store.add_client_secret(AppId::from_uuid(*app.id.as_uuid()), &client_secret(t0()), &a),
        )
        .await,
        "add_client_secret given the object id instead of the appId",
    );
    assert_conflict(
        &refused(
            store,
            "add_client_secret with a key id in use",
            store.add_client_secret(app.app_id, &secret, &a),
        )
        .await,
        "add_client_secret with a key id in use",
    );
    same(
        &found_application(store, app.id).await,
        &Some(app),
        "failed add_client_secret calls must change nothing",
    );
}

async fn an_application_whose_id_or_app_id_is_taken_is_a_conflict(store: &dyn Store) {
    let seed = initialised(store).await;
    let first = application("First", t0(), 1);
    add_application(store, &first).await;
    let a = audit_record(
        t0(),
        activity::ADD_APPLICATION,
        TargetResource::other("Application", first.id, None),
    );
    let same_id = Application {
        id: first.id,
        ..application("Same id", t0(), 1)
    };
    assert_conflict(
        &refused(store, "insert_application with a taken id", store.insert_application(&same_id, &a)).await,
        "insert_application with an object id in use",
    );
    for taken in [first.app_id, seed.client.app_id] {
        let same_app_id = Application {
            app_id: taken,
            ..application("Same appId", t0(), 1)
        };
        assert_conflict(
            &refused(
                store,
                "insert_application with a taken appId",
                store.insert_application(&same_app_id, &a),
            )
            .await,
            "insert_application with an appId in use",
        );
        assert!(
            found_application(store, same_app_id.id).await.is_none(),
            "a refused insert_application must store nothing"
        );
    }
    // A secret whose key id is taken fails the whole insert: no application without it.
    let clash = Application {
        secrets: vec![client_secret(t0()), first.secrets[0].clone()],
        ..application("Clash", t0(), 0)
    };
    assert_conflict(
        &refused(
            store,
            "insert_application with a secret key id in use",
            store.insert_application(&clash, &a),
        )
        .await,
        "insert_application with a secret key id in use",
    );
    assert!(
        found_application(store, clash.id).await.is_none(),
        "an insert_application that fails on a secret must store no application"
    );
    let mut before = vec![seed.client.clone(), first.clone()];
    before.sort_by_key(|a| (a.created_at, a.id.to_string()));
    same(
        &ok(store.list_applications(ALL).await, "list_applications"),
        &before,
        "refused inserts must leave the applications as they were",
    );
    // An audit record that cannot be stored undoes the insert: the change and its record, or neither.
    let used = newest_audit(store).await.expect("insert_application wrote a record");
    let count = audit_count(store).await;
    let last = application("Last", t0(), 1);
    let mut clash = audit_record(t0(), activity::ADD_APPLICATION, TargetResource::other("Application", last.id, None));
    clash.id = used.id;
    match store.insert_application(&last, &clash).await {
        Ok(()) => assert!(found_application(store, last.id).await.is_some()),
        Err(e) => {
            assert!(
                found_application(store, last.id).await.is_none(),
                "insert_application failed ({e:?}) on its audit record, yet the application was stored"
            );
            assert_eq!(audit_count(store).await, count, "a failed write must leave no audit record");
        }
    }
}

async fn signing_keys_are_listed_with_their_sealed_private_keys(store: &dyn Store) {
    let seed = initialised(store).await;
    let keys = ok(store.list_signing_keys().await, "list_signing_keys");
    same(
        &keys,
        &vec![seed.signing_key.clone()],
        "list_signing_keys must return the seed's key with its sealed text unchanged",
    );
}

async fn the_audit_log_lists_newest_first_and_pages(store: &dyn Store) {
    let seed = initialised(store).await;
    let mut written = seed.audit.clone();
    let callers = [
        Caller::User {
            id: seed.admin.id,
            upn: seed.admin.user_principal_name.to_string(),
            roles: vec![DirectoryRole::GlobalAdministrator],
        },
        Caller::App {
            app_id: seed.client.app_id,
            display_name: seed.client.display_name.clone(),
            permissions: vec![Permission::UserReadWriteAll],
        },
        operator(),
    ];
    for i in 0..7_i64 {
        let u = user(&format!("audited{i}@contoso.test"), &format!("Audited {i}"), t0());
        let at = t0() + Duration::seconds(i) + Duration::milliseconds(i * 7);
        let a = AuditRecord::success(
            at,
            &callers[usize::try_from(i).unwrap_or_default() % callers.len()],
            activity::ADD_USER,
            (SERVICE_CORE_DIRECTORY, "UserManagement", "Add"),
            format!("reason {i} with \"quotes\" and ünïcode"),
            vec![
                TargetResource::user(&u).with("DisplayName", None, Some(u.display_name.clone())),
                TargetResource::other("Group", GroupId::new_random(), None),
            ],
        );
        audited(store, &a, "insert_user", store.insert_user(&u, &a)).await;
        written.push(a);
    }
    let newest_first: Vec<AuditRecord> = written.iter().rev().cloned().collect();
    let listed = ok(store.list_audit(ALL).await, "list_audit");
    assert_eq!(
        listed, newest_first,
        "list_audit must list every record, newest first, each exactly as written"
    );
    assert_eq!(
        ok(store.list_audit(page(2, 3)).await, "list_audit"),
        newest_first[2..5].to_vec(),
        "list_audit with skip=2, top=3"
    );
    assert_eq!(
        ok(store.list_audit(page(0, 1)).await, "list_audit"),
        newest_first[..1].to_vec(),
        "list_audit with top=1 is the newest"
    );
    check_paging(&listed, 5, "list_audit", |p| store.list_audit(p)).await;
}

async fn every_successful_write_records_exactly_its_own_audit_record(store: &dyn Store) {
    initialised(store).await;
    let at = t0();
    let mut u = user("every@contoso.test", "Every", at);
    let g = group("Everyone", at);
    let r = role_assignment(u.id, DirectoryRole::GlobalReader, at);
    let p = pass(u.id, at, true);
    let target = TargetResource::user(&u);
    let rec = |what: &str| audit_record(at, what, target.clone());

    let a = rec(activity::ADD_USER);
    audited(store, &a, "insert_user", store.insert_user(&u, &a)).await;
    u.display_name = "Every One".into();
    let a = rec(activity::UPDATE_USER);
    audited(store, &a, "update_user", store.update_user(&u, &a)).await;
    let a = rec(activity::ADD_GROUP);
    audited(store, &a, "insert_group", store.insert_group(&g, &a)).await;
    let a = rec(activity::ADD_MEMBER_TO_GROUP);
    audited(store, &a, "add_member", store.add_member(g.id, u.id, &a)).await;
    let a = rec(activity::REMOVE_MEMBER_FROM_GROUP);
    audited(store, &a, "remove_member", store.remove_member(g.id, u.id, &a)).await;
    let a = rec(activity::ADD_MEMBER_TO_ROLE);
    audited(store, &a, "insert_role_assignment", store.insert_role_assignment(&r, &a)).await;
    let a = rec(activity::REMOVE_MEMBER_FROM_ROLE);
    audited(store, &a, "delete_role_assignment", store.delete_role_assignment(r.id, &a)).await;
    let a = rec(activity::UPDATE_POLICY);
    audited(
        store,
        &a,
        "save_policy",
        store.save_policy(
            &TapPolicy {
                is_usable_once: true,
                ..TapPolicy::default()
            },
            &a,
        ),
    )
    .await;
    let a = rec(activity::ADMIN_REGISTERED_SECURITY_INFO);
    audited(store, &a, "replace_pass", store.replace_pass(&p, &a)).await;
    let before = audit_count(store).await;
    assert!(ok(store.consume_pass(p.id, at).await, "consume_pass"));
    assert_eq!(
        audit_count(store).await,
        before,
        "consume_pass is given no audit record and must write none"
    );
    let a = rec(activity::USER_DELETED_SECURITY_INFO);
    audited(store, &a, "delete_pass", store.delete_pass(u.id, p.id, &a)).await;
    let a = rec(activity::DELETE_GROUP);
    audited(store, &a, "delete_group", store.delete_group(g.id, &a)).await;
    let a = rec(activity::DELETE_USER);
    audited(store, &a, "delete_user", store.delete_user(u.id, &a)).await;
}

async fn a_failed_write_leaves_no_audit_record(store: &dyn Store) {
    let seed = initialised(store).await;
    let u = new_user(store, "exists@contoso.test", "Exists").await;
    let g = new_group(store, "Exists").await;
    join(store, &g, &u).await;
    let held = grant(store, &u, DirectoryRole::GlobalReader).await;
    let p = pass(u.id, t0(), false);
    issue(store, &p).await;
    let ghost = user("ghost@contoso.test", "Ghost", t0());
    let rec = |what: &str| audit_record(t0(), what, TargetResource::user(&u));
    let users_before = ok(store.count_users(&[]).await, "count_users");

    let a = rec(activity::ADD_USER);
    let dup = user("EXISTS@contoso.test", "Duplicate", t0());
    assert_conflict(
        &refused(store, "insert_user with a taken UPN", store.insert_user(&dup, &a)).await,
        "insert_user with a taken UPN",
    );
    let same_id = User {
        user_principal_name: UserPrincipalName::parse("fresh@contoso.test").expect("valid"),
        ..u.clone()
    };
    assert_conflict(
        &refused(store, "insert_user with a taken id", store.insert_user(&same_id, &a)).await,
        "insert_user with an id in use",
    );
    let a = rec(activity::UPDATE_USER);
    assert_not_found(
        &refused(store, "update_user of an unknown user", store.update_user(&ghost, &a)).await,
        "update_user of an unknown user",
    );
    let a = rec(activity::DELETE_USER);
    assert_not_found(
        &refused(store, "delete_user of an unknown user", store.delete_user(ghost.id, &a)).await,
        "delete_user of an unknown user",
    );
    let a = rec(activity::ADD_GROUP);
    assert_conflict(
        &refused(store, "insert_group with a taken id", store.insert_group(&g, &a)).await,
        "insert_group with an id in use",
    );
    let a = rec(activity::DELETE_GROUP);
    assert_not_found(
        &refused(
            store,
            "delete_group of an unknown group",
            store.delete_group(GroupId::new_random(), &a),
        )
        .await,
        "delete_group of an unknown group",
    );
    let a = rec(activity::ADD_MEMBER_TO_GROUP);
    assert_conflict(
        &refused(store, "add_member of a member", store.add_member(g.id, u.id, &a)).await,
        "add_member of a member",
    );
    // Unknown users and groups: the kind of error is the backend's, but nothing may be written.
    refused(store, "add_member of an unknown user", store.add_member(g.id, ghost.id, &a)).await;
    refused(
        store,
        "add_member to an unknown group",
        store.add_member(GroupId::new_random(), u.id, &a),
    )
    .await;
    let a = rec(activity::REMOVE_MEMBER_FROM_GROUP);
    assert_not_found(
        &refused(store, "remove_member of a non-member", store.remove_member(g.id, seed.admin.id, &a)).await,
        "remove_member of a non-member",
    );
    let a = rec(activity::ADD_MEMBER_TO_ROLE);
    let again = role_assignment(u.id, held.role, t0());
    assert_conflict(
        &refused(
            store,
            "insert_role_assignment of a held role",
            store.insert_role_assignment(&again, &a),
        )
        .await,
        "insert_role_assignment of a held role",
    );
    refused(
        store,
        "insert_role_assignment for an unknown user",
        store.insert_role_assignment(&role_assignment(ghost.id, DirectoryRole::GlobalReader, t0()), &a),
    )
    .await;
    let a = rec(activity::REMOVE_MEMBER_FROM_ROLE);
    assert_not_found(
        &refused(
            store,
            "delete_role_assignment of an unknown id",
            store.delete_role_assignment(RoleAssignmentId::new_random(), &a),
        )
        .await,
        "delete_role_assignment of an unknown id",
    );
    let a = rec(activity::ADMIN_REGISTERED_SECURITY_INFO);
    refused(
        store,
        "replace_pass for an unknown user",
        store.replace_pass(&pass(ghost.id, t0(), false), &a),
    )
    .await;
    let a = rec(activity::ADMIN_DELETED_SECURITY_INFO);
    assert_not_found(
        &refused(
            store,
            "delete_pass with a wrong id",
            store.delete_pass(u.id, PassId::new_random(), &a),
        )
        .await,
        "delete_pass with a wrong id",
    );
    assert_not_found(
        &refused(store, "delete_pass with a wrong user", store.delete_pass(seed.admin.id, p.id, &a)).await,
        "delete_pass with a wrong user",
    );
    let second = store.initialise(&seed).await;
    assert!(
        matches!(second, Err(StoreError::AlreadyInitialised)),
        "a second initialise must fail with AlreadyInitialised, not {second:?}"
    );

    assert_eq!(
        ok(store.count_users(&[]).await, "count_users"),
        users_before,
        "failed writes must add no user"
    );
    assert!(
        ok(store.find_user(ghost.id).await, "find_user").is_none(),
        "failed writes must not create the unknown user"
    );
    assert!(
        ok(store.find_pass_for_user(ghost.id).await, "find_pass_for_user").is_none(),
        "a failed replace_pass must store no pass"
    );
    same(
        &ok(store.find_pass_for_user(u.id).await, "find_pass_for_user"),
        &Some(p),
        "failed writes must keep the pass",
    );
    let state = ok(store.find_user_auth_state(u.id).await, "find_user_auth_state").expect("exists");
    assert_eq!(
        (state.groups, state.roles),
        (vec![g.id], vec![held.role]),
        "failed writes must keep memberships and roles as they were"
    );
}

async fn a_write_whose_audit_record_cannot_be_stored_changes_nothing(store: &dyn Store) {
    initialised(store).await;
    let u = new_user(store, "first@contoso.test", "First").await;
    let used = newest_audit(store).await.expect("insert_user wrote a record");
    // An audit id already in the log: a store that keeps ids unique cannot write it, and must
    // then undo the change it came with (the change and its record, or neither).
    let count = audit_count(store).await;
    let second = user("second@contoso.test", "Second", t0());
    let mut clash = audit_record(t0(), activity::ADD_USER, TargetResource::user(&second));
    clash.id = used.id;
    match store.insert_user(&second, &clash).await {
        Ok(()) => {
            assert!(ok(store.find_user(second.id).await, "find_user").is_some());
            assert_eq!(
                audit_count(store).await,
                count + 1,
                "insert_user succeeded, so its record must be stored"
            );
        }
        Err(e) => {
            assert!(
                ok(store.find_user(second.id).await, "find_user").is_none(),
                "insert_user failed ({e:?}) because its audit record could not be stored, yet the user was stored"
            );
            assert_eq!(audit_count(store).await, count, "a failed write must leave no audit record");
        }
    }
    let mut renamed = u.clone();
    renamed.display_name = "Renamed".into();
    let mut clash = audit_record(t0(), activity::UPDATE_USER, TargetResource::user(&renamed));
    clash.id = used.id;
    if let Err(e) = store.update_user(&renamed, &clash).await {
        same(
            &ok(store.find_user(u.id).await, "find_user"),
            &Some(u.clone()),
            &format!("update_user failed ({e:?}) on its audit record, yet the change was stored"),
        );
    }
    let p = pass(u.id, t0(), true);
    let mut clash = audit_record(t0(), activity::ADMIN_REGISTERED_SECURITY_INFO, TargetResource::user(&u));
    clash.id = used.id;
    if let Err(e) = store.replace_pass(&p, &clash).await {
        assert!(
            ok(store.find_pass_for_user(u.id).await, "find_pass_for_user").is_none(),
            "replace_pass failed ({e:?}) on its audit record, yet the pass was stored"
        );
    }
}

// ------------------------------------------------------------------------------------------
// Device authorization grant (RFC 8628).

fn device_code(tag: &str, at: DateTime<Utc>) -> DeviceCode {
    DeviceCode {
        device_code_digest: format!("device-{tag}"),
        user_code_digest: format!("user-{tag}"),
        client_id: AppId::new_random(),
        scope: "openid profile offline_access".into(),
        created_at: at,
        expires_at: at + Duration::minutes(15),
        interval_seconds: 5,
        last_polled_at: None,
        status: DeviceCodeStatus::Pending,
        session_id: None,
        decided_at: None,
        redeemed_at: None,
    }
}

/// A user with a live browser session, for approving device codes with.
async fn signed_in(store: &dyn Store, upn: &str) -> Session {
    let u = new_user(store, upn, "Signed In").await;
    let s = Session {
        id: uuid::Uuid::new_v4(),
        user_id: u.id,
        method: SignInMethod::Password,
        pass_id: None,
        created_at: t0(),
        expires_at: t0() + Duration::hours(8),
        registration_until: None,
        revoked_at: None,
    };
    ok(store.insert_session(&s, &format!("cookie-{}", s.id)).await, "insert_session");
    s
}

async fn a_device_code_is_found_by_either_code_and_both_codes_are_unique(store: &dyn Store) {
    initialised(store).await;
    let c = device_code("a", t0() + Duration::milliseconds(123));
    let audit_before = audit_count(store).await;
    ok(store.insert_device_code(&c).await, "insert_device_code");
    same(
        &ok(store.find_device_code(&c.device_code_digest).await, "find_device_code"),
        &Some(c.clone()),
        "find_device_code must give back every field as inserted, times to the millisecond",
    );
    same(
        &ok(
            store.find_device_code_by_user_code(&c.user_code_digest).await,
            "find_device_code_by_user_code",
        ),
        &Some(c.clone()),
        "find_device_code_by_user_code must find the same code",
    );
    assert!(
        ok(store.find_device_code("device-none").await, "find_device_code").is_none(),
        "an unknown device code must not be found"
    );
    assert!(
        ok(
            store.find_device_code_by_user_code(&c.device_code_digest).await,
            "find_device_code_by_user_code"
        )
        .is_none(),
        "a device code must not be found as a user code"
    );
    let same_user_code = DeviceCode {
        device_code_digest: "device-b".into(),
        ..c.clone()
    };
    assert!(
        matches!(store.insert_device_code(&same_user_code).await, Err(StoreError::Conflict(_))),
        "a second device code with a user code in use must be a Conflict"
    );
    let same_device_code = DeviceCode {
        user_code_digest: "user-b".into(),
        ..c.clone()
    };
    assert!(
        matches!(store.insert_device_code(&same_device_code).await, Err(StoreError::Conflict(_))),
        "a second device code with a device code in use must be a Conflict"
    );
    assert!(
        ok(store.find_device_code_by_user_code("user-b").await, "find_device_code_by_user_code").is_none(),
        "a refused insert must store nothing"
    );
    assert_eq!(audit_count(store).await, audit_before, "device codes take no audit record");
}

async fn a_device_code_is_answered_once_and_only_while_pending_and_unexpired(store: &dyn Store) {
    initialised(store).await;
    let session = signed_in(store, "approver@contoso.test").await;
    let approve = DeviceDecision::Approve { session_id: session.id };
    let c = device_code("approve", t0());
    ok(store.insert_device_code(&c).await, "insert_device_code");
    let at = t0() + Duration::minutes(2) + Duration::milliseconds(7);
    assert!(
        ok(
            store.decide_device_code(&c.user_code_digest, approve, at).await,
            "decide_device_code"
        ),
        "approving a pending, unexpired code must return true"
    );
    let stored = ok(store.find_device_code(&c.device_code_digest).await, "find_device_code").expect("kept");
    let expected = DeviceCode {
        status: DeviceCodeStatus::Approved,
        session_id: Some(session.id),
        decided_at: Some(at),
        ..c.clone()
    };
    same(
        &stored,
        &expected,
        "approval must set the status, the session and the time, and nothing else",
    );
    assert!(
        !ok(
            store.decide_device_code(&c.user_code_digest, DeviceDecision::Deny, at).await,
            "decide_device_code"
        ),
        "a second answer must return false"
    );
    same(
        &ok(store.find_device_code(&c.device_code_digest).await, "find_device_code"),
        &Some(expected),
        "a refused answer must change nothing",
    );

    let d = device_code("deny", t0());
    ok(store.insert_device_code(&d).await, "insert_device_code");
    assert!(
        ok(
            store.decide_device_code(&d.user_code_digest, DeviceDecision::Deny, at).await,
            "decide_device_code"
        ),
        "denying a pending code must return true"
    );
    let stored = ok(store.find_device_code(&d.device_code_digest).await, "find_device_code").expect("kept");
    assert_eq!(
        (stored.status, stored.session_id, stored.decided_at),
        (DeviceCodeStatus::Denied, None, Some(at)),
        "a denied code records no session"
    );
    assert!(
        !ok(store.redeem_device_code(&d.device_code_digest, at).await, "redeem_device_code"),
        "a denied code must not be redeemed"
    );

    let e = device_code("expired", t0());
    ok(store.insert_device_code(&e).await, "insert_device_code");
    assert!(
        !ok(
            store.decide_device_code(&e.user_code_digest, approve, e.expires_at).await,
            "decide_device_code"
        ),
        "a code must not be answered at or after its expiry"
    );
    assert_eq!(
        ok(store.find_device_code(&e.device_code_digest).await, "find_device_code").map(|x| x.status),
        Some(DeviceCodeStatus::Pending),
        "an expired code stays pending"
    );
    assert!(
        !ok(store.decide_device_code("user-none", approve, at).await, "decide_device_code"),
        "answering an unknown code must return false"
    );
}

async fn an_approved_device_code_is_redeemed_exactly_once_under_concurrency(store: &dyn Store) {
    initialised(store).await;
    let session = signed_in(store, "redeemer@contoso.test").await;
    let pending = device_code("pending", t0());
    ok(store.insert_device_code(&pending).await, "insert_device_code");
    assert!(
        !ok(
            store.redeem_device_code(&pending.device_code_digest, t0()).await,
            "redeem_device_code"
        ),
        "a pending code must not be redeemed"
    );
    for round in 0..3 {
        let c = device_code(&format!("race{round}"), t0());
        ok(store.insert_device_code(&c).await, "insert_device_code");
        let approve = DeviceDecision::Approve { session_id: session.id };
        assert!(ok(
            store.decide_device_code(&c.user_code_digest, approve, t0()).await,
            "decide_device_code"
        ));
        let times: Vec<DateTime<Utc>> = (0..16).map(|i| t0() + Duration::milliseconds(i + 1)).collect();
        let results = join_all(
            times
                .iter()
                .map(|at| store.redeem_device_code(&c.device_code_digest, *at))
                .collect(),
        )
        .await;
        let results: Vec<bool> = results.into_iter().map(|r| ok(r, "concurrent redeem_device_code")).collect();
        let winners: Vec<usize> = results.iter().enumerate().filter(|(_, won)| **won).map(|(i, _)| i).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one of 16 concurrent redeem_device_code calls must return true, got {results:?}"
        );
        let stored = ok(store.find_device_code(&c.device_code_digest).await, "find_device_code").expect("kept");
        assert_eq!(
            (stored.status, stored.redeemed_at, stored.session_id),
            (DeviceCodeStatus::Redeemed, Some(times[winners[0]]), Some(session.id)),
            "round {round}: the code is redeemed at the winner's time and keeps its session"
        );
        assert!(
            !ok(store.redeem_device_code(&c.device_code_digest, t0()).await, "redeem_device_code"),
            "round {round}: a redeemed code must not be redeemed again"
        );
    }
    assert!(
        !ok(store.redeem_device_code("device-none", t0()).await, "redeem_device_code"),
        "an unknown code must not be redeemed"
    );
}

async fn a_device_poll_is_recorded_only_over_the_poll_it_follows(store: &dyn Store) {
    initialised(store).await;
    let c = device_code("poll", t0());
    ok(store.insert_device_code(&c).await, "insert_device_code");
    let first = t0() + Duration::seconds(5) + Duration::milliseconds(1);
    assert!(
        ok(
            store.record_device_poll(&c.device_code_digest, None, first, 5).await,
            "record_device_poll"
        ),
        "the first poll of a never-polled code must be recorded"
    );
    assert!(
        !ok(
            store.record_device_poll(&c.device_code_digest, None, first, 5).await,
            "record_device_poll"
        ),
        "a poll that still believes the code was never polled lost the race and must not be recorded"
    );
    let second = first + Duration::seconds(2);
    assert!(
        ok(
            store.record_device_poll(&c.device_code_digest, Some(first), second, 10).await,
            "record_device_poll"
        ),
        "a poll following the recorded one must be recorded"
    );
    let stored = ok(store.find_device_code(&c.device_code_digest).await, "find_device_code").expect("kept");
    assert_eq!(
        (stored.last_polled_at, stored.interval_seconds, stored.status),
        (Some(second), 10, DeviceCodeStatus::Pending),
        "a poll records its time and interval and leaves the status"
    );
    let times: Vec<DateTime<Utc>> = (1..=8).map(|i| second + Duration::seconds(i)).collect();
    let results = join_all(
        times
            .iter()
            .map(|at| store.record_device_poll(&c.device_code_digest, Some(second), *at, 10))
            .collect(),
    )
    .await;
    let recorded = results
        .into_iter()
        .map(|r| ok(r, "concurrent record_device_poll"))
        .filter(|r| *r)
        .count();
    assert_eq!(recorded, 1, "of concurrent polls following the same one exactly one is recorded");
    assert!(
        !ok(store.record_device_poll("device-none", None, first, 5).await, "record_device_poll"),
        "a poll of an unknown code is not recorded"
    );
}

// ------------------------------------------------------------------------------------------
// Passkeys, authenticator apps and ceremonies.

fn passkey_for(user: UserId, credential_id: &str, at: DateTime<Utc>) -> Fido2Method {
    Fido2Method {
        id: MethodId::new_random(),
        user_id: user,
        display_name: format!("key {credential_id}"),
        aaguid: Some(uuid::Uuid::from_u128(0x0102_0304_0506_0708_0102_0304_0506_0708)),
        model: Some("Model".into()),
        credential_id: credential_id.into(),
        passkey: format!("{{\"cred\":\"{credential_id}\"}}"),
        created_at: at,
        last_used_at: None,
    }
}

fn authenticator_for(user: UserId, at: DateTime<Utc>) -> SoftwareOathMethod {
    SoftwareOathMethod {
        id: MethodId::new_random(),
        user_id: user,
        sealed_secret: "v1.sealed.seed".into(),
        created_at: at,
        last_used_step: Some(10),
    }
}

fn method_audit(user: &User, activity: &str) -> AuditRecord {
    AuditRecord::success(
        t0(),
        &operator(),
        activity,
        (SERVICE_AUTH_METHODS, "UserManagement", "Add"),
        "",
        vec![TargetResource::user(user)],
    )
}

async fn passkeys_round_trip_are_unique_per_credential_and_deleted_only_by_their_owner(store: &dyn Store) {
    initialised(store).await;
    let ana = new_user(store, "ana@contoso.test", "Ana").await;
    let ben = new_user(store, "ben@contoso.test", "Ben").await;
    let first = passkey_for(ana.id, "cred-1", t0());
    let second = passkey_for(ana.id, "cred-2", t0() + Duration::seconds(1));
    let add = method_audit(&ana, activity::USER_REGISTERED_SECURITY_INFO);
    audited(store, &add, "insert_fido2_method", store.insert_fido2_method(&first, &add)).await;
    ok(
        store
            .insert_fido2_method(&second, &method_audit(&ana, activity::USER_REGISTERED_SECURITY_INFO))
            .await,
        "insert_fido2_method",
    );
    same(
        &ok(store.list_fido2_methods(ana.id).await, "list_fido2_methods"),
        &vec![first.clone(), second.clone()],
        "a user's passkeys round-trip every field, oldest first",
    );
    assert!(ok(store.list_fido2_methods(ben.id).await, "list_fido2_methods").is_empty());
    same(
        &ok(store.find_fido2_by_credential_id("cred-2").await, "find_fido2_by_credential_id"),
        &Some(second.clone()),
        "a passkey is found by its credential id",
    );
    assert!(ok(store.find_fido2_by_credential_id("nope").await, "find").is_none());
    // One credential id, one passkey, whoever registers it.
    let dup = passkey_for(ben.id, "cred-1", t0());
    let add = method_audit(&ben, activity::USER_REGISTERED_SECURITY_INFO);
    assert_conflict(
        &refused(
            store,
            "a second passkey with a taken credential id",
            store.insert_fido2_method(&dup, &add),
        )
        .await,
        "duplicate credential id",
    );
    // A sign-in saves the new counter and the time.
    let used = t0() + Duration::minutes(5);
    ok(
        store.record_fido2_use(first.id, "{\"cred\":\"updated\"}", used).await,
        "record_fido2_use",
    );
    let after = ok(store.find_fido2_by_credential_id("cred-1").await, "find").expect("still there");
    assert_eq!(after.passkey, "{\"cred\":\"updated\"}");
    assert_eq!(after.last_used_at, Some(used));
    // Someone else's id is not found, and nothing is audited.
    let del = method_audit(&ben, activity::USER_DELETED_SECURITY_INFO);
    assert_not_found(
        &refused(
            store,
            "deleting another user's passkey",
            store.delete_fido2_method(ben.id, first.id, &del),
        )
        .await,
        "other owner",
    );
    let del = method_audit(&ana, activity::USER_DELETED_SECURITY_INFO);
    audited(
        store,
        &del,
        "delete_fido2_method",
        store.delete_fido2_method(ana.id, first.id, &del),
    )
    .await;
    assert_eq!(ok(store.list_fido2_methods(ana.id).await, "list").len(), 1);
}

async fn a_totp_step_is_used_exactly_once_under_concurrency_and_only_forward(store: &dyn Store) {
    initialised(store).await;
    let cy = new_user(store, "cy@contoso.test", "Cy").await;
    let app = authenticator_for(cy.id, t0());
    let add = method_audit(&cy, activity::USER_REGISTERED_SECURITY_INFO);
    audited(
        store,
        &add,
        "insert_software_oath_method",
        store.insert_software_oath_method(&app, &add),
    )
    .await;
    same(
        &ok(store.list_software_oath_methods(cy.id).await, "list_software_oath_methods"),
        &vec![app.clone()],
        "an authenticator app round-trips every field",
    );
    assert!(
        !ok(store.use_totp_step(app.id, 10).await, "use_totp_step"),
        "the step already used is refused"
    );
    assert!(
        !ok(store.use_totp_step(app.id, 9).await, "use_totp_step"),
        "an older step is refused"
    );
    for step in [11_i64, 12] {
        let results = join_all((0..16).map(|_| store.use_totp_step(app.id, step)).collect()).await;
        let wins = results
            .into_iter()
            .map(|r| ok(r, "concurrent use_totp_step"))
            .filter(|w| *w)
            .count();
        assert_eq!(wins, 1, "exactly one of 16 concurrent uses of step {step} must win");
    }
    let stored = ok(store.list_software_oath_methods(cy.id).await, "list");
    assert_eq!(stored[0].last_used_step, Some(12));
    let del = method_audit(&cy, activity::USER_DELETED_SECURITY_INFO);
    audited(
        store,
        &del,
        "delete_software_oath_method",
        store.delete_software_oath_method(cy.id, app.id, &del),
    )
    .await;
    assert_not_found(
        &refused(store, "deleting it twice", store.delete_software_oath_method(cy.id, app.id, &del)).await,
        "second delete",
    );
}

async fn a_ceremony_is_taken_exactly_once_and_expired_ones_are_purged(store: &dyn Store) {
    initialised(store).await;
    let dee = new_user(store, "dee@contoso.test", "Dee").await;
    let live = Ceremony {
        id: uuid::Uuid::new_v4(),
        kind: CeremonyKind::PasskeyRegistration,
        user_id: Some(dee.id),
        session_id: Some(uuid::Uuid::new_v4()),
        state: "{\"challenge\":\"abc\"}".into(),
        expires_at: t0() + Duration::minutes(5),
    };
    ok(store.insert_ceremony(&live).await, "insert_ceremony");
    let results = join_all((0..8).map(|_| store.take_ceremony(live.id)).collect()).await;
    let taken: Vec<Ceremony> = results.into_iter().filter_map(|r| ok(r, "concurrent take_ceremony")).collect();
    assert_eq!(taken.len(), 1, "exactly one of 8 concurrent takes gets the ceremony");
    assert_eq!(taken[0], live, "a ceremony round-trips every field");
    let anonymous = Ceremony {
        id: uuid::Uuid::new_v4(),
        kind: CeremonyKind::PasskeySignIn,
        user_id: None,
        session_id: None,
        state: "{}".into(),
        expires_at: t0(),
    };
    ok(store.insert_ceremony(&anonymous).await, "insert_ceremony");
    assert_eq!(
        ok(store.purge_ceremonies(t0() - Duration::seconds(1)).await, "purge"),
        0,
        "not expired yet"
    );
    assert_eq!(ok(store.purge_ceremonies(t0() + Duration::seconds(1)).await, "purge"), 1);
    assert!(ok(store.take_ceremony(anonymous.id).await, "take").is_none(), "purged");
}

async fn deleting_a_user_removes_their_passkeys_and_authenticator_apps(store: &dyn Store) {
    initialised(store).await;
    let eve = new_user(store, "eve@contoso.test", "Eve").await;
    let add = method_audit(&eve, activity::USER_REGISTERED_SECURITY_INFO);
    ok(
        store.insert_fido2_method(&passkey_for(eve.id, "eve-cred", t0()), &add).await,
        "insert_fido2_method",
    );
    ok(
        store
            .insert_software_oath_method(
                &authenticator_for(eve.id, t0()),
                &method_audit(&eve, activity::USER_REGISTERED_SECURITY_INFO),
            )
            .await,
        "insert_software_oath_method",
    );
    let del = audit_record(t0(), activity::DELETE_USER, TargetResource::user(&eve));
    ok(store.delete_user(eve.id, &del).await, "delete_user");
    assert!(
        ok(store.find_fido2_by_credential_id("eve-cred").await, "find").is_none(),
        "the passkey goes with the user"
    );
    assert!(ok(store.list_software_oath_methods(eve.id).await, "list").is_empty());
}
