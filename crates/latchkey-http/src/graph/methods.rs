//! `fido2Methods` (passkeys) and `softwareOathMethods` (authenticator apps) under
//! `/users/{id}/authentication/` and `/me/authentication/`: list, get, delete, in Graph's
//! shapes (graph-tap-spec.md §3).

use super::odata::parse_list_query;
use super::{GraphBody, GraphPath, collection, context_url, entity, graph_time};
use crate::AppState;
use crate::auth::{GraphCaller, SignedInUser};
use crate::error::GraphError;
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::StatusCode;
use latchkey_core::CoreError;
use latchkey_core::authz::Caller;
use latchkey_core::ids::MethodId;
use latchkey_core::methods::{Fido2Method, SoftwareOathMethod};
use serde::Serialize;

pub const FIDO2_ODATA_TYPE: &str = "#microsoft.graph.fido2AuthenticationMethod";
pub const SOFTWARE_OATH_ODATA_TYPE: &str = "#microsoft.graph.softwareOathAuthenticationMethod";

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Fido2MethodResponse {
    #[serde(rename = "@odata.type")]
    pub odata_type: &'static str,
    pub id: String,
    pub display_name: String,
    pub created_date_time: String,
    pub aa_guid: Option<String>,
    pub model: Option<String>,
    pub attestation_certificates: Vec<String>,
    /// Registrations ask for no attestation ("none"), so no passkey is attested.
    pub attestation_level: &'static str,
    pub passkey_type: &'static str,
}

impl From<&Fido2Method> for Fido2MethodResponse {
    fn from(m: &Fido2Method) -> Self {
        Self {
            odata_type: FIDO2_ODATA_TYPE,
            id: m.id.to_string(),
            display_name: m.display_name.clone(),
            created_date_time: graph_time(m.created_at),
            aa_guid: m.aaguid.map(|a| a.hyphenated().to_string()),
            model: m.model.clone(),
            attestation_certificates: Vec::new(),
            attestation_level: "notAttested",
            passkey_type: "deviceBound",
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SoftwareOathMethodResponse {
    #[serde(rename = "@odata.type")]
    pub odata_type: &'static str,
    pub id: String,
    /// Always `null` on read, as in Graph: the seed is never shown again.
    pub secret_key: Option<String>,
    pub created_date_time: String,
}

impl From<&SoftwareOathMethod> for SoftwareOathMethodResponse {
    fn from(m: &SoftwareOathMethod) -> Self {
        Self {
            odata_type: SOFTWARE_OATH_ODATA_TYPE,
            id: m.id.to_string(),
            secret_key: None,
            created_date_time: graph_time(m.created_at),
        }
    }
}

fn method_id(raw: &str, kind: &'static str) -> Result<MethodId, GraphError> {
    raw.parse().map_err(|_| GraphError::from(CoreError::not_found(kind, raw)))
}

fn context(state: &AppState, uri: &OriginalUri, user: &str, segment: &str, one: bool) -> String {
    let suffix = if one { "/$entity" } else { "" };
    context_url(state, uri, &format!("users('{user}')/authentication/{segment}{suffix}"))
}

async fn list_fido2(state: &AppState, caller: &Caller, uri: &OriginalUri, user: &str, raw: Option<&str>) -> Result<GraphBody, GraphError> {
    parse_list_query(raw, false)?;
    let items = state
        .core
        .list_fido2_methods(caller, user)
        .await?
        .iter()
        .map(|m| serde_json::to_value(Fido2MethodResponse::from(m)).unwrap_or_default())
        .collect();
    Ok(GraphBody::ok(collection(
        context(state, uri, user, "fido2Methods", false),
        items,
        None,
        None,
    )))
}

async fn get_fido2(state: &AppState, caller: &Caller, uri: &OriginalUri, user: &str, id: &str) -> Result<GraphBody, GraphError> {
    let wanted = method_id(id, "fido2AuthenticationMethod")?;
    let all = state.core.list_fido2_methods(caller, user).await?;
    let m = all
        .iter()
        .find(|m| m.id == wanted)
        .ok_or_else(|| CoreError::not_found("fido2AuthenticationMethod", id))?;
    Ok(GraphBody::ok(entity(
        context(state, uri, user, "fido2Methods", true),
        &Fido2MethodResponse::from(m),
    )))
}

async fn list_oath(state: &AppState, caller: &Caller, uri: &OriginalUri, user: &str, raw: Option<&str>) -> Result<GraphBody, GraphError> {
    parse_list_query(raw, false)?;
    let items = state
        .core
        .list_software_oath_methods(caller, user)
        .await?
        .iter()
        .map(|m| serde_json::to_value(SoftwareOathMethodResponse::from(m)).unwrap_or_default())
        .collect();
    Ok(GraphBody::ok(collection(
        context(state, uri, user, "softwareOathMethods", false),
        items,
        None,
        None,
    )))
}

async fn get_oath(state: &AppState, caller: &Caller, uri: &OriginalUri, user: &str, id: &str) -> Result<GraphBody, GraphError> {
    let wanted = method_id(id, "softwareOathAuthenticationMethod")?;
    let all = state.core.list_software_oath_methods(caller, user).await?;
    let m = all
        .iter()
        .find(|m| m.id == wanted)
        .ok_or_else(|| CoreError::not_found("softwareOathAuthenticationMethod", id))?;
    Ok(GraphBody::ok(entity(
        context(state, uri, user, "softwareOathMethods", true),
        &SoftwareOathMethodResponse::from(m),
    )))
}

pub async fn list_fido2_methods(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphPath(user): GraphPath<String>,
    RawQuery(raw): RawQuery,
) -> Result<GraphBody, GraphError> {
    list_fido2(&state, &caller, &uri, &user, raw.as_deref()).await
}

pub async fn get_fido2_method(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphPath((user, id)): GraphPath<(String, String)>,
) -> Result<GraphBody, GraphError> {
    get_fido2(&state, &caller, &uri, &user, &id).await
}

pub async fn delete_fido2_method(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    GraphPath((user, id)): GraphPath<(String, String)>,
) -> Result<StatusCode, GraphError> {
    let id = method_id(&id, "fido2AuthenticationMethod")?;
    state.core.delete_fido2_method(&caller, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_software_oath_methods(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphPath(user): GraphPath<String>,
    RawQuery(raw): RawQuery,
) -> Result<GraphBody, GraphError> {
    list_oath(&state, &caller, &uri, &user, raw.as_deref()).await
}

pub async fn get_software_oath_method(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphPath((user, id)): GraphPath<(String, String)>,
) -> Result<GraphBody, GraphError> {
    get_oath(&state, &caller, &uri, &user, &id).await
}

pub async fn delete_software_oath_method(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    GraphPath((user, id)): GraphPath<(String, String)>,
) -> Result<StatusCode, GraphError> {
    let id = method_id(&id, "softwareOathAuthenticationMethod")?;
    state.core.delete_software_oath_method(&caller, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_my_fido2_methods(
    State(state): State<AppState>,
    me: SignedInUser,
    uri: OriginalUri,
    RawQuery(raw): RawQuery,
) -> Result<GraphBody, GraphError> {
    list_fido2(&state, &me.caller, &uri, &me.id.to_string(), raw.as_deref()).await
}

pub async fn get_my_fido2_method(
    State(state): State<AppState>,
    me: SignedInUser,
    uri: OriginalUri,
    GraphPath(id): GraphPath<String>,
) -> Result<GraphBody, GraphError> {
    get_fido2(&state, &me.caller, &uri, &me.id.to_string(), &id).await
}

pub async fn delete_my_fido2_method(
    State(state): State<AppState>,
    me: SignedInUser,
    GraphPath(id): GraphPath<String>,
) -> Result<StatusCode, GraphError> {
    let id = method_id(&id, "fido2AuthenticationMethod")?;
    state.core.delete_fido2_method(&me.caller, &me.id.to_string(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_my_software_oath_methods(
    State(state): State<AppState>,
    me: SignedInUser,
    uri: OriginalUri,
    RawQuery(raw): RawQuery,
) -> Result<GraphBody, GraphError> {
    list_oath(&state, &me.caller, &uri, &me.id.to_string(), raw.as_deref()).await
}

pub async fn get_my_software_oath_method(
    State(state): State<AppState>,
    me: SignedInUser,
    uri: OriginalUri,
    GraphPath(id): GraphPath<String>,
) -> Result<GraphBody, GraphError> {
    get_oath(&state, &me.caller, &uri, &me.id.to_string(), &id).await
}

pub async fn delete_my_software_oath_method(
    State(state): State<AppState>,
    me: SignedInUser,
    GraphPath(id): GraphPath<String>,
) -> Result<StatusCode, GraphError> {
    let id = method_id(&id, "softwareOathAuthenticationMethod")?;
    state.core.delete_software_oath_method(&me.caller, &me.id.to_string(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
