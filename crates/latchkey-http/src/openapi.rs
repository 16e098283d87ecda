//! The OpenAPI 3.1 document at `/openapi.json`.

use crate::AppState;
use axum::Json;
use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(info(
    title = "latchkey",
    description = "Graph-compatible Temporary Access Pass API. Every /v1.0 path is also served under /beta with the same behaviour."
))]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new().route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
