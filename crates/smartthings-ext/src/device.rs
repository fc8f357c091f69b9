//! What a listed device carries beyond its own fields: the status and
//! health a device list embeds (`includeStatus=true`, `includeHealth=true`),
//! in the same model the status and health operations return.

use smartthings::status::{CapabilityStatus, ComponentStatus, DeviceStatus, NameMap};
use smartthings::types::{Device, DeviceHealth};

/// The embedded status and health of a listed device.
///
/// ```
/// use smartthings_ext::{DeviceExt, HealthState};
/// use smartthings_ext::types::Device;
///
/// let device: Device = serde_json::from_str(r#"{"deviceId": "d1",
///     "healthState": {"state": "ONLINE"},
///     "components": [{"id": "main", "capabilities": [
///         {"id": "switch", "status": {"switch": {"value": "on"}}}]}]}"#).unwrap();
/// assert_eq!(device.embedded_status().unwrap().main().unwrap().switch(), Some(true));
/// assert_eq!(device.health().unwrap().state, HealthState::Online);
/// ```
pub trait DeviceExt {
    /// The status embedded in a device listed with `includeStatus=true`, or
    /// `None` if the device carries no embedded status at all.
    fn embedded_status(&self) -> Option<DeviceStatus>;
    /// The health embedded in a device listed with `includeHealth=true`.
    fn health(&self) -> Option<Health>;
}

impl DeviceExt for Device {
    fn embedded_status(&self) -> Option<DeviceStatus> {
        let mut any = false;
        let mut components = NameMap::new();
        for component in self.components.as_deref().unwrap_or_default() {
            let Some(id) = &component.id else {
                continue;
            };
            let mut capabilities = NameMap::new();
            for capability in component.capabilities.as_deref().unwrap_or_default() {
                if let (Some(cap_id), Some(status)) = (&capability.id, &capability.status) {
                    any = true;
                    capabilities.insert(cap_id.as_str(), CapabilityStatus::clone(status));
                }
            }
            components.insert(id.as_str(), ComponentStatus(capabilities));
        }
        any.then(|| DeviceStatus {
            components,
            ..DeviceStatus::default()
        })
    }

    fn health(&self) -> Option<Health> {
        self.health_state.as_deref().map(Health::from)
    }
}

/// A device's health: `healthState` of an `includeHealth=true` list, or the
/// body of the health endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    /// ONLINE, OFFLINE, or what the server said.
    pub state: HealthState,
    /// When the state last changed, as sent.
    pub last_updated: Option<String>,
}

/// The health state of a device.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HealthState {
    /// ONLINE.
    Online,
    /// OFFLINE.
    Offline,
    /// UNKNOWN, or no state given.
    Unknown,
    /// A state this crate does not know.
    Other(String),
}

impl From<&DeviceHealth> for Health {
    fn from(health: &DeviceHealth) -> Self {
        let state = health
            .state
            .as_ref()
            .map_or(HealthState::Unknown, |s| HealthState::parse(&s.to_string()));
        Health {
            state,
            last_updated: health.last_updated_date.clone(),
        }
    }
}

impl HealthState {
    /// The state the API spells `state`.
    pub fn parse(state: &str) -> Self {
        match state {
            "ONLINE" => Self::Online,
            "OFFLINE" => Self::Offline,
            "UNKNOWN" | "" => Self::Unknown,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The API's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Online => "ONLINE",
            Self::Offline => "OFFLINE",
            Self::Unknown => "UNKNOWN",
            Self::Other(s) => s,
        }
    }
}
