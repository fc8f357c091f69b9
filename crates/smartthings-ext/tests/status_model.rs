//! The nested status model on the seed documents' payloads, a lossless
//! round trip over random trees, typed commands and the snapshot's request
//! economy.

mod support;

use httpmock::MockServer;
use proptest::prelude::*;
use serde_json::{Value, json};
use smartthings_ext::{
    CapabilityStatus, Command, ComponentStatus, DeviceExt, DeviceStatus, ErrorKind, HealthState,
    Known, LockState, SnapshotOptions,
};
use support::client;

fn seed(name: &str) -> Value {
    let path = format!("{}/../../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn the_seed_full_status_decodes_with_typed_views_and_round_trips() {
    let raw = seed("seed003/device_status_full.json");
    let status: DeviceStatus = serde_json::from_value(raw.clone()).unwrap();
    let main = status.main().unwrap();
    assert_eq!(main.switch(), Some(true));
    let level = main.level().unwrap();
    assert_eq!((level.value, level.unit), (50.0, Some("%")));
    let kelvin = main.color_temperature().unwrap();
    assert_eq!((kelvin.value, kelvin.unit), (2842.0, Some("K")));
    let color = main.color().unwrap();
    assert_eq!((color.hue, color.saturation), (60.0, 100.0));
    let switch = main
        .capability("switch")
        .unwrap()
        .attribute("switch")
        .unwrap();
    assert_eq!(switch.as_str(), Some("on"));
    assert_eq!(
        switch.timestamp().unwrap().to_rfc3339(),
        "2026-04-28T18:45:19.820+00:00"
    );
    // `"value": null` is kept as null, not dropped.
    let fade = main.capability("synthetic.lightingEffectFade").unwrap();
    assert_eq!(fade.attribute("fade").unwrap().value, Some(Value::Null));
    assert_eq!(status.attributes().count(), 10);
    assert_eq!(serde_json::to_value(&status).unwrap(), raw);
}

#[test]
fn the_seed_capability_status_decodes_and_round_trips() {
    let raw = seed("seed003/capability_status_switch.json");
    let status: CapabilityStatus = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(status.attribute("switch").unwrap().as_str(), Some("on"));
    assert_eq!(serde_json::to_value(&status).unwrap(), raw);
}

#[test]
fn the_component_shape_decodes_and_round_trips() {
    let raw = seed("seed003/device_status_full.json")["components"]["main"].clone();
    let status: ComponentStatus = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(status.level().unwrap().value, 50.0);
    assert_eq!(serde_json::to_value(&status).unwrap(), raw);
}

#[test]
fn the_embedded_status_of_an_include_status_list_is_the_same_model() {
    let list = seed("seed003/list_devices_include_status_health.json");
    let device: smartthings_ext::types::Device =
        serde_json::from_value(list["items"][0].clone()).unwrap();
    let status = device.embedded_status().unwrap();
    let main = status.main().unwrap();
    let watch = main.device_watch().unwrap();
    assert_eq!(
        (watch.status, watch.reason),
        ("offline", Some("INVALID-ACCESS-TOKEN"))
    );
    let grinder = main.capability("foodWasteDryingGrinder").unwrap();
    assert_eq!(grinder.attribute("mode").unwrap().as_str(), Some("auto"));
    assert_eq!(
        grinder
            .attribute("supportedModes")
            .unwrap()
            .as_str_list()
            .unwrap()
            .len(),
        6
    );
    let interval = main
        .capability("healthCheck")
        .unwrap()
        .attribute("checkInterval")
        .unwrap();
    assert_eq!(interval.measurement().unwrap().unit, Some("s"));
    assert_eq!(interval.data_str("protocol"), Some("cloud"));
    let health = device.health().unwrap();
    assert_eq!(health.state, HealthState::Offline);
    // Every embedded capability status round-trips through the model.
    for capability in list["items"][0]["components"][0]["capabilities"]
        .as_array()
        .unwrap()
    {
        let raw = capability["status"].clone();
        let decoded: CapabilityStatus = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(serde_json::to_value(&decoded).unwrap(), raw);
    }
}

#[test]
fn typed_views_of_the_other_common_capabilities() {
    let main: ComponentStatus = serde_json::from_value(json!({
        "temperatureMeasurement": {"temperature": {"value": 71, "unit": "F"}},
        "relativeHumidityMeasurement": {"humidity": {"value": 43.5, "unit": "%"}},
        "battery": {"battery": {"value": 88, "unit": "%"}},
        "contactSensor": {"contact": {"value": "open"}},
        "motionSensor": {"motion": {"value": "inactive"}},
        "lock": {"lock": {"value": "locked"}},
        "thermostatHeatingSetpoint": {"heatingSetpoint": {"value": 68, "unit": "F"}},
        "thermostatCoolingSetpoint": {"coolingSetpoint": {"value": 76, "unit": "F"}},
        "thermostatMode": {"thermostatMode": {"value": "auto"}},
        "powerMeter": {"power": {"value": 12.5, "unit": "W"}},
        "energyMeter": {"energy": {"value": 3.25, "unit": "kWh"}}
    }))
    .unwrap();
    assert_eq!(main.temperature().unwrap().unit, Some("F"));
    assert_eq!(main.humidity().unwrap().value, 43.5);
    assert_eq!(main.battery().unwrap().value, 88.0);
    assert_eq!(
        main.contact(),
        Some(Known::Known(smartthings_ext::Contact::Open))
    );
    assert_eq!(main.motion(), Some(false));
    assert_eq!(main.lock(), Some(Known::Known(LockState::Locked)));
    assert_eq!(main.heating_setpoint().unwrap().value, 68.0);
    assert_eq!(main.cooling_setpoint().unwrap().value, 76.0);
    assert_eq!(main.thermostat_mode(), Some("auto"));
    assert_eq!(main.power().unwrap().unit, Some("W"));
    assert_eq!(main.energy().unwrap().value, 3.25);
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1_000_000i32..1_000_000).prop_map(|n| json!(f64::from(n) / 8.0)),
        "[a-zA-Z0-9 .:_-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn attribute() -> impl Strategy<Value = Value> {
    (
        prop::option::of(json_value()),
        prop::option::of("[%a-zA-Z]{1,4}"),
        prop::option::of(prop::collection::btree_map(
            "[a-z]{1,8}",
            json_value(),
            0..3,
        )),
        prop::option::of(prop_oneof![
            Just(json!("2026-04-28T18:48:24.934Z")),
            Just(json!("2026-04-28 18:48:24")),
            Just(json!(1777401919820i64)),
            "[0-9T:.Z-]{0,24}".prop_map(Value::String),
        ]),
        prop::option::of(json_value()),
    )
        .prop_map(|(value, unit, data, timestamp, extra)| {
            let mut attribute = serde_json::Map::new();
            if let Some(v) = value {
                attribute.insert("value".into(), v);
            }
            if let Some(u) = unit {
                attribute.insert("unit".into(), json!(u));
            }
            if let Some(d) = data {
                attribute.insert("data".into(), Value::Object(d.into_iter().collect()));
            }
            if let Some(t) = timestamp {
                attribute.insert("timestamp".into(), t);
            }
            if let Some(x) = extra {
                attribute.insert("stateChange".into(), x);
            }
            Value::Object(attribute)
        })
}

fn status_tree() -> impl Strategy<Value = Value> {
    let capability = prop::collection::btree_map("[a-zA-Z.-]{1,20}", attribute(), 0..5);
    let component = prop::collection::btree_map("[a-zA-Z.]{1,16}", capability, 0..5);
    prop::collection::btree_map("[a-z0-9]{1,8}", component, 0..4)
        .prop_map(|components| json!({"components": components}))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decode_then_encode_is_lossless(tree in status_tree()) {
        let text = serde_json::to_string(&tree).unwrap();
        let status: DeviceStatus = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(serde_json::to_value(&status).unwrap(), tree);
    }
}

#[tokio::test]
async fn command_helpers_refuse_bad_arguments_before_sending_anything() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).json_body(json!({"results": []}));
        })
        .await;
    let level = Command::set_level(150).unwrap_err();
    assert_eq!(level.kind(), ErrorKind::Validation);
    assert!(level.to_string().contains("0..=100"), "{level}");
    assert!(Command::set_color_temperature(0).is_err());
    let empty = client(&server.url("/v1"))
        .execute("d1", [])
        .await
        .unwrap_err();
    assert_eq!(empty.kind(), ErrorKind::Validation);
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn commands_are_sent_exactly_and_return_per_command_results() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST").path("/v1/devices/d1/commands").json_body(json!({"commands": [
                {"component": "main", "capability": "switch", "command": "on"},
                {"component": "outlet1", "capability": "switchLevel", "command": "setLevel", "arguments": [40]},
                {"component": "main", "capability": "colorControl", "command": "setColor", "arguments": [{"hue": 10.0, "saturation": 90.0}]}
            ]}));
            then.status(200).json_body(json!({"results": [
                {"id": "1", "status": "ACCEPTED"}, {"id": "2", "status": "COMPLETED"}, {"id": "3", "status": "ERROR"}
            ]}));
        })
        .await;
    let results = client(&server.url("/v1"))
        .execute(
            "d1",
            [
                Command::switch_on(),
                Command::set_level(40).unwrap().on_component("outlet1"),
                Command::set_color(10.0, 90.0).unwrap(),
            ],
        )
        .await
        .unwrap();
    mock.assert_async().await;
    use smartthings_ext::CommandStatus::*;
    let statuses: Vec<_> = results.into_iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Accepted, Completed, Error]);
}

fn listed_device(i: usize, location: &str, embedded: bool) -> Value {
    let mut capability = json!({"id": "switch", "version": 1});
    if embedded {
        capability["status"] = json!({"switch": {"value": if i.is_multiple_of(2) { "on" } else { "off" }, "timestamp": "2026-04-28T18:45:19.820Z"}});
    }
    json!({
        "deviceId": format!("dev-{i:04}"),
        "label": format!("Device {i}"),
        "locationId": location,
        "type": "VIPER",
        "components": [{"id": "main", "capabilities": [capability]}],
        "healthState": {"state": "ONLINE", "lastUpdatedDate": "2026-04-10T09:25:11.064Z"}
    })
}

/// Serve `n` devices in pages of 200, with status embedded unless `bare`
/// says otherwise, plus two locations with rooms and scenes.
async fn home(
    server: &MockServer,
    n: usize,
    bare: impl Fn(usize) -> bool,
) -> Vec<httpmock::Mock<'_>> {
    let base = server.url("/v1");
    let pages = n.div_ceil(200).max(1);
    let mut mocks = Vec::new();
    for page in 0..pages {
        let items: Vec<Value> = (page * 200..((page + 1) * 200).min(n))
            .map(|i| {
                listed_device(
                    i,
                    if i.is_multiple_of(2) {
                        "loc-a"
                    } else {
                        "loc-b"
                    },
                    !bare(i),
                )
            })
            .collect();
        let links = if page + 1 < pages {
            json!({"next": {"href": format!("{base}/devices?includeStatus=true&includeHealth=true&max=200&page={}", page + 1)}})
        } else {
            json!({})
        };
        let mock = server
            .mock_async(|when, then| {
                let when = when
                    .method("GET")
                    .path("/v1/devices")
                    .query_param("includeStatus", "true")
                    .query_param("includeHealth", "true");
                if page == 0 {
                    when.query_param_missing("page");
                } else {
                    when.query_param("page", page.to_string());
                }
                then.status(200)
                    .json_body(json!({"items": items, "_links": links}));
            })
            .await;
        mocks.push(mock);
    }
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/locations");
            then.status(200).json_body(json!({"items": [
                {"locationId": "loc-a", "name": "Home"}, {"locationId": "loc-b", "name": "Cabin"}
            ], "_links": {}}));
        })
        .await;
    for location in ["loc-a", "loc-b"] {
        server
            .mock_async(|when, then| {
                when.method("GET").path(format!("/v1/locations/{location}/rooms"));
                then.status(200).json_body(json!({"items": [
                    {"roomId": format!("{location}-kitchen"), "locationId": location, "name": "Kitchen"}
                ], "_links": {}}));
            })
            .await;
    }
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/scenes");
            then.status(200).json_body(json!({"items": [
                {"sceneId": "s1", "sceneName": "Evening", "locationId": "loc-a"}
            ], "_links": {}}));
        })
        .await;
    mocks
}

#[tokio::test]
async fn a_snapshot_makes_exactly_one_device_list_request_per_200_devices() {
    let server = MockServer::start_async().await;
    let n = 450;
    let pages = home(&server, n, |_| false).await;
    let status_calls = server
        .mock_async(|when, then| {
            when.method("GET").path_matches(regex_status());
            then.status(500);
        })
        .await;
    let client = client(&server.url("/v1"));
    let snapshot = client.snapshot().await.unwrap();
    assert_eq!(pages.len(), n.div_ceil(200));
    for page in &pages {
        page.assert_calls_async(1).await;
    }
    status_calls.assert_calls_async(0).await;
    assert_eq!(snapshot.devices.len(), n);
    assert_eq!(snapshot.status_fallbacks, 0);
    // 3 device pages + locations + scenes + 2 room lists.
    assert_eq!(snapshot.requests, 3 + 1 + 1 + 2);
    let first = &snapshot.devices[0];
    assert_eq!(first.status.main().unwrap().switch(), Some(true));
    assert_eq!(first.health.as_ref().unwrap().state, HealthState::Online);
    let home = &snapshot.locations[0];
    assert_eq!(home.rooms.len(), 1);
    assert_eq!(home.scenes.len(), 1);
    assert!(snapshot.locations[1].scenes.is_empty());
}

fn regex_status() -> &'static str {
    r"^/v1/devices/[^/]+/status$"
}

#[tokio::test]
async fn devices_listed_without_status_fall_back_to_one_status_call_each() {
    let server = MockServer::start_async().await;
    let n = 30;
    home(&server, n, |i| i % 10 == 3).await;
    let status_calls = server
        .mock_async(|when, then| {
            when.method("GET").path_matches(regex_status());
            then.status(200).json_body(json!({"components": {"main": {
                "switch": {"switch": {"value": "off", "timestamp": "2026-04-28T18:45:19.820Z"}}
            }}}));
        })
        .await;
    // Spawned, as a service would: the snapshot's future is `Send`.
    let client = client(&server.url("/v1"));
    let snapshot = tokio::spawn(async move { client.snapshot().await })
        .await
        .unwrap()
        .unwrap();
    status_calls.assert_calls_async(3).await;
    assert_eq!(snapshot.status_fallbacks, 3);
    assert_eq!(snapshot.devices.len(), n);
    let fallback = snapshot
        .devices
        .iter()
        .find(|d| d.id() == "dev-0013")
        .unwrap();
    assert_eq!(fallback.status.main().unwrap().switch(), Some(false));
    assert_eq!(snapshot.requests, 1 + 1 + 1 + 2 + 3);
}

/// An epoch-milliseconds timestamp inside an `includeStatus` list failed the
/// generated status type, so the device dropped out of the page (and the
/// export then marked it removed); the status endpoint accepted it. One
/// model now decodes both, the same way.
#[tokio::test]
async fn an_epoch_millisecond_timestamp_decodes_alike_in_a_list_and_in_the_status_endpoint() {
    let attribute = json!({"value": "on", "timestamp": 1777401919820i64});
    let page = json!({"items": [{
        "deviceId": "d1",
        "components": [{"id": "main", "capabilities": [
            {"id": "switch", "version": 1, "status": {"switch": attribute}}
        ]}]
    }], "_links": {}});
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/devices");
            then.status(200).json_body(page);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/devices/d1/status");
            then.status(200)
                .json_body(json!({"components": {"main": {"switch": {"switch": attribute}}}}));
        })
        .await;
    for list in ["/v1/locations", "/v1/scenes"] {
        server
            .mock_async(|when, then| {
                when.method("GET").path(list);
                then.status(200)
                    .json_body(json!({"items": [], "_links": {}}));
            })
            .await;
    }
    let c = client(&server.url("/v1"));
    let home = c.snapshot().await.unwrap();
    assert!(home.invalid.is_empty(), "{:?}", home.invalid);
    assert_eq!(home.devices.len(), 1);
    // No location listed: listing by location falls back to the one list.
    let by_location = c
        .snapshot_with(SnapshotOptions::default().devices_by_location(true))
        .await
        .unwrap();
    assert_eq!(by_location.devices.len(), 1);
    assert_eq!(by_location.devices[0].status, home.devices[0].status);
    let listed = home.devices[0].status.main().unwrap();
    let fetched = c.get_device_status().device_id("d1").send().await.unwrap();
    let fetched = fetched.main().unwrap();
    for main in [listed, fetched] {
        let switch = main
            .capability("switch")
            .unwrap()
            .attribute("switch")
            .unwrap();
        assert_eq!(
            switch.timestamp().unwrap().timestamp_millis(),
            1777401919820
        );
        assert_eq!(main.switch(), Some(true));
    }
    assert_eq!(home.status_fallbacks, 0);
}
