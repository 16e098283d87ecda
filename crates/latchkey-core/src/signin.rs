//! Signing in (DESIGN.md "Use"): which prompt a user name leads to, whether a pass may be
//! used now and why not, the lockout schedule for wrong codes, and how long what a
//! sign-in yields may live.

use crate::directory::User;
use crate::pass::{TemporaryAccessPass, UsabilityReason};
use crate::policy::TapPolicy;
use chrono::{DateTime, Duration, Utc};

/// The exact text Entra shows when its policy blocks a pass (seed 001, troubleshooting).
pub const POLICY_BLOCKED_MESSAGE: &str = "Temporary Access Pass sign in was blocked due to User Credential Policy";

/// After a one-time pass, passwordless methods must be registered within this window.
pub const ONE_TIME_REGISTRATION_WINDOW: Duration = Duration::minutes(10);
/// Wrong codes in a row before a lockout.
pub const FAILURES_BEFORE_LOCKOUT: u32 = 10;
/// The first lockout; each further one doubles, up to [`MAX_LOCKOUT`].
pub const FIRST_LOCKOUT: Duration = Duration::seconds(60);
pub const MAX_LOCKOUT: Duration = Duration::hours(24);
/// How long a session made with a password (or a pass, capped by the pass) may last.
pub const SESSION_LIFETIME: Duration = Duration::hours(12);

/// What the sign-in page asks for after the user name (home-realm discovery).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// The policy is on, the user in scope, and they hold a usable pass: ask for it, even
    /// for a federated domain (seed 001: "a TAP is preferred over federation").
    TemporaryAccessPass,
    /// A federated domain without a usable pass: send the person to their provider.
    Federated { passive_sign_in_uri: String },
    /// A registered passkey: ask for it (the strongest method a person holds).
    Passkey,
    /// An authenticator app and no passkey: ask for its code.
    AuthenticatorApp,
    /// Otherwise the password.
    Password,
}

/// Which passwordless methods a person holds, as discovery sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    pub passkey: bool,
    pub authenticator_app: bool,
}

/// Home-realm discovery: a usable pass first (even over federation), then federation,
/// then the strongest registered method, then the password.
#[must_use]
pub fn choose_prompt(pass_usable: bool, federation: Option<&str>, held: Held) -> Prompt {
    match (pass_usable, federation) {
        (true, _) => Prompt::TemporaryAccessPass,
        (false, Some(uri)) => Prompt::Federated {
            passive_sign_in_uri: uri.to_owned(),
        },
        (false, None) if held.passkey => Prompt::Passkey,
        (false, None) if held.authenticator_app => Prompt::AuthenticatorApp,
        (false, None) => Prompt::Password,
    }
}

/// Why a pass sign-in failed. `PolicyBlocked` carries the rule, which the sign-in log
/// records beside Entra's fixed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassRefusal {
    NoPass,
    WrongCode,
    Expired,
    NotYetValid,
    LockedOut { until: DateTime<Utc> },
    PolicyBlocked { rule: &'static str },
    AccountDisabled,
}

impl PassRefusal {
    /// What the person is told. Policy cases use Entra's exact sentence; the rule is added
    /// so an admin reading a screenshot knows which one applied.
    #[must_use]
    pub fn message(&self) -> String {
        match self {
            Self::NoPass | Self::WrongCode => "That Temporary Access Pass is not correct. Check it and try again.".into(),
            Self::Expired => "Your Temporary Access Pass has expired. Ask your administrator for a new one.".into(),
            Self::NotYetValid => "Your Temporary Access Pass is not valid yet. Try again after its start time.".into(),
            Self::LockedOut { until } => format!("Too many wrong codes. Try again after {}.", until.format("%H:%M:%S UTC")),
            Self::PolicyBlocked { rule } => format!("{POLICY_BLOCKED_MESSAGE}: {rule}."),
            Self::AccountDisabled => "Your account is disabled. Contact your administrator.".into(),
        }
    }

    /// A short machine-readable reason for the sign-in log.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::NoPass => "NoPass",
            Self::WrongCode => "WrongCode",
            Self::Expired => "Expired",
            Self::NotYetValid => "NotYetValid",
            Self::LockedOut { .. } => "LockedOut",
            Self::PolicyBlocked { .. } => "BlockedByUserCredentialPolicy",
            Self::AccountDisabled => "AccountDisabled",
        }
    }
}

/// Checks, before the code is even compared, whether this pass may be used now. The
/// policy rules come from DESIGN.md: out of scope, a multi-use pass while the policy
/// demands one-time passes, and a used one-time pass are all "blocked by User Credential
/// Policy", naming the rule.
pub fn check_pass(
    user: &User,
    pass: &TemporaryAccessPass,
    policy: &TapPolicy,
    groups: &[crate::ids::GroupId],
    now: DateTime<Utc>,
) -> Result<(), PassRefusal> {
    if !user.account_enabled {
        return Err(PassRefusal::AccountDisabled);
    }
    match pass.usability(now, policy, policy.covers(user.id, groups)).reason {
        UsabilityReason::EnabledByPolicy => Ok(()),
        UsabilityReason::Expired => Err(PassRefusal::Expired),
        UsabilityReason::NotYetValid => Err(PassRefusal::NotYetValid),
        UsabilityReason::OneTimeUsed => Err(PassRefusal::PolicyBlocked {
            rule: "the one-time pass has already been used",
        }),
        UsabilityReason::DisabledByPolicy => Err(PassRefusal::PolicyBlocked {
            rule: match policy.coverage_reason(user.id, groups) {
                Some(reason) => reason,
                None => "the policy requires one-time passes and this pass is multi-use",
            },
        }),
    }
}

/// Wrong-code counting for one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Throttle {
    /// Consecutive wrong codes since the last success or lockout.
    pub failures: u32,
    /// Lockouts so far (the next lasts 60 s × 2^lockouts).
    pub lockouts: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Throttle {
    /// `Some(until)` while locked out.
    #[must_use]
    pub fn locked(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|u| *u > now)
    }

    /// Counts a wrong code; the tenth in a row starts a lockout, each one twice as long.
    #[must_use]
    pub fn after_failure(self, now: DateTime<Utc>) -> Self {
        let failures = self.failures + 1;
        if failures < FAILURES_BEFORE_LOCKOUT {
            return Self { failures, ..self };
        }
        let factor = 1i32.checked_shl(self.lockouts.min(30)).unwrap_or(i32::MAX);
        let span = FIRST_LOCKOUT
            .checked_mul(factor)
            .filter(|d| *d <= MAX_LOCKOUT)
            .unwrap_or(MAX_LOCKOUT);
        Self {
            failures: 0,
            lockouts: self.lockouts + 1,
            locked_until: Some(now + span),
        }
    }

    /// A correct code clears the count.
    #[must_use]
    pub const fn after_success() -> Self {
        Self {
            failures: 0,
            lockouts: 0,
            locked_until: None,
        }
    }
}

/// How long a session may live: never past the pass that made it.
#[must_use]
pub fn session_expiry(now: DateTime<Utc>, pass: Option<&TemporaryAccessPass>) -> DateTime<Utc> {
    let cap = now + SESSION_LIFETIME;
    pass.map_or(cap, |p| p.expires_at().min(cap))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::{UserOrigin, UserPrincipalName, UserType};
    use crate::ids::{PassId, UserId};
    use crate::policy::PolicyState;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()
    }

    fn user() -> User {
        User {
            id: UserId::new_random(),
            user_principal_name: UserPrincipalName::parse("grady@contoso.test").unwrap(),
            display_name: "Grady".into(),
            mail: None,
            user_type: UserType::Member,
            origin: UserOrigin::Internal,
            account_enabled: true,
            password_hash: None,
            password_set_at: None,
            created_at: t0(),
        }
    }

    fn pass(u: &User, once: bool) -> TemporaryAccessPass {
        TemporaryAccessPass {
            id: PassId::new_random(),
            user_id: u.id,
            created_at: t0(),
            start_at: t0(),
            lifetime_in_minutes: 60,
            is_usable_once: once,
            used_at: None,
            code_hash: String::new(),
        }
    }

    #[test]
    fn a_usable_pass_wins_over_federation_and_password() {
        let none = Held::default();
        let both = Held {
            passkey: true,
            authenticator_app: true,
        };
        assert_eq!(
            choose_prompt(true, Some("https://adfs.example/ls"), both),
            Prompt::TemporaryAccessPass
        );
        assert_eq!(
            choose_prompt(false, Some("https://adfs.example/ls"), none),
            Prompt::Federated {
                passive_sign_in_uri: "https://adfs.example/ls".into()
            }
        );
        assert_eq!(choose_prompt(false, None, none), Prompt::Password);
    }

    #[test]
    fn without_a_pass_the_strongest_registered_method_is_asked_for() {
        let app_only = Held {
            passkey: false,
            authenticator_app: true,
        };
        let both = Held {
            passkey: true,
            authenticator_app: true,
        };
        assert_eq!(choose_prompt(false, None, both), Prompt::Passkey);
        assert_eq!(choose_prompt(false, None, app_only), Prompt::AuthenticatorApp);
        assert_eq!(choose_prompt(true, None, both), Prompt::TemporaryAccessPass);
    }

    #[test]
    fn policy_blocks_name_the_rule_that_applied() {
        let u = user();
        let mut p = pass(&u, true);
        let policy = TapPolicy::default();
        assert_eq!(check_pass(&u, &p, &policy, &[], t0()), Ok(()));
        p.used_at = Some(t0());
        let e = check_pass(&u, &p, &policy, &[], t0()).unwrap_err();
        assert!(e.message().starts_with(POLICY_BLOCKED_MESSAGE));
        assert!(e.message().contains("already been used"));
        let multi = pass(&u, false);
        let once = TapPolicy {
            is_usable_once: true,
            ..TapPolicy::default()
        };
        assert!(check_pass(&u, &multi, &once, &[], t0()).unwrap_err().message().contains("one-time"));
        let scoped = TapPolicy {
            include_targets: vec![crate::policy::PolicyTarget::Group(crate::ids::GroupId::new_random())],
            ..TapPolicy::default()
        };
        assert!(
            check_pass(&u, &multi, &scoped, &[], t0())
                .unwrap_err()
                .message()
                .contains("include targets")
        );
        let off = TapPolicy {
            state: PolicyState::Disabled,
            ..TapPolicy::default()
        };
        assert!(check_pass(&u, &multi, &off, &[], t0()).unwrap_err().message().contains("disabled"));
        assert_eq!(
            check_pass(&u, &multi, &policy, &[], t0() + Duration::minutes(60)),
            Err(PassRefusal::Expired)
        );
    }

    #[test]
    fn ten_wrong_codes_lock_for_a_minute_then_each_lockout_doubles() {
        let mut t = Throttle::default();
        for _ in 0..9 {
            t = t.after_failure(t0());
            assert_eq!(t.locked(t0()), None);
        }
        t = t.after_failure(t0());
        assert_eq!(t.locked(t0()), Some(t0() + Duration::seconds(60)));
        assert_eq!(t.locked(t0() + Duration::seconds(60)), None);
        let later = t0() + Duration::seconds(61);
        for _ in 0..10 {
            t = t.after_failure(later);
        }
        assert_eq!(t.locked(later), Some(later + Duration::seconds(120)));
        for _ in 0..40 {
            for _ in 0..10 {
                t = t.after_failure(later);
            }
        }
        assert_eq!(t.locked(later), Some(later + MAX_LOCKOUT), "capped");
        assert_eq!(Throttle::after_success(), Throttle::default());
    }

    #[test]
    fn sessions_never_outlive_their_pass() {
        let u = user();
        let p = pass(&u, false);
        assert_eq!(session_expiry(t0() + Duration::minutes(10), Some(&p)), p.expires_at());
        assert_eq!(session_expiry(t0(), None), t0() + SESSION_LIFETIME);
    }
}
