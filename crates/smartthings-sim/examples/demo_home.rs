//! The simulator in a program: serve a generated home, read it back with the
//! client, then look at what the simulator saw.
//!
//! ```sh
//! cargo run -p smartthings-sim --example demo_home
//! ```

use smartthings_ext::SmartThings;
use smartthings_sim::{Config, Home, Simulator};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sim = Simulator::start(Home::generated(3, 450, 7)?, Config::default()).await?;
    println!("serving {} (token {})", sim.base_url(), sim.token());
    let client = SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .build()?;
    let home = client.snapshot().await?;
    println!(
        "{} locations, {} devices in {} requests",
        home.locations.len(),
        home.devices.len(),
        home.requests
    );
    for (operation, count) in &sim.stats().by_operation {
        println!("  {operation:<24} {count}");
    }
    Ok(())
}
