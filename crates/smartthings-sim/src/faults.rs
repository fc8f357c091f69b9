//! Deterministic fault injection: a seeded generator draws one outcome per
//! request, in arrival order.

use std::collections::HashMap;
use std::time::Duration;

/// How often each fault happens (each a probability in 0..=1).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultRates {
    /// 500, 502 or 503 with the API's JSON error body, before the request
    /// is processed.
    pub server_error: f64,
    /// 429 with the API's error body and a "retry in N millis" detail.
    pub rate_limited: f64,
    /// The connection is closed without an answer, before processing.
    pub drop: f64,
    /// The request is processed, then the body is cut off mid-way.
    pub truncate: f64,
    /// A 502 HTML error page (as a proxy in front of the API would send).
    pub html: f64,
    /// The request is processed (a command runs), then the connection is
    /// closed without an answer: the response is lost.
    pub drop_after: f64,
    /// The request is processed, then answered with a 500, 502 or 503.
    pub server_error_after: f64,
    /// 401, 403, 404, 429, 500, 502 or 503 with an HTML page or an empty
    /// body instead of the API's JSON, before processing.
    pub error_page: f64,
    /// 429 with a hint no client should take at its word: `Retry-After` in
    /// seconds, as an HTTP date, `1e20`, negative or garbage, or
    /// `x-ratelimit-reset` 10^19 ms away.
    pub hostile_429: f64,
    /// The request is processed; headers and half the body are sent, then
    /// nothing until [`Config::stall`](crate::Config::stall) has passed.
    pub stall: f64,
    /// Added to every response.
    pub latency: Duration,
}

/// Fault rates for every operation, with per-operation overrides.
#[derive(Clone, Debug, Default)]
pub struct FaultPlan {
    /// The seed of the generator.
    pub seed: u64,
    /// Rates for operations without an override.
    pub global: FaultRates,
    /// Rates by operation id (`getDeviceStatus`, ...).
    pub per_operation: HashMap<String, FaultRates>,
}

impl FaultRates {
    /// The fault kinds [`set`](Self::set) knows, as the simulator binary's
    /// `--fault` flag names them.
    pub const KINDS: [&'static str; 10] = [
        "server-error",
        "rate-limited",
        "drop",
        "truncate",
        "html",
        "drop-after",
        "server-error-after",
        "error-page",
        "hostile-429",
        "stall",
    ];

    /// Set the rate of one fault kind by its name in [`KINDS`](Self::KINDS)
    /// (`_` and `-` alike). The rate must be within 0..=1.
    ///
    /// ```
    /// use smartthings_sim::FaultRates;
    /// let mut rates = FaultRates::default();
    /// rates.set("drop-after", 0.05).unwrap();
    /// assert_eq!(rates.drop_after, 0.05);
    /// assert!(rates.set("drop_after", 1.5).is_err());
    /// assert!(rates.set("meteor", 0.1).is_err());
    /// ```
    pub fn set(&mut self, kind: &str, rate: f64) -> Result<(), String> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(format!(
                "the rate of {kind} must be within 0..=1, got {rate}"
            ));
        }
        let slot = match kind.replace('_', "-").as_str() {
            "server-error" => &mut self.server_error,
            "rate-limited" => &mut self.rate_limited,
            "drop" => &mut self.drop,
            "truncate" => &mut self.truncate,
            "html" => &mut self.html,
            "drop-after" => &mut self.drop_after,
            "server-error-after" => &mut self.server_error_after,
            "error-page" => &mut self.error_page,
            "hostile-429" => &mut self.hostile_429,
            "stall" => &mut self.stall,
            _ => {
                return Err(format!(
                    "unknown fault kind {kind:?} (one of {})",
                    Self::KINDS.join(", ")
                ));
            }
        };
        *slot = rate;
        Ok(())
    }
}

impl FaultPlan {
    /// No faults.
    pub fn none() -> Self {
        Self::default()
    }

    /// The rates for `operation`.
    pub fn rates(&self, operation: &str) -> &FaultRates {
        self.per_operation.get(operation).unwrap_or(&self.global)
    }
}

/// What happens to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Nothing: answer normally.
    None,
    /// Answer with this 5xx before processing.
    ServerError(u16),
    /// Answer 429 before processing.
    RateLimited,
    /// Close without answering.
    Drop,
    /// Process, then cut the body.
    Truncate,
    /// Answer with an HTML 502 page.
    Html,
    /// Process, then close without answering.
    DropAfter,
    /// Process, then answer with this 5xx.
    ServerErrorAfter(u16),
    /// Answer this status with an HTML page (`true`) or an empty body.
    ErrorPage(u16, bool),
    /// Answer 429 with the hostile hint of this index (see `HOSTILE_HINTS`).
    Hostile429(usize),
    /// Process, send half the body, then stall.
    Stall,
}

/// The hints of `FaultRates::hostile_429`: header name and value (`None`: an
/// HTTP date one second ahead).
pub const HOSTILE_HINTS: [(&str, Option<&str>); 6] = [
    ("retry-after", Some("1")),
    ("retry-after", None),
    ("retry-after", Some("1e20")),
    ("retry-after", Some("-5")),
    ("retry-after", Some("soon, probably")),
    ("x-ratelimit-reset", Some("10000000000000000000")),
];

/// Draw the fault for one request.
pub fn draw(rng: &mut fastrand::Rng, rates: &FaultRates) -> Fault {
    let roll = rng.f64();
    let mut edge = 0.0;
    for (rate, fault) in [
        (rates.server_error, Fault::ServerError(0)),
        (rates.rate_limited, Fault::RateLimited),
        (rates.drop, Fault::Drop),
        (rates.truncate, Fault::Truncate),
        (rates.html, Fault::Html),
        (rates.drop_after, Fault::DropAfter),
        (rates.server_error_after, Fault::ServerErrorAfter(0)),
        (rates.error_page, Fault::ErrorPage(0, false)),
        (rates.hostile_429, Fault::Hostile429(0)),
        (rates.stall, Fault::Stall),
    ] {
        edge += rate;
        if roll < edge {
            return match fault {
                Fault::ServerError(_) => Fault::ServerError([500, 502, 503][rng.usize(..3)]),
                Fault::ServerErrorAfter(_) => {
                    Fault::ServerErrorAfter([500, 502, 503][rng.usize(..3)])
                }
                Fault::ErrorPage(..) => Fault::ErrorPage(
                    [401, 403, 404, 429, 500, 502, 503][rng.usize(..7)],
                    rng.bool(),
                ),
                Fault::Hostile429(_) => Fault::Hostile429(rng.usize(..HOSTILE_HINTS.len())),
                other => other,
            };
        }
    }
    Fault::None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_can_be_set_by_name_and_each_sets_its_own_rate() {
        let mut seen = Vec::new();
        for (i, kind) in FaultRates::KINDS.iter().enumerate() {
            let mut rates = FaultRates::default();
            rates.set(kind, 1.0).unwrap();
            let mut rng = fastrand::Rng::with_seed(1);
            let fault = draw(&mut rng, &rates);
            assert_ne!(fault, Fault::None, "{kind}");
            // Each kind draws its own fault (variants compared by name).
            let name = format!("{fault:?}");
            let name = name.split('(').next().unwrap().to_owned();
            assert!(!seen.contains(&name), "{kind} draws {name} again");
            seen.push(name);
            assert_eq!(seen.len(), i + 1);
        }
        let mut rates = FaultRates::default();
        assert!(rates.set("stall", -0.1).is_err());
        assert!(rates.set("stall", f64::NAN).is_err());
        assert!(rates.set("hostile_429", 0.25).is_ok());
        assert_eq!(rates.hostile_429, 0.25);
    }

    #[test]
    fn draws_follow_the_rates_and_the_seed() {
        let rates = FaultRates {
            server_error: 0.10,
            rate_limited: 0.05,
            drop: 0.02,
            ..FaultRates::default()
        };
        let sequence = |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            (0..10_000)
                .map(|_| draw(&mut rng, &rates))
                .collect::<Vec<_>>()
        };
        let a = sequence(7);
        assert_eq!(a, sequence(7));
        let count = |f: fn(&Fault) -> bool| a.iter().filter(|x| f(x)).count();
        let errors = count(|f| matches!(f, Fault::ServerError(_)));
        assert!((800..1200).contains(&errors), "{errors}");
        assert!((350..650).contains(&count(|f| *f == Fault::RateLimited)));
        assert!((100..300).contains(&count(|f| *f == Fault::Drop)));
    }
}
