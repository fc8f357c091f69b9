//! Proxy variables in the environment never see a request: with
//! `HTTP_PROXY` set, a loopback base URL used to send the bearer token to the
//! proxy in clear. (Its own test binary: it sets process-wide variables.)

mod support;

use serde_json::json;
use smartthings_ext::SmartThings;
use support::{Reply, TOKEN, scripted};

#[tokio::test]
async fn proxy_variables_are_ignored_and_the_token_goes_only_to_the_server() {
    let proxy = scripted(vec![]).await;
    let proxy_url = proxy.base.trim_end_matches("/v1").to_owned();
    // SAFETY: this binary has this one test; nothing else reads the
    // environment concurrently.
    unsafe {
        for name in [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            std::env::set_var(name, &proxy_url);
        }
        std::env::remove_var("NO_PROXY");
        std::env::remove_var("no_proxy");
    }
    let server = scripted(vec![Reply::json(200, json!({"deviceId": "d1"}))]).await;
    let client = SmartThings::builder()
        .token(TOKEN)
        .base_url(&server.base)
        .https_proxy(&proxy_url)
        .build()
        .unwrap();
    let device = client.get_device().device_id("d1").send().await.unwrap();
    assert_eq!(device.device_id.as_deref(), Some("d1"));
    assert_eq!(server.requests().len(), 1);
    assert!(
        proxy.requests().is_empty(),
        "the proxy saw {:?}",
        proxy.requests()
    );
}
