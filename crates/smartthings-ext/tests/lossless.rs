//! Every field the API sends is kept: decoding a response into its type and
//! encoding it again gives back every non-null field it had — the fields the
//! types declare, the typed device details, and fields no type knows, at
//! every level (device, component, capability, status attribute).

use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use smartthings_ext::types::{
    App, Device, DeviceHealth, ExecuteDeviceCommandsResponse, ExecuteSceneResponse,
    ListAppsResponse, ListCapabilitiesResponse, ListDevicesResponse, ListLocationsResponse,
    ListRoomsResponse, ListRulesResponse, ListScenesResponse, ListSubscriptionsResponse, Location,
    Rule,
};
use smartthings_ext::{
    CapabilityStatus, ComponentStatus, DeviceExt, DeviceStatus, LenientItems, SmartThings,
};
use smartthings_sim::{Config, Home, Simulator};

/// `value` without the object entries whose value is `null`: a null and an
/// absent optional field mean the same to the types.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Decode `raw` as `T`, encode it again, and require every non-null field
/// back; returns the decoded value for further checks.
fn assert_lossless<T: DeserializeOwned + Serialize>(what: &str, raw: &Value) -> T {
    let decoded: T = serde_json::from_value(raw.clone())
        .unwrap_or_else(|e| panic!("{what} did not decode: {e}"));
    let again = serde_json::to_value(&decoded).expect("encodes");
    assert_eq!(
        without_nulls(&again),
        without_nulls(raw),
        "{what} lost or changed a field"
    );
    decoded
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/../../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Put `value` under `key` in every object that `at` selects in `raw`.
fn inject(raw: &mut Value, at: &[&str], key: &str, value: &Value) {
    let Some((first, rest)) = at.split_first() else {
        if let Value::Object(map) = raw {
            map.insert(key.to_owned(), value.clone());
        }
        return;
    };
    match (*first, raw) {
        ("*", Value::Array(items)) => items
            .iter_mut()
            .for_each(|item| inject(item, rest, key, value)),
        ("*", Value::Object(map)) => map
            .values_mut()
            .for_each(|item| inject(item, rest, key, value)),
        (name, Value::Object(map)) => {
            if let Some(child) = map.get_mut(name) {
                inject(child, rest, key, value);
            }
        }
        _ => {}
    }
}

/// The levels of a device object, for a listed device.
const DEVICE_LEVELS: [&[&str]; 4] = [
    &[],
    &["components", "*"],
    &["components", "*", "capabilities", "*"],
    &["components", "*", "capabilities", "*", "status", "*"],
];

/// The levels of a full device status body where any field may appear: the
/// body itself and each attribute (a new key at the component or capability
/// level is a new capability or attribute; see `new_capability_and_attribute`).
const STATUS_LEVELS: [&[&str]; 2] = [&[], &["components", "*", "*", "*"]];

/// A capability and an attribute no type lists, in their API shapes.
fn new_capability_and_attribute(status: &mut Value) {
    let attribute = json!({"value": {"mode": "eco"}, "unit": "W", "zzVendor": [1, 2]});
    inject(
        status,
        &["components", "*", "*"],
        "zzNewAttribute",
        &attribute,
    );
    inject(
        status,
        &["components", "*"],
        "zzVendor.newCapability",
        &json!({"level": attribute}),
    );
}

fn unknown() -> Value {
    json!({"firmware": {"version": "1.2.3", "history": [1, "two", null, true]}, "n": 7.25})
}

#[test]
fn seed_payloads_round_trip_with_unknown_fields_at_every_level() {
    for name in [
        "seed003/list_devices_capability_switch.json",
        "seed003/list_devices_include_status_health.json",
    ] {
        let mut page = fixture(name);
        assert_lossless::<ListDevicesResponse>(name, &page);
        for (i, level) in DEVICE_LEVELS.iter().enumerate() {
            let mut at = vec!["items", "*"];
            at.extend_from_slice(level);
            inject(&mut page, &at, &format!("zzUnknown{i}"), &unknown());
        }
        inject(&mut page, &[], "zzPageField", &json!("kept"));
        let decoded = assert_lossless::<ListDevicesResponse>(name, &page);
        let items = decoded.items.unwrap();
        assert_eq!(
            items.invalid().count(),
            0,
            "{name}: unknown fields never fail an item"
        );
        let device = items.valid().next().unwrap();
        assert_eq!(device.extra["zzUnknown0"], unknown());
    }

    let mut status = fixture("seed003/device_status_full.json");
    for (i, level) in STATUS_LEVELS.iter().enumerate() {
        inject(&mut status, level, &format!("zzUnknown{i}"), &unknown());
    }
    new_capability_and_attribute(&mut status);
    let decoded = assert_lossless::<DeviceStatus>("device status", &status);
    assert_eq!(decoded.other["zzUnknown0"], unknown());
    let main = decoded.main().unwrap();
    let switch = main.capability("switch").unwrap();
    assert_eq!(
        switch.attribute("switch").unwrap().other["zzUnknown1"],
        unknown()
    );
    assert_eq!(
        switch.attribute("zzNewAttribute").unwrap().other["zzVendor"],
        json!([1, 2])
    );
    assert!(main.capability("zzVendor.newCapability").is_some());
    assert_lossless::<CapabilityStatus>(
        "capability status",
        &fixture("seed003/capability_status_switch.json"),
    );

    for name in [
        "seed004/get_location.json",
        "seed004/create_location_response.json",
    ] {
        let mut location = fixture(name);
        inject(&mut location, &[], "zzUnknown", &unknown());
        let decoded = assert_lossless::<Location>(name, &location);
        assert_eq!(decoded.extra["zzUnknown"], unknown());
    }
    let mut locations = fixture("seed004/list_locations.json");
    inject(&mut locations, &["items", "*"], "zzUnknown", &unknown());
    assert_lossless::<ListLocationsResponse>("location list", &locations);
}

/// A device as the live API describes it (seed 003 and the official SDK's
/// `devices.d.ts`): protocol details, hub drivers, children, profile.
fn real_device() -> Value {
    json!({
        "deviceId": "6f5ea629-4c05-4a90-a244-cc129b0a80c3",
        "name": "Hue color lamp",
        "label": "Desk lamp",
        "manufacturerName": "SmartThingsCommunity",
        "presentationId": "a1b2c3d4-0000-4000-8000-000000000001",
        "deviceManufacturerCode": "Signify Netherlands B.V.",
        "locationId": "95efee9b-6073-4871-b5ba-de6642187293",
        "ownerId": "1d0d3f7e-0000-4000-8000-000000000002",
        "roomId": "3a6e5d1c-0001-4000-8000-000000000001",
        "parentDeviceId": "0bd3b6a2-0000-4000-8000-00000000000a",
        "deviceTypeName": "legacy DTH",
        "restrictionTier": 0,
        "profile": {"id": "3acbf2fc-0000-4000-8000-000000000003"},
        "type": "ZIGBEE",
        "zigbee": {
            "eui": "001788010B2A3C4D", "networkId": "4F2A", "driverId": "driver-1",
            "executingLocally": true, "hubId": "hub-1", "provisioningState": "PROVISIONED",
            "fingerprintType": "ZIGBEE_MANUFACTURER", "fingerprintId": "Signify/LCT015"
        },
        "ocf": {
            "ocfDeviceType": "oic.d.light", "name": "Hue color lamp", "specVersion": "core.1.1.0",
            "manufacturerName": "Signify", "modelNumber": "LCT015", "firmwareVersion": "1.104.2",
            "hwVersion": "1", "platformVersion": "2", "vendorId": "Signify", "lastSignupTime": "2026-01-02T03:04:05Z"
        },
        "hub": {
            "hubEui": "D052A8000000", "firmwareVersion": "000.055.00009",
            "hubDrivers": [{"driverVersion": "2026-01-01", "driverId": "driver-1", "channelId": "chan-1"}],
            "hubData": {"zwaveHomeId": "E1A2B3C4", "zigbeeChannel": "15", "localIP": "192.168.1.20"}
        },
        "childDevices": [{"id": "c0ffee00-0000-4000-8000-000000000004"}],
        "components": [{
            "id": "main", "label": "main",
            "capabilities": [{"id": "switch", "version": 1}],
            "categories": [{"name": "Light", "categoryType": "manufacturer"}]
        }],
        "createTime": "2026-01-02T03:04:05.678Z",
        "executionContext": "LOCAL"
    })
}

#[test]
fn typed_device_details_are_read_and_kept() {
    let mut device = real_device();
    inject(&mut device, &["zigbee"], "zzFutureZigbeeField", &json!(1));
    inject(
        &mut device,
        &["hub", "hubDrivers", "*"],
        "zzFutureDriverField",
        &json!("x"),
    );
    let decoded = assert_lossless::<Device>("real device", &device);
    let ocf = decoded.ocf.as_ref().expect("ocf is typed");
    assert_eq!(ocf.firmware_version.as_deref(), Some("1.104.2"));
    let hub = decoded.hub.as_ref().expect("hub is typed");
    let drivers = hub.hub_drivers.as_deref().unwrap();
    assert_eq!(drivers[0].driver_id.as_deref(), Some("driver-1"));
    assert_eq!(
        decoded.zigbee.as_ref().unwrap().extra["zzFutureZigbeeField"],
        json!(1)
    );
    assert_eq!(
        decoded.parent_device_id.as_deref(),
        Some("0bd3b6a2-0000-4000-8000-00000000000a")
    );
    assert_eq!(decoded.child_devices.as_ref().unwrap().len(), 1);
}

/// Random JSON for the fields no type knows.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e9f64..1e9).prop_map(Value::from),
        "[a-zA-Z0-9 ]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Any unknown field, of any shape, at any level of a device or a status
    /// body comes back unchanged.
    #[test]
    fn any_unknown_field_at_any_level_survives(
        key in "zz[A-Za-z]{1,8}",
        value in any_json(),
        device_level in 0..DEVICE_LEVELS.len(),
        status_level in 0..STATUS_LEVELS.len(),
    ) {
        let mut page = fixture("seed003/list_devices_include_status_health.json");
        let mut at = vec!["items", "*"];
        at.extend_from_slice(DEVICE_LEVELS[device_level]);
        inject(&mut page, &at, &key, &value);
        let decoded = assert_lossless::<ListDevicesResponse>("device page", &page);
        prop_assert_eq!(decoded.items.unwrap().invalid().count(), 0);

        let mut device = real_device();
        inject(&mut device, &["hub"], &key, &value);
        assert_lossless::<Device>("device", &device);

        let mut status = fixture("seed003/device_status_full.json");
        inject(&mut status, STATUS_LEVELS[status_level], &key, &value);
        new_capability_and_attribute(&mut status);
        assert_lossless::<DeviceStatus>("status", &status);
    }
}

/// Every kind of response the simulator serves, with an unknown field added
/// to each object of it, round-trips.
#[tokio::test]
async fn simulator_responses_round_trip_with_unknown_fields() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let base = sim.base_url();
    let get = |path: String| {
        let request = http.get(format!("{base}{path}")).bearer_auth(sim.token());
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let post = |path: String, body: Value| {
        let request = http
            .post(format!("{base}{path}"))
            .bearer_auth(sim.token())
            .json(&body);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    fn with_unknown(mut raw: Value, levels: &[&[&str]]) -> Value {
        for (i, at) in levels.iter().enumerate() {
            inject(&mut raw, at, &format!("zzUnknown{i}"), &unknown());
        }
        raw
    }
    let items: &[&[&str]] = &[&[], &["items", "*"]];

    let devices = get("/devices?includeStatus=true&includeHealth=true".into()).await;
    let mut levels: Vec<Vec<&str>> = vec![vec![]];
    for level in DEVICE_LEVELS {
        let mut at = vec!["items", "*"];
        at.extend_from_slice(level);
        levels.push(at);
    }
    let levels: Vec<&[&str]> = levels.iter().map(Vec::as_slice).collect();
    assert_lossless::<ListDevicesResponse>("devices", &with_unknown(devices.clone(), &levels));
    let device_ids: Vec<String> = devices["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["deviceId"].as_str().unwrap().to_owned())
        .collect();
    assert!(device_ids.len() >= 10);
    for id in &device_ids {
        let device = get(format!("/devices/{id}")).await;
        assert_lossless::<Device>("device", &with_unknown(device, &DEVICE_LEVELS));
        let status = get(format!("/devices/{id}/status")).await;
        assert_lossless::<DeviceStatus>("status", &with_unknown(status, &STATUS_LEVELS));
        let main = get(format!("/devices/{id}/components/main/status")).await;
        assert_lossless::<ComponentStatus>(
            "component status",
            &with_unknown(main, &[&["*"], &["*", "*"]]),
        );
        let health = get(format!("/devices/{id}/health")).await;
        assert_lossless::<DeviceHealth>("health", &with_unknown(health, &[&[]]));
    }
    let commands = post(
        format!("/devices/{}/commands", device_ids[0]),
        json!({"commands": [{"component": "main", "capability": "switch", "command": "on", "arguments": []}]}),
    )
    .await;
    assert_lossless::<ExecuteDeviceCommandsResponse>(
        "command results",
        &with_unknown(commands, &[&[], &["results", "*"]]),
    );

    let locations = get("/locations".into()).await;
    assert_lossless::<ListLocationsResponse>("locations", &with_unknown(locations.clone(), items));
    for location in locations["items"].as_array().unwrap() {
        let id = location["locationId"].as_str().unwrap();
        let full = get(format!("/locations/{id}")).await;
        assert_lossless::<Location>("location", &with_unknown(full, &[&[]]));
        let rooms = get(format!("/locations/{id}/rooms")).await;
        assert_lossless::<ListRoomsResponse>("rooms", &with_unknown(rooms, items));
        let rules = get(format!("/rules?locationId={id}")).await;
        assert_lossless::<ListRulesResponse>("rules", &with_unknown(rules.clone(), items));
        for rule in rules["items"].as_array().unwrap() {
            let rule_id = rule["id"].as_str().unwrap();
            let full = get(format!("/rules/{rule_id}?locationId={id}")).await;
            assert_lossless::<Rule>("rule", &with_unknown(full, &[&[]]));
        }
    }
    let scenes = get("/scenes".into()).await;
    assert_lossless::<ListScenesResponse>("scenes", &with_unknown(scenes.clone(), items));
    let scene_id = scenes["items"][0]["sceneId"].as_str().unwrap();
    let executed = post(format!("/scenes/{scene_id}/execute"), json!({})).await;
    assert_lossless::<ExecuteSceneResponse>("scene execution", &with_unknown(executed, &[&[]]));
    let apps = get("/apps".into()).await;
    assert_lossless::<ListAppsResponse>("apps", &with_unknown(apps.clone(), items));
    for app in apps["items"].as_array().unwrap() {
        let full = get(format!("/apps/{}", app["appId"].as_str().unwrap())).await;
        assert_lossless::<App>("app", &with_unknown(full, &[&[]]));
    }
    let installed = sim.with_home(|home| {
        home.subscriptions
            .values()
            .next()
            .and_then(|s| s["installedAppId"].as_str().map(str::to_owned))
            .expect("the demo home has a subscription")
    });
    let subscriptions = get(format!("/installedapps/{installed}/subscriptions")).await;
    assert_lossless::<ListSubscriptionsResponse>(
        "subscriptions",
        &with_unknown(subscriptions, items),
    );
    let capabilities = get("/capabilities".into()).await;
    assert_lossless::<ListCapabilitiesResponse>("capabilities", &with_unknown(capabilities, items));

    // And through the client, status embedded in a page included: a device
    // the server describes with fields no type knows keeps them.
    let id = device_ids[0].clone();
    sim.with_home(|home| {
        let device = home.devices.get_mut(&id).unwrap();
        inject(&mut device.device, &[], "zzUnknown", &unknown());
        inject(
            &mut device.status,
            STATUS_LEVELS[1],
            "zzUnknown",
            &unknown(),
        );
    });
    let client = SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .build()
        .unwrap();
    let device = client
        .get_device()
        .device_id(id.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(device.extra["zzUnknown"], unknown());
    let status = client
        .get_device_status()
        .device_id(id.as_str())
        .send()
        .await
        .unwrap();
    let (_, _, _, attribute) = status.attributes().next().unwrap();
    assert_eq!(attribute.other["zzUnknown"], unknown());
    let page = client
        .list_devices()
        .device_id(vec![id.clone()])
        .include_status(true)
        .send()
        .await
        .unwrap();
    let listed = page.items.unwrap().valid().next().cloned().unwrap();
    assert_eq!(listed.extra["zzUnknown"], unknown());
    let embedded = listed.embedded_status().unwrap();
    let (_, _, _, attribute) = embedded.attributes().next().unwrap();
    assert_eq!(attribute.other["zzUnknown"], unknown());
}

/// `without_nulls` treats a null and an absent field alike; the status model
/// does not: an attribute sent as `"value": null` comes back as `null`.
#[test]
fn a_null_attribute_value_round_trips_as_null_not_absent() {
    let raw = json!({"components": {"main": {"switch": {
        "switch": {"value": null, "timestamp": "2026-04-28T18:45:19.820Z"},
        "other": {"unit": "%"}
    }}}});
    let status: DeviceStatus = serde_json::from_value(raw.clone()).unwrap();
    let again = serde_json::to_value(&status).unwrap();
    assert_eq!(again, raw, "null kept, absence kept");
    let switch = status.main().unwrap().capability("switch").unwrap();
    assert_eq!(switch.attribute("switch").unwrap().value, Some(Value::Null));
    assert_eq!(switch.attribute("other").unwrap().value, None);
}
