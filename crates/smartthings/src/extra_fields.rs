//! [`ExtraFields`]: what an object holds beyond the fields its type declares.

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::ser::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::name_map::{self, Name, NameMap, exact_map_deserialize};

/// The fields of an object that its type does not declare, in the server's
/// order: every generated type keeps them in its `extra` field (and the
/// status model in `other`), so a field the API adds is readable at once
/// and re-encoding a decoded object gives it back.
///
/// Read and change it as the [`NameMap`] it derefs to. Most objects have no
/// undeclared field, and one decoded without any holds a null pointer (8
/// bytes in every struct, where a `serde_json::Map` takes 24); one decoded
/// with some holds exactly its entries (a `serde_json::Map` allocates a
/// 632-byte tree node for its first). Changing it allocates the map.
///
/// ```
/// use smartthings::types::Device;
///
/// let device: Device = serde_json::from_str(
///     r#"{"deviceId": "d1", "deviceTypeName": "Samsung OCF Washer"}"#,
/// ).unwrap();
/// assert_eq!(device.extra["deviceTypeName"], "Samsung OCF Washer");
/// assert_eq!(device.extra.keys().collect::<Vec<_>>(), ["deviceTypeName"]);
/// let again = serde_json::to_value(&device).unwrap();
/// assert_eq!(again["deviceTypeName"], "Samsung OCF Washer");
/// ```
#[derive(Clone, Default)]
pub struct ExtraFields(Option<Box<NameMap<Value>>>);

/// What an absent map derefs to.
static EMPTY: NameMap<Value> = NameMap::new();

impl ExtraFields {
    /// No fields.
    pub const fn new() -> Self {
        Self(None)
    }

    fn from_map(map: NameMap<Value>) -> Self {
        Self((!map.is_empty()).then(|| Box::new(map)))
    }
}

impl Deref for ExtraFields {
    type Target = NameMap<Value>;

    fn deref(&self) -> &NameMap<Value> {
        self.0.as_deref().unwrap_or(&EMPTY)
    }
}

impl DerefMut for ExtraFields {
    /// The fields, to change them; allocates the map on first use, so
    /// that a struct without undeclared fields stays a null pointer.
    fn deref_mut(&mut self) -> &mut NameMap<Value> {
        self.0.get_or_insert_with(Box::default)
    }
}

impl PartialEq for ExtraFields {
    /// Equal when they hold the same names with equal values, in any order.
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl fmt::Debug for ExtraFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl From<Map<String, Value>> for ExtraFields {
    fn from(map: Map<String, Value>) -> Self {
        map.into_iter().collect()
    }
}

impl From<ExtraFields> for Map<String, Value> {
    /// The fields as a `serde_json::Map`, in that map's order.
    fn from(fields: ExtraFields) -> Self {
        fields
            .into_iter()
            .map(|(name, value)| (name.into(), value))
            .collect()
    }
}

impl<K: Into<Name>> FromIterator<(K, Value)> for ExtraFields {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        Self::from_map(iter.into_iter().collect())
    }
}

impl<K: Into<Name>> Extend<(K, Value)> for ExtraFields {
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        let mut iter = iter.into_iter().peekable();
        if iter.peek().is_some() {
            (**self).extend(iter);
        }
    }
}

impl<'a> IntoIterator for &'a ExtraFields {
    type Item = (&'a str, &'a Value);
    type IntoIter = <&'a NameMap<Value> as IntoIterator>::IntoIter;

    fn into_iter(self) -> Self::IntoIter {
        (&**self).into_iter()
    }
}

impl IntoIterator for ExtraFields {
    type Item = (Name, Value);
    type IntoIter = std::vec::IntoIter<(Name, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.map(|map| *map).unwrap_or_default().into_iter()
    }
}

impl Serialize for ExtraFields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

exact_map_deserialize!(
    ExtraFields,
    name_map::VALUES,
    ExtraFields::from_map,
    "a map of fields"
);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(serde::Deserialize, serde::Serialize, Debug, PartialEq)]
    struct Open {
        id: String,
        #[serde(flatten)]
        extra: ExtraFields,
    }

    #[test]
    fn undeclared_fields_are_kept_in_order_and_written_back() {
        let text = r#"{"zeta":1,"id":"a","alpha":{"b":[true,null]},"mid":"x"}"#;
        let open: Open = serde_json::from_str(text).unwrap();
        assert_eq!(open.id, "a");
        assert_eq!(
            open.extra.iter().collect::<Vec<_>>(),
            [
                ("zeta", &json!(1)),
                ("alpha", &json!({"b": [true, null]})),
                ("mid", &json!("x"))
            ]
        );
        assert_eq!(
            serde_json::to_string(&open).unwrap(),
            r#"{"id":"a","zeta":1,"alpha":{"b":[true,null]},"mid":"x"}"#
        );
        let via_value: Open = serde_json::from_value(serde_json::from_str(text).unwrap()).unwrap();
        assert_eq!(via_value, open);
    }

    #[test]
    fn no_undeclared_field_costs_one_null_pointer() {
        let open: Open = serde_json::from_str(r#"{"id":"a"}"#).unwrap();
        assert!(open.extra.0.is_none());
        assert!(open.extra.is_empty());
        assert_eq!(std::mem::size_of::<ExtraFields>(), 8);
        assert_eq!(serde_json::to_string(&open).unwrap(), r#"{"id":"a"}"#);
        let none: ExtraFields = std::iter::empty::<(String, Value)>().collect();
        assert!(none.0.is_none());
    }

    #[test]
    fn it_reads_and_changes_as_a_map() {
        let mut extra = ExtraFields::from(json!({"b": 2, "a": 1}).as_object().unwrap().clone());
        assert_eq!(extra["a"], 1);
        assert_eq!(extra.insert("c", json!(3)), None);
        assert_eq!(extra.remove("b"), Some(json!(2)));
        let pairs: Vec<(&str, &Value)> = (&extra).into_iter().collect();
        assert_eq!(pairs, [("a", &json!(1)), ("c", &json!(3))]);
        assert_eq!(
            Map::from(extra.clone()),
            *json!({"c": 3, "a": 1}).as_object().unwrap()
        );
        let reordered: ExtraFields = [("c", json!(3)), ("a", json!(1))].into_iter().collect();
        assert_eq!(extra, reordered);
        assert_ne!(extra, ExtraFields::new());
        assert_eq!(format!("{extra:?}"), r#"{"a": Number(1), "c": Number(3)}"#);
        let names: Vec<Name> = extra.into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["a", "c"]);
    }
}
