//! `st snapshot`: the whole home in the fewest requests.

use anyhow::Result;
use serde_json::json;
use smartthings_ext::{SmartThings, SnapshotOptions};

use super::{progress_bar, to_json};
use crate::cli::Format;
use crate::output::{emit, table};

pub(super) async fn run(c: &SmartThings, format: Format) -> Result<()> {
    let bar = progress_bar();
    if let Some(bar) = &bar {
        bar.set_message("snapshot");
    }
    let mut options = SnapshotOptions::default();
    if let Some(bar) = bar.clone() {
        options = options.progress(move |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        });
    }
    let home = c.snapshot_with(options).await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let value = json!({
        "locations": home.locations.iter().map(|l| json!({"location": to_json(&l.location), "rooms": to_json(&l.rooms), "scenes": to_json(&l.scenes)})).collect::<Vec<_>>(),
        "devices": home.devices.iter().map(|d| json!({
            "device": to_json(&d.device),
            "status": to_json(&d.status),
            "health": d.health.as_ref().map(|h| json!({"state": h.state.as_str(), "lastUpdatedDate": h.last_updated})),
        })).collect::<Vec<_>>(),
        "requests": home.requests,
    });
    emit(format, &value, || {
        let mut t = table(&[
            "Device",
            "Location",
            "Health",
            "Switch",
            "Level",
            "Temperature",
            "Battery",
        ]);
        let location_name = |id: &Option<String>| {
            home.locations
                .iter()
                .find(|l| l.location.location_id == *id)
                .and_then(|l| l.location.name.clone())
                .unwrap_or_default()
        };
        let measured = |m: Option<smartthings_ext::Measurement<'_>>| {
            m.map(|m| {
                format!("{} {}", m.value, m.unit.unwrap_or_default())
                    .trim()
                    .to_owned()
            })
            .unwrap_or_default()
        };
        for d in &home.devices {
            let main = d.status.main();
            t.add_row(vec![
                d.device.label.clone().unwrap_or_default(),
                location_name(&d.device.location_id),
                d.health
                    .as_ref()
                    .map(|h| h.state.as_str().to_owned())
                    .unwrap_or_default(),
                main.and_then(|m| m.switch())
                    .map(|on| if on { "on" } else { "off" }.to_owned())
                    .unwrap_or_default(),
                measured(main.and_then(|m| m.level())),
                measured(main.and_then(|m| m.temperature())),
                measured(main.and_then(|m| m.battery())),
            ]);
        }
        t
    })?;
    if format == Format::Table {
        let rooms: usize = home.locations.iter().map(|l| l.rooms.len()).sum();
        let scenes: usize = home.locations.iter().map(|l| l.scenes.len()).sum();
        crate::output::line(format!(
            "{} devices, {} locations, {rooms} rooms, {scenes} scenes in {} requests",
            home.devices.len(),
            home.locations.len(),
            home.requests
        ))?;
    }
    Ok(())
}
