//! The transport behind every request, generated or hand-written: it adds the
//! token (to the configured origin only), waits for the rate limiter, sends,
//! retries by SmartThings' rules and traces each attempt.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue, USER_AGENT};
use smartthings::{Transport, TransportFuture};
use tokio::time::Instant;
use tracing::Instrument;
use url::Url;

use crate::ratelimit::Limiter;
use crate::retry::{Decision, Outcome, RetryPolicy, retry_hint};
use crate::token::Token;

/// How many attempts produced the response (a header the transport adds to
/// the final response, so that errors can say whether they were retried).
pub(crate) const ATTEMPTS_HEADER: HeaderName = HeaderName::from_static("x-smartthings-rs-attempts");

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
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    limiter_waits: AtomicU64,
    limiter_wait_ms: AtomicU64,
    retry_wait_ms: AtomicU64,
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
        }
    }
}

/// The origin (scheme, host, port) a URL belongs to.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

#[derive(Debug)]
pub(crate) struct SmartThingsTransport {
    pub(crate) base: Url,
    /// `Bearer <token>`, built once and marked sensitive.
    authorization: Option<HeaderValue>,
    user_agent: HeaderValue,
    pub(crate) retry: RetryPolicy,
    pub(crate) limiter: Limiter,
    pub(crate) counters: Arc<Counters>,
}

impl SmartThingsTransport {
    pub(crate) fn new(
        base: Url,
        token: Option<Token>,
        user_agent: HeaderValue,
        retry: RetryPolicy,
        limiter: Limiter,
    ) -> Self {
        Self {
            base,
            authorization: token.as_ref().and_then(Token::authorization),
            user_agent,
            retry,
            limiter,
            counters: Arc::default(),
        }
    }

    /// The request path relative to the base URL's path (`/v1`).
    fn api_path<'u>(&self, url: &'u Url) -> &'u str {
        let prefix = self.base.path().trim_end_matches('/');
        url.path().strip_prefix(prefix).unwrap_or(url.path())
    }

    fn prepare(&self, request: &mut reqwest::Request) {
        // The token goes to the configured origin and nowhere else; anything
        // else the caller tries to send it to goes without it.
        let ours = same_origin(request.url(), &self.base);
        let headers = request.headers_mut();
        headers.insert(USER_AGENT, self.user_agent.clone());
        headers.remove(AUTHORIZATION);
        if ours && let Some(value) = &self.authorization {
            headers.insert(AUTHORIZATION, value.clone());
        }
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        mut request: reqwest::Request,
        operation: &'static str,
    ) -> reqwest::Result<reqwest::Response> {
        self.prepare(&mut request);
        let method = request.method().clone();
        let bucket = self
            .limiter
            .bucket_for(&method, self.api_path(request.url()));
        let started = Instant::now();
        let deadline = started + self.retry.deadline_duration();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let this = request
                .try_clone()
                .expect("SmartThings request bodies are buffered JSON");
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
                let waited = match &bucket {
                    Some(key) => self.limiter.acquire(key).await,
                    None => Duration::ZERO,
                };
                if !waited.is_zero() {
                    self.counters.limiter_waits.fetch_add(1, Ordering::Relaxed);
                    self.counters
                        .limiter_wait_ms
                        .fetch_add(waited.as_millis() as u64, Ordering::Relaxed);
                }
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
                            .get("x-request-id")
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
                return mark_attempts(result, attempt);
            }

            let wait = match (decision, result) {
                (Decision::RetryAfterHint, Ok(response)) => {
                    self.counters.throttled.fetch_add(1, Ordering::Relaxed);
                    let (response, hint) = buffer_with_hint(response).await?;
                    let wait = hint.unwrap_or_else(|| self.retry.backoff_for(attempt));
                    if let Some(key) = &bucket {
                        self.limiter.exhausted_until(key, wait);
                    }
                    if out_of_attempts
                        || wait > self.retry.hinted_wait_cap()
                        || Instant::now() + wait > deadline
                    {
                        return mark_attempts(Ok(response), attempt);
                    }
                    wait
                }
                (_, result) => {
                    let wait = self.retry.backoff_for(attempt);
                    if Instant::now() + wait > deadline {
                        return mark_attempts(result, attempt);
                    }
                    wait
                }
            };
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            self.counters
                .retry_wait_ms
                .fetch_add(wait.as_millis() as u64, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
    }
}

/// Read a 429's body for the "retry in N millis" hint and rebuild the
/// response around the same bytes, so the caller still sees all of it.
async fn buffer_with_hint(
    response: reqwest::Response,
) -> reqwest::Result<(reqwest::Response, Option<Duration>)> {
    let status: StatusCode = response.status();
    let headers = response.headers().clone();
    let version = response.version();
    let body = response.bytes().await?;
    let hint = retry_hint(&headers, &body);
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.headers_mut() = headers;
    *rebuilt.version_mut() = version;
    Ok((reqwest::Response::from(rebuilt), hint))
}

fn mark_attempts(
    result: reqwest::Result<reqwest::Response>,
    attempts: u32,
) -> reqwest::Result<reqwest::Response> {
    result.map(|mut response| {
        response
            .headers_mut()
            .insert(ATTEMPTS_HEADER, HeaderValue::from(attempts));
        response
    })
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
