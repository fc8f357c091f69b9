//! [`Timestamp`]: when an attribute was reported, kept exactly as sent.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};
use serde_json::Value;

/// An attribute's `timestamp`, exactly as the server sent it.
///
/// The API's own form, `2026-04-28T18:45:19.820Z` (UTC, milliseconds), is
/// held as milliseconds since the epoch, which costs no allocation and
/// writes back the same 24 bytes; anything else a device sends (another
/// precision, an offset, epoch milliseconds, not a time at all) is kept as
/// its JSON value.
///
/// ```
/// use smartthings::status::Timestamp;
/// use serde_json::json;
///
/// let api: Timestamp = serde_json::from_str(r#""2026-04-28T18:45:19.820Z""#).unwrap();
/// assert_eq!(api.to_value(), json!("2026-04-28T18:45:19.820Z"));
/// assert_eq!(api.parse().unwrap().timestamp_millis(), 1_777_401_919_820);
/// let odd = Timestamp::from(json!("2026-04-28 18:45:19"));
/// assert_eq!(serde_json::to_string(&odd).unwrap(), r#""2026-04-28 18:45:19""#);
/// ```
#[derive(Clone, PartialEq)]
pub struct Timestamp(Repr);

#[derive(Clone, PartialEq)]
enum Repr {
    /// The API's form, as milliseconds since the epoch.
    Millis(i64),
    /// Anything else, as sent: rare, so held out of line.
    Other(Box<Value>),
}

impl Timestamp {
    /// The time, parsed leniently (see [`super::parse_timestamp`]); `None`
    /// when it is not a time.
    pub fn parse(&self) -> Option<DateTime<FixedOffset>> {
        match &self.0 {
            Repr::Millis(ms) => DateTime::from_timestamp_millis(*ms).map(|t| t.fixed_offset()),
            Repr::Other(raw) => super::parse_timestamp(raw),
        }
    }

    /// The timestamp as the server sent it.
    pub fn to_value(&self) -> Value {
        match &self.0 {
            Repr::Millis(ms) => Value::String(api_form(*ms)),
            Repr::Other(raw) => (**raw).clone(),
        }
    }

    /// A time in milliseconds since the epoch, written in the API's form
    /// (UTC, milliseconds), or as the number itself outside the years 0 to
    /// 9999, which that form cannot write; `None` beyond the times chrono
    /// represents.
    pub fn from_millis(ms: i64) -> Option<Self> {
        let t = DateTime::from_timestamp_millis(ms)?;
        Some(if (0..=9999).contains(&chrono::Datelike::year(&t)) {
            Self(Repr::Millis(ms))
        } else {
            Self(Repr::Other(Box::new(Value::from(ms))))
        })
    }

    /// A string as sent, copied only when it is not in the API's form.
    fn from_text(text: Cow<'_, str>) -> Self {
        match parse_api_form(text.as_bytes()) {
            Some(ms) => Self(Repr::Millis(ms)),
            None => Self(Repr::Other(Box::new(Value::String(text.into_owned())))),
        }
    }
}

impl From<Value> for Timestamp {
    /// Any JSON value; a string in the API's form is held compactly.
    fn from(value: Value) -> Self {
        match value {
            Value::String(s) => Self::from_text(Cow::Owned(s)),
            other => Self(Repr::Other(Box::new(other))),
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.to_value())
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, exactly: the only text held as milliseconds,
/// because [`api_form`] writes it back byte for byte. Digits are checked
/// one by one and the date by chrono, so any deviation (another length, a
/// sign, `24:00`, `02-30`, a leap second) is left as text.
fn parse_api_form(s: &[u8]) -> Option<i64> {
    if s.len() != 24 {
        return None;
    }
    let punctuation = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (23, b'Z'),
    ];
    if punctuation.iter().any(|&(i, c)| s[i] != c) {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        s[from..to].iter().try_fold(0u32, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(number(0, 4)?).ok()?,
        number(5, 7)?,
        number(8, 10)?,
    )?;
    let (hour, minute, second, milli) = (
        number(11, 13)?,
        number(14, 16)?,
        number(17, 19)?,
        number(20, 23)?,
    );
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let time = date.and_hms_milli_opt(hour, minute, second, milli)?;
    Some(time.and_utc().timestamp_millis())
}

/// Milliseconds in the API's form; only times of the years 0 to 9999 are
/// held as milliseconds, and it writes those in 24 bytes.
fn api_form(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Millis(ms) => serializer.serialize_str(&api_form(*ms)),
            Repr::Other(raw) => raw.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TimestampVisitor)
    }
}

/// Reads the string the deserializer hands over without copying it when it
/// is in the API's form; any other value as a `Value`.
struct TimestampVisitor;

impl TimestampVisitor {
    fn other<E>(value: Value) -> Result<Timestamp, E> {
        Ok(Timestamp(Repr::Other(Box::new(value))))
    }
}

impl<'de> Visitor<'de> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Timestamp, E> {
        Ok(Timestamp::from_text(Cow::Borrowed(s)))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Timestamp, E> {
        Ok(Timestamp::from_text(Cow::Owned(s)))
    }

    crate::support::visit_non_strings_as_values!(Self::other);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_api_form_is_held_as_milliseconds_and_every_form_writes_back_as_sent() {
        let api = [
            "2026-04-28T18:45:19.820Z",
            "0000-01-01T00:00:00.000Z",
            "9999-12-31T23:59:59.999Z",
            "2024-02-29T12:00:00.000Z",
        ];
        let other = [
            json!("2026-04-28T18:45:19.82Z"),
            json!("2026-04-28T18:45:19.820+00:00"),
            json!("2026-04-28 18:45:19.820Z"),
            json!("2026-02-30T18:45:19.820Z"),
            json!("2026-04-28T24:00:00.000Z"),
            json!("2026-04-28T23:59:60.000Z"),
            json!("+026-04-28T18:45:19.820Z"),
            json!("2026-04-28T18:45:19.8a0Z"),
            json!("2026-04-28T18:45:19.820z"),
            json!(1_777_401_919_820_i64),
            json!(null),
            json!({"at": 1}),
        ];
        for text in api {
            let t: Timestamp = serde_json::from_value(json!(text)).unwrap();
            assert!(matches!(t.0, Repr::Millis(_)), "{text}");
            assert_eq!(t.to_value(), json!(text));
            assert_eq!(serde_json::to_value(&t).unwrap(), json!(text));
            assert_eq!(t, Timestamp::from(json!(text)));
        }
        for raw in other {
            let t: Timestamp = serde_json::from_value(raw.clone()).unwrap();
            assert!(matches!(t.0, Repr::Other(_)), "{raw}");
            assert_eq!(serde_json::to_value(&t).unwrap(), raw);
        }
    }

    #[test]
    fn from_millis_writes_the_api_form_or_else_the_number() {
        let t = Timestamp::from_millis(1_777_401_919_820).unwrap();
        assert!(matches!(t.0, Repr::Millis(_)));
        assert_eq!(t.to_value(), json!("2026-04-28T18:45:19.820Z"));
        let late = Timestamp::from_millis(253_402_300_800_000).unwrap();
        assert!(matches!(late.0, Repr::Other(_)));
        assert_eq!(
            late.parse().unwrap().timestamp_millis(),
            253_402_300_800_000
        );
        let early = Timestamp::from_millis(-62_167_219_200_001).unwrap();
        assert_eq!(
            early.parse().unwrap().timestamp_millis(),
            -62_167_219_200_001
        );
        assert!(Timestamp::from_millis(i64::MAX).is_none());
    }
}
