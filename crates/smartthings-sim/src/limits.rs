//! Seed 002's rate limits as the server enforces them: fixed windows per
//! principal, and per device for the device endpoints.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One row of seed 002's table.
struct Rule {
    method: &'static str,
    /// Path segments after `/v1`; `*` one segment, `**` any number.
    pattern: &'static [&'static str],
    limit: u32,
    window_secs: u64,
    per_device: bool,
}

const TABLE: &[Rule] = &[
    Rule {
        method: "GET",
        pattern: &["locations", "*"],
        limit: 250,
        window_secs: 60,
        per_device: false,
    },
    Rule {
        method: "GET",
        pattern: &["installedapps", "*"],
        limit: 200,
        window_secs: 60,
        per_device: false,
    },
    Rule {
        method: "GET",
        pattern: &["devices"],
        limit: 1000,
        window_secs: 900,
        per_device: false,
    },
    Rule {
        method: "GET",
        pattern: &["devices", "*"],
        limit: 400,
        window_secs: 900,
        per_device: true,
    },
    Rule {
        method: "GET",
        pattern: &["devices", "*", "**", "status"],
        limit: 350,
        window_secs: 60,
        per_device: true,
    },
    Rule {
        method: "POST",
        pattern: &["devices", "*", "commands"],
        limit: 120,
        window_secs: 60,
        per_device: true,
    },
    Rule {
        method: "POST",
        pattern: &["installedapps", "*", "subscriptions"],
        limit: 60,
        window_secs: 900,
        per_device: false,
    },
    Rule {
        method: "DELETE",
        pattern: &["installedapps", "*", "subscriptions"],
        limit: 15,
        window_secs: 900,
        per_device: false,
    },
];

/// Endpoints the table does not list still report their standing: a
/// generous per-principal window, so every response carries the headers.
pub(crate) const DEFAULT_LIMIT: u32 = 10_000;
pub(crate) const DEFAULT_WINDOW_SECS: u64 = 60;

fn matches(pattern: &[&str], path: &[&str]) -> bool {
    match (pattern.first(), path.first()) {
        (None, None) => true,
        (Some(&"**"), _) => {
            matches(&pattern[1..], path) || (!path.is_empty() && matches(pattern, &path[1..]))
        }
        (Some(&"*"), Some(_)) => matches(&pattern[1..], &path[1..]),
        (Some(p), Some(s)) if p == s => matches(&pattern[1..], &path[1..]),
        _ => false,
    }
}

struct Window {
    limit: u32,
    used: u32,
    resets_at: Instant,
}

/// The standing of one request against its bucket.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The bucket's limit.
    pub limit: u32,
    /// Requests left in the window after this one.
    pub remaining: u32,
    /// Time until the window resets.
    pub reset: Duration,
    /// The bucket's name, for the 429 body.
    pub bucket: String,
    /// The documented window, for the 429 message.
    pub window_secs: u64,
}

/// All windows of the simulator.
pub struct Limiter {
    time_scale: f64,
    enabled: bool,
    windows: HashMap<String, Window>,
}

impl Limiter {
    /// `time_scale` > 1 shrinks every window by that factor.
    pub fn new(time_scale: f64, enabled: bool) -> Self {
        Self {
            time_scale: time_scale.max(1e-6),
            enabled,
            windows: HashMap::new(),
        }
    }

    /// Count one request by `principal` to `method path` (path after `/v1`).
    pub fn check(&mut self, principal: &str, method: &str, path: &str) -> Verdict {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let rule = TABLE
            .iter()
            .filter(|r| r.method == method && matches(r.pattern, &segments))
            .max_by_key(|r| r.pattern.len());
        let (limit, window_secs, bucket) = match rule {
            Some(rule) => {
                let name = format!("{} /{}", rule.method, rule.pattern.join("/"));
                let scope = if rule.per_device {
                    format!("device {}", segments.get(1).copied().unwrap_or_default())
                } else {
                    format!("principal {principal}")
                };
                (rule.limit, rule.window_secs, format!("{name} ({scope})"))
            }
            None => (
                DEFAULT_LIMIT,
                DEFAULT_WINDOW_SECS,
                format!("default (principal {principal})"),
            ),
        };
        let window = Duration::from_secs(window_secs).div_f64(self.time_scale);
        let now = Instant::now();
        let state = self.windows.entry(bucket.clone()).or_insert(Window {
            limit,
            used: 0,
            resets_at: now + window,
        });
        if now >= state.resets_at {
            state.used = 0;
            state.resets_at = now + window;
        }
        let allowed = !self.enabled || rule.is_none() || state.used < state.limit;
        if allowed {
            state.used += 1;
        }
        Verdict {
            allowed,
            limit: state.limit,
            remaining: state.limit.saturating_sub(state.used),
            reset: state.resets_at.saturating_duration_since(now),
            bucket,
            window_secs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_device_status_windows_are_separate_and_enforced() {
        let mut limiter = Limiter::new(1.0, true);
        for _ in 0..350 {
            assert!(limiter.check("p", "GET", "/devices/a/status").allowed);
        }
        let refused = limiter.check("p", "GET", "/devices/a/components/main/status");
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        assert!(refused.reset <= Duration::from_secs(60));
        assert!(limiter.check("p", "GET", "/devices/b/status").allowed);
        // Unlisted endpoints report headers but are not limited here.
        let scenes = limiter.check("p", "GET", "/scenes");
        assert!(scenes.allowed);
        assert_eq!(scenes.limit, DEFAULT_LIMIT);
    }
}
