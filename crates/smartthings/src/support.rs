//! Types the generator substitutes into response schemas so that the client
//! survives what the live API really sends (see `xtask/src/normalize.rs`).

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{
    self, Deserialize, DeserializeOwned, Deserializer, IntoDeserializer, MapAccess, Visitor,
};
use serde::ser::{Serialize, Serializer};
use serde_json::Value;

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
        deserializer.deserialize_any(OpenEnumVisitor(PhantomData))
    }
}

/// The visitor methods for the JSON values that are neither strings nor
/// objects, each handing the value as a `serde_json::Value` to `$keep` (a
/// function from `Value` to `Result<Self::Value, E>`): for the types that
/// read a string or an object straight and keep whatever else a server
/// sends ([`OpenEnum`] and the status model's `data`).
macro_rules! visit_scalars_and_arrays_as_values {
    ($keep:expr) => {
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
            $keep(serde_json::Value::from(v))
        }

        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            $keep(serde_json::Value::from(v))
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            $keep(serde_json::Value::from(v))
        }

        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            // As `Value` does: a non-finite float becomes null.
            $keep(serde_json::Value::from(v))
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            $keep(serde_json::Value::Null)
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            $keep(serde_json::Value::Null)
        }

        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            let seq = serde::de::value::SeqAccessDeserializer::new(seq);
            $keep(<serde_json::Value as serde::Deserialize>::deserialize(seq)?)
        }
    };
}
pub(crate) use visit_scalars_and_arrays_as_values;

/// Reads an [`OpenEnum`] straight from the string the deserializer hands
/// over (borrowed when it can be), without building a `serde_json::Value`.
/// A non-string value (a number where a name was expected) is kept as its
/// JSON text rather than failing the enclosing object.
struct OpenEnumVisitor<T>(PhantomData<T>);

/// A word that names no variant of the enum. It carries no message: serde
/// formats its "unknown variant, expected one of …" only through
/// `Error::custom`, which this drops, so an unknown word (hundreds on a
/// real page) costs no formatting of the variant list (5 % of a page's
/// decode when it did).
#[derive(Debug)]
struct NoVariant;

impl fmt::Display for NoVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no such variant")
    }
}

impl std::error::Error for NoVariant {}

impl de::Error for NoVariant {
    fn custom<M: fmt::Display>(_: M) -> Self {
        NoVariant
    }
}

impl<T> OpenEnumVisitor<T> {
    fn word<'de>(s: &str) -> Result<T, NoVariant>
    where
        T: Deserialize<'de>,
    {
        T::deserialize(s.into_deserializer())
    }

    /// A value that is not a string: kept as its JSON text.
    fn text<E>(value: Value) -> Result<OpenEnum<T>, E> {
        Ok(OpenEnum::Unknown(value.to_string()))
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for OpenEnumVisitor<T> {
    type Value = OpenEnum<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Self::word(s)
            .map(OpenEnum::Known)
            .unwrap_or_else(|_| OpenEnum::Unknown(s.to_owned())))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        Ok(match Self::word(&s) {
            Ok(t) => OpenEnum::Known(t),
            Err(_) => OpenEnum::Unknown(s),
        })
    }

    visit_scalars_and_arrays_as_values!(Self::text);

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let map = de::value::MapAccessDeserializer::new(map);
        Self::text(Value::deserialize(map)?)
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

/// An optional detail object of a list item, held out of line: items come
/// by the hundred, and one that lacks the detail then costs a pointer, not
/// the detail's size (a device has one integration's details of a dozen
/// kinds). `device.ocf.as_deref()` reads it as an `Option<&T>`.
pub type Boxed<T> = Box<T>;

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

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if DIRECT_ITEMS.get() {
            // One pass, straight into `T`: `decode_body` decodes the body
            // again item by item when an item fails.
            return T::deserialize(deserializer)
                .map(Self::Valid)
                .inspect_err(|_| ITEM_FAILED.set(true));
        }
        // serde_json answers this name with the item's exact text (borrowed
        // from the input when it can be), the protocol of
        // `serde_json::value::RawValue`; any other deserializer hands over
        // the item itself (`visit_newtype_struct`).
        deserializer.deserialize_newtype_struct(RAW_VALUE_TOKEN, LenientVisitor(PhantomData))
    }
}

thread_local! {
    /// Whether list items decode straight into their types (one pass, an
    /// odd item fails the body) rather than each from its own text (two
    /// passes, an odd item is kept raw). On only inside [`decode_body`]'s
    /// first pass.
    static DIRECT_ITEMS: Cell<bool> = const { Cell::new(false) };
    /// Whether a list item failed to decode during that first pass: only
    /// then is the body decoded again item by item. A failure outside the
    /// items (an error body that is not the documented shape, HTML, a body
    /// cut off before its list) would fail the careful pass alike.
    static ITEM_FAILED: Cell<bool> = const { Cell::new(false) };
}

/// Decoding in one mode for the guard's lifetime; both flags are restored
/// after, on a panic too.
struct ItemMode {
    direct: bool,
    failed: bool,
}

impl ItemMode {
    fn set(direct: bool) -> Self {
        Self {
            direct: DIRECT_ITEMS.replace(direct),
            failed: ITEM_FAILED.replace(false),
        }
    }

    fn item_failed(&self) -> bool {
        ITEM_FAILED.get()
    }
}

impl Drop for ItemMode {
    fn drop(&mut self) {
        DIRECT_ITEMS.set(self.direct);
        ITEM_FAILED.set(self.failed);
    }
}

/// Decode a response body with lenient list items at the cost of a strict
/// decode: one pass straight into the types, which is every body whose
/// items all decode; only when a list item fails that pass, a second pass
/// that isolates each item (see [`Lenient`]), so one odd item still never
/// fails a page. Every body the generated client decodes, success or
/// error, decodes here (see [`decode_response`]).
///
/// ```
/// use smartthings::{LenientItems, decode_body};
/// use smartthings::types::ListRoomsResponse;
///
/// let page: ListRoomsResponse =
///     decode_body(br#"{"items": [{"name": "Kitchen"}, {"name": 42}]}"#).unwrap();
/// assert_eq!(page.items.unwrap().valid().count(), 1);
/// ```
pub fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    let (direct, item_failed) = {
        let mode = ItemMode::set(true);
        let direct = from_bytes(body);
        (direct, mode.item_failed())
    };
    // Careful whenever an item failed, even if the body still decoded (a
    // type that absorbed the failure): the careful result is the promise.
    if !item_failed {
        return direct;
    }
    #[cfg(test)]
    CAREFUL_PASSES.set(CAREFUL_PASSES.get() + 1);
    let _careful = ItemMode::set(false);
    from_bytes(body)
}

#[cfg(test)]
thread_local! {
    /// Second passes made on this thread, for the tests.
    static CAREFUL_PASSES: Cell<usize> = const { Cell::new(0) };
}

/// `serde_json::from_slice`, with the UTF-8 check done once for the whole
/// body rather than string by string (a page is thousands of short
/// strings); a body that is not UTF-8 gets `from_slice`'s own error.
fn from_bytes<T: DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    }
}

/// Read and decode a response's body through [`decode_body`]: what the
/// generated client calls where progenitor's `ResponseValue::from_response`
/// would decode with `serde_json::from_slice` (`cargo xtask regen` puts it
/// there), with the same errors.
pub async fn decode_response<T: DeserializeOwned, E>(
    response: reqwest::Response,
) -> Result<crate::ResponseValue<T>, crate::Error<E>> {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .map_err(crate::Error::ResponseBodyError)?;
    match decode_body(&body) {
        Ok(inner) => Ok(crate::ResponseValue::new(inner, status, headers)),
        Err(e) => Err(crate::Error::InvalidResponsePayload(body, e)),
    }
}

/// The name under which serde_json hands out a value's raw text: the one
/// `serde_json::value::RawValue` deserializes with. Should serde_json stop
/// answering it, items would silently take the `Value` path:
/// `tests/decode_allocations.rs` counts allocations to catch that.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

impl<T: DeserializeOwned> Lenient<T> {
    /// Decode one item from its exact JSON text: straight into `T` (no
    /// `Value` built) when it decodes, which is every well-formed item.
    fn from_text(text: &str) -> Result<Self, serde_json::Error> {
        match serde_json::from_str(text) {
            Ok(t) => Ok(Self::Valid(t)),
            // The slow path, only for an item that did not decode directly:
            // decide through a `Value`, exactly as the item is kept. (The
            // two paths agree on every item; the `Value` one also accepts a
            // repeated key, keeping its last value.)
            Err(_) => Ok(Self::from_value(serde_json::from_str(text)?)),
        }
    }

    fn from_value(raw: Value) -> Self {
        match T::deserialize(&raw) {
            Ok(t) => Self::Valid(t),
            Err(e) => Self::Invalid(InvalidItem {
                raw,
                error: e.to_string(),
            }),
        }
    }
}

struct LenientVisitor<T>(PhantomData<T>);

impl<'de, T: DeserializeOwned> Visitor<'de> for LenientVisitor<T> {
    type Value = Lenient<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list item")
    }

    /// serde_json's raw value: one entry, its private name → the text.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        match map.next_key::<Text<'de>>()? {
            Some(key) if key.0 == RAW_VALUE_TOKEN => {}
            _ => return Err(de::Error::custom("expected serde_json's raw value")),
        }
        let text: Text<'de> = map.next_value()?;
        Lenient::from_text(&text.0).map_err(de::Error::custom)
    }

    /// Any other deserializer: through a `Value`.
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Ok(Lenient::from_value(Value::deserialize(d)?))
    }
}

/// A string, borrowed from the input when the deserializer can lend it.
pub(crate) struct Text<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(s)))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }

            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Room;

    #[test]
    fn items_decode_the_same_through_any_deserializer() {
        let text = r#"[{"name": "Kitchen"}, {"name": 42}, {"name": "Hall", "name": "Attic"}]"#;
        // serde_json hands over each item's text...
        let direct: Vec<Lenient<Room>> = serde_json::from_str(text).unwrap();
        // ...from a `Value` as well...
        let value: Vec<Lenient<Room>> =
            serde_json::from_value(serde_json::from_str(text).unwrap()).unwrap();
        // ...and serde's own buffer (here behind an untagged enum) hands
        // over the item itself.
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Buffered {
            Page(Vec<Lenient<Room>>),
        }
        let Buffered::Page(buffered) = serde_json::from_str(text).unwrap();
        for page in [&direct, &value, &buffered] {
            assert_eq!(page.valid().count(), 2);
            assert_eq!(page[0].valid().unwrap().name.as_deref(), Some("Kitchen"));
            assert_eq!(page.invalid().next().unwrap().raw["name"], 42);
            // A repeated key keeps its last value, as a `Value` does.
            assert_eq!(page[2].valid().unwrap().name.as_deref(), Some("Attic"));
        }
        assert_eq!(direct, value);
        assert_eq!(direct, buffered);
    }

    #[test]
    fn a_body_decodes_in_one_pass_unless_an_item_fails_with_the_careful_result() {
        use crate::types::{ErrorBody, ListRoomsResponse};
        let careful = |text: &str| serde_json::from_str::<ListRoomsResponse>(text).unwrap();
        let passes = |text: &str| {
            let before = CAREFUL_PASSES.get();
            let page: ListRoomsResponse = decode_body(text.as_bytes()).unwrap();
            assert_eq!(page, careful(text), "{text}");
            CAREFUL_PASSES.get() - before
        };
        assert_eq!(
            passes(r#"{"items": [{"name": "Kitchen"}, {"name": "Hall"}]}"#),
            0
        );
        assert_eq!(
            passes(r#"{"items": [{"name": "Kitchen"}, {"name": 42}]}"#),
            1
        );
        // A repeated key fails the derived decode; the careful pass keeps
        // the last value, as a `Value` does.
        assert_eq!(
            passes(r#"{"items": [{"name": "Hall", "name": "Attic"}]}"#),
            1
        );
        let page: ListRoomsResponse =
            decode_body(br#"{"items": [{"name": "Kitchen"}, {"name": 42}]}"#).unwrap();
        let items = page.items.unwrap();
        assert_eq!(
            items.invalid().next().unwrap().error,
            "invalid type: integer `42`, expected a string"
        );
        // No item failed: no second pass, and serde_json's own error. An
        // error status's body of another shape stays an error.
        let before = CAREFUL_PASSES.get();
        let wrong = decode_body::<ErrorBody>(br#"{"error": "Forbidden"}"#).unwrap_err();
        let expected =
            serde_json::from_slice::<ErrorBody>(br#"{"error": "Forbidden"}"#).unwrap_err();
        assert_eq!(wrong.to_string(), expected.to_string());
        assert!(decode_body::<ListRoomsResponse>(b"<html>").is_err());
        assert_eq!(CAREFUL_PASSES.get(), before);
        // A failure inside an item may be the item's or the body's (bytes
        // that are not UTF-8, a body cut off): the careful pass decides.
        assert!(decode_body::<ListRoomsResponse>(b"{\"items\": [{\"name\": \"\xff\"}]}").is_err());
        assert!(decode_body::<ListRoomsResponse>(br#"{"items": [{"name": "Kit"#).is_err());
        assert_eq!(CAREFUL_PASSES.get(), before + 2);
        assert!(!DIRECT_ITEMS.get() && !ITEM_FAILED.get());
    }

    #[test]
    fn open_enums_keep_what_is_not_a_listed_string() {
        use crate::types::DeviceType;
        let decode = |text: &str| serde_json::from_str::<OpenEnum<DeviceType>>(text).unwrap();
        assert_eq!(decode(r#""VIPER""#), OpenEnum::Known(DeviceType::Viper));
        assert_eq!(
            decode(r#""VI\u0050ER""#),
            OpenEnum::Known(DeviceType::Viper)
        );
        assert_eq!(decode(r#""MQTT""#).unknown(), Some("MQTT"));
        assert_eq!(decode("42").unknown(), Some("42"));
        assert_eq!(decode("-1.5").unknown(), Some("-1.5"));
        assert_eq!(decode("null").unknown(), Some("null"));
        assert_eq!(decode("true").unknown(), Some("true"));
        assert_eq!(decode(r#"{"a": [1]}"#).unknown(), Some(r#"{"a":[1]}"#));
    }
}
