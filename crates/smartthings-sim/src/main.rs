//! `smartthings-sim`: run the simulator as a process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Parser;
use smartthings_sim::{
    Config, DEFAULT_TOKEN, FaultPlan, FaultRates, Home, PagingQuirks, Simulator,
};

/// A local SmartThings API for demos, tests and fault drills.
#[derive(Parser)]
#[command(
    version,
    after_help = "Examples:\n  smartthings-sim                      # the demo home on a random port\n  smartthings-sim --port 8080 --locations 5 --devices 1000 --seed 7\n  smartthings-sim --recorded ./capture --faults 0.1"
)]
struct Args {
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
    /// Added latency per response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Paging quirks: ignore-offset, repeat-next-link, relative-next-links,
    /// empty-pages-with-next, or page-cap=N (repeatable).
    #[arg(long = "paging-quirk")]
    paging_quirks: Vec<String>,
}

fn paging(quirks: &[String]) -> Result<PagingQuirks> {
    let mut paging = PagingQuirks::default();
    for quirk in quirks {
        match quirk.split_once('=') {
            Some(("page-cap", n)) => paging.page_cap = Some(n.parse()?),
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
    let config = Config {
        tokens: args.tokens,
        rate_limits: !args.no_rate_limits,
        time_scale: args.time_scale,
        faults: FaultPlan {
            seed: args.seed,
            global: FaultRates {
                server_error: args.faults,
                drop: args.drops,
                drop_after: args.drops_after,
                server_error_after: args.faults_after,
                error_page: args.error_pages,
                hostile_429: args.hostile_429s,
                stall: args.stalls,
                latency: Duration::from_millis(args.latency_ms),
                ..FaultRates::default()
            },
            ..FaultPlan::default()
        },
        paging: paging(&args.paging_quirks)?,
        ..Config::default()
    };
    let sim = Simulator::bind(SocketAddr::from(([127, 0, 0, 1], args.port)), home, config).await?;
    println!("SmartThings simulator: {devices} devices");
    println!("  URL:   {}", sim.base_url());
    println!("  token: {}", sim.token());
    println!("  stats: http://{}/__sim/stats", sim.addr());
    println!(
        "Try: SMARTTHINGS_TOKEN={} st --base-url {} devices",
        sim.token(),
        sim.base_url()
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
