//! Every example response printed in seeds 003 and 004 decodes into the
//! generated types, and so do the payloads the spec does not foresee.

use serde_json::{Value, json};
use smartthings_ext::types::{
    CreateLocationRequest, Device, DeviceHealthState, DeviceType, ListDevicesResponse,
    ListLocationsResponse, Location, LocationTemperatureScale,
};
use smartthings_ext::{
    Attribute, CapabilityStatus, ComponentStatus, DeviceStatus, Lenient, LenientItems, OpenEnum,
};
use smartthings_tests::{fixture, fixture_json};

/// `capability.name` of a component's status.
fn attribute<'a>(component: &'a ComponentStatus, capability: &str, name: &str) -> &'a Attribute {
    component
        .capability(capability)
        .and_then(|c| c.attribute(name))
        .unwrap_or_else(|| panic!("{capability}.{name}"))
}

fn decode<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn seed003_device_list_decodes_all_three_devices() {
    let page: ListDevicesResponse = decode("seed003/list_devices_capability_switch.json");
    let items = page.items.expect("items");
    assert_eq!(items.invalid().count(), 0);
    let labels: Vec<_> = items.valid().filter_map(|d| d.label.as_deref()).collect();
    assert_eq!(
        labels,
        [
            "Color & Tunable White Bulb",
            "Two Channel Outlet (dev)",
            "Dimmer"
        ]
    );
    let outlet = items.valid().nth(1).unwrap();
    let components = outlet.components.as_ref().unwrap();
    let ids: Vec<_> = components.iter().filter_map(|c| c.id.as_deref()).collect();
    assert_eq!(ids, ["main", "outlet1", "outlet2"]);
    assert_eq!(outlet.type_, Some(OpenEnum::Known(DeviceType::Viper)));
    assert_eq!(
        page.links,
        Some(Default::default()),
        "`_links: {{}}` is an empty Links"
    );
}

#[test]
fn seed003_include_status_and_health_device_decodes_with_embedded_status() {
    let page: ListDevicesResponse = decode("seed003/list_devices_include_status_health.json");
    let items = page.items.unwrap();
    let device = items
        .valid()
        .next()
        .expect("the food waste disposer decodes");
    assert_eq!(device.device_manufacturer_code.as_deref(), Some("STS"));
    assert_eq!(
        device.create_time.as_deref(),
        Some("2026-04-08T15:22:02.623Z")
    );
    let health = device.health_state.as_ref().unwrap();
    assert_eq!(
        health.state,
        Some(OpenEnum::Known(DeviceHealthState::Offline))
    );
    assert_eq!(
        device.profile.as_ref().unwrap().id.as_deref(),
        Some("749b7b67-ccb2-3783-9743-59c4cbd10678")
    );
    assert_eq!(
        device
            .execution_context
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("CLOUD")
    );
    let capabilities = device.components.as_ref().unwrap()[0]
        .capabilities
        .as_ref()
        .unwrap();
    let health_check = capabilities
        .iter()
        .find(|c| c.id.as_deref() == Some("healthCheck"))
        .unwrap();
    let status = health_check.status.as_ref().unwrap();
    let watch = status.attribute("DeviceWatch-DeviceStatus").unwrap();
    assert_eq!(watch.value, Some(json!("offline")));
    assert_eq!(
        watch.data.as_ref().unwrap()["reason"],
        json!("INVALID-ACCESS-TOKEN")
    );
    let interval = status.attribute("checkInterval").unwrap();
    assert_eq!(interval.unit.as_deref(), Some("s"));
    assert_eq!(interval.value, Some(json!(60)));
}

#[test]
fn seed003_capability_status_decodes() {
    let status: CapabilityStatus = decode("seed003/capability_status_switch.json");
    let switch = status.attribute("switch").unwrap();
    assert_eq!(switch.value, Some(json!("on")));
    assert_eq!(
        switch.raw_timestamp,
        Some(json!("2026-03-12T15:14:28.016Z"))
    );
}

#[test]
fn seed003_full_status_decodes_with_nulls_and_object_values() {
    let status: DeviceStatus = decode("seed003/device_status_full.json");
    let main = &status.components["main"];
    let level = attribute(main, "switchLevel", "level");
    assert_eq!(level.value, Some(json!(50)));
    assert_eq!(level.unit.as_deref(), Some("%"));
    assert_eq!(
        attribute(main, "colorTemperature", "colorTemperature").value,
        Some(json!(2842))
    );
    // `value: null` is kept as sent, and is no value.
    let color = attribute(main, "colorControl", "color");
    assert_eq!(color.value, Some(Value::Null), "`value: null`");
    assert_eq!(color.value(), None, "`value: null`");
    assert_eq!(
        attribute(main, "colorTemperature", "colorTemperatureRange").value,
        Some(json!({"maximum": 6500, "minimum": 1800}))
    );
    assert_eq!(main.capabilities().count(), 6);
}

#[test]
fn seed004_location_bodies_decode() {
    let list: ListLocationsResponse = decode("seed004/list_locations.json");
    let items = list.items.unwrap();
    assert_eq!(items.valid().next().unwrap().name.as_deref(), Some("Home"));
    let next = list.links.unwrap().next.unwrap().href;
    assert_eq!(next.as_deref(), Some("https://..."));

    for name in [
        "seed004/create_location_response.json",
        "seed004/get_location.json",
        "seed004/update_location_response.json",
    ] {
        let location: Location = decode(name);
        // Seed 004's ids are not UUIDs ("1elc"): they stay opaque strings.
        assert!(
            location.location_id.unwrap().starts_with("6b3d1909-"),
            "{name}"
        );
        assert_eq!(location.latitude, Some(45.00708112), "{name}");
    }
    let updated: Location = decode("seed004/update_location_response.json");
    assert_eq!(
        updated.temperature_scale,
        Some(OpenEnum::Known(LocationTemperatureScale::C))
    );
    let request: CreateLocationRequest = decode("seed004/create_location_request.json");
    assert_eq!(request.name, "Home");
    let _: CreateLocationRequest = decode("seed004/update_location_request.json");
    assert_eq!(fixture_json("seed004/delete_location.json"), json!({}));
}

#[test]
fn a_device_type_the_spec_does_not_list_is_kept() {
    for kind in ["ZWAVE", "ZIGBEE", "OCF", "VIRTUAL", "MQTT"] {
        let device: Device =
            serde_json::from_value(json!({"deviceId": "d1", "type": kind})).unwrap();
        assert_eq!(device.type_, Some(OpenEnum::Unknown(kind.to_owned())));
        assert_eq!(serde_json::to_value(&device).unwrap()["type"], kind);
    }
}

#[test]
fn unknown_fields_nulls_and_non_uuid_ids_decode() {
    let device: Device = serde_json::from_value(json!({
        "deviceId": "not-a-uuid",
        "locationId": null,
        "components": null,
        "allowed": null,
        "brandNewField": {"nested": [1, 2, 3]},
        "healthState": {"state": "DEGRADED", "lastUpdatedDate": "2026-04-10 09:25"}
    }))
    .unwrap();
    assert_eq!(device.device_id.as_deref(), Some("not-a-uuid"));
    assert_eq!(device.components, None);
    let health = device.health_state.unwrap();
    assert_eq!(health.state.unwrap().unknown(), Some("DEGRADED"));
    assert_eq!(
        health.last_updated_date.as_deref(),
        Some("2026-04-10 09:25")
    );
}

#[test]
fn one_odd_device_does_not_fail_the_page() {
    let mut page = fixture_json("seed003/list_devices_capability_switch.json");
    page["items"][1]["components"] = json!("not a list");
    let page: ListDevicesResponse = serde_json::from_value(page).unwrap();
    let items = page.items.unwrap();
    assert_eq!(items.valid().count(), 2);
    let bad: Vec<_> = items.invalid().collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(
        bad[0].raw["deviceId"],
        "af8a2a04-eba2-47f5-b388-e36663d92f81"
    );
    assert!(bad[0].error.contains("invalid type"), "{}", bad[0].error);
    assert!(matches!(items[1], Lenient::Invalid(_)));
    // Nothing is lost: the page re-serialises with the odd item as sent.
    let back = serde_json::to_value(&items).unwrap();
    assert_eq!(back[1]["components"], "not a list");
}

#[test]
fn request_bodies_stay_strict() {
    // A request type rejects what a response type would tolerate.
    let missing_name =
        serde_json::from_value::<CreateLocationRequest>(json!({"countryCode": "USA"}));
    assert!(missing_name.is_err());
    let bad_scale = serde_json::from_value::<CreateLocationRequest>(
        json!({"name": "x", "temperatureScale": "K"}),
    );
    assert!(bad_scale.is_err());
}
