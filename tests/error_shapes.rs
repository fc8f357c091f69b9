//! Every shape an error response takes, through a generated operation
//! called the public way (`client.get_device().device_id(..).send()`): the
//! status decides the kind, the body adds what it can, and the request id,
//! the status and the start of the body always reach the caller.

use std::net::TcpListener;
use std::time::Duration;

use httpmock::MockServer;
use serde_json::json;
use smartthings_ext::{Error, ErrorKind, RetryPolicy, SmartThings};
use smartthings_httpmock::MockServerExt;

const DEVICE: &str = "80e26532-85d4-484c-b012-1c04f3d35f95";
const HTML: &str = "<html><head><title>502 Bad Gateway</title></head>\
                    <body><h1>Bad Gateway</h1></body></html>";

fn client(base_url: &str, retry: RetryPolicy) -> SmartThings {
    SmartThings::builder()
        .token("error-shapes-token")
        .base_url(base_url)
        .retry(retry)
        .build()
        .unwrap()
}

/// `getDevice` answered once with `status`, `headers` and `body`: the error.
async fn get_device_error(status: u16, headers: &[(&str, &str)], body: &str) -> Error {
    let server = MockServer::start_async().await;
    let mock = server.get_device(|when, then| {
        when.device_id(DEVICE);
        let then = headers
            .iter()
            .fold(then.into_inner().status(status), |t, (k, v)| {
                t.header(*k, *v)
            });
        then.body(body);
    });
    let result = client(&server.base_url(), RetryPolicy::none())
        .get_device()
        .device_id(DEVICE)
        .send()
        .await;
    mock.assert();
    let error = result.expect_err("an error");
    assert_eq!(error.attempts(), 1, "{error}");
    error
}

/// The API's error body, `requestId` first as the API sends it.
fn api_error(status: u16) -> String {
    let error = json!({
        "code": format!("Code{status}"),
        "message": format!("Message {status}"),
        "target": "deviceId",
        "details": [{"code": "Inner", "message": "inner detail"}]
    });
    format!(r#"{{"requestId":"req-{status}","error":{error}}}"#)
}

/// The start of `body`, as the error shows it.
fn starts(snippet: &str, body: &str) -> bool {
    body.starts_with(snippet.trim_end_matches('…'))
}

const JSON: (&str, &str) = ("content-type", "application/json");

/// A JSON error body: every field is read, whatever the status.
async fn check_json_error(status: u16, kind: ErrorKind) {
    let body = api_error(status);
    let error = get_device_error(status, &[JSON], &body).await;
    assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
    assert_eq!(error.kind(), kind, "{error}");
    assert_eq!(error.request_id(), Some(format!("req-{status}").as_str()));
    assert_eq!(error.code(), Some(format!("Code{status}").as_str()));
    assert_eq!(error.message(), format!("Message {status}"));
    assert_eq!(error.target(), Some("deviceId"));
    assert_eq!(error.details()[0].message.as_deref(), Some("inner detail"));
    let snippet = error.snippet().unwrap();
    assert!(starts(snippet, &body), "{snippet}");
    assert!(snippet.contains(&format!(r#""requestId":"req-{status}""#)));
}

#[tokio::test]
async fn a_documented_404_with_the_api_error_body() {
    let server = MockServer::start_async().await;
    let body = serde_json::from_value(json!({
        "requestId": "req-404",
        "error": {"code": "NotFoundError", "message": "Device not found", "target": "deviceId"}
    }))
    .unwrap();
    let mock = server.get_device(|when, then| {
        when.device_id(DEVICE);
        then.not_found(&body);
    });
    let error = client(&server.base_url(), RetryPolicy::none())
        .get_device()
        .device_id(DEVICE)
        .send()
        .await
        .unwrap_err();
    mock.assert();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(error.request_id(), Some("req-404"));
    assert_eq!(error.code(), Some("NotFoundError"));
    assert_eq!(error.message(), "Device not found");
    assert_eq!(error.target(), Some("deviceId"));
    let sent = serde_json::to_string(&body).unwrap();
    assert_eq!(error.snippet(), Some(sent.as_str()));
}

#[tokio::test]
async fn undocumented_409_and_418_with_a_json_body_are_read_in_full() {
    check_json_error(409, ErrorKind::Http).await;
    check_json_error(418, ErrorKind::Http).await;
}

#[tokio::test]
async fn undocumented_500_and_503_with_a_json_body_are_read_in_full() {
    check_json_error(500, ErrorKind::Server).await;
    check_json_error(503, ErrorKind::Server).await;
}

#[tokio::test]
async fn a_502_html_page_keeps_the_header_request_id_and_the_page() {
    let headers = [("content-type", "text/html"), ("x-request-id", "hdr-502")];
    let error = get_device_error(502, &headers, HTML).await;
    assert_eq!(error.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(error.kind(), ErrorKind::Server);
    assert_eq!(error.request_id(), Some("hdr-502"));
    assert_eq!(error.code(), None);
    let snippet = error.snippet().unwrap();
    assert!(snippet.starts_with("<html>"), "{snippet}");
    assert!(snippet.contains("Bad Gateway"), "{snippet}");
}

#[tokio::test]
async fn a_401_or_403_html_page_is_typed_by_its_status() {
    for (status, kind) in [(401, ErrorKind::Unauthorized), (403, ErrorKind::Forbidden)] {
        let error = get_device_error(status, &[("content-type", "text/html")], HTML).await;
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(error.kind(), kind, "{error}");
        assert_eq!(error.request_id(), None, "neither body nor header has one");
        assert!(error.snippet().unwrap().starts_with("<html>"), "{error}");
    }
}

/// A JSON error body of an undocumented shape fails the error type, and
/// must never be decoded again as the success type (a device takes any
/// object: every field is optional, unknown ones are kept).
#[tokio::test]
async fn an_error_body_of_another_shape_is_never_taken_for_the_answer() {
    let body = r#"{"error": "Forbidden"}"#;
    for (status, kind) in [(403, ErrorKind::Forbidden), (404, ErrorKind::NotFound)] {
        let error = get_device_error(status, &[JSON], body).await;
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(error.kind(), kind, "{error}");
        assert_eq!(error.snippet(), Some(body), "{error}");
    }
}

#[tokio::test]
async fn an_empty_body_keeps_its_status_and_kind() {
    for (status, kind) in [
        (404, ErrorKind::NotFound),
        (429, ErrorKind::RateLimited),
        (500, ErrorKind::Server),
    ] {
        let error = get_device_error(status, &[], "").await;
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(error.kind(), kind, "{error}");
        assert_eq!(error.request_id(), None);
        assert_eq!(error.snippet(), Some("(empty body)"));
    }
}

#[tokio::test]
async fn a_truncated_json_error_body_is_shown_and_the_header_id_kept() {
    let body = r#"{"requestId":"abc","error":{"co"#;
    let error = get_device_error(400, &[JSON, ("x-request-id", "hdr-400")], body).await;
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(error.kind(), ErrorKind::Validation);
    assert_eq!(error.request_id(), Some("hdr-400"));
    assert_eq!(error.code(), None);
    assert_eq!(error.snippet(), Some(body));
}

#[tokio::test]
async fn a_200_with_invalid_json_is_a_decode_error() {
    let body = r#"{"deviceId":"80e26532","label":"Lamp","compo"#;
    let error = get_device_error(200, &[JSON, ("x-request-id", "hdr-200")], body).await;
    assert_eq!(error.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert_eq!(error.request_id(), Some("hdr-200"));
    assert_eq!(error.snippet(), Some(body));
}

#[tokio::test]
async fn a_refused_connection_reports_every_attempt() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let retry = RetryPolicy::default()
        .max_attempts(3)
        .backoff(Duration::from_millis(1), Duration::from_millis(10));
    let client = client(&format!("http://127.0.0.1:{port}"), retry);
    let error = client
        .get_device()
        .device_id(DEVICE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    assert_eq!(error.attempts(), 3, "{error}");
    assert_eq!(client.metrics().requests, 3);
    assert_eq!(client.metrics().retries, 2);
    assert_eq!(error.status(), None);
    assert_eq!(error.request_id(), None);
    assert_eq!(error.snippet(), None);
}
