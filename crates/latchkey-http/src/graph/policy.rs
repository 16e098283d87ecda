//! `/policies/authenticationMethodsPolicy` and its Temporary Access Pass configuration
//! (graph-tap-spec.md §2).

use super::GraphPath;
use super::json::{GraphJson, WireRequest};
use super::{GraphBody, collection, context_url, entity};
use crate::AppState;
use crate::auth::GraphCaller;
use crate::error::GraphError;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use latchkey_core::policy::{PolicyChange, PolicyState, PolicyTarget, TapPolicy};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const TAP_CONFIGURATION_ID: &str = "TemporaryAccessPass";
pub const TAP_CONFIGURATION_TYPE: &str = "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration";

/// Graph `authenticationMethodTarget` (include) / `excludeTarget` (exclude).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TargetWire {
    pub target_type: String,
    pub id: String,
    /// Include targets only; meaningless for passes and always false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_registration_required: Option<bool>,
}

/// Graph `temporaryAccessPassAuthenticationMethodConfiguration`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TapConfigurationResponse {
    #[serde(rename = "@odata.type")]
    pub odata_type: &'static str,
    pub id: &'static str,
    pub state: &'static str,
    pub default_lifetime_in_minutes: u32,
    pub default_length: u32,
    pub minimum_lifetime_in_minutes: u32,
    pub maximum_lifetime_in_minutes: u32,
    pub is_usable_once: bool,
    pub include_targets: Vec<TargetWire>,
    pub exclude_targets: Vec<TargetWire>,
}

impl From<&TapPolicy> for TapConfigurationResponse {
    fn from(p: &TapPolicy) -> Self {
        let wire = |t: &PolicyTarget, include: bool| TargetWire {
            target_type: t.target_type().into(),
            id: t.id_string(),
            is_registration_required: include.then_some(false),
        };
        Self {
            odata_type: TAP_CONFIGURATION_TYPE,
            id: TAP_CONFIGURATION_ID,
            state: match p.state {
                PolicyState::Enabled => "enabled",
                PolicyState::Disabled => "disabled",
            },
            default_lifetime_in_minutes: p.default_lifetime_in_minutes,
            default_length: p.default_length,
            minimum_lifetime_in_minutes: p.minimum_lifetime_in_minutes,
            maximum_lifetime_in_minutes: p.maximum_lifetime_in_minutes,
            is_usable_once: p.is_usable_once,
            include_targets: p.include_targets.iter().map(|t| wire(t, true)).collect(),
            exclude_targets: p.exclude_targets.iter().map(|t| wire(t, false)).collect(),
        }
    }
}

/// `PATCH` body: a partial update. `@odata.type`, when sent (the SDK always sends it),
/// must name the TAP configuration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateTapConfigurationRequest {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub state: Option<String>,
    pub default_lifetime_in_minutes: Option<i64>,
    pub default_length: Option<i64>,
    pub minimum_lifetime_in_minutes: Option<i64>,
    pub maximum_lifetime_in_minutes: Option<i64>,
    pub is_usable_once: Option<bool>,
    pub include_targets: Option<Vec<TargetWire>>,
    pub exclude_targets: Option<Vec<TargetWire>>,
}

impl WireRequest for UpdateTapConfigurationRequest {
    const READ_ONLY: &'static [&'static str] = &["id", "includeTargets@odata.context"];
    const ANNOTATIONS: &'static [&'static str] = &["@odata.type"];
    const GRAPH_TYPE: &'static str = "microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration";
}

fn check_key(id: &str) -> Result<(), GraphError> {
    if id.eq_ignore_ascii_case(TAP_CONFIGURATION_ID) {
        Ok(())
    } else {
        Err(GraphError::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "latchkey has no authentication method configuration '{}': only TemporaryAccessPass.",
                id.chars().take(60).collect::<String>()
            ),
        ))
    }
}

fn targets(list: Option<Vec<TargetWire>>) -> Result<Option<Vec<PolicyTarget>>, GraphError> {
    list.map(|ts| {
        ts.iter()
            .map(|t| PolicyTarget::parse(&t.target_type, &t.id).map_err(GraphError::from))
            .collect()
    })
    .transpose()
}

fn configuration_body(state: &AppState, uri: &OriginalUri, p: &TapPolicy) -> Value {
    let mut body = entity(
        context_url(state, uri, "authenticationMethodConfigurations/$entity"),
        &TapConfigurationResponse::from(p),
    );
    if let Value::Object(m) = &mut body {
        m.insert("includeTargets@odata.context".into(), Value::String(context_url(state, uri, "policies/authenticationMethodsPolicy/authenticationMethodConfigurations('TemporaryAccessPass')/microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration/includeTargets")));
    }
    body
}

pub async fn get_configuration(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphPath(id): GraphPath<String>,
) -> Result<GraphBody, GraphError> {
    check_key(&id)?;
    let p = state.core.get_policy(&caller).await?;
    Ok(GraphBody::ok(configuration_body(&state, &uri, &p)))
}

pub async fn update_configuration(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    GraphPath(id): GraphPath<String>,
    GraphJson(body): GraphJson<UpdateTapConfigurationRequest>,
) -> Result<StatusCode, GraphError> {
    check_key(&id)?;
    if let Some(t) = &body.odata_type
        && !t
            .trim_start_matches('#')
            .eq_ignore_ascii_case(TAP_CONFIGURATION_TYPE.trim_start_matches('#'))
    {
        return Err(GraphError::bad_request(format!("@odata.type must be {TAP_CONFIGURATION_TYPE}.")));
    }
    let state_change = match body.state.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => None,
        Some("enabled") => Some(PolicyState::Enabled),
        Some("disabled") => Some(PolicyState::Disabled),
        Some(_) => return Err(GraphError::bad_request("state must be 'enabled' or 'disabled'.")),
    };
    let change = PolicyChange {
        state: state_change,
        include_targets: targets(body.include_targets)?,
        exclude_targets: targets(body.exclude_targets)?,
        minimum_lifetime_in_minutes: body.minimum_lifetime_in_minutes,
        maximum_lifetime_in_minutes: body.maximum_lifetime_in_minutes,
        default_lifetime_in_minutes: body.default_lifetime_in_minutes,
        default_length: body.default_length,
        is_usable_once: body.is_usable_once,
    };
    state.core.update_policy(&caller, change).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn reset_configuration(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    GraphPath(id): GraphPath<String>,
) -> Result<StatusCode, GraphError> {
    check_key(&id)?;
    state.core.reset_policy(&caller).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_configurations(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
) -> Result<GraphBody, GraphError> {
    let p = state.core.get_policy(&caller).await?;
    let item = serde_json::to_value(TapConfigurationResponse::from(&p)).unwrap_or_default();
    Ok(GraphBody::ok(collection(
        context_url(
            &state,
            &uri,
            "policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
        ),
        vec![item],
        None,
        None,
    )))
}

/// Graph `authenticationMethodsPolicy`, with its configurations expanded.
pub async fn get_methods_policy(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
) -> Result<GraphBody, GraphError> {
    let p = state.core.get_policy(&caller).await?;
    let body = serde_json::json!({
        "@odata.context": context_url(&state, &uri, "policies/authenticationMethodsPolicy/$entity"),
        "id": "authenticationMethodsPolicy",
        "displayName": "Authentication Methods Policy",
        "description": "The tenant-wide policy that controls which authentication methods users may use.",
        "policyVersion": "1.5",
        "policyMigrationState": "migrationComplete",
        "reconfirmationInDays": 0,
        "authenticationMethodConfigurations@odata.context": context_url(&state, &uri, "policies/authenticationMethodsPolicy/authenticationMethodConfigurations"),
        "authenticationMethodConfigurations": [TapConfigurationResponse::from(&p)],
    });
    Ok(GraphBody::ok(body))
}
