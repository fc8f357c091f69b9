//! One error type for everything the client can hit.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use smartthings::InvalidItem;
use smartthings::types::{ErrorBody, ErrorDetail};

use crate::retry::retry_hint;

/// The header a response's request id comes in, parsed once.
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What an error reports of a response: its status and request id. A call
/// keeps this much of the response it ends with, not the headers, whose
/// copy every successful call would pay for.
#[derive(Debug)]
pub(crate) struct SeenResponse {
    pub(crate) status: StatusCode,
    pub(crate) request_id: Option<HeaderValue>,
}

impl SeenResponse {
    pub(crate) fn of(status: StatusCode, headers: &HeaderMap) -> Self {
        Self {
            status,
            request_id: headers.get(&REQUEST_ID).cloned(),
        }
    }
}

/// What went wrong, in the categories callers act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 401: the token is missing, invalid or expired.
    Unauthorized,
    /// 403: the token lacks a scope.
    Forbidden,
    /// 404.
    NotFound,
    /// 400 or 422: the request was refused as invalid (also client-side
    /// argument checks that fail before anything is sent).
    Validation,
    /// 429 after the retries the policy allows.
    RateLimited,
    /// 5xx.
    Server,
    /// Any other HTTP status.
    Http,
    /// The connection failed or timed out.
    Transport,
    /// The body could not be decoded (not JSON, truncated, unexpected shape).
    Decode,
    /// A pagination link was refused (another origin) or repeated itself.
    Pagination,
    /// The client was configured wrongly.
    Config,
    /// The response body was larger than the client accepts.
    TooLarge,
    /// The OAuth session has ended (the token endpoint answered
    /// `invalid_grant`, or no session is stored): the user must authorise
    /// the app again. Never retried.
    Reauthorize,
    /// The token already has as many event sinks as SmartThings allows (2);
    /// the message says what to do.
    SinkLimit,
    /// The token store could not be read, locked or written. After a
    /// refresh, the new tokens are kept in memory and unused until a save
    /// succeeds.
    TokenStore,
}

/// An error from the SmartThings API or from getting to it.
///
/// It carries what the server said (`requestId`, `code`, `message`,
/// `target`, nested `details`) for support requests, and never the token.
#[derive(Debug)]
pub struct Error(Box<Inner>);

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    status: Option<StatusCode>,
    body: Option<ErrorBody>,
    /// The `x-request-id` header, for bodies that carry none.
    header_request_id: Option<String>,
    message: String,
    retry_after: Option<Duration>,
    attempts: u32,
    snippet: Option<String>,
    invalid: Option<InvalidItem>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            status: None,
            body: None,
            header_request_id: None,
            message: message.into(),
            retry_after: None,
            attempts: 0,
            snippet: None,
            invalid: None,
            source: None,
        }))
    }

    /// A list item that did not decode; the stream goes on after it.
    pub(crate) fn invalid_item(item: InvalidItem) -> Self {
        let mut error = Self::new(
            ErrorKind::Decode,
            format!("a list item did not decode: {}", item.error),
        );
        error.0.snippet = Some(snippet(item.raw.to_string().as_bytes()));
        error.0.invalid = Some(item);
        error
    }

    /// The odd list item this error stands for, if it is one.
    pub fn invalid(&self) -> Option<&InvalidItem> {
        self.0.invalid.as_ref()
    }

    /// The odd list item, or the error itself if it is not one.
    pub fn into_invalid_item(self) -> Result<InvalidItem, Self> {
        match self.0.invalid {
            Some(item) => Ok(item),
            None => Err(self),
        }
    }

    /// The same error, for a second caller (a refresh failure shared by
    /// every request that waited for it).
    pub(crate) fn copy(&self) -> Self {
        let mut copy = Self::new(self.0.kind, self.0.message.clone());
        copy.0.status = self.0.status;
        copy.0.snippet = self.0.snippet.clone();
        copy.0.attempts = self.0.attempts;
        copy.0.retry_after = self.0.retry_after;
        copy
    }

    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.0.status = Some(status);
        self
    }

    pub(crate) fn with_snippet(mut self, body: &[u8]) -> Self {
        self.0.snippet = Some(snippet(body));
        self
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.0.source = Some(Box::new(source));
        self
    }

    /// The error's category.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The HTTP status, when a response was received.
    pub fn status(&self) -> Option<StatusCode> {
        self.0.status
    }

    /// The server's request id (from the error body, else the
    /// `x-request-id` header); quote it to SmartThings support.
    pub fn request_id(&self) -> Option<&str> {
        self.0
            .body
            .as_ref()
            .and_then(|b| b.request_id.as_deref())
            .or(self.0.header_request_id.as_deref())
    }

    fn detail(&self) -> Option<&ErrorDetail> {
        self.0.body.as_ref()?.error.as_ref()
    }

    /// The API's error code (e.g. `NotFoundError`).
    pub fn code(&self) -> Option<&str> {
        self.detail()?.code.as_deref()
    }

    /// The API's message, or a description of the local failure.
    pub fn message(&self) -> &str {
        self.detail()
            .and_then(|d| d.message.as_deref())
            .unwrap_or(&self.0.message)
    }

    /// What the error is about (a field, an id).
    pub fn target(&self) -> Option<&str> {
        self.detail()?.target.as_deref()
    }

    /// The nested details of the error body.
    pub fn details(&self) -> &[ErrorDetail] {
        self.detail()
            .and_then(|d| d.details.as_deref())
            .unwrap_or_default()
    }

    /// For rate-limit errors, how long the server asked to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// How many requests were put on the wire (0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }

    /// Whether the request was retried before failing.
    pub fn was_retried(&self) -> bool {
        self.0.attempts > 1
    }

    /// The start of the response body (an error page, a body that did not
    /// decode), or of an odd list item.
    pub fn snippet(&self) -> Option<&str> {
        self.0.snippet.as_deref()
    }

    pub(crate) fn with_retry_after(mut self, wait: Duration) -> Self {
        self.0.retry_after = Some(wait);
        self
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.0.attempts = attempts;
        self
    }

    /// The status and request id of the response this error is about.
    pub(crate) fn with_response(mut self, seen: &SeenResponse) -> Self {
        self.0.status = Some(seen.status);
        self.0.header_request_id = seen
            .request_id
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        self
    }

    /// An error for a response with an error status and its raw body: the
    /// status decides the kind, whatever the body is (JSON, an HTML page,
    /// nothing, a cut-off text); the body adds what it can.
    pub(crate) fn from_response(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Self {
        let mut error = Self::new(
            kind_of(status),
            status.canonical_reason().unwrap_or("error"),
        )
        .with_response(&SeenResponse::of(status, headers));
        if status == StatusCode::TOO_MANY_REQUESTS {
            error.0.retry_after = retry_hint(headers, body);
        }
        error.0.snippet = Some(snippet(body));
        error.0.body = serde_json::from_slice(body).ok();
        error
    }

    /// A body that did not decode into the expected type.
    pub(crate) fn decode(
        body: &[u8],
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        let mut error = Self::new(
            ErrorKind::Decode,
            format!("response body did not decode: {cause}"),
        )
        .with_source(cause);
        error.0.snippet = Some(snippet(body));
        error
    }

    /// Reading a received response's body failed: it was cut off.
    pub(crate) fn body(cause: reqwest::Error) -> Self {
        Self::new(
            ErrorKind::Decode,
            "the response body was cut off or unreadable",
        )
        .with_source(without_url(cause))
    }

    pub(crate) fn transport(cause: reqwest::Error) -> Self {
        let kind = if cause.is_decode() || cause.is_body() {
            ErrorKind::Decode
        } else {
            ErrorKind::Transport
        };
        let message = match kind {
            ErrorKind::Decode => "the response body was cut off or unreadable",
            _ if cause.is_timeout() => "the request timed out",
            _ if cause.is_connect() => "could not connect",
            _ => "the connection failed",
        };
        Self::new(kind, message).with_source(without_url(cause))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(status) = self.0.status.filter(|s| !s.is_success()) {
            write!(f, "{}", status.as_u16())?;
            if let Some(code) = self.code() {
                write!(f, " {code}")?;
            }
            write!(f, ": {}", self.message())?;
        } else {
            write!(f, "{}", self.message())?;
        }
        if let Some(target) = self.target() {
            write!(f, " (target {target})")?;
        }
        if let Some(id) = self.request_id() {
            write!(f, " [requestId {id}]")?;
        }
        if let Some(wait) = self.0.retry_after {
            write!(f, "; retry in {:.1} s", wait.as_secs_f64())?;
        }
        // A body the server explained in JSON is already in the message.
        if let Some(snippet) = self.0.snippet.as_ref().filter(|_| self.detail().is_none()) {
            write!(f, "; body starts: {snippet:?}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

pub(crate) fn kind_of(status: StatusCode) -> ErrorKind {
    match status.as_u16() {
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        400 | 422 => ErrorKind::Validation,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::Http,
    }
}

/// The first 120 characters of a body, for error messages.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_owned();
    }
    let mut cut: String = text.chars().take(120).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

/// reqwest errors print the URL; ours never carry a token in it, but query
/// strings are nobody's business in an error message either.
fn without_url(error: reqwest::Error) -> reqwest::Error {
    error.without_url()
}
