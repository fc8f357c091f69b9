//! Arrays decoded into vectors of exactly their length, for the list fields
//! of the generated structs (`Vec<T>` and `Option<Vec<T>>`: `cargo xtask
//! regen` names these functions in their `deserialize_with`; a list nested
//! in a list or held in a map keeps serde's own decode).
//!
//! JSON gives no length up front, so a vector grows as it fills: serde's
//! own `Vec` decode leaves a one-component device with room for four, and
//! a page of 200 devices with room for 256. Held by the hundred, that slack
//! was a quarter of a decoded page's heap; here a vector grows by half
//! rather than doubling, and gives back the rest once it is full.
//!
//! ```
//! #[derive(serde::Deserialize)]
//! struct Component {
//!     #[serde(default, deserialize_with = "smartthings::exact::option_vec")]
//!     categories: Option<Vec<String>>,
//! }
//!
//! let c: Component = serde_json::from_str(r#"{"categories": ["Light"]}"#).unwrap();
//! let categories = c.categories.unwrap();
//! assert_eq!((categories.len(), categories.capacity()), (1, 1));
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};

/// A JSON array as a vector of exactly its length.
pub fn vec<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    deserializer.deserialize_seq(Exact(PhantomData))
}

/// An optional JSON array (absent or `null` is `None`) as a vector of
/// exactly its length. A field using it also needs `#[serde(default)]`,
/// which serde implies for an `Option` only without `deserialize_with`.
pub fn option_vec<'de, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    deserializer.deserialize_option(Optional(PhantomData))
}

struct Exact<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for Exact<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // The first item is held aside: a list of one (a device's component,
        // a component's category) is then allocated once at its length,
        // without a `realloc` to give back the rest.
        let Some(first) = seq.next_element()? else {
            return Ok(Vec::new());
        };
        let Some(second) = seq.next_element()? else {
            return Ok(vec![first]);
        };
        // A length the deserializer knows (a `Value` does) is trusted as far
        // as serde's own `Vec` trusts it: up to a megabyte of items.
        let capacity = match seq.size_hint() {
            Some(rest) => rest.min((1 << 20) / std::mem::size_of::<T>().max(1)) + 2,
            None => 4,
        };
        let mut items = Vec::with_capacity(capacity);
        items.push(first);
        items.push(second);
        while let Some(item) = seq.next_element()? {
            if items.len() == items.capacity() {
                // Half again, not double: the slack of the vector still
                // filling (a page's items, each with its own allocations
                // made) is part of the decode's peak heap, and a `realloc`
                // is cheap beside decoding the items that filled it.
                items.reserve_exact(items.len() / 2);
            }
            items.push(item);
        }
        // A shrink is a `realloc` that glibc does in place, without a copy.
        items.shrink_to_fit();
        Ok(items)
    }
}

struct Optional<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for Optional<T> {
    type Value = Option<Vec<T>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        vec(deserializer).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Lists {
        #[serde(deserialize_with = "super::vec")]
        required: Vec<u32>,
        #[serde(default, deserialize_with = "super::option_vec")]
        optional: Option<Vec<String>>,
    }

    #[test]
    fn vectors_hold_exactly_their_items_and_decode_as_serde_would() {
        let texts = [
            r#"{"required": [1, 2, 3, 4, 5], "optional": ["a"]}"#,
            r#"{"required": [], "optional": null}"#,
            r#"{"required": [1, 2], "optional": ["a", "b", "c"]}"#,
            r#"{"required": [7]}"#,
        ];
        for text in texts {
            let lists: Lists = serde_json::from_str(text).unwrap();
            assert_eq!(lists.required.capacity(), lists.required.len(), "{text}");
            if let Some(optional) = &lists.optional {
                assert_eq!(optional.capacity(), optional.len(), "{text}");
            }
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(Lists::deserialize(&value).unwrap(), lists, "{text}");
        }
        let lists: Lists = serde_json::from_str(texts[3]).unwrap();
        assert_eq!((lists.required, lists.optional), (vec![7], None));
    }

    #[test]
    fn a_wrong_shape_is_serde_s_usual_error() {
        let missing = serde_json::from_value::<Lists>(json!({})).unwrap_err();
        assert_eq!(missing.to_string(), "missing field `required`");
        let object = serde_json::from_value::<Lists>(json!({"required": {}})).unwrap_err();
        assert!(
            object.to_string().contains("expected a sequence"),
            "{object}"
        );
        let item = serde_json::from_str::<Lists>(r#"{"required": [1, "x"]}"#).unwrap_err();
        assert!(item.to_string().contains("expected u32"), "{item}");
    }
}
