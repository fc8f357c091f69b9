//! The rule operations: list, create, get, update, delete; every one but
//! the list is scoped by its `locationId` parameter.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::commands::{apply_commands, log_commands};
use super::operations::Api;
use super::pipeline::Seq;
use super::request::{json_body, param, query};
use super::respond::{Refusal, not_found, ok, unprocessable};
use super::{MAX_PAGE, Shared};
use crate::home::Home;

pub(super) fn routes(api: Api) -> Api {
    api.get("/rules", "listRules", list_rules)
        .post("/rules", "createRule", create_rule)
        .get("/rules/{rule_id}", "getRule", get_rule)
        .put("/rules/{rule_id}", "updateRule", update_rule)
        .delete("/rules/{rule_id}", "deleteRule", delete_rule)
        .post("/rules/execute/{rule_id}", "executeRule", execute_rule)
}

async fn list_rules(State(sim): State<Shared>, uri: Uri) -> Response {
    let q = query(&uri);
    let location = param(&q, "locationId").map(str::to_owned);
    let max = param(&q, "max")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(MAX_PAGE)
        .clamp(1, MAX_PAGE)
        .min(sim.config.paging.page_cap.unwrap_or(MAX_PAGE).max(1));
    let offset = param(&q, "offset")
        .and_then(|o| o.parse::<usize>().ok())
        .filter(|_| !sim.config.paging.ignore_offset)
        .unwrap_or(0);
    let items: Vec<Value> = sim
        .home
        .lock()
        .expect("home")
        .rules
        .values()
        .filter(|r| location.as_ref().is_none_or(|l| r["locationId"] == *l))
        .skip(offset)
        .take(max)
        .cloned()
        .collect();
    ok(json!({"items": items, "_links": {}}))
}

fn location_param(uri: &Uri) -> Result<String, Refusal> {
    param(&query(uri), "locationId")
        .map(str::to_owned)
        .ok_or_else(|| {
            unprocessable(
                "MissingParameter",
                "locationId is required".into(),
                Some("locationId"),
            )
            .into()
        })
}

async fn create_rule(State(sim): State<Shared>, uri: Uri, body: Bytes) -> Response {
    let (location, body) = match (location_param(&uri), json_body(&body)) {
        (Ok(l), Ok(b)) => (l, b),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    if body["name"].as_str().is_none() || !body["actions"].is_array() {
        return unprocessable("InvalidRule", "name and actions are required".into(), None);
    }
    let mut home = sim.home.lock().expect("home");
    if !home.locations.contains_key(&location) {
        return not_found("Location", &location);
    }
    let id = sim.new_id(3);
    let mut rule = body;
    rule["id"] = json!(id);
    rule["locationId"] = json!(location);
    rule["executionLocation"] = json!("Cloud");
    rule["ownerId"] = json!("c257d2c7-332b-d60d-808d-550bfbd54556");
    home.rules.insert(id, rule.clone());
    ok(rule)
}

fn find_rule<'h>(home: &'h mut Home, id: &str, location: &str) -> Result<&'h mut Value, Refusal> {
    home.rules
        .get_mut(id)
        .filter(|r| r["locationId"] == location)
        .ok_or_else(|| not_found("Rule", id).into())
}

async fn get_rule(State(sim): State<Shared>, Path(id): Path<String>, uri: Uri) -> Response {
    let location = match location_param(&uri) {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    find_rule(&mut home, &id, &location)
        .map(|r| ok(r.clone()))
        .unwrap_or_else(IntoResponse::into_response)
}

async fn update_rule(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Response {
    let (location, body) = match (location_param(&uri), json_body(&body)) {
        (Ok(l), Ok(b)) => (l, b),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    match find_rule(&mut home, &id, &location) {
        Ok(rule) => {
            for key in ["name", "actions", "timeZoneId"] {
                if let Some(value) = body.get(key) {
                    rule[key] = value.clone();
                }
            }
            ok(rule.clone())
        }
        Err(e) => e.into_response(),
    }
}

async fn delete_rule(State(sim): State<Shared>, Path(id): Path<String>, uri: Uri) -> Response {
    let location = match location_param(&uri) {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    if find_rule(&mut home, &id, &location).is_err() {
        return not_found("Rule", &id);
    }
    home.rules.shift_remove(&id);
    ok(json!({}))
}

/// Every `command` action of a rule, however deeply nested, as (devices,
/// commands).
fn command_actions(value: &Value, out: &mut Vec<(Vec<String>, Vec<Value>)>) {
    match value {
        Value::Object(map) => {
            if let Some(command) = map.get("command")
                && let (Some(devices), Some(commands)) = (
                    command["devices"].as_array(),
                    command["commands"].as_array(),
                )
            {
                let devices = devices
                    .iter()
                    .filter_map(|d| d.as_str().map(str::to_owned))
                    .collect();
                out.push((devices, commands.clone()));
            }
            for (key, nested) in map {
                if key != "command" {
                    command_actions(nested, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| command_actions(i, out)),
        _ => {}
    }
}

/// `executeRule`: runs the rule's command actions now, whatever their
/// trigger; each device's commands succeed or fail as a whole
/// (`Failure` for an unknown device or a refused command, `Offline` for an
/// offline device, which is not commanded).
async fn execute_rule(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    uri: Uri,
    axum::Extension(Seq(seq)): axum::Extension<Seq>,
) -> Response {
    let location = match location_param(&uri) {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let execution_id = sim.new_id(7);
    sim.change(|home| {
        let rule = match find_rule(home, &id, &location) {
            Ok(r) => r.clone(),
            Err(e) => return e.into_response(),
        };
        let mut actions = Vec::new();
        command_actions(&rule["actions"], &mut actions);
        let results: Vec<Value> = actions
            .into_iter()
            .enumerate()
            .map(|(i, (devices, commands))| {
                let outcome: Vec<Value> = devices
                    .iter()
                    .map(|device| {
                        let result = match home.devices.get(device) {
                            Some(d) if d.health["state"] == "OFFLINE" => "Offline",
                            Some(_) => match apply_commands(home, device, &commands) {
                                Ok(executed) => {
                                    log_commands(&sim, seq, device, executed);
                                    "Success"
                                }
                                Err(_) => "Failure",
                            },
                            None => "Failure",
                        };
                        json!({"deviceId": device, "result": result})
                    })
                    .collect();
                json!({"actionId": format!("{id}-action-{i}"), "command": outcome})
            })
            .collect();
        let failed = results.iter().any(|a| {
            a["command"]
                .as_array()
                .is_some_and(|c| c.iter().any(|r| r["result"] != "Success"))
        });
        ok(json!({
            "executionId": execution_id,
            "id": id,
            "result": if failed { "Failure" } else { "Success" },
            "actions": results,
        }))
    })
}
