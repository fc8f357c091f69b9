//! Types the generator substitutes into response schemas so that the client
//! survives what the live API really sends (see `xtask/src/normalize.rs`).

use std::fmt;
use std::str::FromStr;

use serde::de::{Deserialize, Deserializer, IntoDeserializer};
use serde::ser::{Serialize, Serializer};

/// A response enum the server may extend: a value the spec lists decodes to
/// `Known`, any other value is kept verbatim in `Unknown`.
///
/// ```
/// use smartthings::OpenEnum;
/// use smartthings::types::DeviceType;
///
/// let known: OpenEnum<DeviceType> = serde_json::from_str(r#""VIPER""#).unwrap();
/// assert_eq!(known, OpenEnum::Known(DeviceType::Viper));
/// let new: OpenEnum<DeviceType> = serde_json::from_str(r#""MQTT""#).unwrap();
/// assert_eq!(new.unknown(), Some("MQTT"));
/// assert_eq!(serde_json::to_string(&new).unwrap(), r#""MQTT""#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpenEnum<T> {
    /// A value the spec lists.
    Known(T),
    /// A value the spec does not list, exactly as the server sent it.
    Unknown(String),
}

impl<T> OpenEnum<T> {
    /// The known value, if it is one.
    pub fn known(&self) -> Option<&T> {
        match self {
            Self::Known(t) => Some(t),
            Self::Unknown(_) => None,
        }
    }

    /// The raw value, if the spec does not list it.
    pub fn unknown(&self) -> Option<&str> {
        match self {
            Self::Known(_) => None,
            Self::Unknown(s) => Some(s),
        }
    }
}

impl<T> From<T> for OpenEnum<T> {
    fn from(value: T) -> Self {
        Self::Known(value)
    }
}

impl<T: FromStr> FromStr for OpenEnum<T> {
    type Err = std::convert::Infallible;

    /// Never fails: an unlisted value becomes `Unknown`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(s.parse::<T>()
            .map(Self::Known)
            .unwrap_or_else(|_| Self::Unknown(s.to_owned())))
    }
}

impl<T: fmt::Display> fmt::Display for OpenEnum<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Known(t) => t.fmt(f),
            Self::Unknown(s) => f.write_str(s),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OpenEnum<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A non-string value (a number where a name was expected) is kept as
        // its JSON text rather than failing the enclosing object.
        let raw = match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        let parsed: Result<T, serde::de::value::Error> =
            T::deserialize(raw.as_str().into_deserializer());
        Ok(parsed.map(Self::Known).unwrap_or(Self::Unknown(raw)))
    }
}

impl<T: Serialize> Serialize for OpenEnum<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Known(t) => t.serialize(serializer),
            Self::Unknown(s) => serializer.serialize_str(s),
        }
    }
}

/// One item of a list page, decoded on its own so that a single odd item
/// never fails the whole page.
///
/// ```
/// use smartthings::{Lenient, LenientItems};
/// use smartthings::types::Room;
///
/// let page: Vec<Lenient<Room>> =
///     serde_json::from_str(r#"[{"name": "Kitchen"}, {"name": 42}]"#).unwrap();
/// assert_eq!(page.valid().count(), 1);
/// let bad = page.invalid().next().unwrap();
/// assert_eq!(bad.raw["name"], 42);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Lenient<T> {
    /// The item decoded into its type.
    Valid(T),
    /// The item did not match its type; it is kept as sent.
    Invalid(InvalidItem),
}

/// A list item that did not decode, with the reason and its raw JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct InvalidItem {
    /// The item exactly as the server sent it.
    pub raw: serde_json::Value,
    /// Why it did not decode.
    pub error: String,
}

impl<T> Lenient<T> {
    /// The decoded item, if it decoded.
    pub fn valid(&self) -> Option<&T> {
        match self {
            Self::Valid(t) => Some(t),
            Self::Invalid(_) => None,
        }
    }

    /// The item as a `Result`.
    pub fn into_result(self) -> Result<T, InvalidItem> {
        match self {
            Self::Valid(t) => Ok(t),
            Self::Invalid(e) => Err(e),
        }
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = serde_json::Value::deserialize(deserializer)?;
        Ok(match T::deserialize(&raw) {
            Ok(t) => Self::Valid(t),
            Err(e) => Self::Invalid(InvalidItem {
                raw,
                error: e.to_string(),
            }),
        })
    }
}

impl<T: Serialize> Serialize for Lenient<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Valid(t) => t.serialize(serializer),
            Self::Invalid(e) => e.raw.serialize(serializer),
        }
    }
}

/// Iteration over the decoded and the odd items of a list page.
pub trait LenientItems<T> {
    /// Items that decoded, in page order.
    fn valid<'a>(&'a self) -> impl Iterator<Item = &'a T>
    where
        T: 'a;
    /// Items that did not decode, in page order.
    fn invalid(&self) -> impl Iterator<Item = &InvalidItem>;
}

impl<T> LenientItems<T> for [Lenient<T>] {
    fn valid<'a>(&'a self) -> impl Iterator<Item = &'a T>
    where
        T: 'a,
    {
        self.iter().filter_map(Lenient::valid)
    }

    fn invalid(&self) -> impl Iterator<Item = &InvalidItem> {
        self.iter().filter_map(|item| match item {
            Lenient::Invalid(e) => Some(e),
            Lenient::Valid(_) => None,
        })
    }
}
