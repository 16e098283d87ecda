//! `/roleManagement/directory`: role definitions (Entra's templates) and assignments.

use super::GraphPath;
use super::json::{GraphJson, WireRequest};
use super::odata::parse_list_query;
use super::{GraphBody, collection, context_url, entity};
use crate::AppState;
use crate::auth::GraphCaller;
use crate::error::GraphError;
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::StatusCode;
use latchkey_core::directory::{DirectoryRole, RoleAssignment};
use latchkey_core::ids::{RoleAssignmentId, UserId};
use serde::{Deserialize, Serialize};

/// Graph `unifiedRoleDefinition`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinitionResponse {
    pub id: String,
    pub display_name: String,
    pub description: String,
    pub is_built_in: bool,
    pub is_enabled: bool,
    pub template_id: String,
}

impl From<DirectoryRole> for RoleDefinitionResponse {
    fn from(r: DirectoryRole) -> Self {
        Self {
            id: r.template_id().into(),
            display_name: r.display_name().into(),
            description: r.description().into(),
            is_built_in: true,
            is_enabled: true,
            template_id: r.template_id().into(),
        }
    }
}

/// Graph `unifiedRoleAssignment`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentResponse {
    pub id: String,
    pub principal_id: String,
    pub role_definition_id: String,
    pub directory_scope_id: String,
}

impl From<&RoleAssignment> for RoleAssignmentResponse {
    fn from(a: &RoleAssignment) -> Self {
        Self {
            id: a.id.to_string(),
            principal_id: a.principal_id.to_string(),
            role_definition_id: a.role.template_id().into(),
            directory_scope_id: "/".into(),
        }
    }
}

/// `POST /roleManagement/directory/roleAssignments` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateRoleAssignmentRequest {
    pub principal_id: String,
    pub role_definition_id: String,
    pub directory_scope_id: Option<String>,
}

impl WireRequest for CreateRoleAssignmentRequest {
    const READ_ONLY: &'static [&'static str] = &["id"];
    const GRAPH_TYPE: &'static str = "microsoft.graph.unifiedRoleAssignment";
}

pub async fn list_role_definitions(
    State(state): State<AppState>,
    GraphCaller(_caller): GraphCaller,
    uri: OriginalUri,
) -> Result<GraphBody, GraphError> {
    let items = DirectoryRole::ALL
        .into_iter()
        .map(|r| serde_json::to_value(RoleDefinitionResponse::from(r)).unwrap_or_default())
        .collect();
    Ok(GraphBody::ok(collection(
        context_url(&state, &uri, "roleManagement/directory/roleDefinitions"),
        items,
        None,
        None,
    )))
}

pub async fn get_role_definition(
    State(state): State<AppState>,
    GraphCaller(_caller): GraphCaller,
    uri: OriginalUri,
    GraphPath(id): GraphPath<String>,
) -> Result<GraphBody, GraphError> {
    let role = DirectoryRole::find(&id).ok_or_else(|| GraphError::from(latchkey_core::CoreError::not_found("roleDefinition", &id)))?;
    Ok(GraphBody::ok(entity(
        context_url(&state, &uri, "roleManagement/directory/roleDefinitions/$entity"),
        &RoleDefinitionResponse::from(role),
    )))
}

fn assignment_id(raw: &str) -> Result<RoleAssignmentId, GraphError> {
    raw.parse()
        .map_err(|_| GraphError::from(latchkey_core::CoreError::not_found("roleAssignment", raw)))
}

/// Supports `$filter=principalId eq '{id}'`, the filter scripts use to list a user's roles.
fn principal_filter(raw: &str) -> Result<UserId, GraphError> {
    let unsupported = || {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            "Only $filter=principalId eq '{id}' is supported on role assignments.",
        )
    };
    let rest = raw.trim();
    let (name, rest) = rest.split_once(char::is_whitespace).ok_or_else(unsupported)?;
    let (op, value) = rest.trim_start().split_once(char::is_whitespace).ok_or_else(unsupported)?;
    if !name.eq_ignore_ascii_case("principalId") || !op.eq_ignore_ascii_case("eq") {
        return Err(unsupported());
    }
    value.trim().trim_matches('\'').parse().map_err(|_| unsupported())
}

pub async fn list_role_assignments(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    RawQuery(raw): RawQuery,
) -> Result<GraphBody, GraphError> {
    let q = parse_list_query(raw.as_deref(), true)?;
    let principal = q.filter.as_deref().map(principal_filter).transpose()?;
    let listing = state.core.list_role_assignments(&caller, principal, q.page).await?;
    let items = listing
        .items
        .iter()
        .map(|a| serde_json::to_value(RoleAssignmentResponse::from(a)).unwrap_or_default())
        .collect();
    Ok(GraphBody::ok(collection(
        context_url(&state, &uri, "roleManagement/directory/roleAssignments"),
        items,
        q.next_link(&state, &uri, listing.more),
        None,
    )))
}

pub async fn get_role_assignment(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphPath(id): GraphPath<String>,
) -> Result<GraphBody, GraphError> {
    let a = state.core.get_role_assignment(&caller, assignment_id(&id)?).await?;
    Ok(GraphBody::ok(entity(
        context_url(&state, &uri, "roleManagement/directory/roleAssignments/$entity"),
        &RoleAssignmentResponse::from(&a),
    )))
}

pub async fn create_role_assignment(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphJson(body): GraphJson<CreateRoleAssignmentRequest>,
) -> Result<GraphBody, GraphError> {
    let a = state
        .core
        .assign_role(
            &caller,
            &body.principal_id,
            &body.role_definition_id,
            body.directory_scope_id.as_deref().unwrap_or("/"),
        )
        .await?;
    Ok(GraphBody::created(entity(
        context_url(&state, &uri, "roleManagement/directory/roleAssignments/$entity"),
        &RoleAssignmentResponse::from(&a),
    )))
}

pub async fn delete_role_assignment(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    GraphPath(id): GraphPath<String>,
) -> Result<StatusCode, GraphError> {
    state.core.remove_role_assignment(&caller, assignment_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
