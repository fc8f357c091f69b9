//! Client-side rate limiting with SmartThings' semantics: per-principal and
//! per-device buckets, fixed windows, synchronised with the
//! `x-ratelimit-limit/remaining/reset` headers of every response (seed 002).
//! The client waits before sending rather than after a 429.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use crate::retry::reset_millis;

/// Whom a limit counts against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// The installed app or the user of a personal access token.
    Principal,
    /// One device: each device has its own window.
    Device,
}

/// The longest window a limit may have (a day), so that every reset time
/// stays representable.
const MAX_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// One row of the limits table: requests matching `method` and `path` may be
/// sent `limit` times per `window`.
#[derive(Clone, Debug)]
pub struct Limit {
    method: Method,
    /// Path segments after the API root; `*` matches one segment, `**` any
    /// number (including none).
    pattern: Vec<String>,
    /// `GET /devices/*/**`: the bucket key's prefix, written once here
    /// rather than for every request.
    rule: String,
    limit: u32,
    window: Duration,
    scope: Scope,
}

impl Limit {
    /// A limit; `path` like `/devices/*/**/status` (relative to `/v1`).
    pub fn new(method: Method, path: &str, limit: u32, window: Duration, scope: Scope) -> Self {
        let pattern: Vec<String> = segments(path).map(str::to_owned).collect();
        Self {
            rule: format!("{method} /{}", pattern.join("/")),
            method,
            pattern,
            limit: limit.max(1),
            window: window.min(MAX_WINDOW),
            scope,
        }
    }

    /// Whether this limit governs the request.
    fn governs(&self, method: &Method, path: &[&str]) -> bool {
        *method == self.method && matches(&self.pattern, path)
    }

    /// The key of the bucket the request counts against under this limit.
    fn key(&self, path: &[&str]) -> String {
        match self.scope {
            Scope::Principal => self.rule.clone(),
            // The device id is the segment after `devices`.
            Scope::Device => format!(
                "{} @{}",
                self.rule,
                path.get(1).copied().unwrap_or_default()
            ),
        }
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn matches(pattern: &[String], path: &[&str]) -> bool {
    match (pattern.first().map(String::as_str), path.first()) {
        (None, None) => true,
        (Some("**"), _) => {
            matches(&pattern[1..], path) || (!path.is_empty() && matches(pattern, &path[1..]))
        }
        (Some("*"), Some(_)) => matches(&pattern[1..], &path[1..]),
        (Some(p), Some(s)) if p == *s => matches(&pattern[1..], &path[1..]),
        _ => false,
    }
}

/// The limits a client enforces. [`RateLimitPolicy::default`] is seed 002's
/// table of observed limits.
///
/// ```
/// use std::time::Duration;
/// use smartthings_ext::{Limit, RateLimitPolicy, Scope};
/// use reqwest::Method;
///
/// // A tighter budget for device listing than the documented 1000 / 15 min.
/// let policy = RateLimitPolicy::default()
///     .with(Limit::new(Method::GET, "/devices", 100, Duration::from_secs(900), Scope::Principal));
/// ```
#[derive(Clone, Debug)]
pub struct RateLimitPolicy {
    limits: Vec<Limit>,
    /// The factor of the last `time_scale`, kept for `check`.
    time_scale: f64,
}

impl Default for RateLimitPolicy {
    fn default() -> Self {
        use Scope::{Device, Principal};
        let s = Duration::from_secs;
        Self {
            limits: vec![
                Limit::new(Method::GET, "/locations/*", 250, s(60), Principal),
                Limit::new(Method::GET, "/installedapps/*", 200, s(60), Principal),
                Limit::new(Method::GET, "/devices", 1000, s(900), Principal),
                Limit::new(Method::GET, "/devices/*", 400, s(900), Device),
                Limit::new(Method::GET, "/devices/*/**/status", 350, s(60), Device),
                Limit::new(Method::POST, "/devices/*/commands", 120, s(60), Device),
                Limit::new(
                    Method::POST,
                    "/installedapps/*/subscriptions",
                    60,
                    s(900),
                    Principal,
                ),
                Limit::new(
                    Method::DELETE,
                    "/installedapps/*/subscriptions",
                    15,
                    s(900),
                    Principal,
                ),
            ],
            time_scale: 1.0,
        }
    }
}

impl RateLimitPolicy {
    /// No limits client-side (429s are still retried); limits added with
    /// [`with`](Self::with) are enforced.
    pub fn disabled() -> Self {
        Self {
            limits: Vec::new(),
            time_scale: 1.0,
        }
    }

    /// Add a limit, or replace the one for the same method and path.
    pub fn with(mut self, limit: Limit) -> Self {
        self.limits
            .retain(|l| !(l.method == limit.method && l.pattern == limit.pattern));
        self.limits.push(limit);
        self
    }

    /// Every window shrunk by `factor` (for a simulator run at a shrunk time
    /// scale). The factor must be finite and above zero:
    /// [`ClientBuilder::build`](crate::ClientBuilder::build) refuses others.
    pub fn time_scale(mut self, factor: f64) -> Self {
        self.time_scale = factor;
        if factor.is_finite() && factor > 0.0 {
            for limit in &mut self.limits {
                limit.window = Duration::try_from_secs_f64(limit.window.as_secs_f64() / factor)
                    .unwrap_or(MAX_WINDOW)
                    .min(MAX_WINDOW);
            }
        }
        self
    }

    /// Why this policy cannot be used, if it cannot.
    pub(crate) fn check(&self) -> Result<(), String> {
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err(format!(
                "rate-limit time scale {} must be a finite number above zero",
                self.time_scale
            ));
        }
        Ok(())
    }

    /// The limits in force.
    pub fn limits(&self) -> &[Limit] {
        &self.limits
    }
}

#[derive(Debug)]
struct Bucket {
    limit: u32,
    window: Duration,
    remaining: u32,
    resets_at: Instant,
}

impl Bucket {
    fn refill_if_due(&mut self, now: Instant) {
        if now >= self.resets_at {
            self.remaining = self.limit;
            self.resets_at = now + self.window;
        }
    }
}

/// The live bucket state of one client.
#[derive(Debug)]
pub(crate) struct Limiter {
    policy: RateLimitPolicy,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    pub(crate) fn new(policy: RateLimitPolicy) -> Self {
        Self {
            policy,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The buckets. No code panics while holding the lock, but a poisoned
    /// lock must not take every later request down with it either.
    fn buckets(&self) -> MutexGuard<'_, HashMap<String, Bucket>> {
        self.buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The bucket a request counts against, if any limit governs it.
    /// `path` is relative to the API root (`/devices/x/status`).
    pub(crate) fn bucket_for(&self, method: &Method, path: &str) -> Option<String> {
        let path: Vec<&str> = segments(path).collect();
        // The most specific (longest pattern) limit wins.
        let limit = self
            .policy
            .limits
            .iter()
            .filter(|l| l.governs(method, &path))
            .max_by_key(|l| l.pattern.len())?;
        let key = limit.key(&path);
        let mut buckets = self.buckets();
        // Looked up before inserting: the key is copied only the first time.
        if !buckets.contains_key(&key) {
            buckets.insert(
                key.clone(),
                Bucket {
                    limit: limit.limit,
                    window: limit.window,
                    remaining: limit.limit,
                    resets_at: Instant::now() + limit.window,
                },
            );
        }
        Some(key)
    }

    /// Take one request from the bucket, waiting for the window to reset if
    /// it is empty. Returns how long it waited, or — without waiting — how
    /// long it would have to wait when that is more than `allowed`.
    pub(crate) async fn acquire(&self, key: &str, allowed: Duration) -> Result<Duration, Duration> {
        let started = Instant::now();
        let mut slept = false;
        loop {
            let wake = {
                let mut buckets = self.buckets();
                let Some(bucket) = buckets.get_mut(key) else {
                    return Ok(Duration::ZERO);
                };
                let now = Instant::now();
                bucket.refill_if_due(now);
                if bucket.remaining > 0 {
                    bucket.remaining -= 1;
                    // Not held: no wait, however long the lock took.
                    return Ok(if slept { now - started } else { Duration::ZERO });
                }
                bucket.resets_at
            };
            let total = wake.saturating_duration_since(started);
            if total > allowed {
                return Err(total);
            }
            tracing::info!(
                bucket = key,
                wait_ms = total.as_millis() as u64,
                "rate limit: holding the request until the window resets"
            );
            tokio::time::sleep_until(wake).await;
            slept = true;
        }
    }

    /// Align the bucket with the server's view after a response.
    pub(crate) fn observe(&self, key: &str, headers: &HeaderMap) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let mut buckets = self.buckets();
        let Some(bucket) = buckets.get_mut(key) else {
            return;
        };
        if let Some(limit) = number("x-ratelimit-limit") {
            bucket.limit = u32::try_from(limit).unwrap_or(u32::MAX).max(1);
        }
        if let Some(remaining) = number("x-ratelimit-remaining") {
            let remaining = u32::try_from(remaining).unwrap_or(u32::MAX);
            // Requests already reserved locally but not yet seen by the
            // server keep the lower of the two counts.
            bucket.remaining = bucket.remaining.min(remaining);
        }
        if let Some(reset) = headers
            .get("x-ratelimit-reset")
            .and_then(|v| v.to_str().ok())
            .and_then(reset_millis)
        {
            bucket.resets_at = Instant::now() + reset.min(bucket.window);
        }
    }

    /// After a 429 the bucket is empty until the hinted time.
    pub(crate) fn exhausted_until(&self, key: &str, wait: Duration) {
        if let Some(bucket) = self.buckets().get_mut(key) {
            bucket.remaining = 0;
            // A fixed window resets within one window: a longer hint (an
            // absurd `Retry-After`) must not block the bucket for a day.
            bucket.resets_at = Instant::now() + wait.min(bucket.window);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_table_routes_requests_to_their_buckets() {
        let limiter = Limiter::new(RateLimitPolicy::default());
        let key = |m: Method, p: &str| limiter.bucket_for(&m, p);
        assert_eq!(key(Method::GET, "/devices").unwrap(), "GET /devices");
        assert_eq!(
            key(Method::GET, "/devices/d1").unwrap(),
            "GET /devices/* @d1"
        );
        assert_eq!(
            key(
                Method::GET,
                "/devices/d1/components/main/capabilities/switch/status"
            )
            .unwrap(),
            "GET /devices/*/**/status @d1"
        );
        assert_eq!(
            key(Method::GET, "/devices/d2/status").unwrap(),
            "GET /devices/*/**/status @d2"
        );
        assert_eq!(
            key(Method::POST, "/devices/d1/commands").unwrap(),
            "POST /devices/*/commands @d1"
        );
        assert_eq!(
            key(Method::DELETE, "/installedapps/a/subscriptions").unwrap(),
            "DELETE /installedapps/*/subscriptions"
        );
        assert_eq!(key(Method::GET, "/scenes"), None);
        assert_eq!(key(Method::DELETE, "/devices/d1"), None);
        assert!(
            Limiter::new(RateLimitPolicy::disabled())
                .bucket_for(&Method::GET, "/devices")
                .is_none()
        );
    }

    /// On a real clock: the metrics count a wait only when one was held.
    #[tokio::test]
    async fn a_request_not_held_reports_no_wait() {
        let limiter = Limiter::new(RateLimitPolicy::default());
        let key = limiter.bucket_for(&Method::GET, "/devices").unwrap();
        for _ in 0..100 {
            let waited = limiter.acquire(&key, Duration::from_secs(60)).await;
            assert_eq!(waited, Ok(Duration::ZERO));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_empty_bucket_waits_for_its_window() {
        let policy = RateLimitPolicy::disabled().with(Limit::new(
            Method::GET,
            "/devices",
            2,
            Duration::from_secs(10),
            Scope::Principal,
        ));
        let limiter = Limiter::new(policy);
        let key = limiter.bucket_for(&Method::GET, "/devices").unwrap();
        let allowed = Duration::from_secs(60);
        assert_eq!(limiter.acquire(&key, allowed).await, Ok(Duration::ZERO));
        assert_eq!(limiter.acquire(&key, allowed).await, Ok(Duration::ZERO));
        let waited = limiter.acquire(&key, allowed).await;
        assert_eq!(waited, Ok(Duration::from_secs(10)));
    }

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

    #[tokio::test(start_paused = true)]
    async fn server_headers_override_the_local_view() {
        let limiter = Limiter::new(RateLimitPolicy::default());
        let key = limiter.bucket_for(&Method::GET, "/devices").unwrap();
        let headers = headers(&[
            ("x-ratelimit-limit", "1000"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1500"),
        ]);
        limiter.observe(&key, &headers);
        let allowed = Duration::from_secs(60);
        // The stated reset, and the millisecond it may have been rounded
        // down by.
        assert_eq!(
            limiter.acquire(&key, allowed).await,
            Ok(Duration::from_millis(1501))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_longer_than_allowed_is_refused_at_once_and_absurd_resets_are_capped() {
        let limiter = Limiter::new(RateLimitPolicy::default());
        let key = limiter.bucket_for(&Method::GET, "/devices").unwrap();
        let headers = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "10000000000000000000"),
        ]);
        // 1e19 ms overflowed `Instant + wait` under the lock before.
        limiter.observe(&key, &headers);
        limiter.exhausted_until(&key, Duration::MAX);
        let started = Instant::now();
        let refused = limiter.acquire(&key, Duration::from_secs(120)).await;
        // Capped at the bucket's window (15 min for GET /devices).
        assert_eq!(refused, Err(Duration::from_secs(900)));
        assert_eq!(
            started.elapsed(),
            Duration::ZERO,
            "refused without sleeping"
        );
        // The lock is still usable.
        let other = limiter.bucket_for(&Method::GET, "/devices/d1").unwrap();
        assert_eq!(
            limiter.acquire(&other, Duration::ZERO).await,
            Ok(Duration::ZERO)
        );
    }
}
