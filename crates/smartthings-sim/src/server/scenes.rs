//! The scene operations: list, and execute (each action runs as a device
//! command).

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde_json::{Value, json};

use super::Shared;
use super::commands::{apply_commands, log_commands, now};
use super::operations::Api;
use super::paging::listing;
use super::pipeline::Seq;
use super::request::{param, query};
use super::respond::{not_found, ok};

pub(super) fn routes(api: Api) -> Api {
    api.get("/scenes", "listScenes", list_scenes).post(
        "/scenes/{scene_id}/execute",
        "executeScene",
        execute_scene,
    )
}

fn public_scene(scene: &Value) -> Value {
    let mut view = scene.clone();
    if let Some(map) = view.as_object_mut() {
        map.remove("actions");
    }
    view
}

async fn list_scenes(State(sim): State<Shared>, uri: Uri) -> Response {
    let q = query(&uri);
    let location = param(&q, "locationId").map(str::to_owned);
    let items = sim
        .home
        .lock()
        .expect("home")
        .scenes
        .values()
        .filter(|s| location.as_ref().is_none_or(|l| s["locationId"] == *l))
        .map(public_scene)
        .collect();
    listing(&sim, &uri, items)
}

async fn execute_scene(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    axum::Extension(Seq(seq)): axum::Extension<Seq>,
) -> Response {
    sim.change(|home| {
        let Some(scene) = home.scenes.get_mut(&id) else {
            return not_found("Scene", &id);
        };
        scene["lastExecutedDate"] = json!(now());
        let actions = scene["actions"].as_array().cloned().unwrap_or_default();
        for action in actions {
            let device_id = action["deviceId"].as_str().unwrap_or_default().to_owned();
            if let Ok(executed) = apply_commands(home, &device_id, std::slice::from_ref(&action)) {
                log_commands(&sim, seq, &device_id, executed);
            }
        }
        ok(json!({"status": "success"}))
    })
}
