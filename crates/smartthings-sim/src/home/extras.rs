//! What a home has beside its devices: the modes of each location, and the
//! hubs (with their drivers and channels) of the demo and generated homes.
//! Their ids derive from the location's id, so that they are stable
//! without drawing from the generators that make the devices.

use indexmap::IndexMap;
use serde_json::{Value, json};

use super::{Home, SimDevice, uuid_like};

/// The modes of one location, and which one is current.
#[derive(Clone, Debug)]
pub(crate) struct Modes {
    /// `{"id", "label", "name"}`, in creation order.
    pub(crate) modes: Vec<Value>,
    /// The current mode's id.
    pub(crate) current: String,
}

/// A hub: its record, what it reports, its drivers and its child devices.
#[derive(Clone, Debug)]
pub(crate) struct Hub {
    pub(crate) location_id: String,
    /// The `Hub` record.
    pub(crate) record: Value,
    pub(crate) characteristics: Value,
    /// `HubInstalledDriver`s.
    pub(crate) installed: Vec<Value>,
    /// `HubEnrolledChannel`s.
    pub(crate) channels: Vec<Value>,
    /// Child device id → the id of the driver it runs on.
    pub(crate) children: IndexMap<String, String>,
}

/// A stable UUID-shaped id from a text and a salt.
pub(crate) fn derived_id(from: &str, salt: &str) -> String {
    // FNV-1a: stable across runs and platforms.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in from.bytes().chain([0]).chain(salt.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    uuid_like(&mut fastrand::Rng::with_seed(hash))
}

/// The modes every location starts with.
pub(crate) const DEFAULT_MODES: [&str; 3] = ["Home", "Away", "Night"];

pub(crate) fn default_modes(location_id: &str) -> Modes {
    let modes: Vec<Value> = DEFAULT_MODES
        .iter()
        .map(|name| {
            json!({"id": derived_id(location_id, &format!("mode:{name}")), "label": name, "name": name})
        })
        .collect();
    let current = modes[0]["id"].as_str().unwrap_or_default().to_owned();
    Modes { modes, current }
}

/// A driver channel: id, name, and its drivers as (id, name, kind of
/// device it serves).
pub(crate) struct Channel {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) drivers: &'static [(&'static str, &'static str, &'static str)],
}

/// The channels every simulated hub is enrolled in.
pub(crate) const CHANNELS: &[Channel] = &[
    Channel {
        id: "d5f1e1f4-0c1a-4a5e-9b0e-5a11c0de0001",
        name: "SmartThings Edge Drivers (Beta)",
        drivers: &[
            (
                "d1a70000-0000-4000-8000-000000000001",
                "Zigbee Switch",
                "switch",
            ),
            (
                "d1a70000-0000-4000-8000-000000000002",
                "Zigbee Contact",
                "contactSensor",
            ),
            (
                "d1a70000-0000-4000-8000-000000000003",
                "Zigbee Motion Sensor",
                "motionSensor",
            ),
            (
                "d1a70000-0000-4000-8000-000000000004",
                "Zigbee Lock",
                "lock",
            ),
        ],
    },
    Channel {
        id: "d5f1e1f4-0c1a-4a5e-9b0e-5a11c0de0002",
        name: "Community Drivers",
        drivers: &[
            (
                "d1a70000-0000-4000-8000-000000000101",
                "Zigbee Contact Mc",
                "contactSensor",
            ),
            (
                "d1a70000-0000-4000-8000-000000000102",
                "Zigbee Motion Sensor Mc",
                "motionSensor",
            ),
        ],
    },
];

/// The kind of device (a capability) a channel's driver serves.
pub(crate) fn driver_kind(driver_id: &str) -> Option<&'static str> {
    CHANNELS
        .iter()
        .flat_map(|c| c.drivers.iter())
        .find(|(id, ..)| *id == driver_id)
        .map(|(.., kind)| *kind)
}

const CHANNEL_DATE: &str = "2026-01-15T12:00:00.000Z";

/// A driver of a channel as installed on a hub.
pub(crate) fn installed_driver(channel: &Channel, driver_id: &str) -> Option<Value> {
    let (id, name, kind) = channel.drivers.iter().find(|(id, ..)| *id == driver_id)?;
    Some(json!({
        "driverId": id,
        "name": name,
        "description": format!("Edge driver for {kind} devices"),
        "version": "2026-01-15T12:00:00.000000000",
        "channelId": channel.id,
        "developer": if channel.id == CHANNELS[0].id { "SmartThings" } else { "Community" },
        "vendorSupportInformation": "https://support.smartthings.com",
        "permissions": {"zigbee": {}},
    }))
}

fn channel_record(channel: &Channel) -> Value {
    json!({
        "channelId": channel.id,
        "name": channel.name,
        "description": format!("{} channel", channel.name),
        "createdDate": CHANNEL_DATE,
        "lastModifiedDate": CHANNEL_DATE,
        "subscriptionUrl": format!("https://bestow-regional.api.smartthings.com/invite/{}", channel.id),
    })
}

/// The kind of device a hub driver serves, if the device is one a hub
/// runs (cloud and appliance devices are not).
fn hub_kind(device: &SimDevice) -> Option<&'static str> {
    if device.device["type"] == "OCF" || device.device["name"].as_str()?.starts_with("c2c") {
        return None;
    }
    ["lock", "motionSensor", "contactSensor"]
        .into_iter()
        .find(|kind| device.has_capability(kind))
}

impl Home {
    /// Give every location without a hub one: a hub record, the channels
    /// it is enrolled in, the first channel's drivers installed, and the
    /// location's sensors and locks as its children on those drivers.
    pub(crate) fn add_hubs(&mut self) {
        let locations: Vec<(String, String)> = self
            .locations
            .iter()
            .map(|(id, l)| {
                (
                    id.clone(),
                    l["name"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        for (location_id, name) in locations {
            if self.hubs.values().any(|h| h.location_id == location_id) {
                continue;
            }
            let id = derived_id(&location_id, "hub");
            let eui = id.replace('-', "")[..16].to_uppercase();
            let installed: Vec<Value> = CHANNELS[0]
                .drivers
                .iter()
                .filter_map(|(driver, ..)| installed_driver(&CHANNELS[0], driver))
                .collect();
            let children = self
                .devices
                .values()
                .filter(|d| d.location_id() == location_id)
                .filter_map(|d| {
                    let kind = hub_kind(d)?;
                    let driver = CHANNELS[0].drivers.iter().find(|(.., k)| *k == kind)?;
                    Some((d.id().to_owned(), driver.0.to_owned()))
                })
                .collect();
            let hub = Hub {
                location_id: location_id.clone(),
                record: json!({
                    "id": id,
                    "name": format!("{name} Hub"),
                    "eui": eui,
                    "owner": "c257d2c7-332b-d60d-808d-550bfbd54556",
                    "serialNumber": format!("SIM{}", &eui[..10]),
                    "firmwareVersion": "000.055.00019",
                }),
                characteristics: json!({
                    "zigbeeEui": eui,
                    "zigbeeChannel": 15,
                    "zigbeePanId": "7A2B",
                    "zwaveRegion": "US",
                    "zwaveHomeId": "E1B5C3A2",
                    "edgeDriverCount": installed.len(),
                    "localIp": "192.168.1.20",
                    "hardwareType": "V3_HUB",
                }),
                installed,
                channels: CHANNELS.iter().map(channel_record).collect(),
                children,
            };
            self.hubs.insert(id, hub);
        }
    }

    /// Give every location without an installed app one of the home's
    /// first app (the home gets one if it has none), with an id derived
    /// from the location's.
    pub(crate) fn add_installed_apps(&mut self) {
        if self.apps.is_empty() && !self.locations.is_empty() {
            self.apps.insert(
                "4a8e6b3c-app-sim".into(),
                json!({"appId": "4a8e6b3c-app-sim", "appName": "simulated-app",
                       "displayName": "Simulated App", "description": "The generated home's SmartApp",
                       "singleInstance": true, "appType": "WEBHOOK_SMART_APP", "principalType": "LOCATION",
                       "classifications": ["AUTOMATION"]}),
            );
        }
        let Some((app_id, display)) = self.apps.values().next().map(|a| {
            (
                a["appId"].as_str().unwrap_or_default().to_owned(),
                a["displayName"].as_str().unwrap_or("App").to_owned(),
            )
        }) else {
            return;
        };
        let locations: Vec<String> = self.locations.keys().cloned().collect();
        for location_id in locations {
            if self
                .installed_apps
                .values()
                .any(|a| a["locationId"] == location_id.as_str())
            {
                continue;
            }
            let id = derived_id(&location_id, "installedApp");
            self.installed_apps.insert(
                id.clone(),
                installed_app(&id, &app_id, &display, &location_id),
            );
        }
    }
}

/// An `InstalledApp` record, authorized and webhook-typed.
pub(crate) fn installed_app(id: &str, app_id: &str, display: &str, location_id: &str) -> Value {
    json!({
        "installedAppId": id,
        "installedAppType": "WEBHOOK_SMART_APP",
        "installedAppStatus": "AUTHORIZED",
        "displayName": display,
        "appId": app_id,
        "locationId": location_id,
        "owner": {"ownerType": "USER", "ownerId": "c257d2c7-332b-d60d-808d-550bfbd54556"},
        "principalType": "LOCATION",
        "singleInstance": true,
        "classifications": ["AUTOMATION"],
        "createdDate": "2026-03-02T20:00:00.000Z",
        "lastUpdatedDate": "2026-03-02T20:00:00.000Z",
    })
}
