//! `/auditLogs/directoryAudits`: newest first, paged.

use super::odata::parse_list_query;
use super::{GraphBody, collection, context_url, graph_time};
use crate::AppState;
use crate::auth::GraphCaller;
use crate::error::GraphError;
use axum::extract::{OriginalUri, RawQuery, State};
use latchkey_core::audit::{AuditRecord, Initiator, TargetResource};
use serde::Serialize;

/// Graph `directoryAudit`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryAuditResponse {
    pub id: String,
    pub category: String,
    pub correlation_id: String,
    pub result: String,
    pub result_reason: String,
    pub activity_display_name: String,
    pub activity_date_time: String,
    pub logged_by_service: String,
    pub operation_type: String,
    pub initiated_by: AuditActivityInitiator,
    pub target_resources: Vec<TargetResourceWire>,
    pub additional_details: Vec<KeyValue>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// Graph `auditActivityInitiator`: a user or an app. The CLI operator appears as an app
/// named after them, since Graph has no third kind.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditActivityInitiator {
    pub user: Option<UserIdentity>,
    pub app: Option<AppIdentity>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    pub id: String,
    pub user_principal_name: String,
    pub display_name: Option<String>,
    pub ip_address: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppIdentity {
    pub app_id: Option<String>,
    pub display_name: String,
    pub service_principal_id: Option<String>,
    pub service_principal_name: Option<String>,
}

/// Graph `targetResource`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetResourceWire {
    pub id: String,
    pub display_name: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub user_principal_name: Option<String>,
    pub modified_properties: Vec<ModifiedPropertyWire>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModifiedPropertyWire {
    pub display_name: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

impl From<&TargetResource> for TargetResourceWire {
    fn from(t: &TargetResource) -> Self {
        Self {
            id: t.id.clone(),
            display_name: t.display_name.clone(),
            kind: t.kind.clone(),
            user_principal_name: t.user_principal_name.clone(),
            modified_properties: t
                .modified_properties
                .iter()
                .map(|m| ModifiedPropertyWire {
                    display_name: m.display_name.clone(),
                    old_value: m.old_value.clone(),
                    new_value: m.new_value.clone(),
                })
                .collect(),
        }
    }
}

impl From<&AuditRecord> for DirectoryAuditResponse {
    fn from(a: &AuditRecord) -> Self {
        let initiated_by = match &a.initiated_by {
            Initiator::User { id, user_principal_name } => AuditActivityInitiator {
                user: Some(UserIdentity {
                    id: id.clone(),
                    user_principal_name: user_principal_name.clone(),
                    display_name: None,
                    ip_address: None,
                }),
                app: None,
            },
            Initiator::App { app_id, display_name } => AuditActivityInitiator {
                user: None,
                app: Some(AppIdentity {
                    app_id: Some(app_id.clone()),
                    display_name: display_name.clone(),
                    service_principal_id: None,
                    service_principal_name: None,
                }),
            },
            Initiator::Operator { name } => AuditActivityInitiator {
                user: None,
                app: Some(AppIdentity {
                    app_id: None,
                    display_name: format!("latchkey CLI ({name})"),
                    service_principal_id: None,
                    service_principal_name: None,
                }),
            },
        };
        Self {
            id: a.id.to_string(),
            category: a.category.clone(),
            correlation_id: a.id.to_string(),
            result: a.result.clone(),
            result_reason: a.result_reason.clone(),
            activity_display_name: a.activity_display_name.clone(),
            activity_date_time: graph_time(a.activity_date_time),
            logged_by_service: a.logged_by_service.clone(),
            operation_type: a.operation_type.clone(),
            initiated_by,
            target_resources: a.target_resources.iter().map(TargetResourceWire::from).collect(),
            additional_details: Vec::new(),
        }
    }
}

pub async fn list_directory_audits(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    RawQuery(raw): RawQuery,
) -> Result<GraphBody, GraphError> {
    let q = parse_list_query(raw.as_deref(), false)?;
    let listing = state.core.list_audit(&caller, q.page).await?;
    let items = listing
        .items
        .iter()
        .map(|a| serde_json::to_value(DirectoryAuditResponse::from(a)).unwrap_or_default())
        .collect();
    Ok(GraphBody::ok(collection(
        context_url(&state, &uri, "auditLogs/directoryAudits"),
        items,
        q.next_link(&state, &uri, listing.more),
        None,
    )))
}

/// Graph `signIn` (the parts latchkey records).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignInResponse {
    pub id: String,
    pub created_date_time: String,
    pub user_id: Option<String>,
    pub user_principal_name: String,
    pub app_id: Option<String>,
    pub app_display_name: Option<String>,
    pub ip_address: Option<String>,
    pub correlation_id: String,
    pub is_interactive: bool,
    pub status: SignInStatus,
    pub authentication_details: Vec<AuthenticationDetail>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignInStatus {
    pub error_code: i64,
    pub failure_reason: Option<String>,
    pub additional_details: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationDetail {
    pub authentication_method: String,
    pub succeeded: bool,
    pub authentication_step_result_detail: Option<String>,
}

impl From<&latchkey_core::session::SignInRecord> for SignInResponse {
    fn from(r: &latchkey_core::session::SignInRecord) -> Self {
        let succeeded = r.error_code == 0;
        Self {
            id: r.id.to_string(),
            created_date_time: graph_time(r.created_at),
            user_id: r.user_id.map(|u| u.to_string()),
            user_principal_name: r.user_principal_name.clone(),
            app_id: r.app_id.map(|a| a.to_string()),
            app_display_name: r.app_display_name.clone(),
            ip_address: r.ip_address.clone(),
            correlation_id: r.correlation_id.clone(),
            is_interactive: true,
            status: SignInStatus {
                error_code: r.error_code,
                failure_reason: r.failure_reason.clone(),
                additional_details: r.additional_details.clone(),
            },
            authentication_details: r
                .method
                .map(|m| AuthenticationDetail {
                    authentication_method: m.display_name().to_owned(),
                    succeeded,
                    authentication_step_result_detail: if succeeded {
                        Some("Correct credential entered".into())
                    } else {
                        r.failure_reason.clone()
                    },
                })
                .into_iter()
                .collect(),
        }
    }
}

pub async fn list_sign_ins(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    RawQuery(raw): RawQuery,
) -> Result<GraphBody, GraphError> {
    let q = parse_list_query(raw.as_deref(), false)?;
    let listing = state.core.list_sign_ins(&caller, q.page).await?;
    let items = listing
        .items
        .iter()
        .map(|r| serde_json::to_value(SignInResponse::from(r)).unwrap_or_default())
        .collect();
    Ok(GraphBody::ok(collection(
        context_url(&state, &uri, "auditLogs/signIns"),
        items,
        q.next_link(&state, &uri, listing.more),
        None,
    )))
}
