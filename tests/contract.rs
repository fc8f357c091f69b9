//! Contract tests: for every operation of the spec (after the overlay), the
//! exact request the client sends, the decoding of its success response and
//! the typed errors it declares. `every_operation_has_a_contract_test` keeps
//! the suite complete as the spec grows.

#[path = "contract/harness.rs"]
mod harness;

#[path = "contract/apps.rs"]
mod apps;
#[path = "contract/automations.rs"]
mod automations;
#[path = "contract/capabilities.rs"]
mod capabilities;
#[path = "contract/capability_presentations.rs"]
mod capability_presentations;
#[path = "contract/device_management.rs"]
mod device_management;
#[path = "contract/device_preferences.rs"]
mod device_preferences;
#[path = "contract/device_profiles.rs"]
mod device_profiles;
#[path = "contract/devices.rs"]
mod devices;
#[path = "contract/hubs.rs"]
mod hubs;
#[path = "contract/installed_apps.rs"]
mod installed_apps;
#[path = "contract/locations.rs"]
mod locations;
#[path = "contract/modes.rs"]
mod modes;
#[path = "contract/notifications.rs"]
mod notifications;
#[path = "contract/presentation.rs"]
mod presentation;
#[path = "contract/rooms.rs"]
mod rooms;
#[path = "contract/rule_execution.rs"]
mod rule_execution;
#[path = "contract/schedules.rs"]
mod schedules;
#[path = "contract/virtual_devices.rs"]
mod virtual_devices;

use std::collections::BTreeSet;

/// `listDevices` -> `list_devices`, the module name of its contract tests.
fn snake_case(operation_id: &str) -> String {
    let mut out = String::new();
    for c in operation_id.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Operations lacking a module of contract tests (`mod <snake_case_id>`)
/// that checks both the request and the declared errors.
fn uncovered(sources: &str) -> Vec<String> {
    let modules: BTreeSet<&str> = sources
        .lines()
        .filter_map(|line| line.trim().strip_prefix("mod ")?.strip_suffix(" {"))
        .collect();
    harness::operation_ids()
        .into_iter()
        .filter(|id| {
            !modules.contains(snake_case(id).as_str())
                || !sources.contains(&format!("check_declared_errors(\n            \"{id}\""))
                    && !sources.contains(&format!("check_declared_errors(\"{id}\""))
        })
        .collect()
}

fn contract_sources() -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/contract");
    let mut sources = String::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        sources.push_str(&std::fs::read_to_string(path).unwrap());
    }
    sources
}

#[test]
fn every_operation_has_a_contract_test() {
    let missing = uncovered(&contract_sources());
    assert!(
        missing.is_empty(),
        "{} operation(s) without contract tests: {}",
        missing.len(),
        missing.join(", ")
    );
    assert_eq!(harness::operation_ids().len(), 99);
}

#[test]
fn the_coverage_check_names_an_operation_whose_tests_are_removed() {
    let sources = contract_sources();
    let start = sources.find("mod get_device_health {").unwrap();
    let end = start + sources[start..].find("\nmod ").unwrap();
    let without = format!("{}{}", &sources[..start], &sources[end..]);
    assert_eq!(uncovered(&without), ["getDeviceHealth"]);
}
