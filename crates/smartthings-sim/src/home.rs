//! The in-memory home: the demo home, generated large homes, and homes
//! recorded from the real API. Everything is kept as the JSON the API sends,
//! so that what a client reads is shaped exactly like seed 003/004.

mod changes;
mod extras;

use std::path::Path;

use anyhow::{Context, Result, bail};
use indexmap::IndexMap;
use serde_json::{Map, Value, json};

pub(crate) use changes::{label as device_label, timestamp};
pub(crate) use extras::{
    CHANNELS, Hub, Modes, default_modes, derived_id, driver_kind, installed_app, installed_driver,
};

/// Seed 004: "A user can belong to 10 Locations".
pub const MAX_LOCATIONS: usize = 10;
/// Seed 004: "A Location can have up to 200 devices".
pub const MAX_DEVICES_PER_LOCATION: usize = 200;

/// One device: its listing object (seed 003 shape, without `status`), its
/// full status and its health.
#[derive(Clone, Debug, PartialEq)]
pub struct SimDevice {
    /// The device object as listed.
    pub device: Value,
    /// The full status body: `{"components": {...}}`.
    pub status: Value,
    /// `{"state": "ONLINE", "lastUpdatedDate": ...}`.
    pub health: Value,
}

impl SimDevice {
    /// The device id.
    pub fn id(&self) -> &str {
        self.device["deviceId"].as_str().unwrap_or_default()
    }

    /// The location id.
    pub fn location_id(&self) -> &str {
        self.device["locationId"].as_str().unwrap_or_default()
    }

    /// Whether a component lists the capability.
    pub fn has_capability(&self, capability: &str) -> bool {
        self.components()
            .any(|c| capabilities_of(c).any(|id| id == capability))
    }

    pub(crate) fn components(&self) -> impl Iterator<Item = &Value> {
        self.device["components"].as_array().into_iter().flatten()
    }

    /// A component of the device, by id.
    pub fn component(&self, id: &str) -> Option<&Value> {
        self.components().find(|c| c["id"] == id)
    }
}

pub(crate) fn capabilities_of(component: &Value) -> impl Iterator<Item = &str> {
    component["capabilities"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["id"].as_str())
}

/// Everything the simulator serves.
#[derive(Clone, Debug, Default)]
pub struct Home {
    /// Location id → location object.
    pub locations: IndexMap<String, Value>,
    /// Room id → room object.
    pub rooms: IndexMap<String, Value>,
    /// Device id → device.
    pub devices: IndexMap<String, SimDevice>,
    /// Scene id → scene object; `actions` holds the device states it applies.
    pub scenes: IndexMap<String, Value>,
    /// Rule id → rule object (with its `locationId`).
    pub rules: IndexMap<String, Value>,
    /// Subscription id → subscription object.
    pub subscriptions: IndexMap<String, Value>,
    /// App id → app object.
    pub apps: IndexMap<String, Value>,
    /// Capability definitions.
    pub capabilities: Vec<Value>,
    /// Location id → its modes (every location has Home, Away and Night
    /// to begin with).
    pub(crate) modes: IndexMap<String, Modes>,
    /// Hub id → hub (the demo and generated homes have one per location).
    pub(crate) hubs: IndexMap<String, Hub>,
    /// Device profile id → device profile.
    pub(crate) device_profiles: IndexMap<String, Value>,
    /// Preference id → device preference.
    pub(crate) preferences: IndexMap<String, Value>,
    /// Installed app id → installed app (the demo and generated homes have
    /// one per location, with ids derived from the location's).
    pub(crate) installed_apps: IndexMap<String, Value>,
    /// Installed app id → its schedules by name.
    pub(crate) schedules: IndexMap<String, IndexMap<String, Value>>,
    /// App id → its OAuth client details (`AppOAuth`).
    pub(crate) app_oauth: IndexMap<String, Value>,
    /// App id → its settings (a string map).
    pub(crate) app_settings: IndexMap<String, Value>,
    /// `id/version` → the definition of a capability created through the
    /// API (also listed, as a summary, in `capabilities`).
    pub(crate) custom_capabilities: IndexMap<String, Value>,
    /// `id/version` → locale tag → localization.
    pub(crate) localizations: IndexMap<String, IndexMap<String, Value>>,
    /// `id/version` → the presentation of a custom capability.
    pub(crate) capability_presentations: IndexMap<String, Value>,
    /// Presentation id → device configuration.
    pub(crate) device_configs: IndexMap<String, Value>,
    /// Notifications sent (`createNotification` bodies), oldest first.
    pub(crate) notifications: Vec<Value>,
    /// State changes not yet published to the event stream.
    pub(crate) pending: Vec<crate::stream::StateChange>,
}

const TS: &str = "2026-04-28T18:45:19.820Z";

fn attr(value: Value) -> Value {
    json!({"value": value, "timestamp": TS})
}

fn attr_unit(value: Value, unit: &str) -> Value {
    json!({"value": value, "unit": unit, "timestamp": TS})
}

/// A device kind: its capabilities on `main` (and more components), and the
/// initial status of each.
struct Kind {
    name: &'static str,
    category: &'static str,
    components: &'static [(&'static str, &'static [&'static str])],
}

const KINDS: &[Kind] = &[
    Kind {
        name: "c2c-rgbw-color-bulb",
        category: "Light",
        components: &[(
            "main",
            &[
                "switch",
                "switchLevel",
                "colorControl",
                "colorTemperature",
                "refresh",
                "healthCheck",
            ],
        )],
    },
    Kind {
        name: "c2c-dimmer",
        category: "Light",
        components: &[("main", &["switch", "switchLevel", "refresh", "healthCheck"])],
    },
    Kind {
        name: "smart-plug",
        category: "SmartPlug",
        components: &[(
            "main",
            &["switch", "powerMeter", "energyMeter", "healthCheck"],
        )],
    },
    Kind {
        name: "two-channel-outlet",
        category: "SmartPlug",
        components: &[
            ("main", &["switch", "healthCheck"]),
            ("outlet1", &["switch"]),
            ("outlet2", &["switch"]),
        ],
    },
    Kind {
        name: "motion-sensor",
        category: "MotionSensor",
        components: &[(
            "main",
            &[
                "motionSensor",
                "temperatureMeasurement",
                "battery",
                "healthCheck",
            ],
        )],
    },
    Kind {
        name: "contact-sensor",
        category: "ContactSensor",
        components: &[("main", &["contactSensor", "battery", "healthCheck"])],
    },
    Kind {
        name: "door-lock",
        category: "SmartLock",
        components: &[("main", &["lock", "battery", "healthCheck"])],
    },
    Kind {
        name: "thermostat",
        category: "Thermostat",
        components: &[(
            "main",
            &[
                "temperatureMeasurement",
                "relativeHumidityMeasurement",
                "thermostatHeatingSetpoint",
                "thermostatCoolingSetpoint",
                "thermostatMode",
                "healthCheck",
            ],
        )],
    },
    Kind {
        name: "multipurpose-sensor",
        category: "MultiFunctionalSensor",
        components: &[(
            "main",
            &[
                "contactSensor",
                "temperatureMeasurement",
                "relativeHumidityMeasurement",
                "battery",
            ],
        )],
    },
];

fn initial_attributes(capability: &str, rng: &mut fastrand::Rng) -> Value {
    match capability {
        "switch" => json!({"switch": attr(json!(if rng.bool() { "on" } else { "off" }))}),
        "switchLevel" => json!({
            "levelRange": attr_unit(json!({"maximum": 100, "minimum": 1}), "%"),
            "level": attr_unit(json!(rng.u32(1..=100)), "%")
        }),
        "colorControl" => json!({
            "saturation": attr(json!(rng.u32(0..=100))),
            "color": {"value": null},
            "hue": attr(json!(rng.u32(0..=100)))
        }),
        "colorTemperature" => json!({
            "colorTemperatureRange": attr_unit(json!({"maximum": 6500, "minimum": 1800}), "K"),
            "colorTemperature": attr_unit(json!(rng.u32(1800..=6500)), "K")
        }),
        "refresh" => json!({}),
        "healthCheck" => json!({
            "checkInterval": {"value": 60, "unit": "s", "data": {"deviceScheme": "UNTRACKED", "protocol": "cloud"}, "timestamp": TS},
            "healthStatus": {"value": null},
            "DeviceWatch-Enroll": {"value": null},
            "DeviceWatch-DeviceStatus": {"value": "online", "data": {}, "timestamp": TS}
        }),
        "powerMeter" => {
            json!({"power": attr_unit(json!(f64::from(rng.u32(0..=20000)) / 10.0), "W")})
        }
        "energyMeter" => {
            json!({"energy": attr_unit(json!(f64::from(rng.u32(0..=100000)) / 100.0), "kWh")})
        }
        "motionSensor" => {
            json!({"motion": attr(json!(if rng.bool() { "active" } else { "inactive" }))})
        }
        "contactSensor" => {
            json!({"contact": attr(json!(if rng.bool() { "open" } else { "closed" }))})
        }
        "temperatureMeasurement" => json!({
            "temperatureRange": {"value": null},
            "temperature": attr_unit(json!(rng.u32(60..=80)), "F")
        }),
        "relativeHumidityMeasurement" => {
            json!({"humidity": attr_unit(json!(rng.u32(20..=70)), "%")})
        }
        "battery" => {
            json!({"quantity": {"value": null}, "battery": attr_unit(json!(rng.u32(5..=100)), "%"), "type": {"value": null}})
        }
        "lock" => {
            json!({"lock": {"value": "locked", "data": {"method": "manual"}, "timestamp": TS}})
        }
        "presenceSensor" => json!({"presence": attr(json!("present"))}),
        "thermostatHeatingSetpoint" => json!({"heatingSetpoint": attr_unit(json!(68), "F")}),
        "thermostatCoolingSetpoint" => json!({"coolingSetpoint": attr_unit(json!(76), "F")}),
        "thermostatMode" => json!({
            "thermostatMode": attr(json!("auto")),
            "supportedThermostatModes": attr(json!(["auto", "cool", "heat", "off"]))
        }),
        _ => json!({}),
    }
}

fn make_device(
    id: String,
    label: String,
    location: &str,
    room: Option<&str>,
    kind: &Kind,
    rng: &mut fastrand::Rng,
) -> SimDevice {
    let mut components = Vec::new();
    let mut status = Map::new();
    for (component, capabilities) in kind.components {
        components.push(json!({
            "id": component,
            "label": component,
            "capabilities": capabilities.iter().map(|c| json!({"id": c, "version": 1})).collect::<Vec<_>>(),
            "categories": [{"name": kind.category, "categoryType": "manufacturer"}]
        }));
        let statuses: Map<String, Value> = capabilities
            .iter()
            .map(|c| ((*c).to_owned(), initial_attributes(c, rng)))
            .collect();
        status.insert((*component).to_owned(), Value::Object(statuses));
    }
    let mut device = json!({
        "deviceId": id,
        "name": kind.name,
        "label": label,
        "manufacturerName": "SmartThings",
        "presentationId": format!("{}-presentation", kind.name),
        "locationId": location,
        "components": components,
        "type": "VIPER"
    });
    if let Some(room) = room {
        device["roomId"] = json!(room);
    }
    SimDevice {
        device,
        status: json!({"components": status}),
        health: json!({"state": "ONLINE", "lastUpdatedDate": TS}),
    }
}

/// A virtual device: `components` as (id, capability ids), each
/// capability's status at its initial values, `type` `VIRTUAL`.
pub(crate) fn virtual_device(
    id: String,
    name: &str,
    location: &str,
    room: Option<&str>,
    components: &[(String, Vec<String>)],
    at: &str,
) -> SimDevice {
    // Initial values are drawn from a generator seeded by the id: the same
    // device is made the same way.
    let mut rng = fastrand::Rng::with_seed(id.bytes().map(u64::from).sum());
    let mut listed = Vec::new();
    let mut status = Map::new();
    for (component, capabilities) in components {
        listed.push(json!({
            "id": component,
            "label": component,
            "capabilities": capabilities.iter().map(|c| json!({"id": c, "version": 1})).collect::<Vec<_>>(),
            "categories": [{"name": "Others", "categoryType": "manufacturer"}]
        }));
        let statuses: Map<String, Value> = capabilities
            .iter()
            .map(|c| {
                let mut attributes = initial_attributes(c, &mut rng);
                for state in attributes
                    .as_object_mut()
                    .into_iter()
                    .flat_map(|a| a.values_mut())
                {
                    if state.get("timestamp").is_some() {
                        state["timestamp"] = json!(at);
                    }
                }
                (c.clone(), attributes)
            })
            .collect();
        status.insert(component.clone(), Value::Object(statuses));
    }
    let mut device = json!({
        "deviceId": id,
        "name": name,
        "label": name,
        "manufacturerName": "SmartThingsCommunity",
        "presentationId": "virtual-device-presentation",
        "locationId": location,
        "components": listed,
        "createTime": at,
        "type": "VIRTUAL",
        "virtual": {"name": name, "executionContext": "CLOUD"}
    });
    if let Some(room) = room {
        device["roomId"] = json!(room);
    }
    SimDevice {
        device,
        status: json!({"components": status}),
        health: json!({"state": "ONLINE", "lastUpdatedDate": at}),
    }
}

/// A deterministic id from a seed and a counter, shaped like a UUID.
fn uuid_like(rng: &mut fastrand::Rng) -> String {
    let a = rng.u64(..);
    let b = rng.u64(..);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

impl Home {
    /// Seed 003's devices (colour bulb, two-channel outlet, dimmer, food-waste
    /// disposer) verbatim, plus a realistic mix: sensors, a lock, a
    /// thermostat, plugs, a TV and a refrigerator, in two locations.
    pub fn demo() -> Self {
        let mut rng = fastrand::Rng::with_seed(3);
        let mut home = Home::default();
        let home_id = "95efee9b-6073-4871-b5ba-de6642187293";
        let cabin_id = "d768125b-abb6-46ea-9e73-2eb58b82d0db";
        home.add_location(json!({
            "locationId": home_id, "name": "Home", "countryCode": "USA",
            "latitude": 45.00708112, "longitude": -93.11223629, "regionRadius": 150,
            "temperatureScale": "F", "timeZoneId": "America/Chicago", "locale": "en"
        }));
        home.add_location(json!({
            "locationId": cabin_id, "name": "Cabin", "countryCode": "USA",
            "latitude": 46.7867, "longitude": -92.1005, "regionRadius": 150,
            "temperatureScale": "F", "timeZoneId": "America/Chicago", "locale": "en"
        }));
        let rooms = [
            (
                "3a6e5d1c-0001-4000-8000-000000000001",
                home_id,
                "Living Room",
            ),
            ("3a6e5d1c-0001-4000-8000-000000000002", home_id, "Kitchen"),
            ("3a6e5d1c-0001-4000-8000-000000000003", home_id, "Bedroom"),
            ("3a6e5d1c-0001-4000-8000-000000000004", home_id, "Hallway"),
            ("3a6e5d1c-0001-4000-8000-000000000005", cabin_id, "Kitchen"),
        ];
        for (id, location, name) in rooms {
            home.rooms.insert(
                id.into(),
                json!({"roomId": id, "locationId": location, "name": name}),
            );
        }
        let kind = |name: &str| KINDS.iter().find(|k| k.name == name).expect("known kind");
        // Seed 003's three devices, with their ids and labels.
        let mut bulb = make_device(
            "80e26532-85d4-484c-b012-1c04f3d35f95".into(),
            "Color & Tunable White Bulb".into(),
            home_id,
            Some(rooms[0].0),
            kind("c2c-rgbw-color-bulb"),
            &mut rng,
        );
        // Seed 003's full status example belongs to a bulb like this one.
        bulb.status = seed_full_status();
        home.add_device(bulb);
        let mut outlet = make_device(
            "af8a2a04-eba2-47f5-b388-e36663d92f81".into(),
            "Two Channel Outlet (dev)".into(),
            home_id,
            Some(rooms[1].0),
            kind("two-channel-outlet"),
            &mut rng,
        );
        outlet.device["name"] = json!("Two Channel Outlet");
        outlet.device["manufacturerName"] = json!("SmartThingsCommunity");
        home.add_device(outlet);
        home.add_device(make_device(
            "b9af18af-55c8-4441-83e2-bfe6021235c4".into(),
            "Dimmer".into(),
            home_id,
            Some(rooms[2].0),
            kind("c2c-dimmer"),
            &mut rng,
        ));
        home.add_device(food_waste_disposer(cabin_id, rooms[4].0));
        let mix = [
            ("motion-sensor", "Hallway Motion", 3),
            ("contact-sensor", "Front Door Contact", 3),
            ("door-lock", "Front Door Lock", 3),
            ("thermostat", "Thermostat", 0),
            ("smart-plug", "Coffee Maker Plug", 1),
            ("multipurpose-sensor", "Garage Door Sensor", 3),
        ];
        for (name, label, room) in mix {
            let id = uuid_like(&mut rng);
            home.add_device(make_device(
                id,
                label.into(),
                home_id,
                Some(rooms[room].0),
                kind(name),
                &mut rng,
            ));
        }
        home.add_device(television(uuid_like(&mut rng), home_id, rooms[0].0));
        home.add_device(refrigerator(uuid_like(&mut rng), home_id, rooms[1].0));
        let bulb_id = "80e26532-85d4-484c-b012-1c04f3d35f95";
        let lock_id = home
            .devices
            .values()
            .find(|d| d.device["label"] == "Front Door Lock")
            .map(|d| d.id().to_owned())
            .unwrap_or_default();
        home.scenes.insert(
            "6a0f2c55-scene-good-night".into(),
            json!({
                "sceneId": "6a0f2c55-scene-good-night", "sceneName": "Good night", "sceneIcon": "203",
                "sceneColor": null, "locationId": home_id, "createdBy": "c257d2c7-332b-d60d-808d-550bfbd54556",
                "createdDate": "2026-03-01T20:00:00.000Z", "lastUpdatedDate": "2026-03-01T20:00:00.000Z",
                "actions": [
                    {"deviceId": bulb_id, "component": "main", "capability": "switch", "command": "off", "arguments": []},
                    {"deviceId": lock_id, "component": "main", "capability": "lock", "command": "lock", "arguments": []}
                ]
            }),
        );
        home.scenes.insert(
            "6a0f2c55-scene-movie-time".into(),
            json!({
                "sceneId": "6a0f2c55-scene-movie-time", "sceneName": "Movie time", "sceneIcon": "204",
                "sceneColor": null, "locationId": home_id, "createdBy": "c257d2c7-332b-d60d-808d-550bfbd54556",
                "createdDate": "2026-03-02T20:00:00.000Z", "lastUpdatedDate": "2026-03-02T20:00:00.000Z",
                "actions": [
                    {"deviceId": bulb_id, "component": "main", "capability": "switchLevel", "command": "setLevel", "arguments": [20]}
                ]
            }),
        );
        home.rules.insert(
            "rule-porch-light".into(),
            json!({
                "id": "rule-porch-light", "name": "Porch light at sunset", "locationId": home_id,
                "actions": [{"every": {"specific": {"reference": "Sunset", "offset": {"value": {"integer": 0}, "unit": "Minute"}}, "actions": [
                    {"command": {"devices": [bulb_id], "commands": [{"component": "main", "capability": "switch", "command": "on"}]}}
                ]}}],
                "timeZoneId": "America/Chicago", "executionLocation": "Cloud", "ownerId": "c257d2c7-332b-d60d-808d-550bfbd54556"
            }),
        );
        home.apps.insert(
            "4a8e6b3c-app-hello".into(),
            json!({"appId": "4a8e6b3c-app-hello", "appName": "hello-world", "displayName": "Hello World",
                   "description": "A demo SmartApp", "singleInstance": true, "appType": "WEBHOOK_SMART_APP", "principalType": "LOCATION"}),
        );
        home.subscriptions.insert(
            "sub-bulb-switch".into(),
            json!({"id": "sub-bulb-switch", "installedAppId": "23ad67f8-aaaa-bbbb-cccc-000000000001", "sourceType": "CAPABILITY",
                   "device": {"deviceId": bulb_id, "componentId": "main", "capability": "switch", "attribute": "switch", "stateChangeOnly": true}}),
        );
        // The installed app the subscription belongs to.
        home.installed_apps.insert(
            "23ad67f8-aaaa-bbbb-cccc-000000000001".into(),
            installed_app(
                "23ad67f8-aaaa-bbbb-cccc-000000000001",
                "4a8e6b3c-app-hello",
                "Hello World",
                home_id,
            ),
        );
        home.capabilities = capability_definitions();
        home.add_hubs();
        home.add_installed_apps();
        home
    }

    /// A generated home: `devices` devices spread over `locations`
    /// locations (at most 10, at most 200 devices each), with a realistic mix
    /// of kinds, a few rooms and scenes per location. Deterministic in `seed`.
    pub fn generated(locations: usize, devices: usize, seed: u64) -> Result<Self> {
        if locations == 0 || locations > MAX_LOCATIONS {
            bail!("locations must be 1..={MAX_LOCATIONS} (seed 004), got {locations}");
        }
        if devices > locations * MAX_DEVICES_PER_LOCATION {
            bail!(
                "{devices} devices do not fit in {locations} locations of at most {MAX_DEVICES_PER_LOCATION} (seed 004)"
            );
        }
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut home = Home::default();
        let mut location_ids = Vec::new();
        let mut room_ids: Vec<Vec<String>> = Vec::new();
        for l in 0..locations {
            let id = uuid_like(&mut rng);
            home.add_location(json!({
                "locationId": id, "name": format!("Location {}", l + 1), "countryCode": "USA",
                "latitude": 45.0 + l as f64, "longitude": -93.0, "regionRadius": 150,
                "temperatureScale": "F", "timeZoneId": "America/Chicago", "locale": "en"
            }));
            let rooms: Vec<String> = ["Living Room", "Kitchen", "Bedroom", "Office"]
                .iter()
                .map(|name| {
                    let room = uuid_like(&mut rng);
                    home.rooms.insert(
                        room.clone(),
                        json!({"roomId": room, "locationId": id, "name": name}),
                    );
                    room
                })
                .collect();
            let scene = uuid_like(&mut rng);
            home.scenes.insert(
                scene.clone(),
                json!({"sceneId": scene, "sceneName": "All off", "sceneIcon": "203", "sceneColor": null,
                       "locationId": id, "createdBy": "generator", "createdDate": TS, "lastUpdatedDate": TS, "actions": []}),
            );
            location_ids.push(id);
            room_ids.push(rooms);
        }
        for i in 0..devices {
            let l = i % locations;
            let kind = &KINDS[rng.usize(..KINDS.len())];
            let room = &room_ids[l][rng.usize(..room_ids[l].len())];
            let id = uuid_like(&mut rng);
            let device = make_device(
                id,
                format!("{} {}", kind.name, i + 1),
                &location_ids[l],
                Some(room),
                kind,
                &mut rng,
            );
            home.add_device(device);
        }
        home.capabilities = capability_definitions();
        home.add_hubs();
        home.add_installed_apps();
        Ok(home)
    }

    /// A home recorded from the real API: a folder of captured responses.
    /// `devices*.json` are device list pages (`{"items": [...]}`, captured
    /// with or without `includeStatus`); `status/<deviceId>.json` are full
    /// status bodies; optional `locations.json`, `rooms*.json`, `scenes.json`
    /// are list pages too. Served back losslessly.
    pub fn recorded(dir: &Path) -> Result<Self> {
        let mut home = Home::default();
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        entries.sort();
        let read = |path: &Path| -> Result<Value> {
            serde_json::from_str(&std::fs::read_to_string(path)?)
                .with_context(|| format!("{} is not JSON", path.display()))
        };
        for path in &entries {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let page = read(path)?;
            let items = page["items"].as_array().cloned().unwrap_or_default();
            if name.starts_with("devices") {
                for mut device in items {
                    let id = device["deviceId"].as_str().unwrap_or_default().to_owned();
                    let health = device
                        .as_object_mut()
                        .and_then(|d| d.remove("healthState"))
                        .unwrap_or(json!({"state": "ONLINE", "lastUpdatedDate": TS}));
                    let status = take_embedded_status(&mut device);
                    home.devices.insert(
                        id,
                        SimDevice {
                            device,
                            status,
                            health,
                        },
                    );
                }
            } else if name.starts_with("locations") {
                for location in items {
                    home.add_location(location);
                }
            } else if name.starts_with("rooms") {
                for room in items {
                    let id = room["roomId"].as_str().unwrap_or_default().to_owned();
                    home.rooms.insert(id, room);
                }
            } else if name.starts_with("scenes") {
                for scene in items {
                    let id = scene["sceneId"].as_str().unwrap_or_default().to_owned();
                    home.scenes.insert(id, scene);
                }
            }
        }
        let status_dir = dir.join("status");
        if status_dir.is_dir() {
            for entry in std::fs::read_dir(&status_dir)? {
                let path = entry?.path();
                let Some(id) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
                    continue;
                };
                if let Some(device) = home.devices.get_mut(&id) {
                    device.status = read(&path)?;
                }
            }
        }
        // Locations the devices name but the recording did not capture.
        let named: Vec<String> = home
            .devices
            .values()
            .map(|d| d.location_id().to_owned())
            .collect();
        for id in named {
            if !id.is_empty() && !home.locations.contains_key(&id) {
                home.add_location(json!({"locationId": id, "name": id}));
            }
        }
        if home.devices.is_empty() {
            bail!("{}: no devices*.json list page found", dir.display());
        }
        Ok(home)
    }

    pub(crate) fn add_location(&mut self, location: Value) {
        let id = location["locationId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if !self.modes.contains_key(&id) {
            self.modes.insert(id.clone(), extras::default_modes(&id));
        }
        self.locations.insert(id, location);
    }

    pub(crate) fn add_device(&mut self, device: SimDevice) {
        self.devices.insert(device.id().to_owned(), device);
    }

    /// Delete a location and everything in it (seed 004: "Deletes a
    /// SmartThings location and all associated devices and automations").
    /// In a running simulator each device's removal is published as a
    /// lifecycle `DELETE`.
    pub fn delete_location(&mut self, id: &str) -> bool {
        if self.locations.shift_remove(id).is_none() {
            return false;
        }
        self.rooms.retain(|_, r| r["locationId"] != id);
        self.modes.shift_remove(id);
        self.hubs.retain(|_, h| h.location_id != id);
        let at = chrono::Utc::now();
        let gone: Vec<String> = self
            .devices
            .values()
            .filter(|d| d.location_id() == id)
            .map(|d| d.id().to_owned())
            .collect();
        for device in gone {
            self.remove_device(&device, at);
        }
        self.scenes.retain(|_, s| s["locationId"] != id);
        self.rules.retain(|_, r| r["locationId"] != id);
        true
    }
}

/// A recorded list item with embedded status: split the status out into a
/// full status body, leaving the device as listed without status.
fn take_embedded_status(device: &mut Value) -> Value {
    let mut components = Map::new();
    for component in device["components"].as_array_mut().into_iter().flatten() {
        let id = component["id"].as_str().unwrap_or_default().to_owned();
        let mut capabilities = Map::new();
        for capability in component["capabilities"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            if let Some(status) = capability.as_object_mut().and_then(|c| c.remove("status")) {
                let cap = capability["id"].as_str().unwrap_or_default().to_owned();
                capabilities.insert(cap, status);
            }
        }
        components.insert(id, Value::Object(capabilities));
    }
    json!({"components": components})
}

fn seed_full_status() -> Value {
    json!({"components": {"main": {
        "colorControl": {
            "saturation": {"value": 100, "timestamp": "2026-04-28T18:48:24.934Z"},
            "color": {"value": null},
            "hue": {"value": 60, "timestamp": "2026-04-28T18:48:24.918Z"}
        },
        "switchLevel": {
            "levelRange": {"value": {"maximum": 100, "minimum": 1}, "unit": "%", "timestamp": "2026-04-28T18:30:30.453Z"},
            "level": {"value": 50, "unit": "%", "timestamp": "2026-04-28T18:48:24.932Z"}
        },
        "synthetic.lightingEffectFade": {"fade": {"value": null}},
        "switch": {"switch": {"value": "on", "timestamp": "2026-04-28T18:45:19.820Z"}},
        "colorTemperature": {
            "colorTemperatureRange": {"value": {"maximum": 6500, "minimum": 1800}, "unit": "K", "timestamp": "2026-04-28T18:30:30.359Z"},
            "colorTemperature": {"value": 2842, "unit": "K", "timestamp": "2026-04-28T18:30:30.344Z"}
        },
        "synthetic.lightingEffectCircadian": {"circadian": {"value": {"timeZoneId": "America/New_York", "state": "Stop"}, "timestamp": "2025-10-31T18:06:35.509Z"}},
        "refresh": {},
        "healthCheck": {"DeviceWatch-DeviceStatus": {"value": "online", "data": {}, "timestamp": "2026-04-28T18:30:30.100Z"}}
    }}})
}

/// Seed 003's `includeStatus=true&includeHealth=true` device, verbatim.
fn food_waste_disposer(location: &str, room: &str) -> SimDevice {
    let ts = "2026-04-08T15:22:05.134Z";
    SimDevice {
        device: json!({
            "deviceId": "c3ebc842-7a47-47f1-bb97-4ebb8ef534c0",
            "ownerId": "c257d2c7-332b-d60d-808d-550bfbd54556",
            "name": "Food Waste Disposer", "label": "Food Waste Disposal",
            "deviceManufacturerCode": "STS", "manufacturerName": "SmartThingsCommunity",
            "deviceModel": "custom-food-waste-disposal",
            "presentationId": "3cc33789-ec49-3b77-8629-3bfad351b116",
            "locationId": location, "roomId": room,
            "components": [{
                "id": "main", "label": "main",
                "capabilities": [
                    {"id": "foodWasteDryingGrinder", "version": 1, "optional": false},
                    {"id": "healthCheck", "version": 1, "optional": false}
                ],
                "categories": [{"name": "Others", "categoryType": "manufacturer"}],
                "optional": false
            }],
            "createTime": "2026-04-08T15:22:02.623Z",
            "profile": {"id": "749b7b67-ccb2-3783-9743-59c4cbd10678"},
            "viper": {"uniqueIdentifier": "bc74a09e-a92e-41f8-9587-b38aa89e7572", "manufacturerName": "STS",
                      "modelName": "custom-food-waste-disposal", "endpointAppId": "viper_3abd9ca0-b0ef-11ec-b276-0f194eeb05e4"},
            "type": "VIPER", "vid": "3cc33789-ec49-3b77-8629-3bfad351b116", "mnmn": "SmartThingsCommunity",
            "ocfDeviceType": "oic.wk.d", "restrictionTier": 0, "allowed": [], "executionContext": "CLOUD", "relationships": []
        }),
        status: json!({"components": {"main": {
            "foodWasteDryingGrinder": {
                "mode": {"value": "auto", "timestamp": ts},
                "supportedStates": {"value": ["waiting", "running", "drying", "grinding", "cooling", "cleaning", "error"], "timestamp": ts},
                "state": {"value": "waiting", "timestamp": ts},
                "supportedModes": {"value": ["auto", "standard", "power", "eco", "storage", "clean"], "timestamp": ts},
                "event": {"value": null},
                "supportedEvents": {"value": ["operationComplete", "cleaningComplete"], "timestamp": ts}
            },
            "healthCheck": {
                "checkInterval": {"value": 60, "unit": "s", "data": {"deviceScheme": "UNTRACKED", "protocol": "cloud"}, "timestamp": "2026-04-08T15:22:02.825Z"},
                "healthStatus": {"value": null},
                "DeviceWatch-Enroll": {"value": null},
                "DeviceWatch-DeviceStatus": {"value": "offline", "data": {"reason": "INVALID-ACCESS-TOKEN"}, "timestamp": "2026-04-10T09:25:11.029Z"}
            }
        }}}),
        health: json!({"state": "OFFLINE", "lastUpdatedDate": "2026-04-10T09:25:11.064Z"}),
    }
}

fn television(id: String, location: &str, room: &str) -> SimDevice {
    let mut rng = fastrand::Rng::with_seed(7);
    let kind = Kind {
        name: "samsung-tv",
        category: "Television",
        components: &[("main", &["switch", "healthCheck"])],
    };
    let mut tv = make_device(
        id,
        "Living Room TV".into(),
        location,
        Some(room),
        &kind,
        &mut rng,
    );
    tv.device["type"] = json!("OCF");
    tv.device["manufacturerName"] = json!("Samsung Electronics");
    for (cap, attrs) in [
        ("audioVolume", json!({"volume": attr_unit(json!(15), "%")})),
        (
            "tvChannel",
            json!({"tvChannel": attr(json!("7")), "tvChannelName": attr(json!("KSTP"))}),
        ),
        (
            "mediaInputSource",
            json!({"inputSource": attr(json!("HDMI1")), "supportedInputSources": attr(json!(["digitalTv", "HDMI1", "HDMI2"]))}),
        ),
    ] {
        tv.device["components"][0]["capabilities"]
            .as_array_mut()
            .expect("list")
            .push(json!({"id": cap, "version": 1}));
        tv.status["components"]["main"][cap] = attrs;
    }
    tv
}

/// A Samsung refrigerator: several components, and the
/// `custom.disabledCapabilities` / `custom.disabledComponents` appliances
/// use to mark what they list but do not support.
fn refrigerator(id: String, location: &str, room: &str) -> SimDevice {
    let mut rng = fastrand::Rng::with_seed(11);
    let kind = Kind {
        name: "samsung-refrigerator",
        category: "Refrigerator",
        components: &[
            (
                "main",
                &["contactSensor", "powerMeter", "energyMeter", "healthCheck"],
            ),
            ("cooler", &["temperatureMeasurement", "contactSensor"]),
            ("freezer", &["temperatureMeasurement", "contactSensor"]),
            ("icemaker", &["switch"]),
        ],
    };
    let mut fridge = make_device(
        id,
        "Refrigerator".into(),
        location,
        Some(room),
        &kind,
        &mut rng,
    );
    fridge.device["type"] = json!("OCF");
    fridge.device["manufacturerName"] = json!("Samsung Electronics");
    for (cap, attrs) in [
        (
            "custom.disabledCapabilities",
            json!({"disabledCapabilities": attr(json!(["powerMeter"]))}),
        ),
        (
            "custom.disabledComponents",
            json!({"disabledComponents": attr(json!(["icemaker"]))}),
        ),
    ] {
        fridge.device["components"][0]["capabilities"]
            .as_array_mut()
            .expect("list")
            .push(json!({"id": cap, "version": 1}));
        fridge.status["components"]["main"][cap] = attrs;
    }
    fridge.status["components"]["cooler"]["temperatureMeasurement"]["temperature"] =
        attr_unit(json!(37), "F");
    fridge.status["components"]["freezer"]["temperatureMeasurement"]["temperature"] =
        attr_unit(json!(0), "F");
    fridge
}

/// The capability definitions `GET /capabilities` lists.
pub(crate) fn capability_definitions() -> Vec<Value> {
    let mut ids: Vec<&str> = KINDS
        .iter()
        .flat_map(|k| {
            k.components
                .iter()
                .flat_map(|(_, caps)| caps.iter().copied())
        })
        .chain([
            "audioVolume",
            "tvChannel",
            "mediaInputSource",
            "foodWasteDryingGrinder",
            "custom.disabledCapabilities",
            "custom.disabledComponents",
            // The virtual devices' prototypes use it.
            "presenceSensor",
        ])
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .map(|id| json!({"id": id, "version": 1, "status": "live"}))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_homes_respect_the_documented_limits_and_are_deterministic() {
        let a = Home::generated(5, 1000, 42).unwrap();
        let b = Home::generated(5, 1000, 42).unwrap();
        assert_eq!(a.devices.len(), 1000);
        assert_eq!(a.locations.len(), 5);
        assert_eq!(
            a.devices.keys().collect::<Vec<_>>(),
            b.devices.keys().collect::<Vec<_>>()
        );
        for location in a.locations.keys() {
            let n = a
                .devices
                .values()
                .filter(|d| d.location_id() == location)
                .count();
            assert!(n <= MAX_DEVICES_PER_LOCATION);
        }
        assert!(Home::generated(11, 10, 1).is_err());
        assert!(Home::generated(2, 401, 1).is_err());
    }

    #[test]
    fn deleting_a_location_cascades() {
        let mut home = Home::demo();
        let id = "95efee9b-6073-4871-b5ba-de6642187293";
        assert!(home.devices.values().any(|d| d.location_id() == id));
        assert!(home.delete_location(id));
        assert!(home.devices.values().all(|d| d.location_id() != id));
        assert!(home.rooms.values().all(|r| r["locationId"] != id));
        assert!(home.scenes.values().all(|s| s["locationId"] != id));
        assert!(!home.delete_location(id));
    }
}
