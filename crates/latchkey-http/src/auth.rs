//! Who is calling the Graph API: the extractors that turn a bearer token into a
//! [`Caller`], so a handler's signature shows what identity it needs.

use crate::AppState;
use crate::error::GraphError;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use latchkey_core::authz::{Caller, Permission};
use latchkey_core::directory::DirectoryRole;
use latchkey_core::ids::{AppId, UserId};

/// Any authenticated caller: a user (delegated token) or an application (app-only token).
#[derive(Debug, Clone)]
pub struct GraphCaller(pub Caller);

/// A signed-in user, as `/me` requires.
#[derive(Debug, Clone)]
pub struct SignedInUser {
    pub caller: Caller,
    pub id: UserId,
}

impl FromRequestParts<AppState> for GraphCaller {
    type Rejection = GraphError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| GraphError::unauthenticated("Access token is empty."))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| GraphError::unauthenticated("The Authorization header must be 'Bearer <access token>'."))?;
        let claims = state.verify_token(token).await?;
        if !state.tenant.is_named_by(&claims.tid) {
            return Err(GraphError::unauthenticated(
                "Access token validation failure: the token is for another tenant.",
            ));
        }
        let caller = match claims.idtyp.as_str() {
            "app" => {
                let app_id: AppId = claims
                    .appid
                    .parse()
                    .map_err(|_| GraphError::unauthenticated("Access token validation failure: bad appid."))?;
                let named: Vec<Permission> = claims.roles.iter().filter_map(|r| Permission::parse(r)).collect();
                state.core.app_caller(app_id, &named).await?
            }
            "user" => {
                let oid: UserId = claims
                    .oid
                    .as_deref()
                    .and_then(|o| o.parse().ok())
                    .ok_or_else(|| GraphError::unauthenticated("Access token validation failure: bad oid."))?;
                let roles: Vec<DirectoryRole> = claims.wids.iter().filter_map(|w| DirectoryRole::find(w)).collect();
                // A token from a sign-in dies with its session: signing out, or deleting
                // or replacing the pass it was made with, ends it at once.
                if let Some(sid) = &claims.sid {
                    let live = match sid.parse() {
                        Ok(id) => state.core.live_session_by_id(id).await?.is_some_and(|(_, u)| u.id == oid),
                        Err(_) => false,
                    };
                    if !live {
                        return Err(GraphError::unauthenticated("The session this token came from has ended."));
                    }
                }
                state.core.delegated_caller(oid, &roles).await?
            }
            _ => return Err(GraphError::unauthenticated("Access token validation failure: unknown token type.")),
        };
        Ok(Self(caller))
    }
}

impl FromRequestParts<AppState> for SignedInUser {
    type Rejection = GraphError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let GraphCaller(caller) = GraphCaller::from_request_parts(parts, state).await?;
        match &caller {
            Caller::User { id, .. } => Ok(Self { id: *id, caller }),
            _ => Err(GraphError::bad_request(
                "/me request is only valid with delegated authentication flow.",
            )),
        }
    }
}
