//! `st rooms`: a location's rooms, and creating one.

use anyhow::Result;
use smartthings_ext::{SmartThings, collect_all};

use super::to_json;
use crate::cli::Format;
use crate::output::{emit, table};

pub(super) async fn run(
    c: &SmartThings,
    format: Format,
    location_id: &str,
    create: Option<&str>,
) -> Result<()> {
    let rooms = match create {
        Some(name) => vec![
            c.create_room()
                .location_id(location_id)
                .body_map(|b| b.name(name))
                .send()
                .await?,
        ],
        None => collect_all(c.rooms(location_id)).await?.items,
    };
    emit(format, &to_json(&rooms), || {
        let mut t = table(&["Room", "Name", "Location"]);
        for r in &rooms {
            t.add_row(vec![
                r.room_id.clone().unwrap_or_default(),
                r.name.clone().unwrap_or_default(),
                r.location_id.clone().unwrap_or_default(),
            ]);
        }
        t
    })
}
