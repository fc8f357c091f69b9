//! The transport behind every request, generated or hand-written: it adds the
//! token (to the configured origin only), waits for the rate limiter, sends,
//! retries by SmartThings' rules and traces each attempt.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderValue, USER_AGENT};
use smartthings::{Transport, TransportFuture};
use tokio::time::Instant;
use tracing::Instrument;
use url::Url;

use crate::auth::Credentials;
use crate::call;
use crate::error::{Error, ErrorKind, REQUEST_ID, SeenResponse};
use crate::ratelimit::Limiter;
use crate::retry::{Decision, Outcome, RetryPolicy, retry_hint};

/// Counters of what the client did; cheap to read at any time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Requests put on the wire (each attempt counts).
    pub requests: u64,
    /// Attempts after the first.
    pub retries: u64,
    /// 429 responses received.
    pub throttled: u64,
    /// Times the client-side limiter held a request back.
    pub limiter_waits: u64,
    /// Total time held back by the limiter, in milliseconds.
    pub limiter_wait_ms: u64,
    /// Total time slept between attempts, in milliseconds.
    pub retry_wait_ms: u64,
    /// Requests not sent because the limiter's wait exceeded what the call
    /// allows (each failed with [`ErrorKind::RateLimited`]).
    pub limiter_refusals: u64,
    /// OAuth access tokens obtained with a refresh token.
    pub token_refreshes: u64,
    /// Requests replayed once with a new access token after a 401.
    pub auth_replays: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    limiter_waits: AtomicU64,
    limiter_wait_ms: AtomicU64,
    retry_wait_ms: AtomicU64,
    limiter_refusals: AtomicU64,
    auth_replays: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> Metrics {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Metrics {
            requests: get(&self.requests),
            retries: get(&self.retries),
            throttled: get(&self.throttled),
            limiter_waits: get(&self.limiter_waits),
            limiter_wait_ms: get(&self.limiter_wait_ms),
            retry_wait_ms: get(&self.retry_wait_ms),
            limiter_refusals: get(&self.limiter_refusals),
            token_refreshes: 0,
            auth_replays: get(&self.auth_replays),
        }
    }
}

/// The origin (scheme, host, port) a URL belongs to.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// 64 MiB: a 200-device page with every status is well under 1 MiB.
pub(crate) const DEFAULT_MAX_BODY: u64 = 64 << 20;

#[derive(Debug)]
pub(crate) struct SmartThingsTransport {
    pub(crate) base: Url,
    /// Where the `Authorization` header comes from.
    pub(crate) credentials: Credentials,
    user_agent: HeaderValue,
    pub(crate) retry: RetryPolicy,
    pub(crate) limiter: Limiter,
    pub(crate) counters: Arc<Counters>,
    /// The largest successful response body read, in bytes.
    pub(crate) max_body: u64,
}

impl SmartThingsTransport {
    pub(crate) fn new(
        base: Url,
        credentials: Credentials,
        user_agent: HeaderValue,
        retry: RetryPolicy,
        limiter: Limiter,
    ) -> Self {
        Self {
            base,
            credentials,
            user_agent,
            retry,
            limiter,
            counters: Arc::default(),
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// The request path relative to the base URL's path (`/v1`).
    fn api_path<'u>(&self, url: &'u Url) -> &'u str {
        let prefix = self.base.path().trim_end_matches('/');
        url.path().strip_prefix(prefix).unwrap_or(url.path())
    }

    /// Whether the request goes to the configured origin, the only one the
    /// token is sent to; anything else the caller tries to send it to goes
    /// without it.
    fn prepare(&self, request: &mut reqwest::Request) -> bool {
        let ours = same_origin(request.url(), &self.base);
        let headers = request.headers_mut();
        headers.insert(USER_AGENT, self.user_agent.clone());
        headers.remove(AUTHORIZATION);
        ours
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        mut request: reqwest::Request,
        operation: &'static str,
    ) -> reqwest::Result<reqwest::Response> {
        let ours = self.prepare(&mut request);
        let method = request.method().clone();
        let bucket = self
            .limiter
            .bucket_for(&method, self.api_path(request.url()));
        let started = Instant::now();
        let deadline = started + self.retry.deadline_duration();
        let mut attempt: u32 = 0;
        let mut replayed_after_401 = false;
        loop {
            // Waiting for the limiter counts against the call's deadline and
            // the longest wait the caller accepts; a longer wait is refused
            // now, with its length, rather than slept through silently.
            let waited = match &bucket {
                Some(key) => {
                    let allowed = deadline
                        .saturating_duration_since(Instant::now())
                        .min(self.retry.hinted_wait_cap());
                    match self.limiter.acquire(key, allowed).await {
                        Ok(waited) => waited,
                        Err(needed) => return Ok(self.refuse_locally(key, needed)),
                    }
                }
                None => Duration::ZERO,
            };
            if !waited.is_zero() {
                self.counters.limiter_waits.fetch_add(1, Ordering::Relaxed);
                self.counters
                    .limiter_wait_ms
                    .fetch_add(waited.as_millis() as u64, Ordering::Relaxed);
            }
            let authorization = if ours {
                match self.credentials.authorization(deadline).await {
                    Ok(authorization) => Some(authorization),
                    Err(error) => return Ok(refuse(error, None)),
                }
            } else {
                None
            };
            attempt += 1;
            call::record(|call| call.attempts = attempt);
            let mut this = request
                .try_clone()
                .expect("SmartThings request bodies are buffered JSON");
            if let Some(authorization) = &authorization {
                this.headers_mut()
                    .insert(AUTHORIZATION, authorization.header.clone());
            }
            let span = tracing::info_span!(
                "smartthings.request",
                operation,
                method = %method,
                path = self.api_path(this.url()),
                attempt,
                status = tracing::field::Empty,
                wait_ms = tracing::field::Empty,
                duration_ms = tracing::field::Empty,
                request_id = tracing::field::Empty,
            );
            let result = async {
                tracing::Span::current().record("wait_ms", waited.as_millis() as u64);
                self.counters.requests.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                let result = client.execute(this).await;
                let span = tracing::Span::current();
                span.record("duration_ms", sent.elapsed().as_millis() as u64);
                match &result {
                    Ok(response) => {
                        span.record("status", response.status().as_u16());
                        if let Some(id) = response
                            .headers()
                            .get(&REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                        {
                            span.record("request_id", id);
                        }
                        tracing::debug!("response");
                    }
                    Err(error) => tracing::debug!(%error, "transport error"),
                }
                result
            }
            .instrument(span)
            .await;

            if let (Some(key), Ok(response)) = (&bucket, &result) {
                self.limiter.observe(key, response.headers());
            }
            // A 401 means the server did not act, so even a command may be
            // replayed: once, with a refreshed token, never in a loop.
            if let (Ok(response), Some(authorization)) = (&result, &authorization)
                && response.status() == StatusCode::UNAUTHORIZED
                && !replayed_after_401
            {
                match self
                    .credentials
                    .rejected(authorization.generation, deadline)
                    .await
                {
                    Ok(true) => {
                        replayed_after_401 = true;
                        self.counters.auth_replays.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(operation, "401: replaying with a refreshed token");
                        continue;
                    }
                    Ok(false) => {}
                    Err(error) => {
                        let seen = SeenResponse::of(response.status(), response.headers());
                        return Ok(refuse(error, Some(seen)));
                    }
                }
            }
            let outcome = match &result {
                Ok(response) => Outcome::Status(response.status()),
                Err(e) if e.is_connect() => Outcome::NotSent,
                Err(_) => Outcome::Broken,
            };
            let decision = self.retry.classify(&method, outcome);
            let out_of_attempts = attempt >= self.retry.attempts();
            if decision == Decision::Stop
                || (out_of_attempts && decision != Decision::RetryAfterHint)
            {
                return finish(result, self.max_body).await;
            }

            let wait = match (decision, result) {
                (Decision::RetryAfterHint, Ok(response)) => {
                    self.counters.throttled.fetch_add(1, Ordering::Relaxed);
                    let (response, body) = buffer(response).await?;
                    let hint = retry_hint(response.headers(), &body);
                    let wait = hint.unwrap_or_else(|| self.retry.backoff_for(attempt));
                    if let Some(key) = &bucket {
                        self.limiter.exhausted_until(key, wait);
                    }
                    if out_of_attempts
                        || wait > self.retry.hinted_wait_cap()
                        || Instant::now() + wait > deadline
                    {
                        return finish(Ok(response), self.max_body).await;
                    }
                    wait
                }
                (_, result) => {
                    let wait = self.retry.backoff_for(attempt);
                    if Instant::now() + wait > deadline {
                        return finish(result, self.max_body).await;
                    }
                    wait
                }
            };
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            self.counters
                .retry_wait_ms
                .fetch_add(wait.as_millis() as u64, Ordering::Relaxed);
            tracing::info!(
                operation,
                attempt,
                wait_ms = wait.as_millis() as u64,
                "waiting before the next attempt"
            );
            tokio::time::sleep(wait).await;
        }
    }
}

/// The answer to a request the client will not send (no usable token, a
/// limiter wait too long): the call's record carries the typed error, and
/// the response handed back only stands in for it.
fn refuse(error: Error, seen: Option<SeenResponse>) -> reqwest::Response {
    call::record(|call| {
        call.local = Some(error);
        call.response = seen;
    });
    let mut stand_in = http::Response::new(Vec::<u8>::new());
    *stand_in.status_mut() = StatusCode::UNAUTHORIZED;
    reqwest::Response::from(stand_in)
}

impl SmartThingsTransport {
    /// The answer to a request the limiter will not hold that long: nothing
    /// is sent.
    fn refuse_locally(&self, bucket: &str, needed: Duration) -> reqwest::Response {
        self.counters
            .limiter_refusals
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            bucket,
            wait_ms = needed.as_millis() as u64,
            "rate limit: the window resets later than the call may wait; not sent"
        );
        let error = Error::new(
            ErrorKind::RateLimited,
            format!(
                "the client-side rate limit ({bucket}) allows the next request in {:.1} s, \
                 later than this call may wait (its deadline or max_hinted_wait); not sent",
                needed.as_secs_f64()
            ),
        )
        .with_retry_after(needed);
        refuse(error, None)
    }
}

/// An error status's body is read for its message, hint and snippet only:
/// past this much, the rest of an error page is not read.
const ERROR_BODY_CAP: usize = 1 << 20;

/// Read an error response's body (up to [`ERROR_BODY_CAP`]) and rebuild the
/// response around the same bytes, so that whoever reads it next sees them.
/// A body cut off ends the call: the response is recorded as its last, with
/// its status and headers (the status is known even if the body is not).
async fn buffer(mut response: reqwest::Response) -> reqwest::Result<(reqwest::Response, Vec<u8>)> {
    let status: StatusCode = response.status();
    let headers = response.headers().clone();
    let version = response.version();
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_CAP {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(cut) => {
                call::record(|call| {
                    call.response = Some(SeenResponse::of(status, &headers));
                    call.error_response = Some((headers, Vec::new()));
                });
                return Err(cut);
            }
        }
    }
    body.truncate(ERROR_BODY_CAP);
    let mut rebuilt = http::Response::new(body.clone());
    *rebuilt.status_mut() = status;
    *rebuilt.headers_mut() = headers;
    *rebuilt.version_mut() = version;
    Ok((reqwest::Response::from(rebuilt), body))
}

/// A successful response whose body may not exceed `cap` bytes: a larger
/// declared length fails at once, a longer stream fails when it passes the
/// cap; either way the call's error is [`ErrorKind::TooLarge`].
fn capped(response: reqwest::Response, cap: u64) -> reqwest::Response {
    let too_large = move |seen: String| {
        Error::new(
            ErrorKind::TooLarge,
            format!(
                "the response body ({seen}) exceeds the {cap}-byte cap (ClientBuilder::max_body_bytes)"
            ),
        )
    };
    match response.content_length() {
        Some(declared) if declared > cap => {
            call::record(|call| call.local = Some(too_large(format!("{declared} bytes declared"))));
            return reqwest::Response::from(http::Response::new(Vec::<u8>::new()));
        }
        // The HTTP layer reads no more than a declared length: nothing to
        // count, and the common case stays as it came.
        Some(_) => return response,
        None => {}
    }
    let status = response.status();
    let headers = response.headers().clone();
    let version = response.version();
    let mut seen: u64 = 0;
    let body = futures::StreamExt::map(response.bytes_stream(), move |chunk| {
        let chunk = chunk?;
        seen += chunk.len() as u64;
        if seen > cap {
            call::record(|call| call.local = Some(too_large(format!("over {cap} bytes read"))));
            return Err(Box::<dyn std::error::Error + Send + Sync>::from(
                "response body over the cap",
            ));
        }
        Ok(chunk)
    });
    let mut rebuilt = http::Response::new(reqwest::Body::wrap_stream(body));
    *rebuilt.status_mut() = status;
    *rebuilt.headers_mut() = headers;
    *rebuilt.version_mut() = version;
    reqwest::Response::from(rebuilt)
}

/// Record the final response in the call's record; the body of an error
/// status is read here so that its status, headers and body reach the
/// caller's error whatever the body is.
async fn finish(
    result: reqwest::Result<reqwest::Response>,
    body_cap: u64,
) -> reqwest::Result<reqwest::Response> {
    let response = result?;
    let status = response.status();
    call::record(|call| call.response = Some(SeenResponse::of(status, response.headers())));
    if status.is_success() {
        return Ok(capped(response, body_cap));
    }
    let (response, body) = buffer(response).await?;
    let headers = response.headers().clone();
    call::record(|call| call.error_response = Some((headers, body)));
    Ok(response)
}

impl Transport for SmartThingsTransport {
    fn execute<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        operation_id: &'static str,
    ) -> TransportFuture<'a> {
        Box::pin(self.send(client, request, operation_id))
    }
}
