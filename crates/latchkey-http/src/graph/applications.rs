//! `/applications`: application registrations, the OAuth clients (Graph `application`),
//! and `addPassword` for their client secrets.

use super::GraphPath;
use super::json::{GraphJson, WireRequest};
use super::odata::parse_list_query;
use super::{GraphBody, collection, context_url, entity, graph_time};
use crate::AppState;
use crate::auth::GraphCaller;
use crate::error::GraphError;
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, Utc};
use latchkey_core::ids::ApplicationObjectId;
use latchkey_core::tenant::{Application, ClientSecret, RedirectUris};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The only audience latchkey serves: accounts in this one tenant.
const SIGN_IN_AUDIENCE: &str = "AzureADMyOrg";

/// Graph `webApplication`, `spaApplication` and `publicClientApplication`: the part latchkey
/// keeps, the redirect URIs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedirectUrisResponse {
    pub redirect_uris: Vec<String>,
}

/// Graph `passwordCredential`. `secretText` holds the secret only in the `addPassword`
/// response; everywhere else it is `null`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordCredentialResponse {
    pub key_id: String,
    pub display_name: Option<String>,
    pub hint: String,
    pub secret_text: Option<String>,
    pub start_date_time: String,
    pub end_date_time: String,
}

impl PasswordCredentialResponse {
    fn new(s: &ClientSecret, secret_text: Option<String>) -> Self {
        Self {
            key_id: s.key_id.to_string(),
            display_name: s.display_name.clone(),
            hint: s.hint.clone(),
            secret_text,
            start_date_time: graph_time(s.created_at),
            end_date_time: graph_time(s.expires_at),
        }
    }
}

/// Graph `application` (the properties latchkey keeps). `appId` is the OAuth `client_id`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationResponse {
    pub id: String,
    pub app_id: String,
    pub display_name: String,
    pub created_date_time: String,
    /// Always `AzureADMyOrg`: latchkey serves one tenant.
    pub sign_in_audience: &'static str,
    pub web: RedirectUrisResponse,
    pub spa: RedirectUrisResponse,
    pub public_client: RedirectUrisResponse,
    pub password_credentials: Vec<PasswordCredentialResponse>,
}

const APPLICATION_PROPERTIES: &[&str] = &[
    "id",
    "appId",
    "displayName",
    "createdDateTime",
    "signInAudience",
    "web",
    "spa",
    "publicClient",
    "passwordCredentials",
];

impl From<&Application> for ApplicationResponse {
    fn from(a: &Application) -> Self {
        let uris = |u: &Vec<String>| RedirectUrisResponse { redirect_uris: u.clone() };
        Self {
            id: a.id.to_string(),
            app_id: a.app_id.to_string(),
            display_name: a.display_name.clone(),
            created_date_time: graph_time(a.created_at),
            sign_in_audience: SIGN_IN_AUDIENCE,
            web: uris(&a.redirect_uris.web),
            spa: uris(&a.redirect_uris.spa),
            public_client: uris(&a.redirect_uris.public_client),
            password_credentials: a.secrets.iter().map(|s| PasswordCredentialResponse::new(s, None)).collect(),
        }
    }
}

/// The `web`, `spa` or `publicClient` object of a `POST /applications` body.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RedirectUrisRequest {
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// What .NET SDKs write on nested objects (`#microsoft.graph.webApplication`); ignored.
    #[serde(rename = "@odata.type", default)]
    #[schema(ignore)]
    pub odata_type: Option<String>,
}

/// `POST /applications` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateApplicationRequest {
    pub display_name: String,
    /// `AzureADMyOrg` or absent: latchkey serves one tenant.
    pub sign_in_audience: Option<String>,
    pub web: Option<RedirectUrisRequest>,
    pub spa: Option<RedirectUrisRequest>,
    pub public_client: Option<RedirectUrisRequest>,
}

impl WireRequest for CreateApplicationRequest {
    const READ_ONLY: &'static [&'static str] = &["id", "appId", "createdDateTime", "passwordCredentials"];
    const GRAPH_TYPE: &'static str = "microsoft.graph.application";
}

/// The `passwordCredential` of an `addPassword` body. The server makes the secret, its
/// key id and hint, and starts it now: values for those are refused rather than ignored,
/// so nobody believes they chose one; `null` (an SDK echo) is fine.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordCredentialRequest {
    pub display_name: Option<String>,
    /// What .NET SDKs write on nested objects (`#microsoft.graph.passwordCredential`); ignored.
    #[serde(rename = "@odata.type", default)]
    #[schema(ignore)]
    pub odata_type: Option<String>,
    /// Any RFC 3339 form; at most 2 years ahead, default 2 years.
    pub end_date_time: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub start_date_time: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub key_id: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub hint: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub secret_text: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub custom_key_identifier: Option<Value>,
}

/// `POST /applications/{id}/addPassword` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AddPasswordRequest {
    pub password_credential: Option<PasswordCredentialRequest>,
}

impl WireRequest for AddPasswordRequest {
    const GRAPH_TYPE: &'static str = "microsoft.graph.passwordCredential";
}

/// An object id in the path; anything but a GUID names no application.
fn application_id(raw: &str) -> Result<ApplicationObjectId, GraphError> {
    raw.parse().map_err(|_| {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!("Invalid object identifier '{}'.", raw.chars().take(60).collect::<String>()),
        )
    })
}

fn application_context(state: &AppState, uri: &OriginalUri) -> String {
    context_url(state, uri, "applications/$entity")
}

pub async fn list_applications(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    RawQuery(raw): RawQuery,
) -> Result<GraphBody, GraphError> {
    let q = parse_list_query(raw.as_deref(), false)?;
    let listing = state.core.list_applications(&caller, q.page).await?;
    let mut items: Vec<_> = listing
        .items
        .iter()
        .map(|a| serde_json::to_value(ApplicationResponse::from(a)).unwrap_or_default())
        .collect();
    q.apply_select(&mut items, APPLICATION_PROPERTIES)?;
    Ok(GraphBody::ok(collection(
        context_url(&state, &uri, "applications"),
        items,
        q.next_link(&state, &uri, listing.more),
        None,
    )))
}

pub async fn get_application(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphPath(id): GraphPath<String>,
) -> Result<GraphBody, GraphError> {
    let app = state.core.get_application(&caller, application_id(&id)?).await?;
    Ok(GraphBody::ok(entity(
        application_context(&state, &uri),
        &ApplicationResponse::from(&app),
    )))
}

pub async fn create_application(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphJson(body): GraphJson<CreateApplicationRequest>,
) -> Result<GraphBody, GraphError> {
    if body.sign_in_audience.as_deref().is_some_and(|a| a != SIGN_IN_AUDIENCE) {
        return Err(GraphError::bad_request(
            "latchkey serves one tenant: signInAudience must be AzureADMyOrg or absent.",
        ));
    }
    let uris = |r: Option<RedirectUrisRequest>| r.unwrap_or_default().redirect_uris;
    let redirect_uris = RedirectUris {
        web: uris(body.web),
        spa: uris(body.spa),
        public_client: uris(body.public_client),
    };
    let app = state.core.create_application(&caller, &body.display_name, redirect_uris).await?;
    Ok(GraphBody::created(entity(
        application_context(&state, &uri),
        &ApplicationResponse::from(&app),
    )))
}

pub async fn delete_application(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    GraphPath(id): GraphPath<String>,
) -> Result<StatusCode, GraphError> {
    state.core.delete_application(&caller, application_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Graph answers `addPassword` with 200 and the new `passwordCredential`, the only place its
/// `secretText` appears.
pub async fn add_password(
    State(state): State<AppState>,
    GraphCaller(caller): GraphCaller,
    uri: OriginalUri,
    GraphPath(id): GraphPath<String>,
    GraphJson(body): GraphJson<AddPasswordRequest>,
) -> Result<GraphBody, GraphError> {
    let id = application_id(&id)?;
    let credential = body.password_credential.unwrap_or_default();
    for (name, value) in [
        ("startDateTime", &credential.start_date_time),
        ("keyId", &credential.key_id),
        ("hint", &credential.hint),
        ("secretText", &credential.secret_text),
        ("customKeyIdentifier", &credential.custom_key_identifier),
    ] {
        if value.as_ref().is_some_and(|v| !v.is_null()) {
            return Err(GraphError::bad_request(format!(
                "passwordCredential.{name} is set by the server and cannot be chosen."
            )));
        }
    }
    let issued = state
        .core
        .add_password(
            &caller,
            id,
            credential.display_name.as_deref(),
            credential.end_date_time.map(|t| t.with_timezone(&Utc)),
        )
        .await?;
    Ok(GraphBody::ok(entity(
        context_url(&state, &uri, "microsoft.graph.passwordCredential"),
        &PasswordCredentialResponse::new(&issued.secret, Some(issued.text.expose().to_owned())),
    )))
}
