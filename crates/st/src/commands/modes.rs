//! `st modes`: a location's modes, and the current one.

use anyhow::Result;
use serde_json::json;
use smartthings_ext::types::{ChangeModeRequest, Mode};
use smartthings_ext::{SmartThings, collect_all};

use super::{UsageError, to_json};
use crate::cli::{Format, ModeAction};
use crate::output::{emit, table};

pub(super) async fn run(
    c: &SmartThings,
    format: Format,
    location_id: &str,
    action: &ModeAction,
) -> Result<()> {
    match action {
        ModeAction::List => {
            let (modes, current) = tokio::try_join!(
                collect_all(c.get_modes().location_id(location_id).items()),
                c.get_current_mode().location_id(location_id).send(),
            )?;
            let modes = modes.items;
            let json: Vec<_> = modes
                .iter()
                .map(|m| {
                    let mut value = to_json(m);
                    value["current"] = json!(m.id.is_some() && m.id == current.id);
                    value
                })
                .collect();
            emit(format, &json.into(), || {
                let mut t = table(&["Mode", "Label", "Current"]);
                for m in &modes {
                    let is_current = m.id.is_some() && m.id == current.id;
                    t.add_row(vec![
                        m.id.clone().unwrap_or_default(),
                        label(m),
                        if is_current { "yes" } else { "" }.to_owned(),
                    ]);
                }
                t
            })
        }
        ModeAction::Current => {
            let mode = c.get_current_mode().location_id(location_id).send().await?;
            one(format, &mode)
        }
        ModeAction::Set { mode } => {
            let modes = collect_all(c.get_modes().location_id(location_id).items())
                .await?
                .items;
            let id = resolve(&modes, mode)?;
            let body = ChangeModeRequest { mode_id: id };
            let now = c
                .change_mode()
                .location_id(location_id)
                .body(body)
                .send()
                .await?;
            one(format, &now)
        }
    }
}

/// The id of the mode named `wanted` (its id, label or name; case does not
/// matter for names).
fn resolve(modes: &[Mode], wanted: &str) -> Result<String> {
    let by_id = modes.iter().find(|m| m.id.as_deref() == Some(wanted));
    let by_name = || {
        let matches: Vec<_> = modes
            .iter()
            .filter(|m| {
                [&m.label, &m.name]
                    .into_iter()
                    .flatten()
                    .any(|n| n.eq_ignore_ascii_case(wanted))
            })
            .collect();
        (matches.len() == 1).then(|| matches[0])
    };
    match by_id.or_else(by_name).and_then(|m| m.id.clone()) {
        Some(id) => Ok(id),
        None => {
            let known: Vec<String> = modes.iter().map(label).collect();
            Err(UsageError(format!(
                "no single mode {wanted:?} in this location (its modes: {})",
                known.join(", ")
            ))
            .into())
        }
    }
}

fn label(mode: &Mode) -> String {
    mode.label
        .clone()
        .or_else(|| mode.name.clone())
        .unwrap_or_default()
}

fn one(format: Format, mode: &Mode) -> Result<()> {
    emit(format, &to_json(mode), || {
        let mut t = table(&["Mode", "Label"]);
        t.add_row(vec![mode.id.clone().unwrap_or_default(), label(mode)]);
        t
    })
}
