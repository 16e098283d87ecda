//! The OAuth 2.0 Device Authorization Grant (RFC 8628): the codes a device shows and polls
//! with, and the rules for polling. How a new laptop or a command-line tool signs in: it
//! shows a short user code, the person types it at `{public-url}/devicelogin` in a browser
//! where they sign in (with their pass), and the device polls the token endpoint until the
//! person has answered.
//!
//! The device code is a high-entropy bearer secret and is stored as its SHA-256 digest
//! (DESIGN.md "Secrets"). The user code is a lookup key a person types, so it cannot be
//! salted; it is stored as a SHA-256 digest only to keep it out of plain sight. What
//! protects it is its 15-minute life and the per-address rate limit on the page where it
//! is typed (RFC 8628 §5.1), not the digest.

use crate::error::CoreError;
use crate::ids::AppId;
use crate::secrets::digest;
use chrono::{DateTime, Duration, Utc};
use std::fmt;
use uuid::Uuid;

/// How long a device code and its user code live: 15 minutes, Entra's `expires_in` of 900.
pub const DEVICE_CODE_LIFETIME: Duration = Duration::minutes(15);
/// The polling interval a device starts with (RFC 8628 §3.2 defaults to 5 seconds).
pub const POLL_INTERVAL_SECONDS: i64 = 5;
/// How much `slow_down` adds to the interval, for that and every later poll (RFC 8628 §3.5).
pub const SLOW_DOWN_SECONDS: i64 = 5;
/// Polling stops growing here, so a stored interval stays small whatever a client does.
pub const MAX_POLL_INTERVAL_SECONDS: i64 = 300;

/// Letters of a user code: RFC 8628 §6.1's example set, consonants without vowels (so no
/// words are spelled) and without look-alikes (no 0/O, 1/I/L confusion: digits are absent
/// and I, O are vowels). 20 symbols over 8 characters give 20^8 ≈ 2^34.5 codes.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Characters in a user code (shown as two groups of four).
pub const USER_CODE_LENGTH: usize = 8;

/// A user code, normalised: eight upper-case letters of [`USER_CODE_ALPHABET`]. Typed
/// codes are accepted in any case, with or without the dash and spaces.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCode(String);

impl UserCode {
    /// A fresh code from the OS CSPRNG, uniform over the alphabet (rejection sampling:
    /// bytes at or above 240 are dropped, since 240 is the largest multiple of 20 ≤ 256).
    pub fn generate() -> Result<Self, CoreError> {
        let mut out = String::with_capacity(USER_CODE_LENGTH);
        let mut buf = [0u8; 32];
        while out.len() < USER_CODE_LENGTH {
            getrandom::fill(&mut buf).map_err(|e| CoreError::Internal(format!("OS random source failed: {e}")))?;
            for b in buf.iter().filter(|b| **b < 240) {
                if out.len() == USER_CODE_LENGTH {
                    break;
                }
                out.push(char::from(USER_CODE_ALPHABET[usize::from(*b % 20)]));
            }
        }
        Ok(Self(out))
    }

    /// Reads a code as a person typed it: case does not matter, nor do dashes and spaces.
    /// `None` unless what is left is eight letters of the alphabet.
    #[must_use]
    pub fn parse(typed: &str) -> Option<Self> {
        if typed.len() > 64 {
            return None;
        }
        let code: String = typed
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '\t'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let valid = code.len() == USER_CODE_LENGTH && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
        valid.then_some(Self(code))
    }

    /// The digest the store keeps and looks codes up by.
    #[must_use]
    pub fn digest(&self) -> String {
        digest(&self.0)
    }

    /// `ABCD-EFGH`, as shown to the person.
    #[must_use]
    pub fn display(&self) -> String {
        let (a, b) = self.0.split_at(USER_CODE_LENGTH / 2);
        format!("{a}-{b}")
    }
}

impl fmt::Debug for UserCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserCode(<redacted>)")
    }
}

/// Where a device authorization stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceCodeStatus {
    /// Waiting for the person.
    Pending,
    /// The person said yes, in the session recorded on the code.
    Approved,
    /// The person said no.
    Denied,
    /// The device has had its tokens; the code is spent.
    Redeemed,
}

impl DeviceCodeStatus {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Redeemed => "redeemed",
        }
    }
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "approved" => Some(Self::Approved),
            "denied" => Some(Self::Denied),
            "redeemed" => Some(Self::Redeemed),
            _ => None,
        }
    }
}

/// A device authorization as stored: both codes by digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    pub device_code_digest: String,
    pub user_code_digest: String,
    pub client_id: AppId,
    pub scope: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Seconds the device must wait between polls; `slow_down` raises it.
    pub interval_seconds: i64,
    pub last_polled_at: Option<DateTime<Utc>>,
    pub status: DeviceCodeStatus,
    /// The browser session that approved it: the tokens are bound to it (`sid`), so they
    /// end with it, hence with the pass that made it.
    pub session_id: Option<Uuid>,
    /// When the person approved or denied it.
    pub decided_at: Option<DateTime<Utc>>,
    pub redeemed_at: Option<DateTime<Utc>>,
}

impl DeviceCode {
    /// Whether the code can still be answered or redeemed.
    #[must_use]
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }

    /// What a poll at `now` means for the pacing (RFC 8628 §3.5): `Some(new interval)` when
    /// it came sooner than the interval allows (the device gets `slow_down` and the interval
    /// grows by 5 seconds), `None` when it was on time.
    #[must_use]
    pub fn too_fast(&self, now: DateTime<Utc>) -> Option<i64> {
        let last = self.last_polled_at?;
        (now < last + Duration::seconds(self.interval_seconds))
            .then(|| (self.interval_seconds + SLOW_DOWN_SECONDS).min(MAX_POLL_INTERVAL_SECONDS))
    }
}

/// What the person decided on the confirmation page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceDecision {
    /// Yes: sign the device in with this browser session.
    Approve {
        session_id: Uuid,
    },
    Deny,
}

/// Entra's instruction for the person, word for word but for the URL
/// (`DeviceCodeResponse.message`).
#[must_use]
pub fn device_message(verification_uri: &str, user_code: &UserCode) -> String {
    format!(
        "To sign in, use a web browser to open the page {verification_uri} and enter the code {} to authenticate.",
        user_code.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_eight_letters_without_look_alikes_shown_in_two_groups() {
        for _ in 0..200 {
            let c = UserCode::generate().unwrap();
            assert_eq!(c.0.len(), 8);
            assert!(c.0.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)), "{}", c.0);
            let shown = c.display();
            assert_eq!(shown.len(), 9);
            assert_eq!(&shown[4..5], "-");
            assert_eq!(UserCode::parse(&shown), Some(c.clone()));
        }
        for ambiguous in b"0O1IAEU" {
            assert!(!USER_CODE_ALPHABET.contains(ambiguous), "{}", char::from(*ambiguous));
        }
    }

    #[test]
    fn typed_user_codes_ignore_case_dashes_and_spaces() {
        let c = UserCode::parse("BCDF-GHJK").unwrap();
        assert_eq!(UserCode::parse("bcdfghjk"), Some(c.clone()));
        assert_eq!(UserCode::parse(" bcdf ghjk "), Some(c.clone()));
        assert_eq!(UserCode::parse("Bcdf-gHjk"), Some(c.clone()));
        assert_eq!(c.digest(), UserCode::parse("bcdfghjk").unwrap().digest());
        for bad in ["", "BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF-GHJ0", "BCDF_GHJK", "ВCDF-GHJK"] {
            assert_eq!(UserCode::parse(bad), None, "{bad}");
        }
        assert_eq!(UserCode::parse(&"-".repeat(10_000)), None);
        assert_eq!(format!("{c:?}"), "UserCode(<redacted>)");
    }

    #[test]
    fn polling_sooner_than_the_interval_slows_the_device_down_by_five_seconds() {
        use chrono::TimeZone;
        let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
        let mut c = DeviceCode {
            device_code_digest: "d".into(),
            user_code_digest: "u".into(),
            client_id: AppId::new_random(),
            scope: "openid".into(),
            created_at: t0,
            expires_at: t0 + DEVICE_CODE_LIFETIME,
            interval_seconds: POLL_INTERVAL_SECONDS,
            last_polled_at: None,
            status: DeviceCodeStatus::Pending,
            session_id: None,
            decided_at: None,
            redeemed_at: None,
        };
        assert_eq!(c.too_fast(t0), None, "the first poll is always on time");
        c.last_polled_at = Some(t0);
        assert_eq!(c.too_fast(t0 + Duration::seconds(4)), Some(10));
        assert_eq!(c.too_fast(t0 + Duration::seconds(5)), None);
        c.interval_seconds = MAX_POLL_INTERVAL_SECONDS;
        assert_eq!(c.too_fast(t0), Some(MAX_POLL_INTERVAL_SECONDS), "the interval stops growing");
        assert!(!c.is_expired(t0 + Duration::minutes(14)));
        assert!(c.is_expired(t0 + Duration::minutes(15)));
    }

    #[test]
    fn the_message_is_entras_wording() {
        let c = UserCode::parse("BCDFGHJK").unwrap();
        assert_eq!(
            device_message("https://id.example/devicelogin", &c),
            "To sign in, use a web browser to open the page https://id.example/devicelogin and enter the code BCDF-GHJK to authenticate."
        );
    }
}
