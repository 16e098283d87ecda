//! `/domains` and `/domains/{id}/federationConfiguration` (Graph `domain`,
//! `internalDomainFederation`).

use super::json::{GraphJson, WireRequest};
use super::{GraphBody, GraphPath, collection, context_url, entity};
use crate::AppState;
use crate::auth::GraphCaller;
use crate::error::GraphError;
use axum::extract::{OriginalUri, State};
use latchkey_core::session::Domain;
use serde::{Deserialize, Serialize};

/// Graph `domain`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainResponse {
    pub id: String,
    pub authentication_type: &'static str,
    pub is_default: bool,
    pub is_initial: bool,
    pub is_root: bool,
    pub is_verified: bool,
    pub supported_services: Vec<String>,
}

impl DomainResponse {
    fn new(d: &Domain, primary: bool) -> Self {
        Self {
            id: d.id.clone(),
            authentication_type: if d.federation.is_some() { "Federated" } else { "Managed" },
            is_default: primary,
            is_initial: primary,
            is_root: true,
            is_verified: true,
            supported_services: Vec::new(),
        }
    }
}

/// `POST /domains` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDomainRequest {
    pub id: String,
}

impl WireRequest for CreateDomainRequest {
    const READ_ONLY: &'static [&'static str] = &[
        "authenticationType",
        "isDefault",
        "isInitial",
        "isRoot",
        "isVerified",
        "supportedServices",
    ];
    const GRAPH_TYPE: &'static str = "microsoft.graph.domain";
}

/// `POST /domains/{id}/federationConfiguration` body (Graph `internalDomainFederation`).
/// Properties latchkey does not use yet (certificates, MFA behaviour) are accepted so that
/// Entra scripts run, and ignored: completing federation is not implemented.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FederationRequest {
    pub display_name: String,
    pub issuer_uri: String,
    pub passive_sign_in_uri: String,
    pub metadata_exchange_uri: Option<String>,
    pub sign_out_uri: Option<String>,
    pub signing_certificate: Option<String>,
    pub preferred_authentication_protocol: Option<String>,
    pub federated_idp_mfa_behavior: Option<String>,
    pub is_signed_authentication_request_required: Option<bool>,
    pub active_sign_in_uri: Option<String>,
}

impl WireRequest for FederationRequest {
    const READ_ONLY: &'static [&'static str] = &["id"];
    const GRAPH_TYPE: &'static str = "microsoft.graph.internalDomainFederation";
}

/// Graph `internalDomainFederation` (the parts latchkey keeps).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FederationResponse {
    #[serde(rename = "@odata.type")]
    pub odata_type: &'static str,
    pub id: String,
    pub display_name: String,
    pub issuer_uri: String,
    pub passive_sign_in_uri: String,
    pub preferred_authentication_protocol: &'static str,
}

pub async fn list_domains(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
) -> Result<GraphBody, GraphError> {
    let items = state
        .core
        .list_domains(&caller)
        .await?
        .iter()
        .map(|(d, p)| serde_json::to_value(DomainResponse::new(d, *p)).unwrap_or_default())
        .collect();
    Ok(GraphBody::ok(collection(context_url(&state, &uri, "domains"), items, None, None)))
}

pub async fn get_domain(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphPath(id): GraphPath<String>,
) -> Result<GraphBody, GraphError> {
    let (d, primary) = state.core.get_domain(&caller, &id).await?;
    Ok(GraphBody::ok(entity(
        context_url(&state, &uri, "domains/$entity"),
        &DomainResponse::new(&d, primary),
    )))
}

pub async fn create_domain(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphJson(body): GraphJson<CreateDomainRequest>,
) -> Result<GraphBody, GraphError> {
    let d = state.core.add_domain(&caller, &body.id).await?;
    Ok(GraphBody::created(entity(
        context_url(&state, &uri, "domains/$entity"),
        &DomainResponse::new(&d, false),
    )))
}

pub async fn create_federation(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphPath(id): GraphPath<String>,
    GraphJson(body): GraphJson<FederationRequest>,
) -> Result<GraphBody, GraphError> {
    if body
        .preferred_authentication_protocol
        .as_deref()
        .is_some_and(|p| !p.eq_ignore_ascii_case("wsFed") && !p.eq_ignore_ascii_case("saml"))
    {
        return Err(GraphError::bad_request("preferredAuthenticationProtocol must be wsFed or saml."));
    }
    let d = state
        .core
        .federate_domain(&caller, &id, &body.passive_sign_in_uri, &body.issuer_uri, &body.display_name)
        .await?;
    let f = d
        .federation
        .as_ref()
        .ok_or_else(|| GraphError::from(latchkey_core::CoreError::Internal("federation not stored".into())))?;
    let response = FederationResponse {
        odata_type: "#microsoft.graph.internalDomainFederation",
        id: uuid::Uuid::new_v4().to_string(),
        display_name: f.display_name.clone(),
        issuer_uri: f.issuer_uri.clone(),
        passive_sign_in_uri: f.passive_sign_in_uri.clone(),
        preferred_authentication_protocol: if body
            .preferred_authentication_protocol
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("saml"))
        {
            "saml"
        } else {
            "wsFed"
        },
    };
    Ok(GraphBody::created(entity(
        context_url(&state, &uri, &format!("domains('{}')/federationConfiguration/$entity", d.id)),
        &response,
    )))
}
