//! Devices, beyond reading them: update, events, presentation; and the
//! device history with its two-way paging.

use serde_json::json;
use smartthings_ext::types::{CreateDeviceEventsRequest, UpdateDeviceRequest};
use smartthings_ext::{LenientItems, collect_all, next_page_url};
use smartthings_httpmock::MockServerExt;

use crate::harness::{Expect, check_declared_errors, client, typed};

const DEVICE: &str = "80e26532-85d4-484c-b012-1c04f3d35f95";
const LOCATION: &str = "95efee9b-6073-4871-b5ba-de6642187293";
const ROOM: &str = "8f1e5b2a-3c4d-4e6f-9a0b-1c2d3e4f5a6b";

fn update_body() -> serde_json::Value {
    json!({
        "label": "Porch light",
        "roomId": ROOM,
        "components": [{"id": "main", "categories": ["Light"], "icon": "st.lights.light"}]
    })
}

fn update_request() -> UpdateDeviceRequest {
    serde_json::from_value(update_body()).unwrap()
}

fn events_body() -> serde_json::Value {
    json!({
        "deviceEvents": [
            {"component": "main", "capability": "switch", "attribute": "switch", "value": "on"},
            {
                "component": "main", "capability": "temperatureMeasurement",
                "attribute": "temperature", "value": 21.5, "unit": "C",
                "data": {"source": "sensor-2"}
            }
        ]
    })
}

fn events_request() -> CreateDeviceEventsRequest {
    serde_json::from_value(events_body()).unwrap()
}

mod update_device {
    use super::*;

    #[tokio::test]
    async fn puts_label_room_and_categories() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::put(&format!("/devices/{DEVICE}")).body(update_body());
        let mock = server.update_device(|when, then| {
            expect.apply(when.device_id(DEVICE).into_inner());
            then.ok(&typed(json!({
                "deviceId": DEVICE,
                "name": "c2c-rgbw-color-bulb",
                "label": "Porch light",
                "manufacturerName": "SmartThings",
                "locationId": LOCATION,
                "roomId": ROOM,
                "components": [{
                    "id": "main",
                    "label": "main",
                    "capabilities": [{"id": "switch", "version": 1}],
                    "categories": [{"name": "Light", "categoryType": "user"}]
                }],
                "type": "VIPER"
            })));
        });
        let device = client(&server)
            .update_device()
            .device_id(DEVICE)
            .body(update_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(device.label.as_deref(), Some("Porch light"));
        assert_eq!(device.room_id.as_deref(), Some(ROOM));
        let components = device.components.unwrap();
        let categories = components[0].categories.as_deref().unwrap();
        assert_eq!(categories[0].name.as_deref(), Some("Light"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "updateDevice",
            Expect::put(&format!("/devices/{DEVICE}")).body(update_body()),
            |c| async move {
                c.update_device()
                    .device_id(DEVICE)
                    .body(update_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod create_device_events {
    use super::*;

    #[tokio::test]
    async fn posts_the_events_in_order() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post(&format!("/devices/{DEVICE}/events")).body(events_body());
        let mock = server.create_device_events(|when, then| {
            expect.apply(when.device_id(DEVICE).into_inner());
            then.ok();
        });
        // `()`: the 200 was accepted.
        let () = client(&server)
            .create_device_events()
            .device_id(DEVICE)
            .body(events_request())
            .send()
            .await
            .unwrap();
        mock.assert();
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "createDeviceEvents",
            Expect::post(&format!("/devices/{DEVICE}/events")).body(events_body()),
            |c| async move {
                c.create_device_events()
                    .device_id(DEVICE)
                    .body(events_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod get_device_presentation {
    use super::*;

    fn alternatives() -> serde_json::Value {
        json!([
            {"key": "on", "value": "{{i18n.attributes.switch.i18n.value.on.en}}", "type": "active"},
            {"key": "off", "value": "{{i18n.attributes.switch.i18n.value.off.en}}", "type": "inactive"}
        ])
    }

    fn presentation() -> serde_json::Value {
        json!({
            "manufacturerName": "SmartThingsCommunity",
            "presentationId": "f3bdbc14-3dd7-3a39-b1a8-3c7a0b6a8e20",
            "iconUrl": "light",
            "dashboard": {
                "states": [{
                    "label": "{{switch.value}}", "alternatives": alternatives(),
                    "capability": "switch", "version": 1, "component": "main",
                    "composite": false, "group": "main"
                }],
                "actions": [{
                    "displayType": "toggleSwitch",
                    "toggleSwitch": {"command": {"on": "on", "off": "off"}, "state": {"value": "switch.value", "on": "on", "off": "off"}},
                    "capability": "switch", "version": 1, "component": "main"
                }],
                "basicPlus": []
            },
            "detailView": [{
                "capability": "switchLevel", "version": 1, "component": "main",
                "label": "{{i18n.label}}", "displayType": "slider",
                "slider": {"range": [0, 100], "step": 1, "unit": "level.unit", "command": "setLevel", "value": "level.value"},
                "visibleCondition": {
                    "capability": "switch", "component": "main", "version": 1,
                    "value": "switch.value", "operator": "EQUALS", "operand": "on"
                }
            }],
            "automation": {
                "conditions": [{
                    "capability": "switch", "version": 1, "component": "main",
                    "label": "{{i18n.label}}", "displayType": "list",
                    "list": {"alternatives": alternatives(), "value": "switch.value"}
                }],
                "actions": [{
                    "capability": "switch", "version": 1, "component": "main",
                    "label": "{{i18n.label}}", "displayType": "list",
                    "list": {"alternatives": alternatives()}
                }]
            },
            "dpInfo": [
                {"os": "ios", "dpUri": "plugin://com.samsung.ios.plugin.stplugin/assets/files/index.html"},
                {"os": "android", "dpUri": "plugin://com.samsung.android.plugin.stplugin", "operatingMode": "deviceControl"}
            ],
            "language": [{"locale": "en", "poCodes": [{"label": "Switch", "po": "___PO_CODE_SWITCH"}]}]
        })
    }

    #[tokio::test]
    async fn gets_a_devices_presentation_with_its_widgets() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/presentation").query("deviceId", DEVICE);
        let mock = server.get_device_presentation(|when, then| {
            expect.apply(when.device_id(DEVICE).into_inner());
            then.ok(&typed(presentation()));
        });
        let got = client(&server)
            .get_device_presentation()
            .device_id(DEVICE)
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(
            got.manufacturer_name.as_deref(),
            Some("SmartThingsCommunity")
        );
        let dashboard = got.dashboard.unwrap();
        let action = &dashboard.actions.as_deref().unwrap()[0];
        assert_eq!(action.display_type.as_deref(), Some("toggleSwitch"));
        // The widget's settings sit under the key its displayType names.
        assert_eq!(action.extra["toggleSwitch"]["command"]["on"], json!("on"));
        let states = dashboard.states.unwrap();
        assert_eq!(states[0].alternatives.as_deref().unwrap().len(), 2);
        let detail = &got.detail_view.unwrap()[0];
        assert_eq!(detail.extra["slider"]["range"], json!([0, 100]));
        let condition = detail.visible_condition.as_ref().unwrap();
        assert_eq!(condition.operand.as_deref(), Some("on"));
        assert_eq!(
            condition.operator.as_ref().map(ToString::to_string),
            Some("EQUALS".to_owned())
        );
        let conditions = got.automation.unwrap().conditions.unwrap();
        assert_eq!(conditions[0].display_type.as_deref(), Some("list"));
        let dp_info = got.dp_info.unwrap();
        assert_eq!(dp_info[1].os.as_deref(), Some("android"));
        let language = &got.language.unwrap()[0];
        assert_eq!(
            language.po_codes.as_deref().unwrap()[0].po.as_deref(),
            Some("___PO_CODE_SWITCH")
        );
    }

    #[tokio::test]
    async fn gets_by_presentation_id_and_manufacturer() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/presentation")
            .query("presentationId", "f3bdbc14-3dd7-3a39-b1a8-3c7a0b6a8e20")
            .query("manufacturerName", "SmartThingsCommunity");
        let mock = server.get_device_presentation(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(presentation()));
        });
        let got = client(&server)
            .get_device_presentation()
            .presentation_id("f3bdbc14-3dd7-3a39-b1a8-3c7a0b6a8e20")
            .manufacturer_name("SmartThingsCommunity")
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(
            got.presentation_id.as_deref(),
            Some("f3bdbc14-3dd7-3a39-b1a8-3c7a0b6a8e20")
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getDevicePresentation",
            Expect::get("/presentation").query("deviceId", DEVICE),
            |c| async move { c.get_device_presentation().device_id(DEVICE).send().await },
        )
        .await;
    }
}

mod list_device_history {
    use super::*;

    const OTHER_LOCATION: &str = "6b3d1909-1e1c-43ec-adc2-5f941de4fbf9";
    const SENSOR: &str = "2f8a4c6e-1b3d-4f5a-8c7e-9d0b1a2c3e4f";

    /// One switch event, as the history sends it.
    fn event(epoch: i64, hash: i64, value: &str) -> serde_json::Value {
        json!({
            "deviceId": DEVICE,
            "deviceName": "Porch light",
            "locationId": LOCATION,
            "locationName": "Home",
            "time": format!("2026-11-30T18:{:02}:11.412Z", epoch % 60),
            "text": format!("Porch light switch is {value}"),
            "component": "main",
            "componentLabel": "main",
            "capability": "switch",
            "attribute": "switch",
            "value": value,
            "translatedAttributeName": "switch",
            "translatedAttributeValue": value,
            "epoch": epoch,
            "hash": hash
        })
    }

    fn history() -> String {
        "/history/devices".to_owned()
    }

    #[tokio::test]
    async fn sends_every_filter_repeated_and_decodes_a_page() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&history())
            .query("locationId", LOCATION)
            .query("locationId", OTHER_LOCATION)
            .query("deviceId", DEVICE)
            .query("deviceId", SENSOR)
            .query("oldestFirst", "true")
            .query("limit", "2")
            .query("pagingAfterEpoch", "1764525600000")
            .query("pagingAfterHash", "-1428394756");
        let mock = server.list_device_history(|when, then| {
            expect.apply(when.into_inner());
            let mut temperature = event(1764525660000, 2093847561, "on");
            temperature["deviceId"] = json!(SENSOR);
            temperature["capability"] = json!("temperatureMeasurement");
            temperature["attribute"] = json!("temperature");
            temperature["value"] = json!(21.5);
            temperature["unit"] = json!("C");
            temperature["data"] = json!({"source": "sensor-2"});
            then.ok(&typed(json!({
                "items": [event(1764525601000, -77, "off"), temperature],
                "_links": {}
            })));
        });
        let page = client(&server)
            .list_device_history()
            .location_id(vec![LOCATION.to_owned(), OTHER_LOCATION.to_owned()])
            .device_id(vec![DEVICE.to_owned(), SENSOR.to_owned()])
            .oldest_first(true)
            .limit(std::num::NonZeroU64::new(2).unwrap())
            .paging_after_epoch(1764525600000i64)
            .paging_after_hash(-1428394756i64)
            .send()
            .await
            .unwrap();
        mock.assert();
        let events: Vec<_> = page.items.as_deref().unwrap().valid().cloned().collect();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].epoch, Some(1764525601000));
        assert_eq!(events[0].hash, Some(-77));
        assert_eq!(events[0].value, Some(json!("off")));
        assert_eq!(events[1].value, Some(json!(21.5)));
        assert_eq!(events[1].unit.as_deref(), Some("C"));
        assert_eq!(events[1].data.as_ref().unwrap()["source"], "sensor-2");
    }

    #[tokio::test]
    async fn items_follow_the_next_link() {
        let server = httpmock::MockServer::start_async().await;
        let first = Expect::get(&history())
            .query("locationId", LOCATION)
            .query("limit", "2");
        let second = Expect::get(&history())
            .query("locationId", LOCATION)
            .query("limit", "2")
            .query("pagingBeforeEpoch", "1764525540000")
            .query("pagingBeforeHash", "-1428394756");
        let next = format!(
            "{}/history/devices?locationId={LOCATION}&limit=2\
             &pagingBeforeEpoch=1764525540000&pagingBeforeHash=-1428394756",
            server.base_url()
        );
        let first_mock = server.list_device_history(|when, then| {
            first.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [event(1764525600000, 912, "on"), event(1764525540000, -1428394756, "off")],
                "_links": {"next": {"href": next}}
            })));
        });
        let second_mock = server.list_device_history(|when, then| {
            second.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [event(1764525480000, 55, "on")],
                "_links": {}
            })));
        });
        let client = client(&server);
        let listing = collect_all(
            client
                .list_device_history()
                .location_id(vec![LOCATION.to_owned()])
                .limit(std::num::NonZeroU64::new(2).unwrap())
                .items(),
        )
        .await
        .unwrap();
        first_mock.assert();
        second_mock.assert();
        let epochs: Vec<_> = listing.items.iter().map(|e| e.epoch.unwrap()).collect();
        assert_eq!(epochs, [1764525600000, 1764525540000, 1764525480000]);
        assert!(listing.invalid.is_empty());
    }

    /// Newest first: `next` carries the last event's epoch and hash as
    /// pagingBefore*, `previous` the first event's as pagingAfter*. A caller
    /// goes either way by passing a link's epoch and hash back to the
    /// builder.
    #[tokio::test]
    async fn pages_both_ways_with_the_links_epoch_and_hash() {
        let server = httpmock::MockServer::start_async().await;
        let first = Expect::get(&history())
            .query("locationId", LOCATION)
            .query("limit", "2")
            .query("pagingBeforeEpoch", "1764525720000")
            .query("pagingBeforeHash", "31");
        let older = Expect::get(&history())
            .query("locationId", LOCATION)
            .query("limit", "2")
            .query("pagingBeforeEpoch", "1764525600000")
            .query("pagingBeforeHash", "-1428394756");
        let newer = Expect::get(&history())
            .query("locationId", LOCATION)
            .query("limit", "2")
            .query("pagingAfterEpoch", "1764525660000")
            .query("pagingAfterHash", "2093847561");
        let base = server.base_url();
        let first_mock = server.list_device_history(|when, then| {
            first.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [event(1764525660000, 2093847561, "on"), event(1764525600000, -1428394756, "off")],
                "_links": {
                    "next": {"href": format!("{base}/history/devices?locationId={LOCATION}&limit=2&pagingBeforeEpoch=1764525600000&pagingBeforeHash=-1428394756")},
                    "previous": {"href": format!("{base}/history/devices?locationId={LOCATION}&limit=2&pagingAfterEpoch=1764525660000&pagingAfterHash=2093847561")}
                }
            })));
        });
        let older_mock = server.list_device_history(|when, then| {
            older.apply(
                when.paging_before_epoch(1764525600000)
                    .paging_before_hash(-1428394756)
                    .into_inner(),
            );
            then.ok(&typed(json!({
                "items": [event(1764525540000, 7, "on")],
                "_links": {}
            })));
        });
        let newer_mock = server.list_device_history(|when, then| {
            newer.apply(
                when.paging_after_epoch(1764525660000)
                    .paging_after_hash(2093847561)
                    .into_inner(),
            );
            then.ok(&typed(json!({
                "items": [event(1764525720000, 31, "off")],
                "_links": {}
            })));
        });
        let client = client(&server);
        let page = |before: Option<(i64, i64)>, after: Option<(i64, i64)>| {
            let mut builder = client
                .list_device_history()
                .location_id(vec![LOCATION.to_owned()])
                .limit(std::num::NonZeroU64::new(2).unwrap());
            if let Some((epoch, hash)) = before {
                builder = builder.paging_before_epoch(epoch).paging_before_hash(hash);
            }
            if let Some((epoch, hash)) = after {
                builder = builder.paging_after_epoch(epoch).paging_after_hash(hash);
            }
            builder.send()
        };
        // The epoch and hash a link carries, under `prefix` (pagingBefore or
        // pagingAfter).
        let cursor = |href: &str, prefix: &str| {
            let url = next_page_url(client.base_url(), href).unwrap();
            let get = |key: String| -> i64 {
                url.query_pairs()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.parse().unwrap())
                    .unwrap()
            };
            (get(format!("{prefix}Epoch")), get(format!("{prefix}Hash")))
        };

        let current = page(Some((1764525720000, 31)), None).await.unwrap();
        let links = current.links.unwrap();
        let next = links.next.unwrap().href.unwrap();
        let previous = links.previous.unwrap().href.unwrap();

        let older_page = page(Some(cursor(&next, "pagingBefore")), None)
            .await
            .unwrap();
        let newer_page = page(None, Some(cursor(&previous, "pagingAfter")))
            .await
            .unwrap();
        first_mock.assert();
        older_mock.assert();
        newer_mock.assert();
        let epochs = |p: &smartthings_ext::types::DeviceActivityList| -> Vec<i64> {
            p.items
                .as_deref()
                .unwrap()
                .valid()
                .map(|e| e.epoch.unwrap())
                .collect()
        };
        assert_eq!(epochs(&older_page), [1764525540000]);
        assert_eq!(epochs(&newer_page), [1764525720000]);
        assert!(older_page.links.unwrap().next.is_none());
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "listDeviceHistory",
            Expect::get(&history()).query("locationId", LOCATION),
            |c| async move {
                c.list_device_history()
                    .location_id(vec![LOCATION.to_owned()])
                    .send()
                    .await
            },
        )
        .await;
    }
}
