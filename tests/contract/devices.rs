//! Devices: list, get, delete, status (full, component, capability), health,
//! commands; and capabilities.
//!
//! Seed payloads go out raw, verbatim; other bodies through the typed
//! `then.ok(..)` (see `tests/README.md`).

use serde_json::json;
use smartthings_ext::types::{
    DeviceCommandRequest, DeviceCommandRequestCommandsItem, DeviceHealthState, DeviceType,
    ExecuteDeviceCommandsResponseResultsItemStatus as CommandStatus,
};
use smartthings_ext::{Attribute, ComponentStatus, LenientItems, OpenEnum};
use smartthings_httpmock::MockServerExt;
use smartthings_tests::fixture_json;

use crate::harness::{Expect, check_declared_errors, client, typed};

/// `capability.name` of a component's status.
fn attribute<'a>(component: &'a ComponentStatus, capability: &str, name: &str) -> &'a Attribute {
    component
        .capability(capability)
        .and_then(|c| c.attribute(name))
        .unwrap_or_else(|| panic!("{capability}.{name}"))
}

const DEVICE: &str = "80e26532-85d4-484c-b012-1c04f3d35f95";

mod list_devices {
    use super::*;

    #[tokio::test]
    async fn sends_every_filter_and_decodes_the_seed_page() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/devices")
            .query("capability", "switch")
            .query("capability", "switchLevel")
            .query("locationId", "95efee9b-6073-4871-b5ba-de6642187293")
            .query("deviceId", "a")
            .query("deviceId", "b")
            .query("includeStatus", "true")
            .query("includeHealth", "true")
            .query("max", "50")
            .query("page", "2");
        let mock = server.list_devices(|when, then| {
            let when = when
                .capability("switch")
                .capability("switchLevel")
                .include_status(true);
            expect.apply(when.into_inner());
            then.into_inner()
                .status(200)
                .json_body(fixture_json("seed003/list_devices_capability_switch.json"));
        });
        let page = client(&server)
            .list_devices()
            .capability(vec!["switch".into(), "switchLevel".into()])
            .location_id("95efee9b-6073-4871-b5ba-de6642187293")
            .device_id(vec!["a".into(), "b".into()])
            .include_status(true)
            .include_health(true)
            .max(50)
            .page(2)
            .send()
            .await
            .unwrap();
        mock.assert();
        let items = page.items.unwrap();
        assert_eq!(items.valid().count(), 3);
        assert_eq!(
            items.valid().next().unwrap().type_,
            Some(OpenEnum::Known(DeviceType::Viper))
        );
    }

    #[tokio::test]
    async fn omits_unset_parameters_and_decodes_embedded_status_and_health() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/devices");
        let mock = server.list_devices(|when, then| {
            expect.apply(when.into_inner());
            then.into_inner().status(200).json_body(fixture_json(
                "seed003/list_devices_include_status_health.json",
            ));
        });
        let page = client(&server).list_devices().send().await.unwrap();
        mock.assert();
        let device = page
            .items
            .as_ref()
            .unwrap()
            .valid()
            .next()
            .cloned()
            .unwrap();
        assert_eq!(
            device.health_state.unwrap().state,
            Some(OpenEnum::Known(DeviceHealthState::Offline))
        );
        let caps = device.components.unwrap()[0].capabilities.clone().unwrap();
        let status = caps[0].status.as_ref().unwrap();
        assert_eq!(status.attribute("mode").unwrap().value, Some(json!("auto")));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors("listDevices", Expect::get("/devices"), |c| async move {
            c.list_devices().send().await
        })
        .await;
    }
}

mod get_device {
    use super::*;

    #[tokio::test]
    async fn percent_encodes_the_id_and_decodes_the_device() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/devices/odd%20id%2F1%3F");
        let mut device =
            fixture_json("seed003/list_devices_capability_switch.json")["items"][0].clone();
        device["type"] = json!("ZIGBEE");
        let mock = server.get_device(|when, then| {
            expect.apply(when.into_inner());
            then.into_inner().status(200).json_body(device.clone());
        });
        let got = client(&server)
            .get_device()
            .device_id("odd id/1?")
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(got.label.as_deref(), Some("Color & Tunable White Bulb"));
        assert_eq!(got.type_.unwrap().unknown(), Some("ZIGBEE"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getDevice",
            Expect::get(&format!("/devices/{DEVICE}")),
            |c| async move { c.get_device().device_id(DEVICE).send().await },
        )
        .await;
    }
}

mod delete_device {
    use super::*;

    #[tokio::test]
    async fn sends_delete_and_accepts_the_empty_object() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::delete(&format!("/devices/{DEVICE}"));
        let mock = server.delete_device(|when, then| {
            expect.apply(when.into_inner());
            // The typed `ok()` sends no body; the API sends `{}`.
            then.ok().into_inner().json_body(json!({}));
        });
        // `()`: the 200 and its `{}` body were accepted.
        let () = client(&server)
            .delete_device()
            .device_id(DEVICE)
            .send()
            .await
            .unwrap();
        mock.assert();
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "deleteDevice",
            Expect::delete(&format!("/devices/{DEVICE}")),
            |c| async move { c.delete_device().device_id(DEVICE).send().await },
        )
        .await;
    }
}

mod get_device_status {
    use super::*;

    #[tokio::test]
    async fn decodes_the_seed_full_status() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("/devices/{DEVICE}/status"));
        let mock = server.get_device_status(|when, then| {
            expect.apply(when.into_inner());
            then.into_inner()
                .status(200)
                .json_body(fixture_json("seed003/device_status_full.json"));
        });
        let status = client(&server)
            .get_device_status()
            .device_id(DEVICE)
            .send()
            .await
            .unwrap();
        mock.assert();
        let main = &status.components["main"];
        assert_eq!(attribute(main, "switch", "switch").value, Some(json!("on")));
        assert_eq!(
            attribute(main, "colorTemperature", "colorTemperature")
                .unit
                .as_deref(),
            Some("K")
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getDeviceStatus",
            Expect::get(&format!("/devices/{DEVICE}/status")),
            |c| async move { c.get_device_status().device_id(DEVICE).send().await },
        )
        .await;
    }
}

mod get_device_component_status {
    use super::*;

    #[tokio::test]
    async fn decodes_a_component() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("/devices/{DEVICE}/components/outlet%201/status"));
        let body = fixture_json("seed003/device_status_full.json")["components"]["main"].clone();
        let mock = server.get_device_component_status(|when, then| {
            expect.apply(when.into_inner());
            then.into_inner().status(200).json_body(body.clone());
        });
        let status = client(&server)
            .get_device_component_status()
            .device_id(DEVICE)
            .component_id("outlet 1")
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(
            attribute(&status, "switchLevel", "level").value,
            Some(json!(50))
        );
        assert_eq!(status.capabilities().count(), 6);
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getDeviceComponentStatus",
            Expect::get(&format!("/devices/{DEVICE}/components/main/status")),
            |c| async move {
                c.get_device_component_status()
                    .device_id(DEVICE)
                    .component_id("main")
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod get_device_capability_status {
    use super::*;

    #[tokio::test]
    async fn decodes_the_seed_capability_status() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!(
            "/devices/{DEVICE}/components/main/capabilities/switch/status"
        ));
        let mock = server.get_device_capability_status(|when, then| {
            expect.apply(when.into_inner());
            then.into_inner()
                .status(200)
                .json_body(fixture_json("seed003/capability_status_switch.json"));
        });
        let status = client(&server)
            .get_device_capability_status()
            .device_id(DEVICE)
            .component_id("main")
            .capability_id("switch")
            .send()
            .await
            .unwrap();
        mock.assert();
        let switch = status.attribute("switch").unwrap();
        assert_eq!(switch.value, Some(json!("on")));
        assert_eq!(
            switch.raw_timestamp,
            Some(json!("2026-03-12T15:14:28.016Z"))
        );
        assert_eq!(
            switch.timestamp().unwrap().timestamp_millis(),
            1_773_328_468_016
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getDeviceCapabilityStatus",
            Expect::get(&format!(
                "/devices/{DEVICE}/components/main/capabilities/switch/status"
            )),
            |c| async move {
                c.get_device_capability_status()
                    .device_id(DEVICE)
                    .component_id("main")
                    .capability_id("switch")
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod get_device_health {
    use super::*;

    #[tokio::test]
    async fn decodes_health() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("/devices/{DEVICE}/health"));
        let mock = server.get_device_health(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "deviceId": DEVICE, "state": "ONLINE", "lastUpdatedDate": "2026-04-10T09:25:11.064Z"
            })));
        });
        let health = client(&server)
            .get_device_health()
            .device_id(DEVICE)
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(
            health.state,
            Some(OpenEnum::Known(DeviceHealthState::Online))
        );
        assert_eq!(health.device_id.as_deref(), Some(DEVICE));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getDeviceHealth",
            Expect::get(&format!("/devices/{DEVICE}/health")),
            |c| async move { c.get_device_health().device_id(DEVICE).send().await },
        )
        .await;
    }
}

mod execute_device_commands {
    use super::*;

    fn commands() -> DeviceCommandRequest {
        DeviceCommandRequest {
            commands: vec![
                DeviceCommandRequestCommandsItem {
                    component: "main".into(),
                    capability: "switch".into(),
                    command: "on".into(),
                    arguments: vec![],
                },
                DeviceCommandRequestCommandsItem {
                    component: "main".into(),
                    capability: "switchLevel".into(),
                    command: "setLevel".into(),
                    arguments: vec![json!(50)],
                },
            ],
        }
    }

    fn body() -> serde_json::Value {
        json!({"commands": [
            {"component": "main", "capability": "switch", "command": "on"},
            {"component": "main", "capability": "switchLevel", "command": "setLevel", "arguments": [50]}
        ]})
    }

    #[tokio::test]
    async fn posts_the_exact_commands_and_decodes_results() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post(&format!("/devices/{DEVICE}/commands")).body(body());
        let mock = server.execute_device_commands(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!({"results": [
                {"id": "c1", "status": "ACCEPTED"},
                {"id": "c2", "status": "QUEUED"}
            ]})));
        });
        let results = client(&server)
            .execute_device_commands()
            .device_id(DEVICE)
            .body(commands())
            .send()
            .await
            .unwrap()
            .results
            .unwrap();
        mock.assert();
        assert_eq!(
            results[0].status,
            Some(OpenEnum::Known(CommandStatus::Accepted))
        );
        assert_eq!(
            results[1].status.as_ref().unwrap().unknown(),
            Some("QUEUED")
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "executeDeviceCommands",
            Expect::post(&format!("/devices/{DEVICE}/commands")).body(body()),
            |c| async move {
                c.execute_device_commands()
                    .device_id(DEVICE)
                    .body(commands())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod list_capabilities {
    use super::*;

    #[tokio::test]
    async fn pages_and_decodes() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/capabilities")
            .query("max", "200")
            .query("page", "1");
        let mock = server.list_capabilities(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [
                    {"id": "switch", "version": 1, "status": "live"},
                    {"id": "switchLevel", "version": 1, "status": "live"}
                ],
                "_links": {"next": {"href": "https://api.smartthings.com/v1/capabilities?max=200&page=2"}}
            })));
        });
        let page = client(&server)
            .list_capabilities()
            .max(200)
            .page(1)
            .send()
            .await
            .unwrap();
        mock.assert();
        let ids: Vec<_> = page
            .items
            .as_deref()
            .unwrap()
            .valid()
            .filter_map(|c| c.id.clone())
            .collect();
        assert_eq!(ids, ["switch", "switchLevel"]);
        assert!(
            page.links
                .unwrap()
                .next
                .unwrap()
                .href
                .unwrap()
                .ends_with("page=2")
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "listCapabilities",
            Expect::get("/capabilities"),
            |c| async move { c.list_capabilities().send().await },
        )
        .await;
    }
}
