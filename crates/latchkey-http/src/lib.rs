//! latchkey's HTTP surface: the Graph-compatible admin API under `/v1.0` and `/beta`, the
//! Entra-style OAuth endpoints under `/{tenant}`, and the OpenAPI document.
//!
//! Handlers are thin: they parse the wire format, call one `latchkey_core` use case and
//! render the result. Errors render in [`error`], identity is established in [`auth`].

pub mod auth;
pub mod context;
pub mod error;
pub mod graph;
pub mod oauth;
pub mod openapi;
pub mod qr;
pub mod rate_limit;
pub mod tokens;
pub mod web;

use axum::Router;
use axum::extract::Request;
use axum::http::Uri;
use latchkey_core::Latchkey;
use latchkey_core::tenant::Tenant;
use std::sync::Arc;
use tokens::KeyRing;
use tower::{Layer as _, ServiceExt as _};

/// Largest request body accepted by the API (Graph's own bodies here are well under 4 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Everything a handler may need. One pointer: axum clones the state for every layer and
/// extractor of every request, and a clone of the fields themselves (a dozen reference
/// counts) showed in the Graph read path's profile.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] points to.
#[derive(Debug, Clone)]
pub struct Shared {
    pub core: Latchkey,
    pub keys: Arc<KeyRing>,
    pub tenant: Arc<Tenant>,
    /// Where clients reach this server, without a trailing slash (`https://id.example.com`).
    pub public_url: Arc<str>,
    /// `{public-url}/{tenantId}/v2.0`, checked on every token (so formatted once).
    issuer: Arc<str>,
    /// Per-address limits on sign-in and token requests; `None` when turned off.
    pub rate_limit: Option<Arc<rate_limit::AddressLimiter>>,
    /// When the keys were last reloaded because a token named an unknown key (Unix s).
    key_reload_at: Arc<std::sync::atomic::AtomicI64>,
}

impl AppState {
    #[must_use]
    pub fn new(core: Latchkey, keys: KeyRing, tenant: Tenant, public_url: &str) -> Self {
        let relying_party = match latchkey_core::methods::RelyingParty::from_public_url(public_url, &tenant.display_name) {
            Ok(rp) => Some(rp),
            Err(e) => {
                tracing::warn!("passkeys are off: {e}");
                None
            }
        };
        let core = core.with_authenticators(latchkey_core::service::Authenticators {
            relying_party,
            master_key: keys.master_key().clone(),
            issuer: tenant.primary_domain.clone(),
        });
        let public_url = public_url.trim_end_matches('/');
        Self(Arc::new(Shared {
            issuer: format!("{public_url}/{}/v2.0", tenant.id).into(),
            core,
            keys: Arc::new(keys),
            tenant: Arc::new(tenant),
            public_url: public_url.into(),
            rate_limit: None,
            key_reload_at: Arc::new(std::sync::atomic::AtomicI64::new(0)),
        }))
    }

    /// Sets the per-address limit (requests per minute; 0 turns it off).
    #[must_use]
    pub fn with_rate_limit(self, per_minute: u32) -> Self {
        let mut shared = Arc::unwrap_or_clone(self.0);
        shared.rate_limit = rate_limit::AddressLimiter::new(per_minute).map(Arc::new);
        Self(Arc::new(shared))
    }

    /// Re-reads the signing keys (a rotation by any process sharing the database).
    pub async fn reload_keys(&self) -> Result<(), latchkey_core::CoreError> {
        self.keys.reload(&self.core.signing_keys().await?, self.core.now())
    }

    /// Checks a bearer token. A token naming a key this process has not opened yet (just
    /// rotated elsewhere) makes it re-read the keys, at most every 5 seconds. The header is
    /// only looked at when the check fails: a good token costs one lookup.
    pub async fn verify_token(&self, token: &str) -> Result<Arc<tokens::AccessClaims>, latchkey_core::CoreError> {
        let now = self.core.now();
        match self.keys.verify(token, &self.issuer, now) {
            Err(_) if self.keys.names_unknown_key(token) && self.may_reload_keys(now.timestamp()) => {
                self.reload_keys().await?;
                self.keys.verify(token, &self.issuer, now)
            }
            verified => verified,
        }
    }

    /// Whether 5 seconds have passed since the last reload; claims the reload if so.
    fn may_reload_keys(&self, now: i64) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let last = self.key_reload_at.load(Relaxed);
        now - last >= 5 && self.key_reload_at.compare_exchange(last, now, Relaxed, Relaxed).is_ok()
    }

    /// `{public-url}/{tenantId}/v2.0`, the issuer of every token.
    #[must_use]
    pub fn issuer(&self) -> String {
        self.issuer.to_string()
    }
}

/// The whole application as a service, with Graph's `('key')` path form rewritten before
/// routing.
pub fn app(state: AppState) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, std::net::SocketAddr> {
    let router = router(state);
    let rewritten = tower::util::MapRequestLayer::new(rewrite_key_syntax).layer(router);
    Router::new().fallback_service(rewritten).into_make_service_with_connect_info()
}

/// The routes, with their middleware.
pub fn router(state: AppState) -> Router {
    let graph = graph::routes();
    Router::new()
        .nest("/v1.0", graph.clone())
        .nest("/beta", graph)
        .merge(oauth::routes())
        .merge(web::routes())
        .merge(openapi::routes())
        .fallback(graph::unknown_route)
        .method_not_allowed_fallback(graph::method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit::limit))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(graph::panic_response))
        .layer(axum::middleware::from_fn_with_state(state.clone(), context::request_context))
        .with_state(state)
}

/// Rewrites OData key syntax to plain segments: `/users('alice@x')/...` becomes
/// `/users/alice@x/...` (graph-tap-spec.md §1.3: UPNs starting with `$` need it).
fn rewrite_key_syntax(mut request: Request) -> Request {
    let uri = request.uri();
    let path = uri.path();
    if !(path.contains("('") || path.contains("(%27")) {
        return request;
    }
    let rewritten: Vec<String> = path
        .split('/')
        .map(|seg| {
            let seg_norm = seg.replace("%27", "'");
            match (seg_norm.find("('"), seg_norm.strip_suffix("')")) {
                (Some(i), Some(head)) if i > 0 => format!("{}/{}", &seg_norm[..i], head[i + 2..].replace("''", "'")),
                _ => seg.to_owned(),
            }
        })
        .collect();
    let mut new = rewritten.join("/");
    if let Some(q) = uri.query() {
        new.push('?');
        new.push_str(q);
    }
    if let Ok(u) = new.parse::<Uri>() {
        *request.uri_mut() = u;
    }
    request
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await
}

#[doc(hidden)]
pub async fn oneshot(state: AppState, request: Request) -> axum::response::Response {
    let router = router(state);
    let Ok(response) = router.oneshot(rewrite_key_syntax(request)).await;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(path: &str) -> String {
        let req = Request::builder().uri(path).body(axum::body::Body::empty()).unwrap();
        rewrite_key_syntax(req).uri().to_string()
    }

    #[test]
    fn odata_key_syntax_becomes_a_path_segment() {
        assert_eq!(
            rewrite("/v1.0/users('alice@contoso.test')/authentication/methods"),
            "/v1.0/users/alice@contoso.test/authentication/methods"
        );
        assert_eq!(rewrite("/v1.0/users(%27$x@y.z%27)"), "/v1.0/users/$x@y.z");
        assert_eq!(
            rewrite("/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations('TemporaryAccessPass')?a=b"),
            "/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass?a=b"
        );
        assert_eq!(rewrite("/v1.0/users/plain"), "/v1.0/users/plain");
    }
}
