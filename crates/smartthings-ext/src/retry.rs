//! When to retry, and how long to wait first.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};

/// How failed requests are retried.
///
/// ```
/// use std::time::Duration;
/// use smartthings_ext::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .max_attempts(8)
///     .deadline(Duration::from_secs(300))
///     .backoff(Duration::from_millis(100), Duration::from_secs(10));
/// assert_eq!(policy.attempts(), 8);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RetryPolicy {
    max_attempts: u32,
    deadline: Duration,
    base_backoff: Duration,
    max_backoff: Duration,
    max_hinted_wait: Duration,
    retry_non_idempotent: bool,
}

/// The longest deadline a policy takes.
const MAX_DEADLINE: Duration = Duration::from_secs(24 * 60 * 60);

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            deadline: Duration::from_secs(120),
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(20),
            max_hinted_wait: Duration::from_secs(120),
            retry_non_idempotent: false,
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self::default().max_attempts(1)
    }

    /// Attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The configured number of attempts.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The longest a call may take, waits included: no retry starts and no
    /// rate-limit wait begins that would end after it. At most a day:
    /// [`ClientBuilder::build`](crate::ClientBuilder::build) refuses more.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Why this policy cannot be used, if it cannot.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.deadline.is_zero() || self.deadline > MAX_DEADLINE {
            return Err(format!(
                "retry deadline {:?} must be above zero and at most {:?}",
                self.deadline, MAX_DEADLINE
            ));
        }
        if self.max_backoff > MAX_DEADLINE {
            return Err(format!(
                "backoff {:?}..{:?} must stay within {:?}",
                self.base_backoff, self.max_backoff, MAX_DEADLINE
            ));
        }
        if self.max_hinted_wait > MAX_DEADLINE {
            return Err(format!(
                "max_hinted_wait {:?} must be at most {:?}",
                self.max_hinted_wait, MAX_DEADLINE
            ));
        }
        Ok(())
    }

    /// Exponential backoff for 5xx and transport errors: full jitter over
    /// `base * 2^retry`, capped at `max`.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base_backoff = base;
        self.max_backoff = max.max(base);
        self
    }

    /// The longest server-hinted wait (429) the client accepts before giving
    /// up with a rate-limited error instead.
    pub fn max_hinted_wait(mut self, max: Duration) -> Self {
        self.max_hinted_wait = max;
        self
    }

    /// Also replay POSTs (commands, creates, scene executions) after a 5xx or
    /// a broken connection. Off by default: the server may have acted on
    /// them. A 429 or a refused connection is always safe to replay.
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        self.retry_non_idempotent = yes;
        self
    }

    pub(crate) fn deadline_duration(&self) -> Duration {
        self.deadline
    }

    pub(crate) fn hinted_wait_cap(&self) -> Duration {
        self.max_hinted_wait
    }

    /// Full-jitter exponential backoff before retry number `retry` (1-based).
    pub(crate) fn backoff_for(&self, retry: u32) -> Duration {
        let exp = self
            .base_backoff
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let cap = exp.min(self.max_backoff);
        cap.mul_f64(fastrand::f64())
    }

    /// Whether an outcome may be retried for a request with `method`.
    pub(crate) fn classify(&self, method: &Method, outcome: Outcome) -> Decision {
        let replayable = is_idempotent(method) || self.retry_non_idempotent;
        match outcome {
            Outcome::Status(StatusCode::TOO_MANY_REQUESTS) => Decision::RetryAfterHint,
            Outcome::Status(s)
                if replayable
                    && matches!(
                        s,
                        StatusCode::INTERNAL_SERVER_ERROR
                            | StatusCode::BAD_GATEWAY
                            | StatusCode::SERVICE_UNAVAILABLE
                            | StatusCode::GATEWAY_TIMEOUT
                    ) =>
            {
                Decision::RetryWithBackoff
            }
            Outcome::NotSent => Decision::RetryWithBackoff,
            Outcome::Broken if replayable => Decision::RetryWithBackoff,
            _ => Decision::Stop,
        }
    }
}

/// What one attempt produced, as far as retrying is concerned.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Outcome {
    /// A response with this status.
    Status(StatusCode),
    /// The connection failed before the request was sent.
    NotSent,
    /// The request may have reached the server (timeout, reset, ...).
    Broken,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    Stop,
    RetryAfterHint,
    RetryWithBackoff,
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// The longest wait a server's hint can ask for; anything longer (`1e20`
/// seconds, a date in the year 9999) is read as this, so that every wait,
/// deadline and instant computed from a hint stays representable. A caller
/// still refuses such a wait through [`RetryPolicy::max_hinted_wait`].
pub const MAX_SERVER_HINT: Duration = Duration::from_secs(24 * 60 * 60);

/// The server's own hint of when to retry, in the order SmartThings gives
/// them: `Retry-After` (seconds or an HTTP date), `x-ratelimit-reset`
/// (milliseconds until the window resets, seed 002; one is added, since a
/// server may round down), then "retry in N millis"
/// in the error body's details. A hint that is negative, not a number or
/// not a date is ignored (the next one, or backoff, applies); one longer
/// than [`MAX_SERVER_HINT`] is capped to it.
pub fn retry_hint(headers: &HeaderMap, body: &[u8]) -> Option<Duration> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let hint = header(RETRY_AFTER.as_str())
        .and_then(retry_after)
        .or_else(|| header("x-ratelimit-reset").and_then(reset_millis))
        .or_else(|| millis_in_body(body))?;
    Some(hint.min(MAX_SERVER_HINT))
}

/// `Retry-After`: delay-seconds (fractions accepted) or an HTTP date.
fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        if !(secs.is_finite() && secs >= 0.0) {
            return None;
        }
        return Some(Duration::try_from_secs_f64(secs).unwrap_or(MAX_SERVER_HINT));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// `x-ratelimit-reset`: milliseconds until the window resets, plus one.
/// Whole milliseconds, which a server may round down: the window can reset
/// up to a millisecond after it says, and a request sent at the stated
/// instant (by the limiter or a retry after a 429) would meet the old one.
pub(crate) fn reset_millis(value: &str) -> Option<Duration> {
    const RESOLUTION: Duration = Duration::from_millis(1);
    let ms = value.trim().parse::<u64>().ok()?;
    Some((Duration::from_millis(ms) + RESOLUTION).min(MAX_SERVER_HINT))
}

/// Finds "retry in N millis" (any case) anywhere in an error body.
fn millis_in_body(body: &[u8]) -> Option<Duration> {
    let text = std::str::from_utf8(body).ok()?.to_ascii_lowercase();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("retry in ") {
        rest = &rest[at + "retry in ".len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let after = rest[digits.len()..].trim_start();
        if !digits.is_empty() && (after.starts_with("millis") || after.starts_with("ms")) {
            // Too many digits for a u64 is longer than any cap anyway.
            return Some(
                digits
                    .parse()
                    .map(Duration::from_millis)
                    .unwrap_or(MAX_SERVER_HINT),
            );
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    reqwest::header::HeaderName::from_static(k),
                    v.parse().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn hints_in_priority_order() {
        let body = br#"{"error":{"details":[{"message":"Retry in 1500 millis"}]}}"#;
        assert_eq!(
            retry_hint(&headers(&[("retry-after", "3")]), body),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_hint(&headers(&[("x-ratelimit-reset", "2500")]), body),
            Some(Duration::from_millis(2501)),
            "whole milliseconds, perhaps rounded down: one more"
        );
        assert_eq!(
            retry_hint(&HeaderMap::new(), body),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(retry_hint(&HeaderMap::new(), b"<html>busy</html>"), None);
    }

    #[test]
    fn absurd_hints_are_capped_or_ignored_never_a_panic() {
        let capped = |pairs: &[(&'static str, &str)]| retry_hint(&headers(pairs), b"");
        assert_eq!(capped(&[("retry-after", "1e20")]), Some(MAX_SERVER_HINT));
        assert_eq!(
            capped(&[("retry-after", "1e400")]),
            None,
            "inf is not a wait"
        );
        assert_eq!(capped(&[("retry-after", "-5")]), None);
        assert_eq!(capped(&[("retry-after", "NaN")]), None);
        assert_eq!(capped(&[("retry-after", "soon")]), None);
        assert_eq!(
            capped(&[("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT")]),
            Some(MAX_SERVER_HINT)
        );
        assert_eq!(
            capped(&[("retry-after", "Thu, 01 Jan 1970 00:00:00 GMT")]),
            Some(Duration::ZERO),
            "a date in the past: retry now"
        );
        assert_eq!(
            capped(&[("x-ratelimit-reset", "18446744073709551615")]),
            Some(MAX_SERVER_HINT)
        );
        assert_eq!(
            capped(&[("retry-after", "-1"), ("x-ratelimit-reset", "2000")]),
            Some(Duration::from_millis(2001)),
            "a garbage hint gives way to the next one"
        );
        assert_eq!(capped(&[("x-ratelimit-reset", "-3")]), None);
        let huge = format!("retry in {} millis", "9".repeat(40));
        assert_eq!(
            retry_hint(&HeaderMap::new(), huge.as_bytes()),
            Some(MAX_SERVER_HINT)
        );
        assert!(
            RetryPolicy::default()
                .deadline(Duration::MAX)
                .check()
                .is_err()
        );
        assert!(
            RetryPolicy::default()
                .deadline(Duration::ZERO)
                .check()
                .is_err()
        );
        assert!(RetryPolicy::default().check().is_ok());
    }

    #[test]
    fn retry_after_as_an_http_date() {
        let when = SystemTime::now() + Duration::from_secs(30);
        let hint = retry_hint(
            &headers(&[("retry-after", &httpdate::fmt_http_date(when))]),
            b"",
        )
        .unwrap();
        assert!(
            hint > Duration::from_secs(28) && hint <= Duration::from_secs(30),
            "{hint:?}"
        );
    }

    #[test]
    fn posts_are_not_replayed_after_a_5xx_unless_opted_in() {
        let policy = RetryPolicy::default();
        let s500 = Outcome::Status(StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(policy.classify(&Method::POST, s500), Decision::Stop);
        assert_eq!(
            policy.classify(&Method::POST, Outcome::Broken),
            Decision::Stop
        );
        assert_eq!(
            policy.classify(&Method::POST, Outcome::NotSent),
            Decision::RetryWithBackoff
        );
        assert_eq!(
            policy.classify(
                &Method::POST,
                Outcome::Status(StatusCode::TOO_MANY_REQUESTS)
            ),
            Decision::RetryAfterHint
        );
        assert_eq!(
            policy.classify(&Method::GET, s500),
            Decision::RetryWithBackoff
        );
        assert_eq!(
            policy.classify(&Method::GET, Outcome::Status(StatusCode::NOT_FOUND)),
            Decision::Stop
        );
        let opted = policy.retry_non_idempotent(true);
        assert_eq!(
            opted.classify(&Method::POST, s500),
            Decision::RetryWithBackoff
        );
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        let policy =
            RetryPolicy::default().backoff(Duration::from_millis(100), Duration::from_millis(800));
        for retry in 1..30 {
            let wait = policy.backoff_for(retry);
            let cap = Duration::from_millis(100 * (1 << (retry - 1).min(3)));
            assert!(wait <= cap, "retry {retry}: {wait:?} > {cap:?}");
        }
    }
}
