//! Reading a request: query parameters (repeats kept) and JSON bodies.

use axum::body::Bytes;
use axum::http::Uri;
use serde_json::Value;

use super::respond::{Refusal, unprocessable};

/// The query as ordered pairs (repeated parameters kept).
pub(super) fn query(uri: &Uri) -> Vec<(String, String)> {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

pub(super) fn param<'q>(query: &'q [(String, String)], name: &str) -> Option<&'q str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(super) fn params<'q>(query: &'q [(String, String)], name: &str) -> Vec<&'q str> {
    query
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

pub(super) fn json_body(body: &Bytes) -> Result<Value, Refusal> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| {
            unprocessable("InvalidBody", "the body must be a JSON object".into(), None).into()
        })
}
