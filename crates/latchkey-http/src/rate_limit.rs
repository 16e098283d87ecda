//! Per-address rate limits on the sign-in and token endpoints (DESIGN.md: set by
//! `LATCHKEY_RATE_LIMIT_PER_MINUTE`, 0 turns them off). They are per process; the
//! per-user lockout of wrong codes, which must hold across processes, lives in the
//! database.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

/// A token bucket per client address: `per_minute` requests, refilled evenly.
pub struct AddressLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: governor::clock::DefaultClock,
}

impl std::fmt::Debug for AddressLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AddressLimiter")
    }
}

impl AddressLimiter {
    /// `None` when `per_minute` is 0 (limits off).
    #[must_use]
    pub fn new(per_minute: u32) -> Option<Self> {
        let n = NonZeroU32::new(per_minute)?;
        Some(Self {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(n)),
            clock: governor::clock::DefaultClock::default(),
        })
    }

    /// `Err(seconds to wait)` when the address is over its limit.
    fn check(&self, ip: IpAddr) -> Result<(), u64> {
        use governor::clock::Clock as _;
        self.limiter
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()).as_secs().max(1))?;
        if self.limiter.len() > 100_000 {
            self.limiter.retain_recent();
        }
        Ok(())
    }
}

/// Whether a request is one the limits cover: credential-bearing posts, device
/// authorization requests, every look-up of a device sign-in's user code, so that user
/// codes cannot be guessed by brute force (RFC 8628 §5.1), and the passkey endpoints,
/// where each anonymous challenge is a row written to the database.
fn limited(request: &Request) -> bool {
    let path = request.uri().path();
    let post = request.method() == Method::POST;
    let device_page = path == crate::web::device::PATH;
    let credential_post = path.ends_with("/oauth2/v2.0/token")
        || path.ends_with("/oauth2/v2.0/devicecode")
        || path.ends_with("/login")
        || path.ends_with("/passkey")
        || path.ends_with("/passkey/options")
        || device_page;
    (post && credential_post) || (device_page && request.uri().query().is_some_and(|q| q.contains("user_code")))
}

/// Whether the endpoint answers in OAuth's JSON (else an HTML page).
fn is_oauth(path: &str) -> bool {
    path.ends_with("/oauth2/v2.0/token") || path.ends_with("/oauth2/v2.0/devicecode")
}

pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(limiter) = state.rate_limit.as_deref() else {
        return next.run(request).await;
    };
    let ip = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let (true, Some(ip)) = (limited(&request), ip)
        && let Err(wait) = limiter.check(ip)
    {
        let oauth = is_oauth(request.uri().path());
        let mut r = if oauth {
            crate::error::OAuthError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "temporarily_unavailable",
                "Too many requests from this address; retry after the time in Retry-After.",
            )
            .into_response()
        } else {
            crate::web::message(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                &format!("Too many sign-in attempts from this address. Try again in {wait} seconds."),
                None,
            )
        };
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    next.run(request).await
}
