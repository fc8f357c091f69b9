//! A test double for one operation, typed: the mock matches the request by
//! its parameters and answers with a typed body or a typed error.
//!
//! ```sh
//! cargo run -p smartthings-httpmock --example typed_mock
//! ```

use httpmock::MockServer;
use smartthings_ext::types::{Device, ErrorBody, ErrorDetail};
use smartthings_ext::{ErrorKind, RetryPolicy, SmartThings};
use smartthings_httpmock::MockServerExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = MockServer::start_async().await;
    let found = server.get_device(|when, then| {
        when.device_id("lamp");
        then.ok(&Device {
            device_id: Some("lamp".into()),
            label: Some("Desk lamp".into()),
            ..Default::default()
        });
    });
    let missing = server.get_device(|when, then| {
        when.device_id("gone");
        then.not_found(&ErrorBody {
            request_id: Some("req-1".into()),
            error: Some(ErrorDetail {
                code: Some("NotFoundError".into()),
                message: Some("no such device".into()),
                ..Default::default()
            }),
            ..Default::default()
        });
    });
    let client = SmartThings::builder()
        .token("test-token")
        .base_url(server.base_url())
        .retry(RetryPolicy::none())
        .build()?;

    let lamp = client.get_device().device_id("lamp").send().await?;
    println!("found {}", lamp.label.as_deref().unwrap_or("?"));
    let error = client
        .get_device()
        .device_id("gone")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    println!("{error}");
    found.assert_calls(1);
    missing.assert_calls(1);
    Ok(())
}
