//! `/users`, `/me` and `/invitations`.

use super::GraphPath;
use super::json::{GraphJson, WireRequest};
use super::odata::{parse_list_query, parse_user_filter};
use super::{GraphBody, collection, context_url, entity, graph_time};
use crate::AppState;
use crate::auth::{GraphCaller, SignedInUser};
use crate::error::GraphError;
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::StatusCode;
use latchkey_core::directory::{User, UserOrigin, UserType};
use latchkey_core::secrets::SecretString;
use latchkey_core::service::{NewUser, UserChange};
use serde::{Deserialize, Serialize};

/// Graph `user` (the properties latchkey keeps).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserResponse {
    pub id: String,
    pub user_principal_name: String,
    pub display_name: String,
    pub mail: Option<String>,
    pub user_type: String,
    pub account_enabled: bool,
    pub created_date_time: String,
    /// `Invitation` for an external guest, as Graph reports invited users.
    pub creation_type: Option<String>,
    pub external_user_state: Option<String>,
}

pub const USER_PROPERTIES: &[&str] = &[
    "id",
    "userPrincipalName",
    "displayName",
    "mail",
    "userType",
    "accountEnabled",
    "createdDateTime",
    "creationType",
    "externalUserState",
];

impl From<&User> for UserResponse {
    fn from(u: &User) -> Self {
        let external = u.origin == UserOrigin::External;
        Self {
            id: u.id.to_string(),
            user_principal_name: u.user_principal_name.to_string(),
            display_name: u.display_name.clone(),
            mail: u.mail.clone(),
            user_type: u.user_type.as_str().into(),
            account_enabled: u.account_enabled,
            created_date_time: graph_time(u.created_at),
            creation_type: external.then(|| "Invitation".into()),
            external_user_state: external.then(|| "PendingAcceptance".into()),
        }
    }
}

/// Graph `passwordProfile`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordProfile {
    pub password: Option<String>,
    /// Accepted for compatibility; latchkey does not force a change.
    pub force_change_password_next_sign_in: Option<bool>,
    pub force_change_password_next_sign_in_with_mfa: Option<bool>,
}

/// `POST /users` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateUserRequest {
    pub user_principal_name: String,
    pub display_name: String,
    pub account_enabled: Option<bool>,
    /// Accepted for compatibility with Graph scripts; not used.
    pub mail_nickname: Option<String>,
    pub mail: Option<String>,
    /// `Member` (default) or `Guest` (an internal guest).
    pub user_type: Option<String>,
    pub password_profile: Option<PasswordProfile>,
}

impl WireRequest for CreateUserRequest {
    const READ_ONLY: &'static [&'static str] = &["id", "createdDateTime", "creationType", "externalUserState"];
    const GRAPH_TYPE: &'static str = "microsoft.graph.user";
}

/// `PATCH /users/{id}` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateUserRequest {
    pub display_name: Option<String>,
    pub account_enabled: Option<bool>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub mail: Option<Option<String>>,
    pub user_type: Option<String>,
    pub password_profile: Option<PasswordProfile>,
}

impl WireRequest for UpdateUserRequest {
    const READ_ONLY: &'static [&'static str] = &["id", "createdDateTime", "creationType", "externalUserState", "userPrincipalName"];
    const GRAPH_TYPE: &'static str = "microsoft.graph.user";
}

/// Tells an explicit `null` (clear it) from an absent property (keep it).
mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

fn password_of(p: Option<PasswordProfile>) -> Option<SecretString> {
    p.and_then(|p| p.password).map(SecretString::new)
}

pub async fn list_users(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    RawQuery(raw): RawQuery,
) -> Result<GraphBody, GraphError> {
    let q = parse_list_query(raw.as_deref(), true)?;
    let filters = q.filter.as_deref().map(parse_user_filter).transpose()?.unwrap_or_default();
    let listing = state.core.list_users(&caller, &filters, q.page).await?;
    let count = if q.count {
        Some(state.core.count_users(&caller, &filters).await?)
    } else {
        None
    };
    let mut items: Vec<_> = listing
        .items
        .iter()
        .map(|u| serde_json::to_value(UserResponse::from(u)).unwrap_or_default())
        .collect();
    q.apply_select(&mut items, USER_PROPERTIES)?;
    Ok(GraphBody::ok(collection(
        context_url(&state, &uri, "users"),
        items,
        q.next_link(&state, &uri, listing.more),
        count,
    )))
}

pub async fn get_user(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphPath(key): GraphPath<String>,
    RawQuery(raw): RawQuery,
) -> Result<GraphBody, GraphError> {
    let q = parse_list_query(raw.as_deref(), false)?;
    let user = state.core.get_user(&caller, &key).await?;
    let mut items = [entity(context_url(&state, &uri, "users/$entity"), &UserResponse::from(&user))];
    q.apply_select(&mut items, USER_PROPERTIES)?;
    let [body] = items;
    Ok(GraphBody::ok(body))
}

pub async fn get_me(State(state): State<AppState>, me: SignedInUser, uri: OriginalUri) -> Result<GraphBody, GraphError> {
    let user = state.core.get_user(&me.caller, &me.id.to_string()).await?;
    Ok(GraphBody::ok(entity(
        context_url(&state, &uri, "users/$entity"),
        &UserResponse::from(&user),
    )))
}

pub async fn create_user(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphJson(body): GraphJson<CreateUserRequest>,
) -> Result<GraphBody, GraphError> {
    let new = NewUser {
        user_principal_name: body.user_principal_name,
        display_name: body.display_name,
        mail: body.mail,
        user_type: body
            .user_type
            .as_deref()
            .map(UserType::parse)
            .transpose()?
            .unwrap_or(UserType::Member),
        account_enabled: body.account_enabled.unwrap_or(true),
        password: password_of(body.password_profile),
    };
    let user = state.core.create_user(&caller, new).await?;
    Ok(GraphBody::created(entity(
        context_url(&state, &uri, "users/$entity"),
        &UserResponse::from(&user),
    )))
}

pub async fn update_user(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    GraphPath(key): GraphPath<String>,
    GraphJson(body): GraphJson<UpdateUserRequest>,
) -> Result<StatusCode, GraphError> {
    let change = UserChange {
        display_name: body.display_name,
        mail: body.mail,
        user_type: body.user_type.as_deref().map(UserType::parse).transpose()?,
        account_enabled: body.account_enabled,
        password: password_of(body.password_profile),
    };
    state.core.update_user(&caller, &key, change).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_user(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    GraphPath(key): GraphPath<String>,
) -> Result<StatusCode, GraphError> {
    state.core.delete_user(&caller, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /invitations` body (Graph `invitation`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InvitationRequest {
    pub invited_user_email_address: String,
    pub invite_redirect_url: String,
    pub invited_user_display_name: Option<String>,
    /// latchkey sends no mail; the redeem URL is in the response.
    pub send_invitation_message: Option<bool>,
    pub invited_user_type: Option<String>,
}

impl WireRequest for InvitationRequest {
    const READ_ONLY: &'static [&'static str] = &["id", "inviteRedeemUrl", "status", "invitedUser"];
    const GRAPH_TYPE: &'static str = "microsoft.graph.invitation";
}

/// Graph `invitation`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationResponse {
    pub id: String,
    pub invited_user_email_address: String,
    pub invited_user_display_name: String,
    pub invite_redirect_url: String,
    pub invite_redeem_url: String,
    pub invited_user_type: String,
    pub send_invitation_message: bool,
    pub status: String,
    pub invited_user: InvitedUser,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvitedUser {
    pub id: String,
}

pub async fn invite_user(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphJson(body): GraphJson<InvitationRequest>,
) -> Result<GraphBody, GraphError> {
    let redirect = body.invite_redirect_url.trim();
    if !(redirect.starts_with("https://") || redirect.starts_with("http://")) || redirect.len() > 2048 {
        return Err(GraphError::bad_request("inviteRedirectUrl must be an http(s) URL."));
    }
    if body.invited_user_type.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("guest")) {
        return Err(GraphError::bad_request(
            "invitedUserType must be 'Guest': members are created with POST /users.",
        ));
    }
    let user = state
        .core
        .invite_external_user(&caller, &body.invited_user_email_address, body.invited_user_display_name.as_deref())
        .await?;
    let response = InvitationResponse {
        id: uuid::Uuid::new_v4().to_string(),
        invited_user_email_address: user.mail.clone().unwrap_or_default(),
        invited_user_display_name: user.display_name.clone(),
        invite_redirect_url: redirect.to_owned(),
        invite_redeem_url: redirect.to_owned(),
        invited_user_type: "Guest".into(),
        send_invitation_message: false,
        status: "PendingAcceptance".into(),
        invited_user: InvitedUser { id: user.id.to_string() },
    };
    Ok(GraphBody::created(entity(
        context_url(&state, &uri, "invitations/$entity"),
        &response,
    )))
}
