//! The operations of issue 17 (modes, device history, device update and
//! events, presentation, rooms, rule execution, virtual devices, hubs,
//! capability definitions) walked through the public client, each with
//! the behaviour a test can rely on; and device history paged both ways
//! against the simulator's own record.

mod walk;

use std::collections::HashSet;

use futures::TryStreamExt;
use serde_json::{Value, json};
use smartthings::LenientItems;
use smartthings_ext::SmartThings;
use smartthings_sim::{Config, Home, Simulator};
use walk::{BULB, CABIN, DIMMER, HOME, body, client, raw, status};

const DISPOSER: &str = "c3ebc842-7a47-47f1-bb97-4ebb8ef534c0";
const KITCHEN: &str = "3a6e5d1c-0001-4000-8000-000000000002";
const BEDROOM: &str = "3a6e5d1c-0001-4000-8000-000000000003";
const HALLWAY: &str = "3a6e5d1c-0001-4000-8000-000000000004";

async fn attribute(c: &SmartThings, device: &str, capability: &str, attribute: &str) -> Value {
    let status = c
        .get_device_status()
        .device_id(device)
        .send()
        .await
        .unwrap();
    raw(&status)["components"]["main"][capability][attribute]["value"].clone()
}

#[tokio::test]
async fn modes_list_create_rename_delete_and_change() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let c = client(&sim);
    let modes: Vec<_> = c
        .get_modes()
        .location_id(HOME)
        .items()
        .try_collect()
        .await
        .unwrap();
    let labels: Vec<_> = modes.iter().filter_map(|m| m.label.as_deref()).collect();
    assert_eq!(labels, ["Home", "Away", "Night"]);
    // Stable ids: another simulator of the same home has the same.
    let again = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let again: Vec<_> = client(&again)
        .get_modes()
        .location_id(HOME)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        modes.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        again.iter().map(|m| m.id.clone()).collect::<Vec<_>>()
    );
    let home = modes[0].id.clone().unwrap();
    let away = modes[1].id.clone().unwrap();
    let current = c.get_current_mode().location_id(HOME).send().await.unwrap();
    assert_eq!(current.id.as_deref(), Some(home.as_str()));

    let changed = c
        .change_mode()
        .location_id(HOME)
        .body(body::<smartthings::types::ChangeModeRequest>(
            json!({"modeId": away}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.id.as_deref(), Some(away.as_str()));
    let current = c.get_current_mode().location_id(HOME).send().await.unwrap();
    assert_eq!(current.label.as_deref(), Some("Away"));
    // The other location keeps its own current mode.
    let cabin = c
        .get_current_mode()
        .location_id(CABIN)
        .send()
        .await
        .unwrap();
    assert_eq!(cabin.label.as_deref(), Some("Home"));

    let vacation = c
        .create_mode()
        .location_id(HOME)
        .body(body::<smartthings::types::ModeRequest>(
            json!({"label": "Vacation"}),
        ))
        .send()
        .await
        .unwrap();
    let vacation_id = vacation.id.clone().unwrap();
    let renamed = c
        .update_mode()
        .location_id(HOME)
        .mode_id(&vacation_id)
        .body(body::<smartthings::types::ModeRequest>(
            json!({"label": "Holiday"}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.label.as_deref(), Some("Holiday"));
    assert_eq!(renamed.name.as_deref(), Some("Vacation"));
    // A label is unique per location.
    let duplicate = c
        .update_mode()
        .location_id(HOME)
        .mode_id(&vacation_id)
        .body(body::<smartthings::types::ModeRequest>(
            json!({"label": "Night"}),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&duplicate), 422);

    // The current mode cannot be deleted; another can.
    let refused = c
        .delete_mode()
        .location_id(HOME)
        .mode_id(&away)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&refused), 422);
    c.delete_mode()
        .location_id(HOME)
        .mode_id(&vacation_id)
        .send()
        .await
        .unwrap();
    let left: Vec<_> = c
        .get_modes()
        .location_id(HOME)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(left.len(), 3);
    let missing = c
        .delete_mode()
        .location_id(HOME)
        .mode_id(&vacation_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&missing), 404);
    let unknown = c
        .change_mode()
        .location_id(HOME)
        .body(body::<smartthings::types::ChangeModeRequest>(
            json!({"modeId": "nope"}),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&unknown), 422);
    // Every call went through the pipeline under its operation id.
    let stats = sim.stats();
    for operation in [
        "getModes",
        "getCurrentMode",
        "changeMode",
        "createMode",
        "updateMode",
        "deleteMode",
    ] {
        assert!(stats.by_operation.contains_key(operation), "{operation}");
    }
}

#[tokio::test]
async fn update_device_renames_and_moves_with_lifecycle_events() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let c = client(&sim);
    let updated = c
        .update_device()
        .device_id(DIMMER)
        .body(body::<smartthings::types::UpdateDeviceRequest>(
            json!({"label": "Bedside Dimmer", "roomId": HALLWAY}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.label.as_deref(), Some("Bedside Dimmer"));
    let device = c.get_device().device_id(DIMMER).send().await.unwrap();
    assert_eq!(device.label.as_deref(), Some("Bedside Dimmer"));
    assert_eq!(raw(&device)["roomId"], HALLWAY);
    let listed: Vec<_> = c
        .list_devices()
        .location_id(HOME)
        .items()
        .try_collect()
        .await
        .unwrap();
    let listed = listed
        .iter()
        .find(|d| d.device_id.as_deref() == Some(DIMMER))
        .unwrap();
    assert_eq!(listed.label.as_deref(), Some("Bedside Dimmer"));
    assert_eq!(raw(listed)["roomId"], HALLWAY);
    let lifecycle: Vec<Value> = sim
        .published_events()
        .iter()
        .filter(|e| e.device_id == DIMMER && e.kind == "DEVICE_LIFECYCLE_EVENT")
        .map(|e| e.value.clone())
        .collect();
    assert_eq!(lifecycle, [json!("UPDATE"), json!("ROOM_MOVE")]);

    // A room of another location, or another location, is refused.
    for request in [
        json!({"roomId": "3a6e5d1c-0001-4000-8000-000000000005"}),
        json!({"locationId": CABIN}),
    ] {
        let refused = c
            .update_device()
            .device_id(DIMMER)
            .body(body::<smartthings::types::UpdateDeviceRequest>(request))
            .send()
            .await
            .unwrap_err();
        assert_eq!(status(&refused), 422);
    }
    let missing = c
        .update_device()
        .device_id("nope")
        .body(body::<smartthings::types::UpdateDeviceRequest>(
            json!({"label": "x"}),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&missing), 404);
}

#[tokio::test]
async fn device_events_set_attributes_and_are_recorded() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let c = client(&sim);
    c.create_device_events()
        .device_id(DIMMER)
        .body(body::<smartthings::types::CreateDeviceEventsRequest>(json!({
            "deviceEvents": [
                {"component": "main", "capability": "switchLevel", "attribute": "level", "value": 42, "unit": "%"},
                {"component": "main", "capability": "switch", "attribute": "switch", "value": "on"}
            ]
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(attribute(&c, DIMMER, "switchLevel", "level").await, 42);
    assert_eq!(attribute(&c, DIMMER, "switch", "switch").await, "on");
    let history = c
        .list_device_history()
        .location_id(vec![HOME.to_owned()])
        .device_id(vec![DIMMER.to_owned()])
        .send()
        .await
        .unwrap();
    let items: Vec<_> = history.items.as_deref().unwrap().valid().collect();
    assert_eq!(items.len(), 2);
    // Newest first.
    assert_eq!(items[0].attribute.as_deref(), Some("switch"));
    assert_eq!(items[1].attribute.as_deref(), Some("level"));
    assert_eq!(raw(items[1])["value"], 42);
    assert_eq!(items[1].unit.as_deref(), Some("%"));
    assert_eq!(items[1].device_name.as_deref(), Some("Dimmer"));
    assert_eq!(items[1].location_name.as_deref(), Some("Home"));
    // A capability the device does not have: nothing is applied.
    let refused = c
        .create_device_events()
        .device_id(DIMMER)
        .body(body::<smartthings::types::CreateDeviceEventsRequest>(json!({
            "deviceEvents": [
                {"component": "main", "capability": "switch", "attribute": "switch", "value": "off"},
                {"component": "main", "capability": "lock", "attribute": "lock", "value": "locked"}
            ]
        })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&refused), 422);
    assert_eq!(attribute(&c, DIMMER, "switch", "switch").await, "on");

    // Commands and scenes are recorded too.
    c.execute_device_commands()
        .device_id(BULB)
        .body(body::<smartthings::types::DeviceCommandRequest>(json!({
            "commands": [{"component": "main", "capability": "switch", "command": "off"}]
        })))
        .send()
        .await
        .unwrap();
    sim.set_attribute(
        DISPOSER,
        "main",
        "foodWasteDryingGrinder",
        "state",
        json!("running"),
    );
    let truth = sim.device_history();
    assert_eq!(truth.len(), 4);
    assert_eq!(truth[2]["deviceId"], BULB);
    assert_eq!(truth[3]["locationId"], CABIN);
}

#[tokio::test]
async fn presentation_rooms_and_rules() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let c = client(&sim);

    let presentation = c
        .get_device_presentation()
        .device_id(BULB)
        .send()
        .await
        .unwrap();
    let presentation = raw(&presentation);
    assert!(presentation["presentationId"].is_string());
    assert_eq!(
        presentation["dashboard"]["states"][0]["capability"],
        "switch"
    );
    assert!(
        presentation["detailView"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["capability"] == "switchLevel")
    );
    let by_vid = c
        .get_device_presentation()
        .presentation_id(presentation["presentationId"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        raw(&by_vid)["presentationId"],
        presentation["presentationId"]
    );

    // Rooms: get, rename, delete (its devices end up in no room).
    let room = c
        .get_room()
        .location_id(HOME)
        .room_id(KITCHEN)
        .send()
        .await
        .unwrap();
    assert_eq!(room.name.as_deref(), Some("Kitchen"));
    let renamed = c
        .update_room()
        .location_id(HOME)
        .room_id(KITCHEN)
        .body(body::<smartthings::types::RoomRequest>(
            json!({"name": "Galley"}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("Galley"));
    let listed: Vec<_> = c
        .list_rooms()
        .location_id(HOME)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(listed.iter().any(|r| r.name.as_deref() == Some("Galley")));
    let in_bedroom: Vec<String> = sim.with_home(|h| {
        h.devices
            .values()
            .filter(|d| d.device["roomId"] == BEDROOM)
            .map(|d| d.id().to_owned())
            .collect()
    });
    assert!(!in_bedroom.is_empty());
    c.delete_room()
        .location_id(HOME)
        .room_id(BEDROOM)
        .send()
        .await
        .unwrap();
    let gone = c
        .get_room()
        .location_id(HOME)
        .room_id(BEDROOM)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&gone), 404);
    for id in &in_bedroom {
        let device = c.get_device().device_id(id).send().await.unwrap();
        assert!(raw(&device)["roomId"].is_null(), "{id} is still in a room");
    }
    let moves = sim
        .published_events()
        .iter()
        .filter(|e| e.value == "ROOM_MOVE")
        .count();
    assert_eq!(moves, in_bedroom.len());
    // A room of another location is not found through this one.
    let elsewhere = c
        .get_room()
        .location_id(CABIN)
        .room_id(KITCHEN)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&elsewhere), 404);

    // Rules: executing one runs its command actions now.
    c.execute_device_commands()
        .device_id(BULB)
        .body(body::<smartthings::types::DeviceCommandRequest>(json!({
            "commands": [{"component": "main", "capability": "switch", "command": "off"}]
        })))
        .send()
        .await
        .unwrap();
    let executed = c
        .execute_rule()
        .rule_id("rule-porch-light")
        .location_id(HOME)
        .send()
        .await
        .unwrap();
    let executed = raw(&executed);
    assert_eq!(executed["result"], "Success");
    assert_eq!(executed["id"], "rule-porch-light");
    assert_eq!(executed["actions"][0]["command"][0]["deviceId"], BULB);
    assert_eq!(attribute(&c, BULB, "switch", "switch").await, "on");
    let unknown = c
        .execute_rule()
        .rule_id("nope")
        .location_id(HOME)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&unknown), 404);
    let wrong_location = c
        .execute_rule()
        .rule_id("rule-porch-light")
        .location_id(CABIN)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&wrong_location), 404);
}

#[tokio::test]
async fn virtual_devices_are_created_listed_and_driven_by_events() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let c = client(&sim);
    let created = c
        .create_standard_virtual_device()
        .body(
            body::<smartthings::types::CreateStandardVirtualDeviceRequest>(json!({
                "name": "Virtual Porch Switch",
                "prototype": "VIRTUAL_SWITCH",
                "owner": {"ownerType": "LOCATION", "ownerId": HOME},
                "roomId": HALLWAY
            })),
        )
        .send()
        .await
        .unwrap();
    let id = created.device_id.clone().unwrap();
    assert_eq!(raw(&created)["type"], "VIRTUAL");
    let initial = attribute(&c, &id, "switch", "switch").await;
    assert!(initial == "on" || initial == "off");
    let dimmer = c
        .create_virtual_device()
        .body(body::<smartthings::types::CreateVirtualDeviceRequest>(
            json!({
                "name": "Virtual Cabin Dimmer",
                "owner": {"ownerType": "LOCATION", "ownerId": CABIN},
                "deviceProfile": {"components": [{"id": "main", "capabilities": [
                    {"id": "switch", "version": 1}, {"id": "switchLevel", "version": 1}
                ]}]}
            }),
        ))
        .send()
        .await
        .unwrap();
    let dimmer_id = dimmer.device_id.clone().unwrap();
    assert!(
        attribute(&c, &dimmer_id, "switchLevel", "level")
            .await
            .is_number()
    );

    // Listed among the devices, and as virtual devices by location.
    let devices: Vec<_> = c.list_devices().items().try_collect().await.unwrap();
    assert!(devices.iter().any(|d| d.device_id.as_deref() == Some(&id)));
    let home_virtual: Vec<_> = c
        .list_virtual_devices()
        .location_id(HOME)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(home_virtual.len(), 1);
    assert_eq!(home_virtual[0].device_id.as_deref(), Some(id.as_str()));
    let all_virtual: Vec<_> = c
        .list_virtual_devices()
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all_virtual.len(), 2);

    // Events change the status, say what changed, publish and record.
    let flipped = if initial == "on" { "off" } else { "on" };
    let answer = c
        .create_virtual_device_events()
        .device_id(&id)
        .body(body::<smartthings::types::CreateDeviceEventsRequest>(json!({
            "deviceEvents": [
                {"component": "main", "capability": "switch", "attribute": "switch", "value": flipped},
                {"component": "main", "capability": "switch", "attribute": "switch", "value": flipped}
            ]
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.state_changes, Some(vec![true, false]));
    assert_eq!(attribute(&c, &id, "switch", "switch").await, flipped);
    let published = sim
        .published_events()
        .iter()
        .filter(|e| e.device_id == id)
        .map(|e| (e.kind, e.value.clone()))
        .collect::<Vec<_>>();
    assert_eq!(
        published,
        [
            ("DEVICE_LIFECYCLE_EVENT", json!("CREATE")),
            ("DEVICE_EVENT", json!(flipped)),
            ("DEVICE_EVENT", json!(flipped)),
        ]
    );
    let history: Vec<_> = c
        .list_device_history()
        .location_id(vec![HOME.to_owned()])
        .device_id(vec![id.clone()])
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(
        history[0].device_name.as_deref(),
        Some("Virtual Porch Switch")
    );

    // A command works on it too.
    c.execute_device_commands()
        .device_id(&dimmer_id)
        .body(body::<smartthings::types::DeviceCommandRequest>(json!({
            "commands": [{"component": "main", "capability": "switchLevel", "command": "setLevel", "arguments": [33]}]
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(attribute(&c, &dimmer_id, "switchLevel", "level").await, 33);

    // Unknown prototypes, devices that are not virtual.
    let unknown = c
        .create_standard_virtual_device()
        .body(
            body::<smartthings::types::CreateStandardVirtualDeviceRequest>(json!({
                "name": "x", "prototype": "VIRTUAL_TOASTER",
                "owner": {"ownerType": "LOCATION", "ownerId": HOME}
            })),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&unknown), 422);
    let not_virtual = c
        .create_virtual_device_events()
        .device_id(BULB)
        .body(body::<smartthings::types::CreateDeviceEventsRequest>(json!({
            "deviceEvents": [{"component": "main", "capability": "switch", "attribute": "switch", "value": "on"}]
        })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&not_virtual), 404);
}

#[tokio::test]
async fn hubs_drivers_and_channels() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let c = client(&sim);
    let hubs = sim.hubs();
    assert_eq!(hubs.len(), 2, "one hub per location");
    let hub_id = hubs.iter().find(|(_, l)| l == HOME).unwrap().0.clone();
    // Stable across runs.
    let again = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    assert_eq!(again.hubs(), hubs);

    let hub = c.get_hub().hub_id(&hub_id).send().await.unwrap();
    assert_eq!(hub.id.as_deref(), Some(hub_id.as_str()));
    assert_eq!(hub.name.as_deref(), Some("Home Hub"));
    let characteristics = c
        .get_hub_characteristics()
        .hub_id(&hub_id)
        .send()
        .await
        .unwrap();
    assert!(raw(&characteristics)["zigbeeEui"].is_string());
    let channels = c
        .list_hub_enrolled_channels()
        .hub_id(&hub_id)
        .channel_type("DRIVERS")
        .send()
        .await
        .unwrap();
    let channels: Vec<_> = channels.valid().collect();
    assert_eq!(channels.len(), 2);
    let installed = c
        .list_hub_installed_drivers()
        .hub_id(&hub_id)
        .send()
        .await
        .unwrap();
    let installed: Vec<_> = installed.valid().cloned().collect();
    assert_eq!(installed.len(), 4);
    let first = installed[0].driver_id.clone().unwrap();
    let driver = c
        .get_hub_device_driver()
        .hub_id(&hub_id)
        .driver_id(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(driver.name, installed[0].name);

    // The motion sensor matches the Zigbee Motion Sensor driver only.
    let motion: Vec<_> = c
        .list_devices()
        .capability(vec!["motionSensor".to_owned()])
        .location_id(HOME)
        .items()
        .try_collect()
        .await
        .unwrap();
    let motion_id = motion[0].device_id.clone().unwrap();
    let matching = c
        .list_hub_installed_drivers()
        .hub_id(&hub_id)
        .device_id(&motion_id)
        .send()
        .await
        .unwrap();
    assert_eq!(matching.len(), 1);
    let motion_driver = matching[0].valid().unwrap().driver_id.clone().unwrap();

    // Install a community driver for it, switch to it, and see it.
    let community = channels[1].channel_id.clone().unwrap();
    let community_driver = "d1a70000-0000-4000-8000-000000000102";
    c.install_drivers()
        .hub_id(&hub_id)
        .driver_id(community_driver)
        .body(body::<smartthings::types::InstallHubDriverRequest>(
            json!({"channelId": community}),
        ))
        .send()
        .await
        .unwrap();
    let installed = c
        .list_hub_installed_drivers()
        .hub_id(&hub_id)
        .send()
        .await
        .unwrap();
    assert_eq!(installed.len(), 5);
    let matching = c
        .list_hub_installed_drivers()
        .hub_id(&hub_id)
        .device_id(&motion_id)
        .send()
        .await
        .unwrap();
    assert_eq!(matching.len(), 2);
    c.update_hub_device()
        .hub_id(&hub_id)
        .device_id(&motion_id)
        .body(body::<smartthings::types::UpdateHubDeviceRequest>(
            json!({"driverId": community_driver}),
        ))
        .send()
        .await
        .unwrap();
    let device = c.get_device().device_id(&motion_id).send().await.unwrap();
    let device = raw(&device);
    assert_eq!(device["zigbee"]["driverId"], community_driver);
    assert_eq!(device["zigbee"]["hubId"], hub_id.as_str());
    assert!(
        sim.published_events()
            .iter()
            .any(|e| e.device_id == motion_id && e.value == "UPDATE")
    );
    // A driver that does not match needs forceUpdate.
    let lock_driver = installed
        .iter()
        .filter_map(|d| d.valid())
        .find(|d| d.name.as_deref() == Some("Zigbee Lock"))
        .and_then(|d| d.driver_id.clone())
        .unwrap();
    let mismatch = c
        .update_hub_device()
        .hub_id(&hub_id)
        .device_id(&motion_id)
        .body(body::<smartthings::types::UpdateHubDeviceRequest>(
            json!({"driverId": lock_driver}),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&mismatch), 422);
    // A driver a device runs on cannot be uninstalled; a free one can.
    let in_use = c
        .uninstall_driver()
        .hub_id(&hub_id)
        .driver_id(community_driver)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&in_use), 422);
    c.uninstall_driver()
        .hub_id(&hub_id)
        .driver_id(&motion_driver)
        .send()
        .await
        .unwrap();
    let gone = c
        .get_hub_device_driver()
        .hub_id(&hub_id)
        .driver_id(&motion_driver)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&gone), 404);
    // Switching to a driver that is not installed is refused, forced or not.
    let not_installed = c
        .update_hub_device()
        .hub_id(&hub_id)
        .device_id(&motion_id)
        .force_update(true)
        .body(body::<smartthings::types::UpdateHubDeviceRequest>(
            json!({"driverId": motion_driver}),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&not_installed), 422);
    let unknown = c.get_hub().hub_id("nope").send().await.unwrap_err();
    assert_eq!(status(&unknown), 404);
    assert_eq!(
        sim.stats().by_operation.get("updateHubDevice").copied(),
        Some(3)
    );
}

#[tokio::test]
async fn capability_definitions_and_namespaces() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let c = client(&sim);
    let switch = c
        .get_capability()
        .capability_id("switch")
        .capability_version(1)
        .send()
        .await
        .unwrap();
    let switch = raw(&switch);
    assert_eq!(switch["id"], "switch");
    assert_eq!(
        switch["attributes"]["switch"]["schema"]["properties"]["value"]["enum"],
        json!(["on", "off"])
    );
    assert!(switch["commands"]["on"].is_object());
    for id in [
        "switchLevel",
        "contactSensor",
        "motionSensor",
        "temperatureMeasurement",
        "lock",
        "battery",
        "presenceSensor",
        "custom.disabledCapabilities",
    ] {
        let definition = c
            .get_capability()
            .capability_id(id)
            .capability_version(1)
            .send()
            .await
            .unwrap();
        assert_eq!(raw(&definition)["id"], id);
    }
    let level = c
        .get_capability()
        .capability_id("switchLevel")
        .capability_version(1)
        .send()
        .await
        .unwrap();
    let level = raw(&level);
    assert_eq!(
        level["attributes"]["level"]["schema"]["properties"]["unit"]["default"],
        "%"
    );
    assert_eq!(
        level["commands"]["setLevel"]["arguments"][0]["name"],
        "level"
    );
    let unknown = c
        .get_capability()
        .capability_id("switch")
        .capability_version(9)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&unknown), 404);

    let namespaces = c.list_capability_namespaces().send().await.unwrap();
    let names: Vec<_> = namespaces.valid().filter_map(|n| n.name.clone()).collect();
    assert!(names.contains(&"smartthings".to_owned()));
    assert!(names.contains(&"custom".to_owned()));
    let custom: Vec<_> = c
        .list_namespaced_capabilities()
        .namespace("custom")
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(
        custom
            .iter()
            .all(|c| c.id.as_deref().unwrap().starts_with("custom."))
    );
    assert_eq!(custom.len(), 2);
    let standard: Vec<_> = c
        .list_namespaced_capabilities()
        .namespace("smartthings")
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(standard.iter().any(|c| c.id.as_deref() == Some("switch")));
}

/// The `(epoch, hash)` of a history item.
fn key(item: &Value) -> (i64, i64) {
    (
        item["epoch"].as_i64().unwrap(),
        item["hash"].as_i64().unwrap(),
    )
}

/// The cursor of a link: (`Before` or `After`, epoch, hash).
fn cursor(href: &str) -> (String, i64, i64) {
    let url = reqwest::Url::parse(href).unwrap();
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.parse::<i64>().unwrap())
    };
    match (get("pagingBeforeEpoch"), get("pagingAfterEpoch")) {
        (Some(epoch), None) => ("Before".into(), epoch, get("pagingBeforeHash").unwrap()),
        (None, Some(epoch)) => ("After".into(), epoch, get("pagingAfterHash").unwrap()),
        other => panic!("a link carries one cursor: {other:?} in {href}"),
    }
}

/// One page of the Home location's history, newest first, at a cursor.
async fn page(c: &SmartThings, at: Option<&(String, i64, i64)>, limit: u64) -> Value {
    let mut request = c
        .list_device_history()
        .location_id(vec![HOME.to_owned()])
        .limit(limit);
    if let Some((which, epoch, hash)) = at {
        request = if which == "Before" {
            request
                .paging_before_epoch(*epoch)
                .paging_before_hash(*hash)
        } else {
            request.paging_after_epoch(*epoch).paging_after_hash(*hash)
        };
    }
    raw(&request.send().await.unwrap())
}

fn items(page: &Value) -> Vec<Value> {
    page["items"].as_array().cloned().unwrap_or_default()
}

fn link(page: &Value, rel: &str) -> Option<(String, i64, i64)> {
    page["_links"][rel]["href"].as_str().map(cursor)
}

#[tokio::test]
async fn history_pages_both_ways_without_gaps_or_duplicates() {
    let sim = Simulator::start(
        Home::demo(),
        Config {
            rate_limits: false,
            ..Config::default()
        },
    )
    .await
    .unwrap();
    let c = client(&sim);
    // 2 500 events, a fifth of them in the other location.
    for i in 0..2_500 {
        let (device, value) = if i % 5 == 4 {
            (DISPOSER, json!(format!("state-{i}")))
        } else {
            (DIMMER, json!(i % 100))
        };
        if device == DISPOSER {
            sim.set_attribute(device, "main", "foodWasteDryingGrinder", "state", value);
        } else {
            sim.set_attribute(device, "main", "switchLevel", "level", value);
        }
    }
    let keys = |history: &[Value]| -> Vec<(i64, i64)> {
        history
            .iter()
            .filter(|e| e["locationId"] == HOME)
            .map(key)
            .collect()
    };
    let all = sim.device_history();
    assert_eq!(all.len(), 2_500);
    assert!(
        all.windows(2).all(|w| key(&w[0]) < key(&w[1])),
        "(epoch, hash) strictly increases"
    );
    let truth = keys(&all);
    assert_eq!(truth.len(), 2_000);

    // Next (older) from the newest, while new events keep arriving.
    let limit = 97;
    let mut seen: Vec<(i64, i64)> = Vec::new();
    let mut current = page(&c, None, limit).await;
    let mut pages = 1;
    loop {
        let got = items(&current);
        assert!(got.len() <= limit as usize);
        assert!(got.iter().all(|e| e["locationId"] == HOME));
        seen.extend(got.iter().map(key));
        let Some(next) = link(&current, "next") else {
            break;
        };
        assert_eq!(next.0, "Before");
        sim.set_attribute(DIMMER, "main", "switchLevel", "level", json!(pages));
        current = page(&c, Some(&next), limit).await;
        pages += 1;
    }
    let oldest_page = current;
    assert_eq!(pages, 2_000_usize.div_ceil(limit as usize));
    let mut expected = truth.clone();
    expected.reverse();
    assert_eq!(seen, expected, "older pages: no gap, no duplicate");

    // Previous (newer) back from the oldest page, events still arriving.
    let mut back: Vec<(i64, i64)> = items(&oldest_page).iter().rev().map(key).collect();
    let mut current = oldest_page;
    let mut arrived = 0;
    while let Some(previous) = link(&current, "previous") {
        assert_eq!(previous.0, "After");
        if arrived < 10 {
            sim.set_attribute(DIMMER, "main", "switchLevel", "level", json!(arrived));
            arrived += 1;
        }
        current = page(&c, Some(&previous), limit).await;
        let got = items(&current);
        assert!(!got.is_empty());
        back.extend(got.iter().rev().map(key));
    }
    let now = keys(&sim.device_history());
    assert_eq!(now.len(), 2_000 + pages - 1 + arrived);
    assert_eq!(
        back, now,
        "newer pages: no gap, no duplicate, new ones included"
    );
    let unique: HashSet<_> = back.iter().collect();
    assert_eq!(unique.len(), back.len());

    // Oldest first through the client's own paging; a device filter.
    let ascending: Vec<_> = c
        .list_device_history()
        .location_id(vec![HOME.to_owned()])
        .oldest_first(true)
        .limit(200_u64)
        .items()
        .try_collect()
        .await
        .unwrap();
    let ascending: Vec<_> = ascending.iter().map(|e| key(&raw(e))).collect();
    assert_eq!(ascending, now);
    let both: Vec<_> = c
        .list_device_history()
        .location_id(vec![HOME.to_owned(), CABIN.to_owned()])
        .limit(1_000_u64)
        .send()
        .await
        .unwrap()
        .items
        .unwrap();
    assert_eq!(both.len(), 200, "limit is capped at 200");
    let disposer: Vec<_> = c
        .list_device_history()
        .location_id(vec![CABIN.to_owned()])
        .device_id(vec![DISPOSER.to_owned()])
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(disposer.len(), 500);
    let default_page = c
        .list_device_history()
        .location_id(vec![HOME.to_owned()])
        .send()
        .await
        .unwrap();
    assert_eq!(
        default_page.items.unwrap().len(),
        smartthings_sim::HISTORY_PAGE
    );
    // locationId is required.
    let url = format!("{}/history/devices", sim.base_url());
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(sim.token())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn the_new_routes_go_through_the_pipeline() {
    use std::collections::HashMap;

    use smartthings_sim::{FaultPlan, FaultRates};

    let mut rates = FaultRates::default();
    rates.set("server-error", 1.0).unwrap();
    let config = Config {
        faults: FaultPlan {
            seed: 3,
            per_operation: HashMap::from([("changeMode".to_owned(), rates)]),
            ..FaultPlan::default()
        },
        ..Config::default()
    };
    let sim = Simulator::start(Home::demo(), config).await.unwrap();
    let http = reqwest::Client::new();
    let base = sim.base_url();
    let hub = sim.hubs()[0].0.clone();
    // No token: 401, with the operation named in the log.
    let paths = [
        ("GET", format!("{base}/locations/{HOME}/modes/current")),
        ("GET", format!("{base}/history/devices?locationId={HOME}")),
        ("GET", format!("{base}/hubdevices/{hub}")),
        ("PATCH", format!("{base}/hubdevices/{hub}/childdevice/x")),
        ("GET", format!("{base}/capabilities/namespaces/custom")),
        ("GET", format!("{base}/capabilities/switch/1")),
        (
            "POST",
            format!("{base}/rules/execute/rule-porch-light?locationId={HOME}"),
        ),
    ];
    for (method, url) in &paths {
        let response = http
            .request(method.parse().unwrap(), url)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{method} {url}");
    }
    let operations: Vec<String> = sim.log().into_iter().map(|e| e.operation).collect();
    assert_eq!(
        operations,
        [
            "getCurrentMode",
            "listDeviceHistory",
            "getHub",
            "updateHubDevice",
            "listNamespacedCapabilities",
            "getCapability",
            "executeRule"
        ]
    );
    // With the token: the rate-limit headers, and the operation's faults.
    let response = http
        .get(format!("{base}/locations/{HOME}/modes/current"))
        .bearer_auth(sim.token())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-ratelimit-remaining"));
    let response = http
        .put(format!("{base}/locations/{HOME}/modes/current"))
        .bearer_auth(sim.token())
        .json(&json!({"modeId": "x"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_server_error());
    assert!(sim.log().last().unwrap().fault.is_some());
}

#[tokio::test]
async fn an_invented_past_ends_in_the_current_state() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let week = std::time::Duration::from_secs(7 * 86_400);
    let started = chrono::Utc::now().timestamp_millis();
    assert!(sim.invent_past(week, 500, 1));
    assert!(
        !sim.invent_past(week, 500, 1),
        "only before anything happens"
    );

    let past = sim.device_history();
    assert_eq!(past.len(), 500);
    let keys: Vec<(i64, i64)> = past.iter().map(key).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "in order, each once");
    let week_ms = week.as_millis() as i64;
    assert!(keys[0].0 >= started - week_ms - 1_000 && keys[499].0 <= started + 1_000);
    // The newest event of each attribute is its current value, at its
    // timestamp; each event changes its attribute.
    let mut last: std::collections::HashMap<(String, String, String, String), &Value> =
        Default::default();
    for event in &past {
        let attribute = (
            event["deviceId"].as_str().unwrap().to_owned(),
            event["component"].as_str().unwrap().to_owned(),
            event["capability"].as_str().unwrap().to_owned(),
            event["attribute"].as_str().unwrap().to_owned(),
        );
        last.insert(attribute, event);
    }
    assert!(last.len() > 5, "many attributes take part: {}", last.len());
    sim.with_home(|home| {
        for ((device, component, capability, attribute), event) in &last {
            let state = &home.devices[device.as_str()].status["components"][component][capability]
                [attribute];
            assert_eq!(state["value"], event["value"], "{device} {attribute}");
            assert_eq!(state["timestamp"], event["time"], "{device} {attribute}");
        }
    });
    // Consecutive events of one attribute differ.
    let mut previous: std::collections::HashMap<String, &Value> = Default::default();
    for event in &past {
        let id = format!(
            "{}/{}/{}/{}",
            event["deviceId"], event["component"], event["capability"], event["attribute"]
        );
        if let Some(before) = previous.insert(id.clone(), &event["value"]) {
            assert_ne!(before, &event["value"], "{id}");
        }
    }
    // What the API serves.
    let c = client(&sim);
    let served: Vec<_> = c
        .list_device_history()
        .location_id(vec![HOME.to_owned()])
        .limit(200u64)
        .items()
        .try_collect()
        .await
        .unwrap();
    let home_events = past.iter().filter(|e| e["locationId"] == HOME).count();
    assert_eq!(served.len(), home_events);
}
