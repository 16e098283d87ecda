//! Request bodies: JSON parsed strictly (unknown properties are a 400, as Graph does) but
//! tolerant of what SDKs send: OData annotations such as `@odata.type`, and read-only
//! properties echoed back from a previous response.

use crate::error::GraphError;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use bytes_ext::body_bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What a request type tolerates beyond its own fields.
pub trait WireRequest: DeserializeOwned {
    /// Read-only properties dropped silently when echoed back.
    const READ_ONLY: &'static [&'static str] = &[];
    /// Annotations the type reads itself (all other `@...` keys are dropped).
    const ANNOTATIONS: &'static [&'static str] = &[];
    /// The Graph type named in errors.
    const GRAPH_TYPE: &'static str;
}

/// A JSON body of type `T`, with Graph-style errors.
#[derive(Debug)]
pub struct GraphJson<T>(pub T);

mod bytes_ext {
    use super::GraphError;
    use axum::extract::{FromRequest, Request};
    use axum::http::StatusCode;

    pub async fn body_bytes(req: Request) -> Result<axum::body::Bytes, GraphError> {
        axum::body::Bytes::from_request(req, &()).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                GraphError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestEntityTooLarge",
                    format!("The request body is larger than {} bytes.", crate::MAX_BODY_BYTES),
                )
            } else {
                GraphError::bad_request("The request body could not be read.")
            }
        })
    }
}

impl<S: Send + Sync, T: WireRequest> FromRequest<S> for GraphJson<T> {
    type Rejection = GraphError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
            if !ct.starts_with("application/json") {
                return Err(GraphError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "BadRequest",
                    "The request body must be JSON (Content-Type: application/json).",
                ));
            }
        }
        let bytes = body_bytes(req).await?;
        parse::<T>(&bytes).map(Self)
    }
}

/// Parses a body for `T` by the rules above.
pub fn parse<T: WireRequest>(bytes: &[u8]) -> Result<T, GraphError> {
    let text = if bytes.is_empty() { b"{}".as_slice() } else { bytes };
    let value: Value =
        serde_json::from_slice(text).map_err(|e| GraphError::bad_request(format!("The request body is not valid JSON: {e}.")))?;
    let Value::Object(mut map) = value else {
        return Err(GraphError::bad_request(format!(
            "The request body must be a JSON object describing a {}.",
            T::GRAPH_TYPE
        )));
    };
    map.retain(|k, _| !T::READ_ONLY.contains(&k.as_str()) && (!k.starts_with('@') || T::ANNOTATIONS.contains(&k.as_str())));
    if let Some(k) = map.keys().find(|k| k.contains("@odata.") && !T::ANNOTATIONS.contains(&k.as_str())) {
        return Err(GraphError::bad_request(format!("The annotation '{k}' is not supported here.")));
    }
    serde_json::from_value(Value::Object(map)).map_err(|e| {
        let msg = e.to_string();
        if let Some(rest) = msg.strip_prefix("unknown field `") {
            let name = rest.split('`').next().unwrap_or_default();
            GraphError::bad_request(format!(
                "Property '{name}' does not exist on type '{}' or is not supported by latchkey.",
                T::GRAPH_TYPE
            ))
        } else {
            GraphError::bad_request(format!("Invalid {} in the request body: {msg}.", T::GRAPH_TYPE))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Probe {
        lifetime_in_minutes: Option<i64>,
    }
    impl WireRequest for Probe {
        const READ_ONLY: &'static [&'static str] = &["id"];
        const GRAPH_TYPE: &'static str = "microsoft.graph.probe";
    }

    #[test]
    fn annotations_and_echoed_read_only_properties_are_accepted() {
        let p: Probe = parse(br##"{"@odata.type":"#x","id":"abc","lifetimeInMinutes":60}"##).unwrap();
        assert_eq!(p.lifetime_in_minutes, Some(60));
        assert!(parse::<Probe>(b"").unwrap().lifetime_in_minutes.is_none());
    }

    #[test]
    fn unknown_properties_wrong_types_and_non_objects_are_refused() {
        let e = parse::<Probe>(br#"{"nope":1}"#).unwrap_err();
        assert!(e.message.contains("'nope'"), "{}", e.message);
        assert!(parse::<Probe>(br#"{"lifetimeInMinutes":"sixty"}"#).is_err());
        assert!(parse::<Probe>(b"[1]").is_err());
        assert!(parse::<Probe>(b"{").is_err());
        assert!(parse::<Probe>(br#"{"members@odata.bind":[]}"#).is_err());
    }
}
