//! The nested device-status model (seed 003): device → component →
//! capability → attribute `{value, unit, data, timestamp}`.
//!
//! One model for every shape the API returns status in; the generator
//! substitutes these types for the spec's status schemas, so the generated
//! operations return them directly: the full status
//! endpoint ([`DeviceStatus`]), the component status endpoint
//! ([`ComponentStatus`]), the capability status endpoint
//! ([`CapabilityStatus`]) and the per-capability `status` embedded in a
//! device listed with `includeStatus=true`. Nothing here names a generated
//! type, so any spec with these schemas can use it.
//! Decoding is lossless: re-serialising gives back every attribute, unit,
//! `data`, timestamp and any field this crate does not know.
//!
//! The model is compact, since a home's status is thousands of attributes:
//! names are held inline ([`Name`]), each level is one vector of exactly its
//! entries ([`NameMap`]), and the rare `data` is held out of line.

// The levels above an attribute are here, with their decoders: a reader of
// one attribute's decoding or of the capability views need not read them.
mod attribute;
mod views;

use std::cell::Cell;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::ExtraFields;
use crate::name_map::exact_map_deserialize;

pub use crate::name_map::{Name, NameMap};
pub use attribute::{Attribute, Measurement, parse_timestamp};
pub use views::{Contact, DeviceWatch, Hsv, Known, LockState};

/// A key of a status object, borrowed from the input when it can be.
type Key<'de> = crate::support::Text<'de>;

/// Fills one field once: a repeated field is an error, as serde's derive
/// makes it.
fn once<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    slot: &mut Option<T>,
    name: &'static str,
    map: &mut A,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

/// Attribute name → attribute: one capability's status (the capability
/// status endpoint's body).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct CapabilityStatus(pub NameMap<Attribute>);

thread_local! {
    static ATTRIBUTES: Cell<Vec<(Name, Attribute)>> = const { Cell::new(Vec::new()) };
    static CAPABILITIES: Cell<Vec<(Name, CapabilityStatus)>> = const { Cell::new(Vec::new()) };
    static COMPONENTS: Cell<Vec<(Name, ComponentStatus)>> = const { Cell::new(Vec::new()) };
}

exact_map_deserialize!(
    CapabilityStatus,
    ATTRIBUTES,
    CapabilityStatus,
    "a map of attributes"
);
exact_map_deserialize!(
    ComponentStatus,
    CAPABILITIES,
    ComponentStatus,
    "a map of capabilities"
);

/// `DeviceStatus::components`, decoded through [`crate::name_map::exact`].
struct Components(NameMap<ComponentStatus>);
exact_map_deserialize!(Components, COMPONENTS, Components, "a map of components");

impl CapabilityStatus {
    /// One attribute.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.0.get(name)
    }

    /// Every attribute, in the server's order.
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &Attribute)> {
        self.0.iter()
    }
}

/// Capability id → capability status: one component's status (the
/// component status endpoint's body).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ComponentStatus(pub NameMap<CapabilityStatus>);

impl ComponentStatus {
    /// One capability.
    pub fn capability(&self, id: &str) -> Option<&CapabilityStatus> {
        self.0.get(id)
    }

    /// Every capability, in the server's order.
    pub fn capabilities(&self) -> impl Iterator<Item = (&str, &CapabilityStatus)> {
        self.0.iter()
    }

    fn attr(&self, capability: &str, attribute: &str) -> Option<&Attribute> {
        self.capability(capability)?.attribute(attribute)
    }
}

/// A device's full status (the full status endpoint's body).
///
/// ```
/// use smartthings::status::DeviceStatus;
///
/// let status: DeviceStatus = serde_json::from_str(r#"{"components": {"main": {
///     "switch": {"switch": {"value": "on", "timestamp": "2026-04-28T18:45:19.820Z"}},
///     "switchLevel": {"level": {"value": 50, "unit": "%"}}
/// }}}"#).unwrap();
/// let main = status.component("main").unwrap();
/// assert_eq!(main.capability("switch").unwrap().attribute("switch").unwrap().as_str(), Some("on"));
/// assert_eq!(main.switch(), Some(true));
/// assert_eq!(main.level().unwrap().value, 50.0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DeviceStatus {
    /// Component id → component status.
    pub components: NameMap<ComponentStatus>,
    /// Fields this crate does not know, kept for re-serialisation.
    #[serde(flatten)]
    pub other: ExtraFields,
}

impl<'de> Deserialize<'de> for DeviceStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DeviceStatusVisitor;
        impl<'de> Visitor<'de> for DeviceStatusVisitor {
            type Value = DeviceStatus;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a device status object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DeviceStatus, A::Error> {
                let mut components: Option<Components> = None;
                let mut other = ExtraFields::new();
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    if key.0 == "components" {
                        once(&mut components, "components", &mut map)?;
                    } else {
                        let value = map.next_value()?;
                        other.insert(&*key.0, value);
                    }
                }
                Ok(DeviceStatus {
                    components: components.map(|c| c.0).unwrap_or_default(),
                    other,
                })
            }
        }
        // Hand-written for the reason given on `Attribute`.
        deserializer.deserialize_map(DeviceStatusVisitor)
    }
}

impl DeviceStatus {
    /// One component.
    pub fn component(&self, id: &str) -> Option<&ComponentStatus> {
        self.components.get(id)
    }

    /// The `main` component.
    pub fn main(&self) -> Option<&ComponentStatus> {
        self.component("main")
    }

    /// The attribute `name` of `capability` in `component`, created empty
    /// (with its component and capability) when absent: where a change to
    /// the status is written.
    pub fn attribute_entry(
        &mut self,
        component: &str,
        capability: &str,
        name: &str,
    ) -> &mut Attribute {
        self.components
            .get_or_insert_with(component, ComponentStatus::default)
            .0
            .get_or_insert_with(capability, CapabilityStatus::default)
            .0
            .get_or_insert_with(name, Attribute::default)
    }

    /// Every attribute of every capability of every component:
    /// `(component, capability, attribute name, attribute)`.
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &str, &str, &Attribute)> {
        self.components.iter().flat_map(|(component, status)| {
            status.0.iter().flat_map(move |(capability, attributes)| {
                attributes
                    .0
                    .iter()
                    .map(move |(name, attribute)| (component, capability, name, attribute))
            })
        })
    }

    /// This status without what the device itself declares unsupported:
    /// capabilities listed in a component's
    /// `custom.disabledCapabilities.disabledCapabilities` and components
    /// listed in main's `custom.disabledComponents.disabledComponents`
    /// (Samsung appliances list capabilities they do not really support).
    pub fn enabled(&self) -> DeviceStatus {
        let disabled_components: Vec<&str> = self
            .main()
            .and_then(|m| m.attr("custom.disabledComponents", "disabledComponents"))
            .and_then(Attribute::as_str_list)
            .unwrap_or_default();
        let components = self
            .components
            .iter()
            .filter(|(id, _)| !disabled_components.contains(id))
            .map(|(id, component)| {
                let disabled: Vec<&str> = component
                    .attr("custom.disabledCapabilities", "disabledCapabilities")
                    .and_then(Attribute::as_str_list)
                    .unwrap_or_default();
                let capabilities = component
                    .0
                    .iter()
                    .filter(|(cap, _)| !disabled.contains(cap))
                    .map(|(k, v)| (k, v.clone()))
                    .collect();
                (id, ComponentStatus(capabilities))
            })
            .collect();
        DeviceStatus {
            components,
            other: self.other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn attributes_decode_as_the_derived_model_did() {
        let decode = |text: &str| serde_json::from_str::<Attribute>(text);
        let a = decode(r#"{"value": null, "unit": null, "new": {"x": 1}}"#).unwrap();
        assert_eq!(a.value, Some(Value::Null));
        assert_eq!(a.unit, None);
        assert_eq!(a.data, None);
        assert_eq!(a.raw_timestamp, None);
        assert_eq!(a.other["new"], json!({"x": 1}));
        let err = decode(r#"{"value": 1, "value": 2}"#).unwrap_err();
        assert!(
            err.to_string().starts_with("duplicate field `value`"),
            "{err}"
        );
        assert!(decode("[1]").is_err());
        let status: DeviceStatus =
            serde_json::from_str(r#"{"new": true, "components": {"main": {}}}"#).unwrap();
        assert_eq!(status.other["new"], json!(true));
        assert!(status.main().is_some());
        assert!(serde_json::from_str::<DeviceStatus>(r#"{"components": null}"#).is_err());
        assert_eq!(
            serde_json::from_str::<DeviceStatus>("{}").unwrap(),
            DeviceStatus::default()
        );
    }

    #[test]
    fn disabled_capabilities_and_components_are_filtered() {
        let status: DeviceStatus = serde_json::from_value(json!({"components": {
            "main": {
                "switch": {"switch": {"value": "on"}},
                "powerMeter": {"power": {"value": 3}},
                "custom.disabledCapabilities": {"disabledCapabilities": {"value": ["powerMeter"]}},
                "custom.disabledComponents": {"disabledComponents": {"value": ["freezer"]}}
            },
            "freezer": {"temperatureMeasurement": {"temperature": {"value": -18}}},
            "cooler": {"temperatureMeasurement": {"temperature": {"value": 4}}}
        }}))
        .unwrap();
        let enabled = status.enabled();
        let main = enabled.main().unwrap();
        assert!(main.capability("powerMeter").is_none());
        assert!(main.capability("switch").is_some());
        assert!(enabled.component("freezer").is_none());
        assert!(enabled.component("cooler").is_some());
        // The original is untouched.
        assert!(status.component("freezer").is_some());
    }
}
