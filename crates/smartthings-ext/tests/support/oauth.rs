//! An OAuth-enabled simulator and a session on it, as `st login` gets one.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use smartthings_ext::{OAuthApp, RateLimitPolicy, RetryPolicy, SmartThings, TokenSet, TokenStore};
use smartthings_sim::{Config, Home, OAuthConfig, Simulator};

pub const REDIRECT: &str = "http://127.0.0.1:9/callback";

pub async fn simulator(lifetime: Duration, configure: impl FnOnce(&mut Config)) -> Simulator {
    let mut config = Config {
        rate_limits: false,
        oauth: OAuthConfig {
            access_token_lifetime: lifetime,
            ..OAuthConfig::default()
        },
        ..Config::default()
    };
    configure(&mut config);
    Simulator::start(Home::demo(), config).await.unwrap()
}

pub fn app(sim: &Simulator) -> OAuthApp {
    let (id, secret) = sim.oauth_client();
    OAuthApp::new(id, secret)
        .token_url(sim.token_url())
        .authorize_url(sim.authorize_url())
        .redirect_uri(REDIRECT)
        .scopes(["r:devices:*", "r:locations:*", "x:devices:*"])
}

/// A fresh session, as `st login` would get it.
pub async fn login(sim: &Simulator, app: &OAuthApp) -> TokenSet {
    let code = sim
        .authorize(
            app.client_id(),
            REDIRECT,
            "r:devices:* r:locations:* x:devices:*",
        )
        .unwrap();
    app.exchange_code(&reqwest::Client::new(), &code, &RetryPolicy::default())
        .await
        .unwrap()
}

pub fn client(sim: &Simulator, app: OAuthApp, store: impl TokenStore) -> SmartThings {
    SmartThings::builder()
        .base_url(sim.base_url())
        .oauth(app, store)
        .rate_limits(RateLimitPolicy::disabled())
        .build()
        .unwrap()
}

/// The same tokens, believed to expire `expires_in` from now: what a client
/// holds when its clock and the server's disagree.
pub fn believed(tokens: &TokenSet, expires_in: Duration) -> TokenSet {
    TokenSet::new(
        tokens.access_token().expose(),
        tokens.expose_refresh_token().unwrap(),
        expires_in,
    )
}

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
