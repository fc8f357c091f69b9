//! A tiny dashboard: every device with its switch state and battery, in one
//! request per 200 devices. Runs against the embedded simulator unless
//! SMARTTHINGS_TOKEN is set:
//!
//! ```sh
//! cargo run -p smartthings-ext --example dashboard
//! ```

use smartthings_ext::{SmartThings, Token};
use smartthings_sim::{Config, Home, Simulator};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the simulator alive for as long as the client uses it.
    let (client, _simulator) = match Token::from_env() {
        Some(token) => (SmartThings::builder().token_value(token).build()?, None),
        None => {
            let sim = Simulator::start(Home::demo(), Config::default()).await?;
            let client = SmartThings::builder()
                .token(sim.token())
                .base_url(sim.base_url())
                .build()?;
            (client, Some(sim))
        }
    };
    let home = client.snapshot().await?;
    for device in &home.devices {
        let main = device.status.main();
        let switch = main
            .and_then(|m| m.switch())
            .map_or("-", |on| if on { "on" } else { "off" });
        let battery = main.and_then(|m| m.battery()).map_or_else(
            || "-".to_owned(),
            |b| format!("{}{}", b.value, b.unit.unwrap_or_default()),
        );
        println!(
            "{:<30} switch {switch:<4} battery {battery}",
            device.device.label.as_deref().unwrap_or("?")
        );
    }
    println!(
        "{} devices in {} requests",
        home.devices.len(),
        home.requests
    );
    Ok(())
}
