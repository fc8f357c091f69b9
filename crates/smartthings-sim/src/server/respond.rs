//! Answers every handler shares: the API's error bodies (seed 002) and a
//! JSON success.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub(super) fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("sim-{:08x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

pub(super) fn error_body(
    code: &str,
    message: &str,
    target: Option<&str>,
    details: Vec<Value>,
) -> Value {
    json!({
        "requestId": request_id(),
        "error": {"code": code, "message": message, "target": target, "details": details}
    })
}

/// An error response with the API's error body (seed 002).
pub(super) fn api_error(
    status: StatusCode,
    code: &str,
    message: &str,
    target: Option<&str>,
) -> Response {
    (
        status,
        axum::Json(error_body(code, message, target, Vec::new())),
    )
        .into_response()
}

pub(super) fn unprocessable(code: &str, message: String, target: Option<&str>) -> Response {
    let detail = json!({"code": code, "target": target, "message": message, "details": []});
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(error_body(
            "ConstraintViolationError",
            "The request is malformed.",
            target,
            vec![detail],
        )),
    )
        .into_response()
}

pub(super) fn not_found(what: &str, id: &str) -> Response {
    api_error(
        StatusCode::NOT_FOUND,
        "NotFoundError",
        &format!("{what} {id} not found"),
        Some(id),
    )
}

/// A refused request on its way out of a helper (boxed: a `Response` is
/// large, and most helpers succeed).
pub(super) struct Refusal(Box<Response>);

impl From<Response> for Refusal {
    fn from(response: Response) -> Self {
        Self(Box::new(response))
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

pub(super) fn ok(body: Value) -> Response {
    axum::Json(body).into_response()
}
