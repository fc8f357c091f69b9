//! Firmware and hub-driver inventory from a saved device page: what the
//! typed device details (`ocf`, `zigbee`, `zwave`, `hub`…) give, and what the
//! `extra` map keeps when no type describes a field.
//!
//! ```sh
//! cargo run -p smartthings --example firmware_inventory              # a built-in sample page
//! cargo run -p smartthings --example firmware_inventory -- page.json # a page saved from GET /devices
//! ```

use smartthings::LenientItems;
use smartthings::types::ListDevicesResponse;

const SAMPLE: &str = r#"{"items": [
  {"deviceId": "6f5ea629", "label": "Desk lamp", "type": "ZIGBEE",
   "ocf": {"manufacturerName": "Signify", "modelNumber": "LCT015", "firmwareVersion": "1.104.2"},
   "zigbee": {"eui": "001788010B2A3C4D", "executingLocally": true}},
  {"deviceId": "0bd3b6a2", "label": "Hub", "type": "HUB",
   "hub": {"firmwareVersion": "000.055.00009",
           "hubDrivers": [{"driverId": "zigbee-bulb", "driverVersion": "2026-01-01"}]},
   "quantumEntanglement": {"paired": true}},
  {"deviceId": 42}
], "_links": {}}"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let text = match std::env::args().nth(1) {
        Some(path) => std::fs::read_to_string(path)?,
        None => SAMPLE.to_owned(),
    };
    let page: ListDevicesResponse = serde_json::from_str(&text)?;
    let items = page.items.unwrap_or_default();
    for device in items.valid() {
        let label = device.label.as_deref().unwrap_or("?");
        let firmware = device
            .ocf
            .as_ref()
            .and_then(|o| o.firmware_version.as_deref())
            .or_else(|| device.hub.as_ref()?.firmware_version.as_deref())
            .unwrap_or("-");
        println!("{label:<12} firmware {firmware}");
        let drivers = device.hub.as_ref().and_then(|h| h.hub_drivers.as_deref());
        for driver in drivers.unwrap_or_default() {
            println!(
                "{:<12} driver {} {}",
                "",
                driver.driver_id.as_deref().unwrap_or("?"),
                driver.driver_version.as_deref().unwrap_or("?")
            );
        }
        for (field, value) in &device.extra {
            println!("{:<12} untyped field {field} = {value}", "");
        }
    }
    for odd in items.invalid() {
        println!("kept as sent, did not decode: {} ({})", odd.raw, odd.error);
    }
    Ok(())
}
