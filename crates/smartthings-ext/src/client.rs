//! Building the client.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;
use url::Url;

use crate::auth::oauth::OAuthApp;
use crate::auth::store::TokenStore;
use crate::auth::token::{TOKEN_ENV, Token};
use crate::auth::{Credentials, Session};
use crate::error::{Error, ErrorKind};
use crate::events::StreamConfig;
use crate::ratelimit::{Limiter, RateLimitPolicy};
use crate::retry::RetryPolicy;
use crate::transport::{Metrics, SmartThingsTransport};

/// The SmartThings client: every operation of the API as a builder method
/// (`client.get_device().device_id(id).send()`), plus paged streams, typed
/// commands, bulk status and the snapshot, all behind one transport that
/// authenticates, rate-limits and retries. Every call returns
/// `Result<T, `[`Error`]`>`.
///
/// ```no_run
/// # async fn run() -> Result<(), smartthings_ext::Error> {
/// use smartthings_ext::SmartThings;
///
/// let client = SmartThings::builder()
///     .token("68cd394f-xxxx")          // or set SMARTTHINGS_TOKEN
///     .build()?;
/// let device = client
///     .get_device()
///     .device_id("80e26532-85d4-484c-b012-1c04f3d35f95")
///     .send()
///     .await?;
/// println!("{:?}", device.label);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SmartThings {
    /// The generated client; reachable only through this crate's builders,
    /// whose `send` keeps every detail of a failed call.
    pub(crate) api: smartthings::Client,
    pub(crate) http: reqwest::Client,
    /// For event streams: no total timeout (a stream lives for hours; a
    /// read-idle watchdog ends a stalled one).
    pub(crate) stream_http: reqwest::Client,
    pub(crate) streams: Arc<StreamConfig>,
    pub(crate) transport: Arc<SmartThingsTransport>,
    /// The most pages one list may take (see [`ClientBuilder::max_pages`]).
    pub(crate) max_pages: u32,
}

impl SmartThings {
    /// Start configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The configured base URL.
    pub fn base_url(&self) -> &Url {
        &self.transport.base
    }

    /// What the client has done so far (requests, retries, 429s, waits,
    /// token refreshes).
    pub fn metrics(&self) -> Metrics {
        let mut metrics = self.transport.counters.snapshot();
        metrics.token_refreshes = self.transport.credentials.refreshes();
        metrics
    }
}

impl fmt::Debug for SmartThings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmartThings")
            .field("base_url", &self.transport.base.as_str())
            .field("retry", &self.transport.retry)
            .finish_non_exhaustive()
    }
}

/// Configuration of a [`SmartThings`] client.
///
/// ```
/// use std::time::Duration;
/// use smartthings_ext::{RateLimitPolicy, RetryPolicy, SmartThings};
///
/// let client = SmartThings::builder()
///     .token("68cd394f-xxxx")
///     .base_url("http://127.0.0.1:8080/v1")   // plain http: loopback only
///     .timeout(Duration::from_secs(10))
///     .user_agent("my-dashboard/1.0")
///     .retry(RetryPolicy::default().max_attempts(4))
///     .rate_limits(RateLimitPolicy::default())
///     .build()
///     .unwrap();
/// assert_eq!(client.base_url().as_str(), "http://127.0.0.1:8080/v1");
/// assert!(!format!("{client:?}").contains("68cd394f"));
/// ```
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    credentials: Option<CredentialSource>,
    base_url: String,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    user_agent: String,
    retry: RetryPolicy,
    rate_limits: RateLimitPolicy,
    max_pages: u32,
    max_body: u64,
    https_proxy: Option<ProxyUrl>,
    subscriptions_url: Option<String>,
    stream_origins: Vec<String>,
}

/// What the builder was given to authenticate with.
#[derive(Clone)]
enum CredentialSource {
    Token(Token),
    OAuth(OAuthApp, Arc<dyn TokenStore>),
}

impl fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(token) => token.fmt(f),
            Self::OAuth(app, _) => f.debug_tuple("OAuth").field(app).finish(),
        }
    }
}

/// A proxy URL, which may carry credentials: `Debug` shows no more than its
/// scheme, host and port.
#[derive(Clone)]
struct ProxyUrl(String);

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Url::parse(&self.0) {
            Ok(url) => write!(
                f,
                "{}://{}:{}",
                url.scheme(),
                url.host_str().unwrap_or("?"),
                url.port_or_known_default().unwrap_or(0)
            ),
            Err(_) => f.write_str("<unparsable proxy URL>"),
        }
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            credentials: None,
            base_url: smartthings::DEFAULT_BASE_URL.to_owned(),
            connect_timeout: Some(Duration::from_secs(10)),
            timeout: Some(Duration::from_secs(30)),
            user_agent: concat!("smartthings-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetryPolicy::default(),
            rate_limits: RateLimitPolicy::default(),
            // 2 000 000 devices at 200 a page: no real account, and a server
            // that pages forever is stopped.
            max_pages: 10_000,
            max_body: crate::transport::DEFAULT_MAX_BODY,
            https_proxy: None,
            subscriptions_url: None,
            stream_origins: Vec::new(),
        }
    }
}

impl ClientBuilder {
    /// A static bearer token (a personal access token). Without this or
    /// [`oauth`](Self::oauth), `build` reads `SMARTTHINGS_TOKEN`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.credentials = Some(CredentialSource::Token(Token::new(token)));
        self
    }

    /// The bearer token, already wrapped.
    pub fn token_value(mut self, token: Token) -> Self {
        self.credentials = Some(CredentialSource::Token(token));
        self
    }

    /// An OAuth session instead of a static token: its tokens are read from
    /// `store`, refreshed before they expire and after a 401 (one refresh
    /// however many requests are waiting; the request is replayed once), and
    /// every rotation is saved to `store` before the new access token is
    /// used. Replaces [`token`](Self::token).
    ///
    /// ```no_run
    /// use smartthings_ext::{FileStore, OAuthApp, SmartThings};
    ///
    /// let app = OAuthApp::new("client-id", "client-secret");
    /// let client = SmartThings::builder()
    ///     .oauth(app, FileStore::new("/var/lib/my-exporter/session.json"))
    ///     .build()?;
    /// # Ok::<_, smartthings_ext::Error>(())
    /// ```
    pub fn oauth(mut self, app: OAuthApp, store: impl TokenStore) -> Self {
        self.credentials = Some(CredentialSource::OAuth(app, Arc::new(store)));
        self
    }

    /// The API root, default `https://api.smartthings.com/v1`. Plain `http`
    /// is accepted for loopback addresses only (tests, the simulator).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Time allowed to establish a connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Time allowed for one attempt, body included.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// No connect or request timeouts. For tests under tokio's paused clock,
    /// where a pending timeout would fire as soon as the runtime idles.
    pub fn without_timeouts(mut self) -> Self {
        self.connect_timeout = None;
        self.timeout = None;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// How failures are retried.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Which client-side limits apply.
    pub fn rate_limits(mut self, policy: RateLimitPolicy) -> Self {
        self.rate_limits = policy;
        self
    }

    /// The most pages one list may take before it ends with a
    /// [`ErrorKind::Pagination`] error (default 10 000).
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.max_pages = pages.max(1);
        self
    }

    /// The largest response body the client reads (default 64 MiB); a
    /// larger one fails the call with [`ErrorKind::TooLarge`].
    pub fn max_body_bytes(mut self, bytes: u64) -> Self {
        self.max_body = bytes;
        self
    }

    /// Send requests through this proxy (`http://proxy:3128`). Used only
    /// for an `https` base URL, where the proxy tunnels TLS and never sees
    /// the token; never for loopback. Without it no proxy is used, whatever
    /// `HTTP_PROXY`/`HTTPS_PROXY` say: a proxy from the environment would
    /// receive the token in clear for an `http` base URL.
    pub fn https_proxy(mut self, url: impl Into<String>) -> Self {
        self.https_proxy = Some(ProxyUrl(url.into()));
        self
    }

    /// Where event sinks are created (default: `/subscriptions` at the
    /// root of the base URL's origin, as SmartThings has it).
    pub fn subscriptions_url(mut self, url: impl Into<String>) -> Self {
        self.subscriptions_url = Some(url.into());
        self
    }

    /// Let the token go to event streams on this origin
    /// (`http://127.0.0.1:8081` for the simulator). Without it, only `https`
    /// on `*.api.smartthings.com` receives the token; any other
    /// registration URL is refused before anything is sent.
    pub fn allow_stream_origin(mut self, origin: impl Into<String>) -> Self {
        self.stream_origins.push(origin.into());
        self
    }

    /// Validate and build.
    pub fn build(self) -> Result<SmartThings, Error> {
        let source = match self.credentials {
            Some(source) => source,
            None => CredentialSource::Token(resolve_token(None, Token::from_env())?),
        };
        if let CredentialSource::Token(token) = &source
            && token.expose().is_empty()
        {
            return Err(Error::new(ErrorKind::Config, "the token is empty"));
        }
        self.retry
            .check()
            .and_then(|()| self.rate_limits.check())
            .map_err(|why| Error::new(ErrorKind::Config, why))?;
        let base = parse_secure_url("base URL", &self.base_url)?;
        let user_agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| Error::new(ErrorKind::Config, "the user agent is not a valid header"))?;
        let subscriptions_url = match &self.subscriptions_url {
            Some(raw) => parse_secure_url("subscriptions URL", raw)?,
            None => base
                .join("/subscriptions")
                .map_err(|e| Error::new(ErrorKind::Config, format!("subscriptions URL: {e}")))?,
        };
        let allowed_origins = self
            .stream_origins
            .iter()
            .map(|raw| parse_secure_url("stream origin", raw))
            .collect::<Result<Vec<_>, _>>()?;
        let mut http = reqwest::Client::builder();
        let mut stream_http = reqwest::Client::builder();
        if let Some(timeout) = self.connect_timeout {
            http = http.connect_timeout(timeout);
            stream_http = stream_http.connect_timeout(timeout);
        }
        if let Some(timeout) = self.timeout {
            http = http.timeout(timeout);
        }
        // No proxy from the environment: see `https_proxy`.
        http = http.no_proxy();
        stream_http = stream_http.no_proxy();
        if let Some(proxy) = &self.https_proxy
            && base.scheme() == "https"
            && !is_loopback(&base)
        {
            // The URL may hold credentials: the error names it by its Debug.
            let proxy = reqwest::Proxy::https(proxy.0.as_str()).map_err(|_| {
                Error::new(
                    ErrorKind::Config,
                    format!("proxy {proxy:?} is not a valid URL"),
                )
            })?;
            http = http.proxy(proxy.clone());
            stream_http = stream_http.proxy(proxy);
        }
        let http = http
            // SmartThings does not redirect; following one could carry the
            // request somewhere the caller never configured.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::new(ErrorKind::Config, format!("HTTP client: {e}")))?;
        let stream_http = stream_http
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::new(ErrorKind::Config, format!("HTTP client: {e}")))?;
        let credentials = match source {
            CredentialSource::Token(token) => Credentials::from_token(&token)?,
            CredentialSource::OAuth(app, store) => {
                app.check()?;
                Credentials::OAuth(Arc::new(Session::new(
                    app,
                    store,
                    http.clone(),
                    self.retry.clone(),
                )))
            }
        };
        let mut transport = SmartThingsTransport::new(
            base.clone(),
            credentials,
            user_agent,
            self.retry,
            Limiter::new(self.rate_limits),
        );
        transport.max_body = self.max_body;
        let transport = Arc::new(transport);
        let api = smartthings::Client::new_with_client(
            base.as_str().trim_end_matches('/'),
            http.clone(),
            smartthings::Hooks::new(transport.clone()),
        );
        Ok(SmartThings {
            api,
            http,
            stream_http,
            streams: Arc::new(StreamConfig {
                subscriptions_url,
                allowed_origins,
            }),
            transport,
            max_pages: self.max_pages,
        })
    }
}

fn resolve_token(explicit: Option<Token>, from_env: Option<Token>) -> Result<Token, Error> {
    explicit.or(from_env).ok_or_else(|| {
        Error::new(
            ErrorKind::Config,
            format!("no token: pass one to the builder or set {TOKEN_ENV}"),
        )
    })
}

/// A URL secrets are sent to (the API root, the token endpoint): `https`,
/// or `http` on loopback only.
pub(crate) fn parse_secure_url(what: &str, raw: &str) -> Result<Url, Error> {
    let url = Url::parse(raw)
        .map_err(|e| Error::new(ErrorKind::Config, format!("{what} {raw:?}: {e}")))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(Error::new(
            ErrorKind::Config,
            format!(
                "{what} {raw:?}: plain http would send secrets in clear; use https \
                 (http is allowed for loopback addresses only)"
            ),
        )),
        other => Err(Error::new(
            ErrorKind::Config,
            format!("{what} {raw:?}: unsupported scheme {other:?}"),
        )),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_loopback() {
        for ok in [
            "https://api.smartthings.com/v1",
            "http://127.0.0.1:8080/v1",
            "http://127.1.2.3/v1",
            "http://localhost:9/v1",
            "http://[::1]:9/v1",
        ] {
            assert!(parse_secure_url("base URL", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.smartthings.com/v1",
            "http://192.168.1.10/v1",
            "ftp://x/",
        ] {
            let err = parse_secure_url("base URL", bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{bad}");
        }
    }

    #[test]
    fn proxy_credentials_never_print() {
        let builder = SmartThings::builder().https_proxy("http://user:hunter2@proxy.example:3128");
        let shown = format!("{builder:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("user:"),
            "{shown}"
        );
        assert!(shown.contains("proxy.example:3128"), "{shown}");
    }

    #[test]
    fn the_token_comes_from_the_builder_then_the_environment() {
        let err = resolve_token(None, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains(TOKEN_ENV));
        let env = resolve_token(None, Some(Token::new("from-env"))).unwrap();
        assert_eq!(env.expose(), "from-env");
        let explicit = resolve_token(Some(Token::new("explicit")), Some(Token::new("env")));
        assert_eq!(explicit.unwrap().expose(), "explicit");
    }
}
