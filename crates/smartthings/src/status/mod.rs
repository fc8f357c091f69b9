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

use std::cell::Cell;
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::ExtraFields;
use crate::name_map::{self, exact_map_deserialize};

pub use crate::name_map::{Name, NameMap};

/// The state of one attribute.
///
/// Decoded by hand rather than derived: a derived `#[serde(flatten)]` map
/// buffers the object through serde's content tree, and a status holds
/// hundreds of attributes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Attribute {
    /// The value: any JSON value. `None` when the server sent no `value`
    /// key, `Some(Value::Null)` when it sent `"value": null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// The unit (`%`, `K`, `F`, `C`, `W`, `kWh`, `s`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<Name>,
    /// Extra data, an object such as `{"reason": "INVALID-ACCESS-TOKEN"}`,
    /// held as every level of the model is; boxed, since most attributes
    /// have none. A `data` that is not an object (none is documented) is
    /// kept in [`Attribute::other`], under `data`; set one or the other,
    /// since both would be written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Box<NameMap<Value>>>,
    /// When the value was last reported, exactly as sent; see
    /// [`Attribute::timestamp`] for the parsed time.
    #[serde(rename = "timestamp", skip_serializing_if = "Option::is_none")]
    pub raw_timestamp: Option<Value>,
    /// Fields this crate does not know, and a `data` that is not an
    /// object, kept for re-serialisation.
    #[serde(flatten)]
    pub other: ExtraFields,
}

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

impl<'de> Deserialize<'de> for Attribute {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(AttributeVisitor)
    }
}

/// [`Attribute`]'s decoder: the four known keys by name, any other (and a
/// `data` that is not an object) into `other`. A key sent as `null` is
/// `Some(Value::Null)`, a missing key `None`; `"unit": null` is no unit.
struct AttributeVisitor;

/// A unit, read without copying the text twice.
struct Unit(Option<Name>);

impl<'de> Deserialize<'de> for Unit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text: Option<Key<'de>> = Deserialize::deserialize(deserializer)?;
        Ok(Unit(text.map(|t| Name::from(&*t.0))))
    }
}

/// An attribute's `data` as sent: an object, read straight into a
/// [`NameMap`] (no `serde_json::Map` built), or any other value.
enum Data {
    Object(NameMap<Value>),
    Other(Value),
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DataVisitor)
    }
}

struct DataVisitor;

impl DataVisitor {
    fn other<E>(value: Value) -> Result<Data, E> {
        Ok(Data::Other(value))
    }
}

impl<'de> Visitor<'de> for DataVisitor {
    type Value = Data;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Data, A::Error> {
        name_map::exact(map, &name_map::VALUES).map(Data::Object)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Data, E> {
        Self::other(Value::from(s))
    }

    crate::support::visit_scalars_and_arrays_as_values!(Self::other);
}

impl<'de> Visitor<'de> for AttributeVisitor {
    type Value = Attribute;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an attribute object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Attribute, A::Error> {
        let mut attribute = Attribute::default();
        let mut unit: Option<Unit> = None;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match &*key.0 {
                "value" => once(&mut attribute.value, "value", &mut map)?,
                "unit" => once(&mut unit, "unit", &mut map)?,
                "data" => {
                    if attribute.data.is_some() || attribute.other.contains_key("data") {
                        return Err(de::Error::duplicate_field("data"));
                    }
                    match map.next_value()? {
                        Data::Object(data) => attribute.data = Some(Box::new(data)),
                        Data::Other(value) => {
                            attribute.other.insert("data", value);
                        }
                    }
                }
                "timestamp" => once(&mut attribute.raw_timestamp, "timestamp", &mut map)?,
                _ => {
                    let value = map.next_value()?;
                    attribute.other.insert(&*key.0, value);
                }
            }
        }
        attribute.unit = unit.and_then(|u| u.0);
        Ok(attribute)
    }
}

impl Attribute {
    /// The value, unless absent or `null`.
    pub fn value(&self) -> Option<&Value> {
        self.value.as_ref().filter(|v| !v.is_null())
    }

    /// The value as a string.
    pub fn as_str(&self) -> Option<&str> {
        self.value()?.as_str()
    }

    /// The value as a number; numeric strings (`"21.5"`) count, as some
    /// devices send them.
    pub fn as_f64(&self) -> Option<f64> {
        match self.value()? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok().filter(|f: &f64| f.is_finite()),
            _ => None,
        }
    }

    /// The value as a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        self.value()?.as_bool()
    }

    /// The value as a list of strings (e.g. `supportedModes`).
    pub fn as_str_list(&self) -> Option<Vec<&str>> {
        self.value()?
            .as_array()?
            .iter()
            .map(Value::as_str)
            .collect()
    }

    /// A string inside `data`.
    pub fn data_str(&self, key: &str) -> Option<&str> {
        self.data.as_ref()?.get(key)?.as_str()
    }

    /// The timestamp, parsed leniently: RFC 3339 with any offset or
    /// fraction, without an offset (taken as UTC), with a space for `T`, or
    /// epoch milliseconds. `None` if absent or unreadable.
    pub fn timestamp(&self) -> Option<DateTime<FixedOffset>> {
        parse_timestamp(self.raw_timestamp.as_ref()?)
    }

    /// The value with its unit, when it is a number.
    pub fn measurement(&self) -> Option<Measurement<'_>> {
        Some(Measurement {
            value: self.as_f64()?,
            unit: self.unit.as_deref(),
        })
    }
}

/// Parse the timestamp variants real devices send.
pub fn parse_timestamp(raw: &Value) -> Option<DateTime<FixedOffset>> {
    match raw {
        Value::String(s) => {
            let s = s.trim();
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Some(t);
            }
            let with_t = s.replacen(' ', "T", 1);
            if let Ok(t) = DateTime::parse_from_rfc3339(&with_t) {
                return Some(t);
            }
            for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
                if let Ok(naive) = NaiveDateTime::parse_from_str(&with_t, format) {
                    return Some(Utc.from_utc_datetime(&naive).fixed_offset());
                }
            }
            s.parse::<i64>().ok().and_then(from_millis)
        }
        Value::Number(n) => n.as_i64().and_then(from_millis),
        _ => None,
    }
}

fn from_millis(ms: i64) -> Option<DateTime<FixedOffset>> {
    DateTime::from_timestamp_millis(ms).map(|t| t.fixed_offset())
}

/// A number with its unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measurement<'a> {
    /// The value.
    pub value: f64,
    /// The unit, as the device reports it.
    pub unit: Option<&'a str>,
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

/// `DeviceStatus::components`, decoded through [`name_map::exact`].
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

/// A value that is one of a few known words, or something else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known<'a, T> {
    /// A value this crate knows.
    Known(T),
    /// Any other value, as sent.
    Other(&'a str),
}

/// `contactSensor.contact`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contact {
    /// open
    Open,
    /// closed
    Closed,
}

/// `lock.lock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockState {
    /// locked
    Locked,
    /// unlocked
    Unlocked,
    /// unlocked with timeout
    UnlockedWithTimeout,
    /// unknown
    Unknown,
}

/// Hue and saturation (`colorControl`, both 0–100).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hsv {
    /// Hue, 0–100.
    pub hue: f64,
    /// Saturation, 0–100.
    pub saturation: f64,
}

/// `healthCheck`'s `DeviceWatch-DeviceStatus` with its reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceWatch<'a> {
    /// `online` or `offline`.
    pub status: &'a str,
    /// Why (`data.reason`), if given.
    pub reason: Option<&'a str>,
}

fn word<'a, T>(raw: &'a str, table: &[(&str, T)]) -> Known<'a, T>
where
    T: Copy,
{
    table
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(raw))
        .map(|(_, t)| Known::Known(*t))
        .unwrap_or(Known::Other(raw))
}

/// Typed views of the common capabilities. Each returns `None` when the
/// capability or attribute is absent or of an unexpected type; none panics.
impl ComponentStatus {
    /// `switch.switch`: on → `true`, off → `false`.
    pub fn switch(&self) -> Option<bool> {
        match self.attr("switch", "switch")?.as_str()? {
            "on" => Some(true),
            "off" => Some(false),
            _ => None,
        }
    }

    /// `switchLevel.level` (%).
    pub fn level(&self) -> Option<Measurement<'_>> {
        self.attr("switchLevel", "level")?.measurement()
    }

    /// `colorControl.hue` and `.saturation`.
    pub fn color(&self) -> Option<Hsv> {
        Some(Hsv {
            hue: self.attr("colorControl", "hue")?.as_f64()?,
            saturation: self.attr("colorControl", "saturation")?.as_f64()?,
        })
    }

    /// `colorTemperature.colorTemperature` (K).
    pub fn color_temperature(&self) -> Option<Measurement<'_>> {
        self.attr("colorTemperature", "colorTemperature")?
            .measurement()
    }

    /// `temperatureMeasurement.temperature` (C or F).
    pub fn temperature(&self) -> Option<Measurement<'_>> {
        self.attr("temperatureMeasurement", "temperature")?
            .measurement()
    }

    /// `relativeHumidityMeasurement.humidity` (%).
    pub fn humidity(&self) -> Option<Measurement<'_>> {
        self.attr("relativeHumidityMeasurement", "humidity")?
            .measurement()
    }

    /// `battery.battery` (%).
    pub fn battery(&self) -> Option<Measurement<'_>> {
        self.attr("battery", "battery")?.measurement()
    }

    /// `contactSensor.contact`.
    pub fn contact(&self) -> Option<Known<'_, Contact>> {
        let raw = self.attr("contactSensor", "contact")?.as_str()?;
        Some(word(
            raw,
            &[("open", Contact::Open), ("closed", Contact::Closed)],
        ))
    }

    /// `motionSensor.motion`: active → `true`, inactive → `false`.
    pub fn motion(&self) -> Option<bool> {
        match self.attr("motionSensor", "motion")?.as_str()? {
            "active" => Some(true),
            "inactive" => Some(false),
            _ => None,
        }
    }

    /// `lock.lock`.
    pub fn lock(&self) -> Option<Known<'_, LockState>> {
        let raw = self.attr("lock", "lock")?.as_str()?;
        Some(word(
            raw,
            &[
                ("locked", LockState::Locked),
                ("unlocked", LockState::Unlocked),
                ("unlocked with timeout", LockState::UnlockedWithTimeout),
                ("unknown", LockState::Unknown),
            ],
        ))
    }

    /// `thermostatHeatingSetpoint.heatingSetpoint`.
    pub fn heating_setpoint(&self) -> Option<Measurement<'_>> {
        self.attr("thermostatHeatingSetpoint", "heatingSetpoint")?
            .measurement()
    }

    /// `thermostatCoolingSetpoint.coolingSetpoint`.
    pub fn cooling_setpoint(&self) -> Option<Measurement<'_>> {
        self.attr("thermostatCoolingSetpoint", "coolingSetpoint")?
            .measurement()
    }

    /// `thermostatMode.thermostatMode` (heat, cool, auto, off, ...).
    pub fn thermostat_mode(&self) -> Option<&str> {
        self.attr("thermostatMode", "thermostatMode")?.as_str()
    }

    /// `thermostatFanMode.thermostatFanMode`.
    pub fn thermostat_fan_mode(&self) -> Option<&str> {
        self.attr("thermostatFanMode", "thermostatFanMode")?
            .as_str()
    }

    /// `powerMeter.power` (W).
    pub fn power(&self) -> Option<Measurement<'_>> {
        self.attr("powerMeter", "power")?.measurement()
    }

    /// `energyMeter.energy` (kWh).
    pub fn energy(&self) -> Option<Measurement<'_>> {
        self.attr("energyMeter", "energy")?.measurement()
    }

    /// `healthCheck.DeviceWatch-DeviceStatus`.
    pub fn device_watch(&self) -> Option<DeviceWatch<'_>> {
        let attribute = self.attr("healthCheck", "DeviceWatch-DeviceStatus")?;
        Some(DeviceWatch {
            status: attribute.as_str()?,
            reason: attribute.data_str("reason"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_in_the_variants_devices_send() {
        let cases = [
            json!("2026-04-28T18:45:19.820Z"),
            json!("2026-04-28T18:45:19Z"),
            json!("2026-04-28T20:45:19.820+02:00"),
            json!("2026-04-28T18:45:19.820"),
            json!("2026-04-28 18:45:19.820Z"),
            json!(1777401919820i64),
            json!("1777401919820"),
        ];
        for raw in cases {
            let t = parse_timestamp(&raw).unwrap_or_else(|| panic!("{raw}"));
            assert_eq!(t.with_timezone(&Utc).timestamp(), 1777401919, "{raw}");
        }
        assert_eq!(parse_timestamp(&json!("yesterday")), None);
        assert_eq!(parse_timestamp(&json!(null)), None);
    }

    #[test]
    fn views_never_panic_on_unexpected_types() {
        let status: ComponentStatus = serde_json::from_value(json!({
            "switch": {"switch": {"value": 1}},
            "switchLevel": {"level": {"value": "high"}},
            "lock": {"lock": {"value": ["locked"]}},
            "colorControl": {"hue": {"value": null}, "saturation": {"value": 3}},
            "temperatureMeasurement": {"temperature": {"value": "21.5", "unit": "C"}},
            "contactSensor": {"contact": {"value": "ajar"}}
        }))
        .unwrap();
        assert_eq!(status.switch(), None);
        assert_eq!(status.level(), None);
        assert_eq!(status.lock(), None);
        assert_eq!(status.color(), None);
        assert_eq!(status.battery(), None);
        assert_eq!(status.temperature().unwrap().value, 21.5);
        assert_eq!(status.contact(), Some(Known::Other("ajar")));
    }

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
    fn data_is_a_map_and_any_other_value_is_kept_under_its_name() {
        let text = r#"{"value": "offline", "data": {"reason": "INVALID-ACCESS-TOKEN", "n": [1]}}"#;
        let a: Attribute = serde_json::from_str(text).unwrap();
        let data = a.data.as_deref().unwrap();
        assert_eq!(data["reason"], json!("INVALID-ACCESS-TOKEN"));
        assert_eq!(data.keys().collect::<Vec<_>>(), ["reason", "n"]);
        assert_eq!(a.data_str("reason"), Some("INVALID-ACCESS-TOKEN"));
        assert!(a.other.is_empty());
        let from_value: Attribute =
            serde_json::from_value(serde_json::from_str(text).unwrap()).unwrap();
        assert_eq!(from_value, a);
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
        for odd in [
            json!(null),
            json!("x"),
            json!(7),
            json!([{"a": 1}]),
            json!(true),
        ] {
            let sent = json!({"value": 1, "data": odd});
            let a: Attribute = serde_json::from_value(sent.clone()).unwrap();
            assert_eq!(a.data, None, "{odd}");
            assert_eq!(a.other["data"], odd);
            assert_eq!(serde_json::to_value(&a).unwrap(), sent);
        }
        for repeated in [
            r#"{"data": {}, "data": {}}"#,
            r#"{"data": 1, "data": {}}"#,
            r#"{"data": {}, "data": 1}"#,
        ] {
            let error = serde_json::from_str::<Attribute>(repeated).unwrap_err();
            assert!(
                error.to_string().contains("duplicate field `data`"),
                "{error}"
            );
        }
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
