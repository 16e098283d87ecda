//! Temporary Access Passes: how a pass is issued, when it is usable, and why not.

use crate::error::CoreError;
use crate::ids::{PassId, UserId};
use crate::policy::{LIFETIME_RANGE_MINUTES, TapPolicy};
use crate::secrets::SecretString;
use chrono::{DateTime, Duration, Utc};

/// A stored pass. The code itself is never here: only its Argon2id hash.
#[derive(Debug, Clone)]
pub struct TemporaryAccessPass {
    pub id: PassId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    /// When the pass becomes usable; its creation time when none was asked for.
    pub start_at: DateTime<Utc>,
    pub lifetime_in_minutes: u32,
    pub is_usable_once: bool,
    /// Set when a one-time pass has been used (atomically; see `Store::consume_pass`).
    pub used_at: Option<DateTime<Utc>>,
    /// Argon2id PHC string with its own salt.
    pub code_hash: String,
}

/// Graph's `methodUsabilityReason` (graph-tap-spec.md §1.2), emitted in PascalCase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsabilityReason {
    EnabledByPolicy,
    DisabledByPolicy,
    Expired,
    NotYetValid,
    OneTimeUsed,
}

impl UsabilityReason {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::EnabledByPolicy => "EnabledByPolicy",
            Self::DisabledByPolicy => "DisabledByPolicy",
            Self::Expired => "Expired",
            Self::NotYetValid => "NotYetValid",
            Self::OneTimeUsed => "OneTimeUsed",
        }
    }
}

/// Whether a pass can be used now, and why (or why not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usability {
    pub is_usable: bool,
    pub reason: UsabilityReason,
}

impl TemporaryAccessPass {
    /// The instant the pass stops working: `start + lifetime`.
    #[must_use]
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.start_at + Duration::minutes(i64::from(self.lifetime_in_minutes))
    }

    /// The computed `isUsable` / `methodUsabilityReason`. Order matters: a pass that has
    /// expired reports `Expired` whatever the policy says, a used one-time pass
    /// `OneTimeUsed`; the policy is asked last. `in_scope` says whether the policy
    /// covers the pass's user (enabled, included, not excluded).
    #[must_use]
    pub fn usability(&self, now: DateTime<Utc>, policy: &TapPolicy, in_scope: bool) -> Usability {
        let reason = if now >= self.expires_at() {
            UsabilityReason::Expired
        } else if self.is_usable_once && self.used_at.is_some() {
            UsabilityReason::OneTimeUsed
        } else if now < self.start_at {
            UsabilityReason::NotYetValid
        } else if !in_scope || (policy.is_usable_once && !self.is_usable_once) {
            // A multi-use pass stops working once the policy demands one-time passes.
            UsabilityReason::DisabledByPolicy
        } else {
            UsabilityReason::EnabledByPolicy
        };
        Usability {
            is_usable: reason == UsabilityReason::EnabledByPolicy,
            reason,
        }
    }
}

/// What an admin asks for when issuing a pass; every field optional, as in Graph.
#[derive(Debug, Clone, Default)]
pub struct PassRequest {
    pub start_date_time: Option<DateTime<Utc>>,
    pub lifetime_in_minutes: Option<i64>,
    pub is_usable_once: Option<bool>,
}

/// The terms of a pass to issue, once checked against the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassTerms {
    pub start_at: DateTime<Utc>,
    pub lifetime_in_minutes: u32,
    pub is_usable_once: bool,
    pub length: u32,
}

impl PassRequest {
    /// Checks a request against the policy (DESIGN.md "Passes"): lifetime within the
    /// policy's min..max (default from the policy), one-time forced when the policy says
    /// so, and a pass that would be over before it is issued is refused.
    pub fn terms(&self, policy: &TapPolicy, now: DateTime<Utc>) -> Result<PassTerms, CoreError> {
        let lifetime = match self.lifetime_in_minutes {
            None => policy.default_lifetime_in_minutes,
            Some(v) => u32::try_from(v)
                .ok()
                .filter(|v| (policy.minimum_lifetime_in_minutes..=policy.maximum_lifetime_in_minutes).contains(v))
                .ok_or_else(|| {
                    CoreError::Invalid(format!(
                        "lifetimeInMinutes must be between {} and {} (the Temporary Access Pass policy's minimum and maximum lifetime), not {v}",
                        policy.minimum_lifetime_in_minutes, policy.maximum_lifetime_in_minutes
                    ))
                })?,
        };
        debug_assert!(LIFETIME_RANGE_MINUTES.contains(&lifetime));
        let is_usable_once = match self.is_usable_once {
            Some(false) if policy.is_usable_once => {
                return Err(CoreError::Invalid(
                    "isUsableOnce cannot be false: the Temporary Access Pass policy requires every pass to be one-time".into(),
                ));
            }
            Some(v) => v,
            None => policy.is_usable_once,
        };
        let start_at = self.start_date_time.unwrap_or(now);
        let end = start_at
            .checked_add_signed(Duration::minutes(i64::from(lifetime)))
            .ok_or_else(|| CoreError::Invalid("startDateTime is out of range".into()))?;
        if end <= now {
            return Err(CoreError::Invalid(
                "startDateTime plus lifetimeInMinutes is already in the past: the pass would never be usable".into(),
            ));
        }
        // Entra lets a pass start in the future; a year ahead is more than any onboarding needs.
        if start_at > now + Duration::days(365) {
            return Err(CoreError::Invalid("startDateTime must be within a year from now".into()));
        }
        Ok(PassTerms {
            start_at,
            lifetime_in_minutes: lifetime,
            is_usable_once,
            length: policy.default_length,
        })
    }
}

/// Look-alike characters (0/O/o, 1/l/I) are left out so a code read aloud or copied by hand
/// survives; 64 symbols give 6 bits per character (48 bits at the minimum length of 8).
pub const CODE_ALPHABET: &[u8; 64] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789!#$%+=?@";

/// Generates a pass code of `length` characters from the OS CSPRNG, uniformly over
/// [`CODE_ALPHABET`].
pub fn generate_code(length: u32) -> Result<SecretString, CoreError> {
    let mut out = String::with_capacity(length as usize);
    let mut buf = [0u8; 64];
    while out.len() < length as usize {
        getrandom::fill(&mut buf).map_err(|e| CoreError::Internal(format!("OS random source failed: {e}")))?;
        // 64 divides 256, so masking keeps the distribution uniform.
        for b in buf.iter().take(length as usize - out.len()) {
            out.push(char::from(CODE_ALPHABET[usize::from(b & 63)]));
        }
    }
    Ok(SecretString::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyState;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()
    }

    fn pass(start: DateTime<Utc>, lifetime: u32, once: bool) -> TemporaryAccessPass {
        TemporaryAccessPass {
            id: PassId::new_random(),
            user_id: UserId::new_random(),
            created_at: t0(),
            start_at: start,
            lifetime_in_minutes: lifetime,
            is_usable_once: once,
            used_at: None,
            code_hash: String::new(),
        }
    }

    #[test]
    fn a_pass_is_not_yet_valid_then_usable_then_expired() {
        let policy = TapPolicy::default();
        let p = pass(t0() + Duration::hours(1), 60, false);
        assert_eq!(p.usability(t0(), &policy, true).reason, UsabilityReason::NotYetValid);
        let u = p.usability(t0() + Duration::hours(1), &policy, true);
        assert!(u.is_usable);
        assert_eq!(u.reason, UsabilityReason::EnabledByPolicy);
        assert_eq!(
            p.usability(t0() + Duration::minutes(119), &policy, true).reason,
            UsabilityReason::EnabledByPolicy
        );
        let u = p.usability(t0() + Duration::hours(2), &policy, true);
        assert!(!u.is_usable);
        assert_eq!(u.reason, UsabilityReason::Expired);
    }

    #[test]
    fn a_used_one_time_pass_reports_one_time_used() {
        let mut p = pass(t0(), 60, true);
        p.used_at = Some(t0());
        assert_eq!(p.usability(t0(), &TapPolicy::default(), true).reason, UsabilityReason::OneTimeUsed);
    }

    #[test]
    fn out_of_scope_disabled_policy_and_forced_one_time_report_disabled_by_policy() {
        let p = pass(t0(), 60, false);
        let policy = TapPolicy::default();
        assert_eq!(p.usability(t0(), &policy, false).reason, UsabilityReason::DisabledByPolicy);
        let once = TapPolicy {
            is_usable_once: true,
            ..TapPolicy::default()
        };
        assert_eq!(p.usability(t0(), &once, true).reason, UsabilityReason::DisabledByPolicy);
        let disabled = TapPolicy {
            state: PolicyState::Disabled,
            ..TapPolicy::default()
        };
        assert!(!disabled.covers(p.user_id, &[]));
    }

    #[test]
    fn lifetime_defaults_from_the_policy_and_must_fit_its_range() {
        let policy = TapPolicy::default();
        let terms = PassRequest::default().terms(&policy, t0()).unwrap();
        assert_eq!(terms.lifetime_in_minutes, 60);
        assert_eq!(terms.start_at, t0());
        assert!(!terms.is_usable_once);
        assert_eq!(terms.length, 8);
        for bad in [59, 481, 0, -5] {
            let r = PassRequest {
                lifetime_in_minutes: Some(bad),
                ..Default::default()
            }
            .terms(&policy, t0());
            assert!(r.is_err(), "{bad}");
        }
        assert!(
            PassRequest {
                lifetime_in_minutes: Some(480),
                ..Default::default()
            }
            .terms(&policy, t0())
            .is_ok()
        );
    }

    #[test]
    fn a_policy_that_forces_one_time_use_refuses_multi_use_and_makes_the_default_one_time() {
        let policy = TapPolicy {
            is_usable_once: true,
            ..TapPolicy::default()
        };
        assert!(
            PassRequest {
                is_usable_once: Some(false),
                ..Default::default()
            }
            .terms(&policy, t0())
            .is_err()
        );
        assert!(PassRequest::default().terms(&policy, t0()).unwrap().is_usable_once);
    }

    #[test]
    fn a_pass_that_would_already_be_over_is_refused() {
        let r = PassRequest {
            start_date_time: Some(t0() - Duration::days(1)),
            ..Default::default()
        }
        .terms(&TapPolicy::default(), t0());
        assert!(r.is_err());
    }

    #[test]
    fn codes_have_the_policy_length_and_no_look_alike_characters() {
        for len in [8, 17, 48] {
            let code = generate_code(len).unwrap();
            assert_eq!(code.expose().chars().count(), len as usize);
            assert!(code.expose().bytes().all(|b| CODE_ALPHABET.contains(&b)));
            assert!(!code.expose().contains(['0', 'O', 'o', '1', 'l', 'I']));
        }
        assert_ne!(generate_code(16).unwrap().expose(), generate_code(16).unwrap().expose());
    }
}
