//! Export the simulator's demo home to a directory of Parquet files (one per
//! table) and print the summary. Against a real home, build the client with
//! `SmartThings::builder().build()?` (it reads SMARTTHINGS_TOKEN) instead.
//!
//! ```sh
//! cargo run -p smartthings-export --example parquet_home -- ./home-parquet
//! duckdb -c "SELECT * FROM './home-parquet/device_status.parquet' LIMIT 5"
//! ```

use smartthings_export::{Destination, ExportOptions, export};
use smartthings_ext::SmartThings;
use smartthings_sim::{Config, Home, Simulator};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = std::env::args_os().nth(1).map_or_else(
        || std::env::temp_dir().join("smartthings-parquet"),
        Into::into,
    );
    let sim = Simulator::start(Home::demo(), Config::default()).await?;
    let client = SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .build()?;
    let summary = export(
        &client,
        &Destination::Parquet(dir),
        &ExportOptions::default(),
    )
    .await?;
    println!("{summary}");
    Ok(())
}
