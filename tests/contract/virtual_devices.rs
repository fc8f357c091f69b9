//! Virtual devices: list (and its pages), create from a profile or from a
//! standard prototype, and their events.

use serde_json::json;
use smartthings_ext::types::{
    CreateDeviceEventsRequest, CreateStandardVirtualDeviceRequest, CreateVirtualDeviceRequest,
};
use smartthings_ext::{LenientItems, collect_all};
use smartthings_httpmock::MockServerExt;

use crate::harness::{Expect, check_declared_errors, client, typed};

const LOCATION: &str = "95efee9b-6073-4871-b5ba-de6642187293";
const ROOM: &str = "8f1e5b2a-3c4d-4e6f-9a0b-1c2d3e4f5a6b";
const SWITCH: &str = "b1d2c3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e";
const DIMMER: &str = "c2e3d4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f";
const HUB: &str = "d3f4e5a6-b7c8-4d9e-8f0a-2b3c4d5e6f70";
const DRIVER: &str = "e4a5f6b7-c8d9-4e0f-9a1b-3c4d5e6f7a81";
const CHANNEL: &str = "f5b6a7c8-d9e0-4f1a-8b2c-4d5e6f7a8b92";

/// A virtual device as the API answers for it.
fn virtual_device(id: &str, name: &str, presentation_id: &str) -> serde_json::Value {
    json!({
        "deviceId": id,
        "name": name,
        "label": name,
        "manufacturerName": "SmartThingsCommunity",
        "presentationId": presentation_id,
        "locationId": LOCATION,
        "ownerId": "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "roomId": ROOM,
        "components": [{
            "id": "main",
            "label": "main",
            "capabilities": [{"id": "switch", "version": 1}],
            "categories": [{"name": "Switch", "categoryType": "manufacturer"}]
        }],
        "createTime": "2026-11-30T17:45:02.113Z",
        "profile": {"id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"},
        "virtual": {"name": name, "executingLocally": false},
        "type": "VIRTUAL",
        "restrictionTier": 0,
        "allowed": []
    })
}

fn create_body() -> serde_json::Value {
    json!({
        "name": "Virtual Switch",
        "owner": {"ownerType": "LOCATION", "ownerId": LOCATION},
        "roomId": ROOM,
        "deviceProfile": {
            "name": "virtual-switch",
            "components": [{"id": "main", "capabilities": [{"id": "switch", "version": 1}], "categories": [{"name": "Switch"}]}],
            "metadata": {"ocfDeviceType": "oic.d.switch"}
        },
        "commandMappings": {"commands": [
            {"capabilityId": "switch", "version": "1", "command": "on",
             "eventValues": [{"attribute": "switch", "inputType": "STATIC", "staticValue": "on"}]},
            {"capabilityId": "switch", "version": "1", "command": "off",
             "eventValues": [{"attribute": "switch", "inputType": "STATIC", "staticValue": "off"}]}
        ]},
        "executionTarget": "CLOUD"
    })
}

fn create_request() -> CreateVirtualDeviceRequest {
    serde_json::from_value(create_body()).unwrap()
}

fn standard_body() -> serde_json::Value {
    json!({
        "name": "Hall dimmer",
        "owner": {"ownerType": "LOCATION", "ownerId": LOCATION},
        "prototype": "VIRTUAL_DIMMER_SWITCH",
        "roomId": ROOM,
        "executionTarget": "LOCAL",
        "hubId": HUB,
        "driverId": DRIVER,
        "channelId": CHANNEL
    })
}

fn standard_request() -> CreateStandardVirtualDeviceRequest {
    serde_json::from_value(standard_body()).unwrap()
}

fn events_body() -> serde_json::Value {
    json!({
        "deviceEvents": [
            {"component": "main", "capability": "switch", "attribute": "switch", "value": "on"},
            {"component": "main", "capability": "switchLevel", "attribute": "level", "value": 40, "unit": "%"}
        ]
    })
}

fn events_request() -> CreateDeviceEventsRequest {
    serde_json::from_value(events_body()).unwrap()
}

mod list_virtual_devices {
    use super::*;

    #[tokio::test]
    async fn filters_by_location_and_decodes() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/virtualdevices").query("locationId", LOCATION);
        let mock = server.list_virtual_devices(|when, then| {
            expect.apply(when.location_id(LOCATION).into_inner());
            then.ok(&typed(json!({
                "items": [
                    virtual_device(SWITCH, "Virtual Switch", "generic-switch"),
                    virtual_device(DIMMER, "Hall dimmer", "generic-dimmer")
                ],
                "_links": {}
            })));
        });
        let page = client(&server)
            .list_virtual_devices()
            .location_id(LOCATION)
            .send()
            .await
            .unwrap();
        mock.assert();
        let devices: Vec<_> = page.items.as_deref().unwrap().valid().cloned().collect();
        assert_eq!(devices.len(), 2);
        assert_eq!(devices[1].device_id.as_deref(), Some(DIMMER));
        assert_eq!(devices[1].type_.as_ref().unwrap().to_string(), "VIRTUAL");
        assert_eq!(
            devices[0].virtual_.as_ref().unwrap().name.as_deref(),
            Some("Virtual Switch")
        );
    }

    #[tokio::test]
    async fn items_follow_the_next_link() {
        let server = httpmock::MockServer::start_async().await;
        let first = Expect::get("/virtualdevices").query("locationId", LOCATION);
        let second = Expect::get("/virtualdevices")
            .query("locationId", LOCATION)
            .query("page", "1");
        let next = format!(
            "{}/virtualdevices?locationId={LOCATION}&page=1",
            server.base_url()
        );
        let first_mock = server.list_virtual_devices(|when, then| {
            first.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [virtual_device(SWITCH, "Virtual Switch", "generic-switch")],
                "_links": {"next": {"href": next}}
            })));
        });
        let second_mock = server.list_virtual_devices(|when, then| {
            second.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [virtual_device(DIMMER, "Hall dimmer", "generic-dimmer")],
                "_links": {}
            })));
        });
        let client = client(&server);
        let listing = collect_all(client.list_virtual_devices().location_id(LOCATION).items())
            .await
            .unwrap();
        first_mock.assert();
        second_mock.assert();
        let ids: Vec<_> = listing
            .items
            .iter()
            .map(|d| d.device_id.clone().unwrap())
            .collect();
        assert_eq!(ids, [SWITCH, DIMMER]);
        assert!(listing.invalid.is_empty());
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "listVirtualDevices",
            Expect::get("/virtualdevices"),
            |c| async move { c.list_virtual_devices().send().await },
        )
        .await;
    }
}

mod create_virtual_device {
    use super::*;

    #[tokio::test]
    async fn posts_an_inline_profile_with_command_mappings() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post("/virtualdevices").body(create_body());
        let mock = server.create_virtual_device(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(virtual_device(
                SWITCH,
                "Virtual Switch",
                "generic-switch",
            )));
        });
        let created = client(&server)
            .create_virtual_device()
            .body(create_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(created.device_id.as_deref(), Some(SWITCH));
        assert_eq!(created.room_id.as_deref(), Some(ROOM));
        assert_eq!(created.type_.unwrap().to_string(), "VIRTUAL");
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "createVirtualDevice",
            Expect::post("/virtualdevices").body(create_body()),
            |c| async move {
                c.create_virtual_device()
                    .body(create_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod create_standard_virtual_device {
    use super::*;

    #[tokio::test]
    async fn posts_the_prototype_to_run_on_a_hub() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post("/virtualdevices/prototypes").body(standard_body());
        let mock = server.create_standard_virtual_device(|when, then| {
            expect.apply(when.into_inner());
            let mut device = virtual_device(DIMMER, "Hall dimmer", "generic-dimmer");
            device["virtual"] =
                json!({"name": "Hall dimmer", "hubId": HUB, "driverId": DRIVER, "executingLocally": true});
            then.ok(&typed(device));
        });
        let created = client(&server)
            .create_standard_virtual_device()
            .body(standard_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(created.device_id.as_deref(), Some(DIMMER));
        let details = created.virtual_.unwrap();
        assert_eq!(details.hub_id.as_deref(), Some(HUB));
        assert_eq!(details.driver_id.as_deref(), Some(DRIVER));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "createStandardVirtualDevice",
            Expect::post("/virtualdevices/prototypes").body(standard_body()),
            |c| async move {
                c.create_standard_virtual_device()
                    .body(standard_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod create_virtual_device_events {
    use super::*;

    #[tokio::test]
    async fn posts_the_events_and_decodes_the_state_changes() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post(&format!("/virtualdevices/{DIMMER}/events")).body(events_body());
        let mock = server.create_virtual_device_events(|when, then| {
            expect.apply(when.device_id(DIMMER).into_inner());
            then.ok(&typed(json!({"stateChanges": [true, false]})));
        });
        let response = client(&server)
            .create_virtual_device_events()
            .device_id(DIMMER)
            .body(events_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(response.state_changes, Some(vec![true, false]));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "createVirtualDeviceEvents",
            Expect::post(&format!("/virtualdevices/{DIMMER}/events")).body(events_body()),
            |c| async move {
                c.create_virtual_device_events()
                    .device_id(DIMMER)
                    .body(events_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}
