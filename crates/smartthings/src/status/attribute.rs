//! One attribute's state (`{value, unit, data, timestamp}`), its decoder,
//! and what it reads as: a string, a number with its unit, a time.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::{Key, once};
use crate::ExtraFields;
use crate::name_map::{self, Name, NameMap};

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
}
