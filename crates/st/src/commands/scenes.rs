//! `st scenes`: list and execute.

use anyhow::Result;
use smartthings_ext::{SmartThings, collect_all};

use super::to_json;
use crate::cli::{Format, SceneAction};
use crate::output::{emit, table};

pub(super) async fn run(
    c: &SmartThings,
    format: Format,
    location: Option<&str>,
    action: &SceneAction,
) -> Result<()> {
    match action {
        SceneAction::List => {
            let list = collect_all(c.scenes(location)).await?;
            emit(format, &to_json(&list.items), || {
                let mut t = table(&["Scene", "Name", "Location", "Last executed"]);
                for s in &list.items {
                    t.add_row(vec![
                        s.scene_id.clone().unwrap_or_default(),
                        s.scene_name.clone().unwrap_or_default(),
                        s.location_id.clone().unwrap_or_default(),
                        s.last_executed_date.clone().unwrap_or_default(),
                    ]);
                }
                t
            })
        }
        SceneAction::Execute { scene_id } => {
            let result = c.execute_scene().scene_id(scene_id).send().await?;
            emit(format, &to_json(&result), || {
                let mut t = table(&["Scene", "Status"]);
                t.add_row(vec![
                    scene_id.clone(),
                    result.status.clone().unwrap_or_default(),
                ]);
                t
            })
        }
    }
}
