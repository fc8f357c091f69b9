//! `st rooms`: a location's rooms.

use anyhow::Result;
use smartthings_ext::types::{Room, RoomRequest};
use smartthings_ext::{SmartThings, collect_all};

use super::{deleted, to_json};
use crate::cli::{Format, RoomAction};
use crate::output::{emit, table};

pub(super) async fn run(
    c: &SmartThings,
    format: Format,
    location_id: &str,
    action: &RoomAction,
) -> Result<()> {
    let rooms = match action {
        RoomAction::List => collect_all(c.rooms(location_id)).await?.items,
        RoomAction::Get { room_id } => vec![
            c.get_room()
                .location_id(location_id)
                .room_id(room_id)
                .send()
                .await?,
        ],
        RoomAction::Create { name } => vec![
            c.create_room()
                .location_id(location_id)
                .body_map(|b| b.name(name))
                .send()
                .await?,
        ],
        RoomAction::Update { room_id, name } => {
            let body = RoomRequest {
                name: Some(name.clone()),
            };
            vec![
                c.update_room()
                    .location_id(location_id)
                    .room_id(room_id)
                    .body(body)
                    .send()
                    .await?,
            ]
        }
        RoomAction::Delete { room_id } => {
            c.delete_room()
                .location_id(location_id)
                .room_id(room_id)
                .send()
                .await?;
            return deleted(format, "room", room_id);
        }
    };
    show(format, action, &rooms)
}

/// A list as a list; one room as one object.
fn show(format: Format, action: &RoomAction, rooms: &[Room]) -> Result<()> {
    let json = match (action, rooms) {
        (RoomAction::List, _) => to_json(&rooms),
        (_, [room]) => to_json(room),
        _ => to_json(&rooms),
    };
    emit(format, &json, || {
        let mut t = table(&["Room", "Name", "Location"]);
        for r in rooms {
            t.add_row(vec![
                r.room_id.clone().unwrap_or_default(),
                r.name.clone().unwrap_or_default(),
                r.location_id.clone().unwrap_or_default(),
            ]);
        }
        t
    })
}
