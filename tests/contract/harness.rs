//! Exact request matchers and the shared error-contract check.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use httpmock::MockServer;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use smartthings_ext::{Error, ErrorKind, RetryPolicy, SmartThings};

pub const TOKEN: &str = "contract-test-token-5f1d";

/// The client under contract: the SDK's full stack (smartthings-ext's
/// transport under the generated client) pointed at the mock. No retries, so
/// that each declared error reaches the caller as the server sent it.
pub fn client(server: &MockServer) -> SmartThings {
    SmartThings::builder()
        .token(TOKEN)
        .base_url(server.base_url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// The exact request an operation must send.
#[derive(Clone, Debug)]
pub struct Expect {
    method: &'static str,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
}

impl Expect {
    fn new(method: &'static str, path: &str) -> Self {
        Self {
            method,
            path: path.to_owned(),
            query: Vec::new(),
            body: None,
        }
    }

    pub fn get(path: &str) -> Self {
        Self::new("GET", path)
    }

    pub fn post(path: &str) -> Self {
        Self::new("POST", path)
    }

    pub fn put(path: &str) -> Self {
        Self::new("PUT", path)
    }

    pub fn patch(path: &str) -> Self {
        Self::new("PATCH", path)
    }

    pub fn delete(path: &str) -> Self {
        Self::new("DELETE", path)
    }

    /// One query pair; call again for a repeated parameter.
    pub fn query(mut self, key: &str, value: &str) -> Self {
        self.query.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Matchers that accept this request and nothing else: method, raw
    /// (percent-encoded) path, the whole query, headers and the JSON body.
    pub fn apply(&self, when: httpmock::When) -> httpmock::When {
        let path = self.path.clone();
        let mut query = self.query.clone();
        query.sort();
        let when = when
            .method(self.method)
            .is_true(move |req| req.uri().path() == path)
            .is_true(move |req| {
                let mut sent: Vec<(String, String)> =
                    url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
                        .into_owned()
                        .collect();
                sent.sort();
                sent == query
            })
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("accept", "application/json");
        match &self.body {
            Some(body) => when
                .header("content-type", "application/json;charset=utf-8")
                .json_body(body.clone()),
            None => when
                .header_missing("content-type")
                .is_true(|req| req.body_ref().is_empty()),
        }
    }
}

/// `json` as an operation's typed response, for the typed helpers'
/// `then.ok(&value)`. It must serialise back to exactly `json`, so that the
/// mock sends what the test shows and the type loses nothing of it.
pub fn typed<T: DeserializeOwned + Serialize>(json: Value) -> T {
    let value: T = serde_json::from_value(json.clone()).expect("decodes");
    assert_eq!(serde_json::to_value(&value).unwrap(), json, "round trip");
    value
}

fn resolved_spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../spec/resolved/smartthings-openapi.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    })
}

/// Every operation id of the spec after the overlay.
pub fn operation_ids() -> BTreeSet<String> {
    operations().map(|(id, _)| id).collect()
}

fn operations() -> impl Iterator<Item = (String, &'static Value)> {
    resolved_spec()["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| Some((op.get("operationId")?.as_str()?.to_owned(), op)))
}

/// The error statuses the spec declares for `operation_id`.
pub fn declared_error_statuses(operation_id: &str) -> Vec<u16> {
    let (_, op) = operations()
        .find(|(id, _)| id == operation_id)
        .unwrap_or_else(|| panic!("{operation_id} is not in the spec"));
    op["responses"]
        .as_object()
        .unwrap()
        .keys()
        .filter_map(|status| status.parse::<u16>().ok())
        .filter(|status| *status >= 400)
        .collect()
}

/// The API's error body for `status`, with `requestId` first so that it is in
/// the error's snippet (the start of the body).
fn error_body(status: u16) -> String {
    let error = json!({
        "code": format!("Code{status}"),
        "message": format!("Message for {status}"),
        "target": "deviceId",
        "details": [{
            "code": "Detail",
            "target": "commands[0]",
            "message": "outer detail",
            "details": [{"code": "Inner", "message": "retry in 1500 millis", "details": []}]
        }]
    });
    format!(r#"{{"requestId":"req-{status}-8d1c","error":{error}}}"#)
}

/// The kind the client must give a declared error status.
fn expected_kind(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        400 | 422 => ErrorKind::Validation,
        429 => ErrorKind::RateLimited,
        _ => panic!("no expected kind for a declared {status}: extend the harness"),
    }
}

/// For each error status the spec declares for the operation, the server
/// answers with the API's error body and the client's [`Error`] must
/// surface every field of it, typed, with the status and its kind.
///
/// This mock stays a raw `server.mock_async`: the loop is generic over the
/// operations, and each typed helper is a method of its own (see
/// `tests/README.md`).
pub async fn check_declared_errors<T, F, Fut>(operation_id: &str, expect: Expect, call: F)
where
    T: std::fmt::Debug,
    F: Fn(SmartThings) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let statuses = declared_error_statuses(operation_id);
    for required in [401, 403, 429] {
        assert!(
            statuses.contains(&required),
            "{operation_id} lacks {required}"
        );
    }
    for status in statuses {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                expect.apply(when);
                // The error carries no response headers, so this one is sent
                // (as the API does) but not asserted.
                then.status(status)
                    .header("content-type", "application/json")
                    .header("x-ratelimit-remaining", "0")
                    .body(error_body(status));
            })
            .await;
        let result = call(client(&server)).await;
        mock.assert_async().await;
        let error = match result {
            Err(error) => error,
            Ok(value) => panic!("{operation_id} {status}: expected an error, got {value:?}"),
        };
        let at = format!("{operation_id} {status}: {error}");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status), "{at}");
        assert_eq!(error.kind(), expected_kind(status), "{at}");
        assert_eq!(error.attempts(), 1, "{at}: RetryPolicy::none()");
        let request_id = format!("req-{status}-8d1c");
        assert_eq!(error.request_id(), Some(request_id.as_str()), "{at}");
        assert_eq!(error.code(), Some(format!("Code{status}").as_str()), "{at}");
        assert_eq!(error.message(), format!("Message for {status}"), "{at}");
        assert_eq!(error.target(), Some("deviceId"), "{at}");
        let details = error.details();
        assert_eq!(details.len(), 1, "{at}");
        assert_eq!(details[0].target.as_deref(), Some("commands[0]"), "{at}");
        assert_eq!(details[0].message.as_deref(), Some("outer detail"), "{at}");
        let inner = details[0].details.as_deref().expect("nested details");
        assert_eq!(
            inner[0].message.as_deref(),
            Some("retry in 1500 millis"),
            "{at}"
        );
        let snippet = error.snippet().expect("an error response has a snippet");
        assert!(
            snippet.contains(&format!(r#""requestId":"{request_id}""#)),
            "{at}: {snippet}"
        );
        let retry_after = (status == 429).then(|| Duration::from_millis(1500));
        assert_eq!(error.retry_after(), retry_after, "{at}: the nested hint");
    }
}
