//! `smartthings-sim`: run the simulator as a process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Parser;
use smartthings_sim::{
    Activity, Config, DEFAULT_TOKEN, EventsConfig, FaultPlan, FaultRates, Home, OAuthConfig,
    PagingQuirks, Simulator, StreamFaultRates,
};

/// A local SmartThings API for demos, tests and fault drills.
#[derive(Parser)]
#[command(
    version,
    after_help = "Examples:\n  smartthings-sim                      # the demo home on a random port\n  smartthings-sim --port 8080 --locations 5 --devices 1000 --seed 7 --past-events 20000\n  smartthings-sim --recorded ./capture --faults 0.1\n  smartthings-sim --drops-after 0.05 --fault executeDeviceCommands:stall=0.1 --stall-ms 5000\n  smartthings-sim --error-pages 0.05 --paging-quirk page-cap=50 --paging-quirk relative-next-links\n  smartthings-sim --access-token-lifetime 60 --fault oauthToken:server-error=0.2   # exercise token refresh\n  smartthings-sim --activity 20:5 --stream-drops 0.05 --stream-half-opens 0.01   # event stream drill\n  smartthings-sim --activity 20:5 --sink-ttl 60 --welcome-period 5 --fault streamEvents:server-error=0.3\n\nEvent stream: POST {origin}/subscriptions with a bearer token creates a sink (at most --sink-limit per token);\nGET its registrationUrl (on the printed stream origin) for text/event-stream. Every command, scene and\n--activity change is published; a sink without an open stream loses its events."
)]
struct Args {
    /// Random activity published to event streams, over the first DEVICES
    /// devices: DEVICES:CHANGES_PER_SECOND[:HEALTH_FRACTION] (default
    /// health fraction 0.02).
    #[arg(long, value_name = "DEVICES:RATE[:HEALTH]", value_parser = activity)]
    activity: Option<(usize, f64, f64)>,
    /// A past: this many attribute changes over the last 7 days in the
    /// device history, ending in the home's state (for `listDeviceHistory`
    /// and `st export --events-since`).
    #[arg(long, value_name = "EVENTS", default_value_t = 0)]
    past_events: usize,
    /// Event streams cut without goodbye, per open stream per second.
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    stream_drops: f64,
    /// Event streams that go half-open (silent, never closed), per open
    /// stream per second.
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    stream_half_opens: f64,
    /// Event streams closed with goodbye, per open stream per second.
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    stream_goodbyes: f64,
    /// Event streams on which a random device falls silent, per open stream
    /// per second.
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    stream_silences: f64,
    /// Seconds between event stream `welcome`s (simulated: divided by
    /// --time-scale).
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    welcome_period: f64,
    /// Event sinks per token (or OAuth authorization).
    #[arg(long, value_name = "N", default_value_t = 2)]
    sink_limit: usize,
    /// Seconds an event sink lives (simulated: divided by --time-scale).
    #[arg(long, value_name = "SECS", default_value_t = 5.0 * 3600.0)]
    sink_ttl: f64,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Accepted bearer token (repeatable).
    #[arg(long = "token", default_value = DEFAULT_TOKEN)]
    tokens: Vec<String>,
    /// Generate a home with this many locations (1-10) instead of the demo.
    #[arg(long, requires = "devices")]
    locations: Option<usize>,
    /// Devices in the generated home (at most 200 per location).
    #[arg(long)]
    devices: Option<usize>,
    /// Seed of the generated home and of the faults.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Serve a home recorded from the real API (a folder of JSON responses).
    #[arg(long, conflicts_with_all = ["locations", "devices"])]
    recorded: Option<PathBuf>,
    /// Shrink every rate-limit window by this factor.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Do not enforce rate limits.
    #[arg(long)]
    no_rate_limits: bool,
    /// Fraction of requests answered 500/502/503.
    #[arg(long, default_value_t = 0.0)]
    faults: f64,
    /// Fraction of connections dropped.
    #[arg(long, default_value_t = 0.0)]
    drops: f64,
    /// Fraction of requests processed whose answer is then lost (dropped).
    #[arg(long, default_value_t = 0.0)]
    drops_after: f64,
    /// Fraction of requests processed, then answered 500/502/503.
    #[arg(long, default_value_t = 0.0)]
    faults_after: f64,
    /// Fraction answered 401/403/404/429/5xx with an HTML page or nothing.
    #[arg(long, default_value_t = 0.0)]
    error_pages: f64,
    /// Fraction answered 429 with an absurd or malformed retry hint.
    #[arg(long, default_value_t = 0.0)]
    hostile_429s: f64,
    /// Fraction of responses that stall half-way through the body.
    #[arg(long, default_value_t = 0.0)]
    stalls: f64,
    /// How long a stalled response sends nothing before the connection is
    /// closed, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    stall_ms: u64,
    /// Fraction answered 429 (a consistent "retry in 250 millis").
    #[arg(long, default_value_t = 0.0)]
    throttles: f64,
    /// Fraction of requests processed whose body is then cut off half-way.
    #[arg(long, default_value_t = 0.0)]
    truncations: f64,
    /// Fraction answered with a proxy's 502 HTML page.
    #[arg(long, default_value_t = 0.0)]
    html_pages: f64,
    /// Any fault, globally or for one operation: `KIND=RATE` or
    /// `OPERATION:KIND=RATE` (repeatable; an operation's rates start from the
    /// global ones). KIND: server-error, rate-limited, drop, truncate, html,
    /// drop-after, server-error-after, error-page, hostile-429, stall.
    /// OPERATION: an operation id, e.g. executeDeviceCommands.
    #[arg(long = "fault", value_name = "[OPERATION:]KIND=RATE")]
    fault_specs: Vec<String>,
    /// Added latency per response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Paging quirks: ignore-offset, repeat-next-link, relative-next-links,
    /// empty-pages-with-next, page-cap=N or foreign-next-links=ORIGIN
    /// (repeatable).
    #[arg(long = "paging-quirk")]
    paging_quirks: Vec<String>,
    /// A registered OAuth client (repeatable; default sim-client:sim-secret).
    #[arg(long = "oauth-client", value_name = "ID:SECRET", value_parser = oauth_client)]
    oauth_clients: Vec<(String, String)>,
    /// OAuth access token lifetime in simulated seconds (divided by
    /// --time-scale like the rate-limit windows).
    #[arg(long, value_name = "SECS", default_value_t = 86_399, value_parser = clap::value_parser!(u64).range(1..))]
    access_token_lifetime: u64,
    /// Refuse a reused refresh token without revoking the rest of its
    /// authorization's tokens.
    #[arg(long)]
    keep_family_on_reuse: bool,
}

fn oauth_client(pair: &str) -> Result<(String, String), String> {
    match pair.split_once(':') {
        Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
            Ok((id.to_owned(), secret.to_owned()))
        }
        _ => Err(format!("expected ID:SECRET, got {pair:?}")),
    }
}

fn activity(spec: &str) -> Result<(usize, f64, f64), String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let parsed = match parts[..] {
        [devices, rate] => Some((devices.parse().ok(), rate.parse().ok(), Some(0.02))),
        [devices, rate, health] => {
            Some((devices.parse().ok(), rate.parse().ok(), health.parse().ok()))
        }
        _ => None,
    };
    match parsed {
        Some((Some(devices), Some(rate), Some(health)))
            if rate >= 0.0 && (0.0..=1.0).contains(&health) =>
        {
            Ok((devices, rate, health))
        }
        _ => Err(format!(
            "expected DEVICES:RATE[:HEALTH_FRACTION], got {spec:?}"
        )),
    }
}

/// A duration in seconds from a flag.
fn seconds(flag: &str, secs: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(secs).map_err(|e| anyhow::anyhow!("--{flag} {secs}: {e}"))
}

fn paging(quirks: &[String]) -> Result<PagingQuirks> {
    let mut paging = PagingQuirks::default();
    for quirk in quirks {
        match quirk.split_once('=') {
            Some(("page-cap", n)) => paging.page_cap = Some(n.parse()?),
            Some(("foreign-next-links", origin)) => {
                url::Url::parse(origin)?;
                paging.foreign_next_links = Some(origin.to_owned());
            }
            _ => match quirk.as_str() {
                "ignore-offset" => paging.ignore_offset = true,
                "repeat-next-link" => paging.repeat_next_link = true,
                "relative-next-links" => paging.relative_next_links = true,
                "empty-pages-with-next" => paging.empty_pages_with_next = true,
                other => anyhow::bail!("unknown paging quirk {other:?}"),
            },
        }
    }
    Ok(paging)
}

/// The fault plan of the flags: the per-kind flags, then `--fault` specs,
/// global ones before per-operation ones.
fn fault_plan(args: &Args) -> Result<FaultPlan> {
    let mut global = FaultRates {
        server_error: args.faults,
        rate_limited: args.throttles,
        drop: args.drops,
        truncate: args.truncations,
        html: args.html_pages,
        drop_after: args.drops_after,
        server_error_after: args.faults_after,
        error_page: args.error_pages,
        hostile_429: args.hostile_429s,
        stall: args.stalls,
        latency: Duration::from_millis(args.latency_ms),
    };
    let mut specs = Vec::new();
    for spec in &args.fault_specs {
        let (target, rate) = spec
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--fault {spec:?}: expected [OPERATION:]KIND=RATE"))?;
        let rate: f64 = rate
            .parse()
            .map_err(|e| anyhow::anyhow!("--fault {spec:?}: {e}"))?;
        let (operation, kind) = match target.split_once(':') {
            Some((operation, kind)) => (Some(operation), kind),
            None => (None, target),
        };
        specs.push((operation, kind, rate));
    }
    specs.sort_by_key(|(operation, _, _)| operation.is_some());
    let mut per_operation = std::collections::HashMap::<String, FaultRates>::new();
    for (operation, kind, rate) in specs {
        let rates = match operation {
            None => &mut global,
            Some(operation) => per_operation
                .entry(operation.to_owned())
                .or_insert_with(|| global.clone()),
        };
        rates
            .set(kind, rate)
            .map_err(|e| anyhow::anyhow!("--fault: {e}"))?;
    }
    Ok(FaultPlan {
        seed: args.seed,
        global,
        per_operation,
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let home = match (&args.recorded, args.locations, args.devices) {
        (Some(dir), _, _) => Home::recorded(dir)?,
        (None, Some(l), Some(n)) => Home::generated(l, n, args.seed)?,
        (None, None, Some(n)) => Home::generated(n.div_ceil(200).max(1), n, args.seed)?,
        _ => Home::demo(),
    };
    let devices = home.devices.len();
    let faults = fault_plan(&args)?;
    let paging = paging(&args.paging_quirks)?;
    let config = Config {
        tokens: args.tokens,
        rate_limits: !args.no_rate_limits,
        time_scale: args.time_scale,
        faults,
        stall: Duration::from_millis(args.stall_ms),
        paging,
        oauth: OAuthConfig {
            clients: if args.oauth_clients.is_empty() {
                OAuthConfig::default().clients
            } else {
                args.oauth_clients
            },
            access_token_lifetime: Duration::from_secs(args.access_token_lifetime),
            revoke_family_on_reuse: !args.keep_family_on_reuse,
            ..OAuthConfig::default()
        },
        events: EventsConfig {
            welcome_period: seconds("welcome-period", args.welcome_period)?,
            sink_limit: args.sink_limit,
            sink_ttl: seconds("sink-ttl", args.sink_ttl)?,
            faults: StreamFaultRates {
                drop: args.stream_drops,
                half_open: args.stream_half_opens,
                goodbye: args.stream_goodbyes,
                silence: args.stream_silences,
                seed: args.seed,
            },
        },
    };
    let sim = Simulator::bind(SocketAddr::from(([127, 0, 0, 1], args.port)), home, config).await?;
    println!("SmartThings simulator: {devices} devices");
    println!("  URL:   {}", sim.base_url());
    println!("  token: {}", sim.token());
    println!("  stats: {}/__sim/stats", sim.origin());
    let (client_id, client_secret) = sim.oauth_client();
    println!("  OAuth client:    {client_id} (secret {client_secret})");
    println!("  OAuth token:     {}", sim.token_url());
    println!("  OAuth authorize: {}", sim.authorize_url());
    println!("  event sinks:     {}", sim.subscriptions_url());
    println!(
        "  event streams:   {} (allow it: st --stream-origin)",
        sim.stream_origin()
    );
    if args.past_events > 0 {
        let week = std::time::Duration::from_secs(7 * 24 * 3600);
        sim.invent_past(week, args.past_events, args.seed);
        println!(
            "  history:         {} changes over the past 7 days",
            args.past_events
        );
    }
    if let Some((devices, rate, health_fraction)) = args.activity {
        sim.start_activity(Activity {
            devices,
            events_per_second: rate,
            health_fraction,
            seed: args.seed,
        });
        println!("  activity:        {rate} changes/s over {devices} devices");
    }
    println!(
        "Try: SMARTTHINGS_TOKEN={} st --base-url {} devices",
        sim.token(),
        sim.base_url()
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
