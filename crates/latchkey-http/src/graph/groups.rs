//! `/groups` and their members.

use super::GraphPath;
use super::json::{GraphJson, WireRequest};
use super::odata::parse_list_query;
use super::users::{USER_PROPERTIES, UserResponse};
use super::{GraphBody, collection, context_url, entity, graph_time};
use crate::AppState;
use crate::auth::GraphCaller;
use crate::error::GraphError;
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::StatusCode;
use latchkey_core::directory::Group;
use latchkey_core::ids::GroupId;
use serde::{Deserialize, Serialize};

/// Graph `group` (security groups only).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupResponse {
    pub id: String,
    pub display_name: String,
    pub description: Option<String>,
    pub mail_nickname: Option<String>,
    pub mail_enabled: bool,
    pub security_enabled: bool,
    pub group_types: Vec<String>,
    pub created_date_time: String,
}

const GROUP_PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "description",
    "mailNickname",
    "mailEnabled",
    "securityEnabled",
    "groupTypes",
    "createdDateTime",
];

impl From<&Group> for GroupResponse {
    fn from(g: &Group) -> Self {
        Self {
            id: g.id.to_string(),
            display_name: g.display_name.clone(),
            description: g.description.clone(),
            mail_nickname: g.mail_nickname.clone(),
            mail_enabled: false,
            security_enabled: true,
            group_types: Vec::new(),
            created_date_time: graph_time(g.created_at),
        }
    }
}

/// `POST /groups` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateGroupRequest {
    pub display_name: String,
    pub description: Option<String>,
    pub mail_nickname: Option<String>,
    /// Must be false or absent: latchkey has security groups only.
    pub mail_enabled: Option<bool>,
    pub security_enabled: Option<bool>,
    pub group_types: Option<Vec<String>>,
}

impl WireRequest for CreateGroupRequest {
    const READ_ONLY: &'static [&'static str] = &["id", "createdDateTime"];
    const GRAPH_TYPE: &'static str = "microsoft.graph.group";
}

/// `POST /groups/{id}/members/$ref` body: `{"@odata.id": ".../directoryObjects/{id}"}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferenceRequest {
    #[serde(rename = "@odata.id")]
    pub odata_id: String,
}

impl WireRequest for ReferenceRequest {
    const ANNOTATIONS: &'static [&'static str] = &["@odata.id"];
    const GRAPH_TYPE: &'static str = "reference";
}

fn group_id(raw: &str) -> Result<GroupId, GraphError> {
    raw.parse().map_err(|_| {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!("Invalid object identifier '{}'.", raw.chars().take(60).collect::<String>()),
        )
    })
}

/// The object id at the end of a reference URL (`…/directoryObjects/{id}`, `…/users/{id}`,
/// or `…/directoryObjects('{id}')`).
fn referenced_id(odata_id: &str) -> Result<String, GraphError> {
    let trimmed = odata_id.trim().trim_end_matches('/');
    let last = trimmed.rsplit('/').next().unwrap_or_default();
    let key = last
        .strip_prefix("directoryObjects(")
        .or_else(|| last.strip_prefix("users("))
        .map_or(last, |k| k.trim_end_matches(')').trim_matches('\''));
    if key.is_empty() || !(trimmed.contains("/directoryObjects") || trimmed.contains("/users") || !trimmed.contains('/')) {
        return Err(GraphError::bad_request(
            "@odata.id must reference a directory object, e.g. https://graph.microsoft.com/v1.0/directoryObjects/{id}.",
        ));
    }
    Ok(key.to_owned())
}

pub async fn list_groups(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    RawQuery(raw): RawQuery,
) -> Result<GraphBody, GraphError> {
    let q = parse_list_query(raw.as_deref(), false)?;
    let listing = state.core.list_groups(&caller, q.page).await?;
    let mut items: Vec<_> = listing
        .items
        .iter()
        .map(|g| serde_json::to_value(GroupResponse::from(g)).unwrap_or_default())
        .collect();
    q.apply_select(&mut items, GROUP_PROPERTIES)?;
    Ok(GraphBody::ok(collection(
        context_url(&state, &uri, "groups"),
        items,
        q.next_link(&state, &uri, listing.more),
        None,
    )))
}

pub async fn get_group(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphPath(id): GraphPath<String>,
) -> Result<GraphBody, GraphError> {
    let g = state.core.get_group(&caller, group_id(&id)?).await?;
    Ok(GraphBody::ok(entity(
        context_url(&state, &uri, "groups/$entity"),
        &GroupResponse::from(&g),
    )))
}

pub async fn create_group(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphJson(body): GraphJson<CreateGroupRequest>,
) -> Result<GraphBody, GraphError> {
    if body.mail_enabled == Some(true) || body.security_enabled == Some(false) || body.group_types.as_ref().is_some_and(|t| !t.is_empty()) {
        return Err(GraphError::bad_request(
            "latchkey supports security groups only: mailEnabled false, securityEnabled true, groupTypes empty.",
        ));
    }
    let g = state
        .core
        .create_group(
            &caller,
            &body.display_name,
            body.description.as_deref(),
            body.mail_nickname.as_deref(),
        )
        .await?;
    Ok(GraphBody::created(entity(
        context_url(&state, &uri, "groups/$entity"),
        &GroupResponse::from(&g),
    )))
}

pub async fn delete_group(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    GraphPath(id): GraphPath<String>,
) -> Result<StatusCode, GraphError> {
    state.core.delete_group(&caller, group_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_members(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphPath(id): GraphPath<String>,
    RawQuery(raw): RawQuery,
) -> Result<GraphBody, GraphError> {
    let q = parse_list_query(raw.as_deref(), false)?;
    let listing = state.core.list_members(&caller, group_id(&id)?, q.page).await?;
    let mut items: Vec<_> = listing
        .items
        .iter()
        .map(|u| {
            // Members are directoryObjects, so each says what it is.
            let mut v = serde_json::to_value(UserResponse::from(u)).unwrap_or_default();
            if let serde_json::Value::Object(m) = &mut v {
                m.insert("@odata.type".into(), "#microsoft.graph.user".into());
            }
            v
        })
        .collect();
    q.apply_select(&mut items, USER_PROPERTIES)?;
    Ok(GraphBody::ok(collection(
        context_url(&state, &uri, "directoryObjects"),
        items,
        q.next_link(&state, &uri, listing.more),
        None,
    )))
}

pub async fn add_member(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    GraphPath(id): GraphPath<String>,
    GraphJson(body): GraphJson<ReferenceRequest>,
) -> Result<StatusCode, GraphError> {
    let member = referenced_id(&body.odata_id)?;
    state.core.add_member(&caller, group_id(&id)?, &member).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove_member(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    GraphPath((id, member)): GraphPath<(String, String)>,
) -> Result<StatusCode, GraphError> {
    state.core.remove_member(&caller, group_id(&id)?, &member).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_urls_name_their_object() {
        let id = "0f8f7e8a-5b8b-4b1e-9a3e-2b7c6d5e4f3a";
        assert_eq!(
            referenced_id(&format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")).unwrap(),
            id
        );
        assert_eq!(
            referenced_id(&format!("http://localhost/v1.0/directoryObjects('{id}')")).unwrap(),
            id
        );
        assert_eq!(referenced_id(&format!("https://graph.microsoft.com/v1.0/users/{id}")).unwrap(), id);
        assert!(referenced_id("https://evil.test/v1.0/groups/x").is_err());
        assert!(referenced_id("").is_err());
    }
}
