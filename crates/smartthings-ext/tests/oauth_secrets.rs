//! OAuth secrets (client secret, authorization code, access and refresh
//! tokens) appear in no `Debug` output, error or trace at any level. In a
//! binary of its own, so that no other test's thread shares the tracing
//! callsite cache while the capturing subscriber is installed.

mod support;

use std::sync::Arc;
use std::time::Duration;

use smartthings_ext::{MemoryStore, RetryPolicy};
use support::oauth::{Captured, REDIRECT, app, believed, client, simulator};

#[tokio::test]
async fn no_secret_reaches_debug_output_errors_or_traces() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();

    let sim = simulator(Duration::from_secs(3600), |config| {
        config.oauth.revoke_family_on_reuse = false;
    })
    .await;
    let (client_id, secret) = sim.oauth_client();
    let app = app(&sim);
    let code = sim
        .authorize(app.client_id(), REDIRECT, "r:locations:*")
        .unwrap();
    let tokens = app
        .exchange_code(&reqwest::Client::new(), &code, &RetryPolicy::default())
        .await
        .unwrap();
    let store = Arc::new(MemoryStore::new(believed(&tokens, Duration::ZERO)));
    let api = client(&sim, app.clone(), store.clone());
    api.list_locations().send().await.unwrap();
    let rotated = store.current().unwrap();
    // A spent refresh token and a spent code, for the error paths.
    let spent = client(
        &sim,
        app.clone(),
        MemoryStore::new(believed(&tokens, Duration::ZERO)),
    );
    let refresh_error = spent.list_locations().send().await.unwrap_err();
    let code_error = app
        .exchange_code(&reqwest::Client::new(), &code, &RetryPolicy::default())
        .await
        .unwrap_err();

    let mut shown = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for text in [
        format!("{api:?}"),
        format!("{app:?}"),
        format!("{tokens:?} {rotated:?}"),
        format!("{refresh_error} {refresh_error:?}"),
        format!("{code_error} {code_error:?}"),
        format!("{:?}", app.authorization_request().unwrap()),
    ] {
        shown.push_str(&text);
    }
    assert!(
        shown.contains("access token refreshed"),
        "no trace captured"
    );
    for secret in [
        secret.to_owned(),
        code.clone(),
        tokens.access_token().expose().to_owned(),
        tokens.expose_refresh_token().unwrap().to_owned(),
        rotated.access_token().expose().to_owned(),
        rotated.expose_refresh_token().unwrap().to_owned(),
    ] {
        assert!(!shown.contains(&secret), "a secret was shown: {shown}");
    }
    assert!(shown.contains(client_id), "the client id is not secret");
}
