//! The tenant's Temporary Access Pass policy (`temporaryAccessPassAuthenticationMethodConfiguration`)
//! and who it covers.

use crate::error::CoreError;
use crate::ids::{GroupId, UserId};
use serde::{Deserialize, Serialize};

/// Lifetimes are 10 minutes to 30 days (seed 001, settings table).
pub const LIFETIME_RANGE_MINUTES: std::ops::RangeInclusive<u32> = 10..=43_200;
/// Code length in characters (seed 001, settings table).
pub const LENGTH_RANGE: std::ops::RangeInclusive<u32> = 8..=48;
/// The special include target meaning everyone.
pub const ALL_USERS: &str = "all_users";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyState {
    Enabled,
    Disabled,
}

/// Who a target names. `all_users` is an include target of type group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "camelCase")]
pub enum PolicyTarget {
    AllUsers,
    Group(GroupId),
    User(UserId),
}

impl PolicyTarget {
    /// Parses Graph's `{targetType, id}` pair.
    pub fn parse(target_type: &str, id: &str) -> Result<Self, CoreError> {
        match target_type {
            "group" if id.eq_ignore_ascii_case(ALL_USERS) => Ok(Self::AllUsers),
            "group" => id
                .parse()
                .map(Self::Group)
                .map_err(|e| CoreError::Invalid(format!("target id: {e}"))),
            "user" => id
                .parse()
                .map(Self::User)
                .map_err(|e| CoreError::Invalid(format!("target id: {e}"))),
            other => Err(CoreError::Invalid(format!(
                "targetType must be 'group' or 'user', not '{}'",
                other.chars().take(40).collect::<String>()
            ))),
        }
    }

    #[must_use]
    pub const fn target_type(&self) -> &'static str {
        match self {
            Self::AllUsers | Self::Group(_) => "group",
            Self::User(_) => "user",
        }
    }

    #[must_use]
    pub fn id_string(&self) -> String {
        match self {
            Self::AllUsers => ALL_USERS.to_owned(),
            Self::Group(g) => g.to_string(),
            Self::User(u) => u.to_string(),
        }
    }

    fn matches(&self, user: UserId, groups: &[GroupId]) -> bool {
        match self {
            Self::AllUsers => true,
            Self::Group(g) => groups.contains(g),
            Self::User(u) => *u == user,
        }
    }
}

/// The tenant's TAP policy. Built only through [`TapPolicy::validate`], so a stored policy
/// always satisfies its own ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TapPolicy {
    pub state: PolicyState,
    pub include_targets: Vec<PolicyTarget>,
    pub exclude_targets: Vec<PolicyTarget>,
    pub minimum_lifetime_in_minutes: u32,
    pub maximum_lifetime_in_minutes: u32,
    pub default_lifetime_in_minutes: u32,
    pub default_length: u32,
    pub is_usable_once: bool,
}

impl Default for TapPolicy {
    /// The seed defaults, enabled for all users (what `latchkey init` creates and what a
    /// reset restores).
    fn default() -> Self {
        Self {
            state: PolicyState::Enabled,
            include_targets: vec![PolicyTarget::AllUsers],
            exclude_targets: Vec::new(),
            minimum_lifetime_in_minutes: 60,
            maximum_lifetime_in_minutes: 480,
            default_lifetime_in_minutes: 60,
            default_length: 8,
            is_usable_once: false,
        }
    }
}

/// A partial update, as Graph's PATCH sends it: absent fields keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyChange {
    pub state: Option<PolicyState>,
    pub include_targets: Option<Vec<PolicyTarget>>,
    pub exclude_targets: Option<Vec<PolicyTarget>>,
    pub minimum_lifetime_in_minutes: Option<i64>,
    pub maximum_lifetime_in_minutes: Option<i64>,
    pub default_lifetime_in_minutes: Option<i64>,
    pub default_length: Option<i64>,
    pub is_usable_once: Option<bool>,
}

fn in_range(field: &str, value: i64, range: &std::ops::RangeInclusive<u32>) -> Result<u32, CoreError> {
    u32::try_from(value).ok().filter(|v| range.contains(v)).ok_or_else(|| {
        CoreError::Invalid(format!(
            "{field} must be between {} and {}, not {value}",
            range.start(),
            range.end()
        ))
    })
}

impl TapPolicy {
    /// Applies a change and checks the result: each lifetime 10..=43200, min ≤ default ≤ max,
    /// length 8..=48, at most 500 targets each. Nothing changes if any check fails.
    pub fn apply(&self, change: PolicyChange) -> Result<Self, CoreError> {
        let mut next = self.clone();
        if let Some(s) = change.state {
            next.state = s;
        }
        if let Some(t) = change.include_targets {
            next.include_targets = t;
        }
        if let Some(t) = change.exclude_targets {
            next.exclude_targets = t;
        }
        if let Some(v) = change.minimum_lifetime_in_minutes {
            next.minimum_lifetime_in_minutes = in_range("minimumLifetimeInMinutes", v, &LIFETIME_RANGE_MINUTES)?;
        }
        if let Some(v) = change.maximum_lifetime_in_minutes {
            next.maximum_lifetime_in_minutes = in_range("maximumLifetimeInMinutes", v, &LIFETIME_RANGE_MINUTES)?;
        }
        if let Some(v) = change.default_lifetime_in_minutes {
            next.default_lifetime_in_minutes = in_range("defaultLifetimeInMinutes", v, &LIFETIME_RANGE_MINUTES)?;
        }
        if let Some(v) = change.default_length {
            next.default_length = in_range("defaultLength", v, &LENGTH_RANGE)?;
        }
        if let Some(v) = change.is_usable_once {
            next.is_usable_once = v;
        }
        next.validate()?;
        Ok(next)
    }

    /// Checks the invariants of a whole policy.
    pub fn validate(&self) -> Result<(), CoreError> {
        for (field, v) in [
            ("minimumLifetimeInMinutes", self.minimum_lifetime_in_minutes),
            ("maximumLifetimeInMinutes", self.maximum_lifetime_in_minutes),
            ("defaultLifetimeInMinutes", self.default_lifetime_in_minutes),
        ] {
            in_range(field, i64::from(v), &LIFETIME_RANGE_MINUTES)?;
        }
        in_range("defaultLength", i64::from(self.default_length), &LENGTH_RANGE)?;
        if self.minimum_lifetime_in_minutes > self.maximum_lifetime_in_minutes {
            return Err(CoreError::Invalid(format!(
                "minimumLifetimeInMinutes ({}) must not exceed maximumLifetimeInMinutes ({})",
                self.minimum_lifetime_in_minutes, self.maximum_lifetime_in_minutes
            )));
        }
        if !(self.minimum_lifetime_in_minutes..=self.maximum_lifetime_in_minutes).contains(&self.default_lifetime_in_minutes) {
            return Err(CoreError::Invalid(format!(
                "defaultLifetimeInMinutes ({}) must lie between minimumLifetimeInMinutes ({}) and maximumLifetimeInMinutes ({})",
                self.default_lifetime_in_minutes, self.minimum_lifetime_in_minutes, self.maximum_lifetime_in_minutes
            )));
        }
        if self.include_targets.len() > 500 || self.exclude_targets.len() > 500 {
            return Err(CoreError::Invalid(
                "a policy can name at most 500 include and 500 exclude targets".into(),
            ));
        }
        if self.exclude_targets.contains(&PolicyTarget::AllUsers) {
            return Err(CoreError::Invalid("all_users cannot be an exclude target".into()));
        }
        Ok(())
    }

    /// Whether the policy lets this user sign in with a pass: enabled, included (by
    /// `all_users`, a group they are in, or by name) and not excluded. Exclusion wins.
    #[must_use]
    pub fn covers(&self, user: UserId, groups: &[GroupId]) -> bool {
        self.state == PolicyState::Enabled
            && self.include_targets.iter().any(|t| t.matches(user, groups))
            && !self.exclude_targets.iter().any(|t| t.matches(user, groups))
    }

    /// Why the policy does not cover the user, in words for the sign-in log.
    #[must_use]
    pub fn coverage_reason(&self, user: UserId, groups: &[GroupId]) -> Option<&'static str> {
        if self.state != PolicyState::Enabled {
            Some("the Temporary Access Pass policy is disabled")
        } else if !self.include_targets.iter().any(|t| t.matches(user, groups)) {
            Some("the user is not in the policy's include targets")
        } else if self.exclude_targets.iter().any(|t| t.matches(user, groups)) {
            Some("the user is in the policy's exclude targets")
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_seed_table() {
        let p = TapPolicy::default();
        assert_eq!(
            (
                p.minimum_lifetime_in_minutes,
                p.maximum_lifetime_in_minutes,
                p.default_lifetime_in_minutes
            ),
            (60, 480, 60)
        );
        assert_eq!(p.default_length, 8);
        assert!(!p.is_usable_once);
        assert_eq!(p.include_targets, vec![PolicyTarget::AllUsers]);
        p.validate().unwrap();
    }

    #[test]
    fn lifetimes_outside_ten_minutes_to_thirty_days_are_refused() {
        let p = TapPolicy::default();
        for bad in [9, 43_201, -1, 0, i64::MAX] {
            let e = p
                .apply(PolicyChange {
                    maximum_lifetime_in_minutes: Some(bad),
                    ..Default::default()
                })
                .unwrap_err();
            assert!(e.to_string().contains("maximumLifetimeInMinutes"), "{e}");
        }
        let ok = p
            .apply(PolicyChange {
                minimum_lifetime_in_minutes: Some(10),
                default_lifetime_in_minutes: Some(10),
                maximum_lifetime_in_minutes: Some(43_200),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(ok.maximum_lifetime_in_minutes, 43_200);
    }

    #[test]
    fn default_lifetime_must_lie_between_minimum_and_maximum() {
        let p = TapPolicy::default();
        assert!(
            p.apply(PolicyChange {
                default_lifetime_in_minutes: Some(30),
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            p.apply(PolicyChange {
                default_lifetime_in_minutes: Some(500),
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            p.apply(PolicyChange {
                minimum_lifetime_in_minutes: Some(500),
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            p.apply(PolicyChange {
                default_lifetime_in_minutes: Some(480),
                ..Default::default()
            })
            .is_ok()
        );
    }

    #[test]
    fn length_must_be_eight_to_forty_eight() {
        let p = TapPolicy::default();
        assert!(
            p.apply(PolicyChange {
                default_length: Some(7),
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            p.apply(PolicyChange {
                default_length: Some(49),
                ..Default::default()
            })
            .is_err()
        );
        assert_eq!(
            p.apply(PolicyChange {
                default_length: Some(48),
                ..Default::default()
            })
            .unwrap()
            .default_length,
            48
        );
    }

    #[test]
    fn exclusion_wins_over_inclusion_and_a_disabled_policy_covers_nobody() {
        let user = UserId::new_random();
        let group = GroupId::new_random();
        let mut p = TapPolicy::default();
        assert!(p.covers(user, &[]));
        p.exclude_targets = vec![PolicyTarget::Group(group)];
        assert!(p.covers(user, &[]));
        assert!(!p.covers(user, &[group]));
        p.exclude_targets.clear();
        p.include_targets = vec![PolicyTarget::Group(group)];
        assert!(!p.covers(user, &[]));
        assert!(p.covers(user, &[group]));
        p.state = PolicyState::Disabled;
        assert!(!p.covers(user, &[group]));
        assert_eq!(
            p.coverage_reason(user, &[group]),
            Some("the Temporary Access Pass policy is disabled")
        );
    }
}
