//! An OAuth app's registration and SmartThings' token endpoint: building the
//! authorize URL, exchanging a code, refreshing a token set. The `oauth2`
//! crate builds the requests and parses the answers; the HTTP exchange goes
//! through this crate's own client (no redirects, no proxy from the
//! environment), so that the status of a failed exchange is kept and a 5xx or
//! a lost connection can be retried within the caller's deadline.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ExtraTokenFields, RedirectUrl, RequestTokenError, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenResponse, TokenUrl,
};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use url::Url;

use crate::auth::token::Token;
use crate::error::{Error, ErrorKind};
use crate::retry::RetryPolicy;

/// Seed 002: OAuth token operations use `https://api.smartthings.com`.
pub const DEFAULT_TOKEN_URL: &str = "https://api.smartthings.com/oauth/token";
/// Where the user's browser goes to authorise an app.
pub const DEFAULT_AUTHORIZE_URL: &str = "https://api.smartthings.com/oauth/authorize";

/// How long before expiry a token is refreshed, unless configured otherwise
/// (never more than a tenth of the token's lifetime).
const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(5 * 60);

/// An OAuth app registered with SmartThings (an "API Access" app): its client
/// id and secret, the endpoints, the redirect URI and the scopes it asks for.
///
/// `Debug` never shows the secret.
///
/// ```
/// use smartthings_ext::OAuthApp;
///
/// let app = OAuthApp::new("my-client-id", "my-client-secret")
///     .redirect_uri("http://127.0.0.1:8765/callback")
///     .scopes(["r:devices:*", "x:devices:*", "r:locations:*"]);
/// let request = app.authorization_request().unwrap();
/// assert!(request.url().as_str().starts_with("https://api.smartthings.com/oauth/authorize?"));
/// assert!(!format!("{app:?}").contains("my-client-secret"));
/// ```
#[derive(Clone)]
pub struct OAuthApp {
    client_id: String,
    client_secret: SecretString,
    token_url: String,
    authorize_url: String,
    redirect_uri: Option<String>,
    scopes: Vec<String>,
    refresh_skew: Duration,
}

impl fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("token_url", &self.token_url)
            .field("authorize_url", &self.authorize_url)
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .field("refresh_skew", &self.refresh_skew)
            .finish()
    }
}

impl OAuthApp {
    /// The app with this client id and secret, SmartThings' endpoints, no
    /// redirect URI and no scopes.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into().trim().to_owned(),
            client_secret: SecretString::from(client_secret.into().trim().to_owned()),
            token_url: DEFAULT_TOKEN_URL.to_owned(),
            authorize_url: DEFAULT_AUTHORIZE_URL.to_owned(),
            redirect_uri: None,
            scopes: Vec::new(),
            refresh_skew: DEFAULT_REFRESH_SKEW,
        }
    }

    /// The token endpoint (default [`DEFAULT_TOKEN_URL`]; the official
    /// TypeScript SDK uses `https://auth-global.api.smartthings.com/oauth/token`).
    /// `https`, or plain `http` on loopback only: the client secret and the
    /// refresh token travel in it.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// The authorize endpoint (default [`DEFAULT_AUTHORIZE_URL`]).
    pub fn authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = url.into();
        self
    }

    /// The redirect URI registered for the app.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// The scopes to ask for (`r:devices:*`, `x:devices:*`, `sse`, …).
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Refresh this long before the access token expires (default 5
    /// minutes, and never more than a tenth of the token's lifetime).
    pub fn refresh_skew(mut self, skew: Duration) -> Self {
        self.refresh_skew = skew;
        self
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The configured token endpoint.
    pub fn token_endpoint(&self) -> &str {
        &self.token_url
    }

    /// The configured redirect URI.
    pub fn registered_redirect_uri(&self) -> Option<&str> {
        self.redirect_uri.as_deref()
    }

    pub(crate) fn skew(&self) -> Duration {
        self.refresh_skew
    }

    /// Why this app cannot be used, if it cannot.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.client_id.is_empty() || self.client_secret.expose_secret().is_empty() {
            return Err(Error::new(
                ErrorKind::Config,
                "the OAuth client id and secret must not be empty",
            ));
        }
        crate::client::parse_secure_url("token URL", &self.token_url)?;
        Ok(())
    }

    fn oauth_client(&self) -> Result<StClient, Error> {
        let token_url = crate::client::parse_secure_url("token URL", &self.token_url)?;
        let authorize_url = Url::parse(&self.authorize_url).map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!("authorize URL {:?}: {e}", self.authorize_url),
            )
        })?;
        let client = oauth2::Client::new(ClientId::new(self.client_id.clone()))
            .set_client_secret(ClientSecret::new(
                self.client_secret.expose_secret().to_owned(),
            ))
            .set_auth_type(AuthType::BasicAuth)
            .set_auth_uri(AuthUrl::from_url(authorize_url))
            .set_token_uri(TokenUrl::from_url(token_url));
        Ok(match &self.redirect_uri {
            Some(uri) => client.set_redirect_uri(RedirectUrl::new(uri.clone()).map_err(|e| {
                Error::new(ErrorKind::Config, format!("redirect URI {uri:?}: {e}"))
            })?),
            None => client,
        })
    }

    /// The URL to send the user's browser to, with a fresh random `state`.
    /// Needs a redirect URI.
    pub fn authorization_request(&self) -> Result<AuthorizationRequest, Error> {
        if self.redirect_uri.is_none() {
            return Err(Error::new(
                ErrorKind::Config,
                "the authorization flow needs the app's registered redirect URI",
            ));
        }
        let (url, state) = self
            .oauth_client()?
            .authorize_url(CsrfToken::new_random)
            .add_scopes(self.scopes.iter().cloned().map(Scope::new))
            .url();
        Ok(AuthorizationRequest {
            url,
            state: state.secret().clone(),
        })
    }

    /// Exchange an authorization code for a token set; a 5xx or a lost
    /// connection is retried as `retry` says, within its deadline.
    pub async fn exchange_code(
        &self,
        http: &reqwest::Client,
        code: &str,
        retry: &RetryPolicy,
    ) -> Result<TokenSet, Error> {
        let deadline = Instant::now() + retry.deadline_duration();
        self.request_tokens(http, Grant::Code(code), None, retry, deadline)
            .await
    }

    /// Use `previous`'s refresh token once for the next token set.
    /// SmartThings rotates it: the answer carries the next one, and this one
    /// is spent.
    pub(crate) async fn refresh(
        &self,
        http: &reqwest::Client,
        previous: &TokenSet,
        retry: &RetryPolicy,
        deadline: Instant,
    ) -> Result<TokenSet, Error> {
        let Some(refresh_token) = previous.refresh_token.as_ref() else {
            return Err(Error::new(
                ErrorKind::Reauthorize,
                "the session has no refresh token: authorise again",
            ));
        };
        let grant = Grant::Refresh(oauth2::RefreshToken::new(
            refresh_token.expose_secret().to_owned(),
        ));
        self.request_tokens(http, grant, Some(previous), retry, deadline)
            .await
    }

    /// Ask the token endpoint until it answers, fails for good, or the next
    /// attempt would start after `deadline`; back off as `retry` says.
    async fn request_tokens(
        &self,
        http: &reqwest::Client,
        grant: Grant<'_>,
        previous: Option<&TokenSet>,
        retry: &RetryPolicy,
        deadline: Instant,
    ) -> Result<TokenSet, Error> {
        let client = self.oauth_client()?;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let sent = SystemTime::now();
            let send = Exchanger {
                http,
                status: Mutex::new(None),
            };
            let exchange = async {
                match &grant {
                    Grant::Code(code) => {
                        client
                            .exchange_code(AuthorizationCode::new((*code).to_owned()))
                            .add_extra_param("client_id", self.client_id.clone())
                            .request_async(&send)
                            .await
                    }
                    Grant::Refresh(token) => {
                        client
                            .exchange_refresh_token(token)
                            .add_extra_param("client_id", self.client_id.clone())
                            .request_async(&send)
                            .await
                    }
                }
            };
            let outcome = match tokio::time::timeout_at(deadline, exchange).await {
                Ok(answer) => {
                    let status = send.status.lock().ok().and_then(|s| *s);
                    finish(self, answer, status, sent, previous)
                }
                Err(_) => Err(Error::new(
                    ErrorKind::Transport,
                    format!(
                        "token endpoint {}: no answer within the call's deadline",
                        self.token_url
                    ),
                )),
            };
            match outcome {
                Err(error) if retryable(&error) => {
                    let wait = retry.backoff_for(attempt);
                    if Instant::now() + wait >= deadline {
                        return Err(error.with_attempts(attempt));
                    }
                    tracing::info!(
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "token endpoint unavailable; retrying"
                    );
                    tokio::time::sleep(wait).await;
                }
                other => return other.map_err(|e| e.with_attempts(attempt)),
            }
        }
    }
}

/// What is exchanged for tokens.
enum Grant<'a> {
    Code(&'a str),
    Refresh(oauth2::RefreshToken),
}

type StClient = oauth2::Client<
    BasicErrorResponse,
    StandardTokenResponse<SmartThingsFields, BasicTokenType>,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The fields SmartThings adds to a token response.
#[derive(Debug, Deserialize, Serialize)]
struct SmartThingsFields {
    #[serde(default)]
    installed_app_id: Option<String>,
    #[serde(default)]
    access_tier: Option<serde_json::Value>,
}

impl ExtraTokenFields for SmartThingsFields {}

/// The authorize URL for the user's browser, and the `state` the redirect
/// must bring back.
///
/// `Debug` does not show the state.
pub struct AuthorizationRequest {
    url: Url,
    state: String,
}

impl fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("url", &"<carries the state>")
            .finish_non_exhaustive()
    }
}

impl AuthorizationRequest {
    /// Where to send the user's browser.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The authorization code from the URL the browser was redirected to
    /// (`…/callback?code=…&state=…`, or its query alone), once its `state`
    /// is checked. An `error` parameter, a missing code or a wrong state is
    /// an error that names no secret.
    pub fn code_from_redirect(&self, redirected: &str) -> Result<String, Error> {
        let query = match Url::parse(redirected.trim()) {
            Ok(url) => url.query().unwrap_or_default().to_owned(),
            Err(_) => redirected.trim().trim_start_matches('?').to_owned(),
        };
        let (mut code, mut state, mut error) = (None, None, None);
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match &*name {
                "code" => code = Some(value.into_owned()),
                "state" => state = Some(value.into_owned()),
                "error" => error = Some(value.into_owned()),
                _ => {}
            }
        }
        if let Some(error) = error {
            return Err(Error::new(
                ErrorKind::Unauthorized,
                format!("the authorization was refused: {error}"),
            ));
        }
        if state.as_deref() != Some(self.state.as_str()) {
            return Err(Error::new(
                ErrorKind::Validation,
                "the redirect's state does not match this login: it was not started here",
            ));
        }
        code.filter(|c| !c.is_empty()).ok_or_else(|| {
            Error::new(
                ErrorKind::Validation,
                "the redirect carries no authorization code",
            )
        })
    }
}

/// An OAuth session's tokens: access token, refresh token, expiry, scopes and
/// the installed app they belong to.
///
/// `Debug` shows no token. Serializing it writes the tokens themselves: it
/// is meant for [`TokenStore`](crate::TokenStore)s.
#[derive(Clone)]
pub struct TokenSet {
    access_token: Token,
    refresh_token: Option<SecretString>,
    issued_at: SystemTime,
    expires_at: Option<SystemTime>,
    scopes: Vec<String>,
    installed_app_id: Option<String>,
    access_tier: Option<serde_json::Value>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .field("installed_app_id", &self.installed_app_id)
            .finish_non_exhaustive()
    }
}

impl TokenSet {
    /// A token set from tokens obtained elsewhere; it expires `expires_in`
    /// from now.
    pub fn new(
        access_token: impl Into<String>,
        refresh_token: impl Into<String>,
        expires_in: Duration,
    ) -> Self {
        let now = SystemTime::now();
        Self {
            access_token: Token::new(access_token),
            refresh_token: Some(SecretString::from(refresh_token.into())),
            issued_at: now,
            expires_at: Some(now + expires_in),
            scopes: Vec::new(),
            installed_app_id: None,
            access_tier: None,
        }
    }

    /// The access token.
    pub fn access_token(&self) -> &Token {
        &self.access_token
    }

    /// The refresh token, if the server issued one. Call sites are easy to
    /// audit by this name.
    pub fn expose_refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_ref().map(ExposeSecret::expose_secret)
    }

    /// When the access token expires, if the server said.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// When the token set was issued (the request that obtained it was sent).
    pub fn issued_at(&self) -> SystemTime {
        self.issued_at
    }

    /// The scopes granted.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The installed app the tokens belong to (SmartThings'
    /// `installed_app_id`).
    pub fn installed_app_id(&self) -> Option<&str> {
        self.installed_app_id.as_deref()
    }

    /// Whether the access token is due for a refresh: within `skew` of its
    /// expiry (at most a tenth of its lifetime), or past it.
    pub fn refresh_due(&self, skew: Duration) -> bool {
        let Some(expires_at) = self.expires_at else {
            return false;
        };
        let lifetime = expires_at
            .duration_since(self.issued_at)
            .unwrap_or_default();
        let skew = skew.min(lifetime / 10);
        SystemTime::now() + skew >= expires_at
    }

    /// Whether two sets hold the same tokens.
    pub(crate) fn same_tokens(&self, other: &TokenSet) -> bool {
        self.access_token.expose() == other.access_token.expose()
            && self.expose_refresh_token() == other.expose_refresh_token()
    }
}

/// The stored form of a [`TokenSet`]: times as Unix milliseconds.
#[derive(Deserialize, Serialize)]
struct StoredTokens {
    access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    issued_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at_ms: Option<u64>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    installed_app_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_tier: Option<serde_json::Value>,
}

fn to_ms(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn from_ms(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
}

impl Serialize for TokenSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        StoredTokens {
            access_token: self.access_token.expose().to_owned(),
            refresh_token: self.expose_refresh_token().map(str::to_owned),
            issued_at_ms: to_ms(self.issued_at),
            expires_at_ms: self.expires_at.map(to_ms),
            scopes: self.scopes.clone(),
            installed_app_id: self.installed_app_id.clone(),
            access_tier: self.access_tier.clone(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for TokenSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = StoredTokens::deserialize(deserializer)?;
        if stored.access_token.trim().is_empty() {
            return Err(serde::de::Error::custom("the access token is empty"));
        }
        Ok(Self {
            access_token: Token::new(stored.access_token),
            refresh_token: stored
                .refresh_token
                .filter(|t| !t.trim().is_empty())
                .map(SecretString::from),
            issued_at: from_ms(stored.issued_at_ms),
            expires_at: stored.expires_at_ms.map(from_ms),
            scopes: stored.scopes,
            installed_app_id: stored.installed_app_id,
            access_tier: stored.access_tier,
        })
    }
}

/// Why one exchange with the token endpoint failed below the OAuth layer.
#[derive(Debug)]
enum Exchange {
    /// No answer: the connection failed or timed out.
    Transport(reqwest::Error),
    /// A 5xx or 429: the server did not act, or says to try later.
    Unavailable(StatusCode, Vec<u8>),
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport(e) => write!(f, "{e}"),
            Self::Unavailable(status, _) => write!(f, "{status}"),
        }
    }
}

impl std::error::Error for Exchange {}

/// A token response larger than this is not a token response.
const MAX_TOKEN_RESPONSE: usize = 64 << 10;

/// oauth2's HTTP client: this crate's reqwest client, remembering the
/// status of the answer, which oauth2's errors do not keep.
struct Exchanger<'a> {
    http: &'a reqwest::Client,
    status: Mutex<Option<StatusCode>>,
}

impl<'c> oauth2::AsyncHttpClient<'c> for Exchanger<'_> {
    type Error = Exchange;
    type Future =
        std::pin::Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, Exchange>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(post(self.http, request, &self.status))
    }
}

async fn post(
    http: &reqwest::Client,
    request: oauth2::HttpRequest,
    status: &Mutex<Option<StatusCode>>,
) -> Result<oauth2::HttpResponse, Exchange> {
    let request = reqwest::Request::try_from(request).map_err(Exchange::Transport)?;
    let mut response = http
        .execute(request)
        .await
        .map_err(|e| Exchange::Transport(e.without_url()))?;
    let code = response.status();
    if let Ok(mut seen) = status.lock() {
        *seen = Some(code);
    }
    let headers = response.headers().clone();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Exchange::Transport(e.without_url()))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_TOKEN_RESPONSE {
            body.truncate(MAX_TOKEN_RESPONSE);
            break;
        }
    }
    if code.is_server_error() || code == StatusCode::TOO_MANY_REQUESTS {
        return Err(Exchange::Unavailable(code, body));
    }
    let mut answer = http::Response::new(body);
    *answer.status_mut() = code;
    *answer.headers_mut() = headers;
    Ok(answer)
}

type Answer = Result<
    StandardTokenResponse<SmartThingsFields, BasicTokenType>,
    RequestTokenError<Exchange, BasicErrorResponse>,
>;

/// Whether a failed exchange may be tried again.
fn retryable(error: &Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::Transport | ErrorKind::Server | ErrorKind::RateLimited
    )
}

/// Turn the token endpoint's answer into a token set or a typed error that
/// names the endpoint and never a secret.
fn finish(
    app: &OAuthApp,
    answer: Answer,
    status: Option<StatusCode>,
    sent: SystemTime,
    previous: Option<&TokenSet>,
) -> Result<TokenSet, Error> {
    let endpoint = &app.token_url;
    let fail = |kind: ErrorKind, what: String| {
        let error = Error::new(kind, format!("token endpoint {endpoint}: {what}"));
        match status {
            Some(status) => error.with_status(status),
            None => error,
        }
    };
    let response = match answer {
        Ok(response) => response,
        Err(RequestTokenError::ServerResponse(refusal)) => {
            let code = refusal.error();
            let description = refusal
                .error_description()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            let (kind, advice) = match code {
                BasicErrorResponseType::InvalidGrant => (
                    ErrorKind::Reauthorize,
                    "the grant is no longer valid: authorise again",
                ),
                BasicErrorResponseType::InvalidClient
                | BasicErrorResponseType::UnauthorizedClient => (
                    ErrorKind::Unauthorized,
                    "the client id or secret was refused",
                ),
                _ => (ErrorKind::Validation, "the request was refused"),
            };
            return Err(fail(kind, format!("{code}{description}: {advice}")));
        }
        Err(RequestTokenError::Request(Exchange::Transport(cause))) => {
            let what = if cause.is_timeout() {
                "the request timed out"
            } else if cause.is_connect() {
                "could not connect"
            } else {
                "the connection failed"
            };
            return Err(fail(ErrorKind::Transport, what.to_owned()).with_source(cause));
        }
        Err(RequestTokenError::Request(Exchange::Unavailable(code, body))) => {
            let kind = if code == StatusCode::TOO_MANY_REQUESTS {
                ErrorKind::RateLimited
            } else {
                ErrorKind::Server
            };
            return Err(fail(kind, format!("answered {code}")).with_snippet(&body));
        }
        Err(RequestTokenError::Parse(cause, body)) => {
            let kind = match status {
                Some(s) if !s.is_success() => crate::error::kind_of(s),
                _ => ErrorKind::Decode,
            };
            return Err(fail(
                kind,
                format!("the answer is not a token response: {}", cause.inner()),
            )
            .with_snippet(&body));
        }
        Err(RequestTokenError::Other(what)) => {
            let kind = status.map_or(ErrorKind::Http, crate::error::kind_of);
            return Err(fail(kind, what));
        }
    };
    let access = response.access_token().secret();
    if access.trim().is_empty() {
        return Err(fail(
            ErrorKind::Decode,
            "the token response has an empty access token".to_owned(),
        ));
    }
    let fields = response.extra_fields();
    let scopes = match response.scopes() {
        Some(scopes) => scopes.iter().map(|s| s.to_string()).collect(),
        None => previous.map(|p| p.scopes.clone()).unwrap_or_default(),
    };
    Ok(TokenSet {
        access_token: Token::new(access.clone()),
        // RFC 6749 §6: without a new refresh token, the old one stays valid.
        refresh_token: match response.refresh_token() {
            Some(token) => Some(SecretString::from(token.secret().clone())),
            None => previous.and_then(|p| p.refresh_token.clone()),
        },
        // Counted from when the request was sent: the token cannot outlive
        // the server's clock by the time the answer took to arrive.
        issued_at: sent,
        expires_at: response.expires_in().map(|lifetime| sent + lifetime),
        scopes,
        installed_app_id: fields
            .installed_app_id
            .clone()
            .or_else(|| previous.and_then(|p| p.installed_app_id.clone())),
        access_tier: fields.access_tier.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_is_due_within_the_skew_capped_at_a_tenth_of_the_lifetime() {
        let mut set = TokenSet::new("a", "r", Duration::from_secs(100));
        assert!(!set.refresh_due(Duration::from_secs(5)));
        // A 5-minute skew on a 100 s token would refresh at once; capped to
        // 10 s it does not.
        assert!(!set.refresh_due(Duration::from_secs(300)));
        // 92 s into its 100 s: within the capped 10 s.
        set.issued_at = SystemTime::now() - Duration::from_secs(92);
        set.expires_at = Some(SystemTime::now() + Duration::from_secs(8));
        assert!(set.refresh_due(Duration::from_secs(300)));
        assert!(!set.refresh_due(Duration::from_secs(5)));
        set.expires_at = Some(SystemTime::now() - Duration::from_secs(1));
        assert!(set.refresh_due(Duration::ZERO));
    }

    #[test]
    fn a_token_set_round_trips_and_never_prints_its_tokens() {
        let set = TokenSet::new(
            "access-secret-1",
            "refresh-secret-2",
            Duration::from_secs(60),
        );
        let shown = format!("{set:?}");
        assert!(!shown.contains("secret"), "{shown}");
        let json = serde_json::to_string(&set).unwrap();
        let back: TokenSet = serde_json::from_str(&json).unwrap();
        assert!(back.same_tokens(&set));
        assert_eq!(back.expires_at().map(to_ms), set.expires_at().map(to_ms));
        assert!(
            serde_json::from_str::<TokenSet>(r#"{"access_token":" ","issued_at_ms":0}"#).is_err()
        );
    }

    #[test]
    fn the_redirect_must_bring_back_the_state() {
        let app = OAuthApp::new("id", "secret").redirect_uri("http://127.0.0.1:9/cb");
        let request = app.authorization_request().unwrap();
        let state = request.state.clone();
        let url = request.url().to_string();
        assert!(
            url.contains("client_id=id") && url.contains("response_type=code"),
            "{url}"
        );
        assert!(!url.contains("secret"), "{url}");
        let good = format!("http://127.0.0.1:9/cb?code=abc&state={state}");
        assert_eq!(request.code_from_redirect(&good).unwrap(), "abc");
        assert_eq!(
            request
                .code_from_redirect(&format!("code=xyz&state={state}"))
                .unwrap(),
            "xyz"
        );
        let forged = request
            .code_from_redirect("http://127.0.0.1:9/cb?code=abc&state=other")
            .unwrap_err();
        assert_eq!(forged.kind(), ErrorKind::Validation);
        let refused = request
            .code_from_redirect(&format!("?error=access_denied&state={state}"))
            .unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::Unauthorized);
    }
}
