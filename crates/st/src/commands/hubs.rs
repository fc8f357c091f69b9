//! `st hubs`: a hub's details and its installed drivers.

use anyhow::Result;
use serde_json::json;
use smartthings_ext::SmartThings;

use super::to_json;
use crate::cli::{Format, HubAction};
use crate::output::{cell, emit, table};

pub(super) async fn run(
    c: &SmartThings,
    format: Format,
    hub_id: &str,
    action: &HubAction,
) -> Result<()> {
    match action {
        HubAction::Get => {
            let (hub, characteristics) = tokio::try_join!(
                c.get_hub().hub_id(hub_id).send(),
                c.get_hub_characteristics().hub_id(hub_id).send(),
            )?;
            let mut value = to_json(&hub);
            value["characteristics"] = to_json(&characteristics);
            emit(format, &value, || {
                let mut t = table(&["Field", "Value"]);
                for (field, v) in [
                    ("Hub", json!(hub.id)),
                    ("Name", json!(hub.name)),
                    ("Firmware", json!(hub.firmware_version)),
                    ("Serial number", json!(hub.serial_number)),
                    ("EUI", json!(hub.eui)),
                ] {
                    t.add_row(vec![field.to_owned(), cell(&v)]);
                }
                for (name, v) in characteristics.iter() {
                    t.add_row(vec![name.clone(), cell(v)]);
                }
                t
            })
        }
        HubAction::Drivers { device } => {
            let mut request = c.list_hub_installed_drivers().hub_id(hub_id);
            if let Some(device) = device {
                request = request.device_id(device);
            }
            let listed = request.send().await?;
            let mut drivers = Vec::new();
            for item in listed {
                match item.into_result() {
                    Ok(driver) => drivers.push(driver),
                    Err(odd) => {
                        eprintln!("warning: a driver did not decode ({}); left out", odd.error)
                    }
                }
            }
            emit(format, &to_json(&drivers), || {
                let mut t = table(&["Driver", "Name", "Version", "Channel"]);
                for d in &drivers {
                    t.add_row(vec![
                        d.driver_id.clone().unwrap_or_default(),
                        d.name.clone().unwrap_or_default(),
                        d.version.clone().unwrap_or_default(),
                        d.channel_id.clone().unwrap_or_default(),
                    ]);
                }
                t
            })
        }
    }
}
