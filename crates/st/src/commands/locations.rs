//! `st locations`: list, get, create, update, delete.

use anyhow::{Context, Result};
use comfy_table::Table;
use serde_json::json;
use smartthings_ext::types::CreateLocationRequest;
use smartthings_ext::{SmartThings, collect_all};

use super::{deleted, to_json};
use crate::cli::{Format, LocationAction, LocationFields};
use crate::output::{emit, table};

fn location_body(fields: &LocationFields) -> Result<CreateLocationRequest> {
    let mut body = json!({"name": fields.name});
    for (key, value) in [
        (
            "countryCode",
            fields.country_code.as_ref().map(|v| json!(v)),
        ),
        ("latitude", fields.latitude.map(|v| json!(v))),
        ("longitude", fields.longitude.map(|v| json!(v))),
        ("regionRadius", fields.region_radius.map(|v| json!(v))),
        (
            "temperatureScale",
            fields.temperature_scale.as_ref().map(|v| json!(v)),
        ),
        ("timeZoneId", fields.time_zone_id.as_ref().map(|v| json!(v))),
        ("locale", fields.locale.as_ref().map(|v| json!(v))),
    ] {
        if let Some(value) = value {
            body[key] = value;
        }
    }
    serde_json::from_value(body).context("invalid location fields (temperature scale is F or C)")
}

fn location_table(locations: &[smartthings_ext::types::Location]) -> Table {
    let mut t = table(&["Location", "Name", "Country", "Time zone", "Scale"]);
    for l in locations {
        t.add_row(vec![
            l.location_id.clone().unwrap_or_default(),
            l.name.clone().unwrap_or_default(),
            l.country_code.clone().unwrap_or_default(),
            l.time_zone_id.clone().unwrap_or_default(),
            l.temperature_scale
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        ]);
    }
    t
}

pub(super) async fn run(c: &SmartThings, format: Format, action: &LocationAction) -> Result<()> {
    let one = match action {
        LocationAction::List => {
            let list = collect_all(c.locations()).await?;
            return emit(format, &to_json(&list.items), || {
                location_table(&list.items)
            });
        }
        LocationAction::Get { location_id } => {
            c.get_location().location_id(location_id).send().await?
        }
        LocationAction::Create(fields) => {
            c.create_location()
                .body(location_body(fields)?)
                .send()
                .await?
        }
        LocationAction::Update {
            location_id,
            fields,
        } => {
            c.update_location()
                .location_id(location_id)
                .body(location_body(fields)?)
                .send()
                .await?
        }
        LocationAction::Delete { location_id } => {
            c.delete_location().location_id(location_id).send().await?;
            return deleted(format, "location", location_id);
        }
    };
    emit(format, &to_json(&one), || {
        location_table(std::slice::from_ref(&one))
    })
}
