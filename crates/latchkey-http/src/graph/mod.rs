//! The Graph-compatible API (graph-tap-spec.md), identical under `/v1.0` and `/beta`.

pub mod applications;
pub mod audit;
pub mod domains;
pub mod groups;
pub mod json;
pub mod methods;
pub mod odata;
pub mod passes;
pub mod policy;
pub mod roles;
pub mod users;

use crate::AppState;
use crate::error::GraphError;
use axum::Router;
use axum::extract::OriginalUri;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(users::list_users).post(users::create_user))
        .route(
            "/users/{user}",
            get(users::get_user).patch(users::update_user).delete(users::delete_user),
        )
        .route("/invitations", post(users::invite_user))
        .route("/groups", get(groups::list_groups).post(groups::create_group))
        .route("/groups/{group}", get(groups::get_group).delete(groups::delete_group))
        .route("/groups/{group}/members", get(groups::list_members))
        .route("/groups/{group}/members/$ref", post(groups::add_member))
        .route(
            "/groups/{group}/members/{member}/$ref",
            axum::routing::delete(groups::remove_member),
        )
        .route("/roleManagement/directory/roleDefinitions", get(roles::list_role_definitions))
        .route("/roleManagement/directory/roleDefinitions/{id}", get(roles::get_role_definition))
        .route(
            "/roleManagement/directory/roleAssignments",
            get(roles::list_role_assignments).post(roles::create_role_assignment),
        )
        .route(
            "/roleManagement/directory/roleAssignments/{id}",
            get(roles::get_role_assignment).delete(roles::delete_role_assignment),
        )
        .route("/users/{user}/authentication/methods", get(passes::list_methods))
        .route(
            "/users/{user}/authentication/temporaryAccessPassMethods",
            get(passes::list_passes).post(passes::create_pass),
        )
        .route(
            "/users/{user}/authentication/temporaryAccessPassMethods/{id}",
            get(passes::get_pass).delete(passes::delete_pass),
        )
        .route("/users/{user}/authentication/fido2Methods", get(methods::list_fido2_methods))
        .route(
            "/users/{user}/authentication/fido2Methods/{id}",
            get(methods::get_fido2_method).delete(methods::delete_fido2_method),
        )
        .route(
            "/users/{user}/authentication/softwareOathMethods",
            get(methods::list_software_oath_methods),
        )
        .route(
            "/users/{user}/authentication/softwareOathMethods/{id}",
            get(methods::get_software_oath_method).delete(methods::delete_software_oath_method),
        )
        .route("/me/authentication/fido2Methods", get(methods::list_my_fido2_methods))
        .route(
            "/me/authentication/fido2Methods/{id}",
            get(methods::get_my_fido2_method).delete(methods::delete_my_fido2_method),
        )
        .route(
            "/me/authentication/softwareOathMethods",
            get(methods::list_my_software_oath_methods),
        )
        .route(
            "/me/authentication/softwareOathMethods/{id}",
            get(methods::get_my_software_oath_method).delete(methods::delete_my_software_oath_method),
        )
        .route("/me", get(users::get_me))
        .route("/me/authentication/methods", get(passes::list_my_methods))
        .route("/me/authentication/temporaryAccessPassMethods", get(passes::list_my_passes))
        .route(
            "/me/authentication/temporaryAccessPassMethods/{id}",
            get(passes::get_my_pass).delete(passes::delete_my_pass),
        )
        .route("/policies/authenticationMethodsPolicy", get(policy::get_methods_policy))
        .route(
            "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
            get(policy::list_configurations),
        )
        .route(
            "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id}",
            get(policy::get_configuration)
                .patch(policy::update_configuration)
                .delete(policy::reset_configuration),
        )
        .route("/auditLogs/directoryAudits", get(audit::list_directory_audits))
        .route(
            "/applications",
            get(applications::list_applications).post(applications::create_application),
        )
        .route(
            "/applications/{application}",
            get(applications::get_application).delete(applications::delete_application),
        )
        .route("/applications/{application}/addPassword", post(applications::add_password))
        .route("/auditLogs/signIns", get(audit::list_sign_ins))
        .route("/domains", get(domains::list_domains).post(domains::create_domain))
        .route("/domains/{id}", get(domains::get_domain))
        .route("/domains/{id}/federationConfiguration", post(domains::create_federation))
}

/// A path parameter whose rejection (e.g. invalid UTF-8 after percent-decoding) renders
/// as a Graph error rather than axum's plain-text one.
#[derive(Debug)]
pub struct GraphPath<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for GraphPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = GraphError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Self(v))
            .map_err(|e| GraphError::bad_request(format!("The request path is not valid: {}.", e.body_text())))
    }
}

/// Which API version a request came in on, for `@odata.context` links.
#[must_use]
pub fn version_of(uri: &OriginalUri) -> &'static str {
    if uri.path().starts_with("/beta") { "beta" } else { "v1.0" }
}

/// `{public-url}/{version}/$metadata#{fragment}`.
#[must_use]
pub fn context_url(state: &AppState, uri: &OriginalUri, fragment: &str) -> String {
    format!("{}/{}/$metadata#{fragment}", state.public_url, version_of(uri))
}

/// Graph's timestamp form: UTC with `Z`.
#[must_use]
pub fn graph_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Graph's JSON content type.
pub const GRAPH_CONTENT_TYPE: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// A Graph JSON response.
#[derive(Debug)]
pub struct GraphBody {
    pub status: StatusCode,
    pub body: Value,
}

impl GraphBody {
    #[must_use]
    pub fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            body,
        }
    }
    #[must_use]
    pub fn created(body: Value) -> Self {
        Self {
            status: StatusCode::CREATED,
            body,
        }
    }
}

impl IntoResponse for GraphBody {
    fn into_response(self) -> Response {
        let bytes = serde_json::to_vec(&self.body).unwrap_or_default();
        (
            self.status,
            [
                (header::CONTENT_TYPE, GRAPH_CONTENT_TYPE),
                (header::HeaderName::from_static("odata-version"), "4.0"),
            ],
            bytes,
        )
            .into_response()
    }
}

/// Serializes a wire type and puts `@odata.context` first.
pub fn entity<T: serde::Serialize>(context: String, dto: &T) -> Value {
    let mut map = Map::new();
    map.insert("@odata.context".into(), Value::String(context));
    if let Ok(Value::Object(fields)) = serde_json::to_value(dto) {
        map.extend(fields);
    }
    Value::Object(map)
}

/// `{"@odata.context", ["@odata.count"], "value", ["@odata.nextLink"]}`.
pub fn collection(context: String, items: Vec<Value>, next_link: Option<String>, count: Option<u64>) -> Value {
    let mut map = Map::new();
    map.insert("@odata.context".into(), Value::String(context));
    if let Some(c) = count {
        map.insert("@odata.count".into(), Value::from(c));
    }
    map.insert("value".into(), Value::Array(items));
    if let Some(n) = next_link {
        map.insert("@odata.nextLink".into(), Value::String(n));
    }
    Value::Object(map)
}

/// Answers paths no route matches, with Graph's envelope.
pub async fn unknown_route(uri: axum::http::Uri) -> GraphError {
    GraphError::not_found_segment(uri.path())
}

pub async fn method_not_allowed() -> GraphError {
    GraphError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Request_BadRequest",
        "The HTTP method is not allowed on this resource.",
    )
}

/// A panic becomes a plain 500 with Graph's envelope; the panic text goes to the log only.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    GraphError::from(latchkey_core::CoreError::Internal(format!("panic: {detail}"))).into_response()
}
