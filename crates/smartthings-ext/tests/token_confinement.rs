//! The token goes to the configured origin in the Authorization header and
//! nowhere else: not into Debug output, errors or traces at any level. In a
//! binary of its own, so that no other test's thread shares the tracing
//! callsite cache while the capturing subscriber is installed.

mod support;

use serde_json::json;
use smartthings_ext::{ErrorKind, SmartThings};
use support::oauth::Captured;
use support::{Reply, TOKEN, client, scripted};

fn device(id: &str) -> serde_json::Value {
    json!({"deviceId": id, "label": format!("Device {id}"), "type": "VIPER"})
}

#[tokio::test]
async fn the_token_appears_in_no_debug_output_error_or_trace() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        // Plain text: with colours on, escape codes split the fields.
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();

    let server = scripted(vec![
        Reply::json(200, device("d1")),
        Reply::json(
            401,
            json!({"requestId": "r1", "error": {"code": "Unauthorized", "message": "bad token"}}),
        ),
        Reply::raw(200, "text/html", "<html>oops</html>"),
    ])
    .await;
    let client = client(&server.base);
    client.get_device().device_id("d1").send().await.unwrap();
    let unauthorized = client
        .get_device()
        .device_id("d1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(unauthorized.kind(), ErrorKind::Unauthorized);
    let decode = client
        .get_device()
        .device_id("d1")
        .send()
        .await
        .unwrap_err();
    let config = SmartThings::builder()
        .token(TOKEN)
        .base_url("http://example.com/v1")
        .build()
        .unwrap_err();

    // The token was really sent...
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    // ...and is nowhere else.
    let traces = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        traces.contains("smartthings.request"),
        "spans were traced: {traces}"
    );
    assert!(traces.contains("operation=\"get_device\""), "{traces}");
    for (what, text) in [
        ("client Debug", format!("{client:?}")),
        ("401 Debug", format!("{unauthorized:?}")),
        ("401 Display", unauthorized.to_string()),
        ("decode Debug", format!("{decode:?}")),
        ("config Debug", format!("{config:?}")),
        ("traces", traces),
    ] {
        assert!(
            !text.contains(TOKEN),
            "the token leaked into {what}: {text}"
        );
    }
}
