//! [`NameMap`]: the map every level of a status, and every object's
//! undeclared fields, are kept in.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Index;
use std::thread::LocalKey;

use compact_str::CompactString;
use serde::de::{Deserialize, MapAccess};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// A component id, capability id, attribute name or undeclared field's
/// name: held inline up to 24 bytes (almost every status name the API
/// uses), so such a name costs no allocation.
pub type Name = CompactString;

/// Names to values, in the server's order.
///
/// A status level holds a few entries (attributes of a capability,
/// capabilities of a component), and an object's undeclared fields
/// ([`ExtraFields`](crate::ExtraFields)) fewer, so the entries are one
/// vector of exactly their number, looked up by comparing names: one
/// allocation a map and no hashing, where a hash map costs two allocations
/// and a hash per key.
/// Beyond 128 entries (more than the largest appliance's component has
/// capabilities; a hostile server may send millions) a hash index keeps
/// every lookup constant-time, so no status makes a loop over it
/// quadratic. A repeated name keeps its first position and its last
/// value.
///
/// ```
/// use smartthings::status::NameMap;
///
/// let mut map: NameMap<u32> = [("b", 1), ("a", 2), ("b", 3)].into_iter().collect();
/// assert_eq!(map.iter().collect::<Vec<_>>(), [("b", &3), ("a", &2)]);
/// *map.get_or_insert_with("c", || 0) += 4;
/// assert_eq!(map["c"], 4);
/// ```
#[derive(Clone)]
pub struct NameMap<V> {
    entries: Vec<(Name, V)>,
    /// Name → position, kept only beyond [`INDEXED`] entries.
    #[allow(
        clippy::box_collection,
        reason = "boxed, the index costs every map a pointer (8 bytes), not a HashMap (48)"
    )]
    index: Option<Box<HashMap<Name, usize>>>,
}

/// The number of entries beyond which a [`NameMap`] keeps a hash index.
const INDEXED: usize = 128;

impl<V> Default for NameMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> NameMap<V> {
    /// An empty map.
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
            index: None,
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, name: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(name).copied(),
            None => self.entries.iter().position(|(k, _)| k == name),
        }
    }

    /// The index of the entries as they are, or none at or below
    /// [`INDEXED`] entries.
    fn reindex(&mut self) {
        self.index = (self.entries.len() > INDEXED).then(|| {
            let mut index = HashMap::with_capacity(self.entries.len());
            for (i, (name, _)) in self.entries.iter().enumerate() {
                index.entry(name.clone()).or_insert(i);
            }
            Box::new(index)
        });
    }

    /// Add an entry for a name not yet present.
    fn push(&mut self, name: Name, value: V) -> usize {
        let at = self.entries.len();
        if at == 0 {
            // A map built entry by entry mostly keeps one (an object's
            // undeclared field): the first is allocated at its size, not
            // with room for four.
            self.entries.reserve_exact(1);
        }
        match &mut self.index {
            Some(index) => {
                index.insert(name.clone(), at);
                self.entries.push((name, value));
            }
            None => {
                self.entries.push((name, value));
                if self.entries.len() > INDEXED {
                    self.reindex();
                }
            }
        }
        at
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&V> {
        self.position(name).map(|i| &self.entries[i].1)
    }

    /// The value of `name`, to change it.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut V> {
        self.position(name).map(|i| &mut self.entries[i].1)
    }

    /// Whether `name` has a value.
    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// Set `name`'s value, returning the previous one; a new name goes last,
    /// a known one keeps its position.
    pub fn insert(&mut self, name: impl Into<Name>, value: V) -> Option<V> {
        let name = name.into();
        match self.position(&name) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            None => {
                self.push(name, value);
                None
            }
        }
    }

    /// The value of `name`, inserted last from `default` when absent.
    pub fn get_or_insert_with(&mut self, name: &str, default: impl FnOnce() -> V) -> &mut V {
        let i = match self.position(name) {
            Some(i) => i,
            None => self.push(Name::from(name), default()),
        };
        &mut self.entries[i].1
    }

    /// Remove `name`, keeping the others' order.
    pub fn remove(&mut self, name: &str) -> Option<V> {
        let i = self.position(name)?;
        let (_, value) = self.entries.remove(i);
        if self.index.is_some() {
            self.reindex();
        }
        Some(value)
    }

    /// Keep only the entries `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &mut V) -> bool) {
        // Dropped first: should `keep` panic, no stale index survives.
        let indexed = self.index.take().is_some();
        self.entries.retain_mut(|(k, v)| keep(k, v));
        if indexed {
            self.reindex();
        }
    }

    /// Every entry, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &V)> + ExactSizeIterator {
        self.into_iter()
    }

    /// Every entry, in order, values changeable.
    pub fn iter_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = (&str, &mut V)> + ExactSizeIterator {
        self.entries.iter_mut().map(|(k, v)| (k.as_str(), v))
    }

    /// Every name, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// Every value, in order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Every value, in order, changeable.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// A map of `entries` in their order, the last value of a repeated name
    /// kept at its first position.
    fn from_entries(mut entries: Vec<(Name, V)>) -> Self {
        if has_repeats(&entries) {
            // Rare (a server repeating a key): rebuilt with an index so that
            // a huge map with repeats stays linear.
            let mut first = HashMap::with_capacity(entries.len());
            let mut kept: Vec<(Name, V)> = Vec::with_capacity(entries.len());
            for (name, value) in entries.drain(..) {
                match first.get(&name) {
                    Some(&i) => kept[i] = (name, value),
                    None => {
                        first.insert(name.clone(), kept.len());
                        kept.push((name, value));
                    }
                }
            }
            kept.shrink_to_fit();
            entries = kept;
        }
        let mut map = Self {
            entries,
            index: None,
        };
        map.reindex();
        map
    }
}

/// Whether a name occurs twice: pairwise for the few entries a status
/// level has, hashed beyond, so that a hostile map of 100 000 names costs
/// no more than its size.
fn has_repeats<V>(entries: &[(Name, V)]) -> bool {
    const PAIRWISE: usize = 16;
    if entries.len() <= PAIRWISE {
        return entries
            .iter()
            .enumerate()
            .any(|(i, (name, _))| entries[..i].iter().any(|(k, _)| k == name));
    }
    let mut seen = HashSet::with_capacity(entries.len());
    !entries.iter().all(|(name, _)| seen.insert(name.as_str()))
}

impl<V: PartialEq> PartialEq for NameMap<V> {
    /// Equal when they hold the same names with equal values, in any order
    /// (as `IndexMap` compares); entries in the same order compare pairwise.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && (self.entries == other.entries || self.iter().all(|(k, v)| other.get(k) == Some(v)))
    }
}

impl<V: fmt::Debug> fmt::Debug for NameMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V> Index<&str> for NameMap<V> {
    type Output = V;

    /// The value of `name`; panics when absent, as a map's index does.
    fn index(&self, name: &str) -> &V {
        self.get(name)
            .unwrap_or_else(|| panic!("no entry named {name:?}"))
    }
}

impl<K: Into<Name>, V> FromIterator<(K, V)> for NameMap<V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self::from_entries(iter.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

impl<K: Into<Name>, V> Extend<(K, V)> for NameMap<V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<V> IntoIterator for NameMap<V> {
    type Item = (Name, V);
    type IntoIter = std::vec::IntoIter<(Name, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, V> IntoIterator for &'a NameMap<V> {
    type Item = (&'a str, &'a V);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (Name, V)>, fn(&'a (Name, V)) -> (&'a str, &'a V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl<V: Serialize> Serialize for NameMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Decodes a JSON object into a [`NameMap`] of exactly its size. JSON gives
/// no length up front, so the entries are gathered in a per-thread scratch
/// vector first: the map's vector is then allocated once, at its size.
pub(crate) fn exact<'de, A, V>(
    mut map: A,
    scratch: &'static LocalKey<Cell<Vec<(Name, V)>>>,
) -> Result<NameMap<V>, A::Error>
where
    A: MapAccess<'de>,
    V: Deserialize<'de>,
{
    /// Scratch vectors larger than this are freed rather than kept.
    const KEEP: usize = 256;
    type Key<'de> = crate::support::Text<'de>;
    // No entry (most objects' undeclared fields) or one (a capability of
    // one attribute): built directly. Through the scratch, whose per-thread
    // access and repeat check are not free, the empty `extra` of every
    // generated struct cost the 82-device page 5 % more instructions than
    // the `serde_json::Map` it replaced. (The three reads of an entry are
    // written out: one closure for them cost the page 1 % more.)
    let Some(key) = map.next_key::<Key<'de>>()? else {
        return Ok(NameMap::new());
    };
    let first = (Name::from(&*key.0), map.next_value()?);
    let Some(key) = map.next_key::<Key<'de>>()? else {
        return Ok(NameMap {
            entries: vec![first],
            index: None,
        });
    };
    let second = (Name::from(&*key.0), map.next_value()?);
    // Taken, not borrowed: a nested decode of the same type (none today)
    // would simply start from an empty vector.
    let mut entries = scratch.take();
    entries.push(first);
    entries.push(second);
    let mut read = || {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let value = map.next_value()?;
            entries.push((Name::from(&*key.0), value));
        }
        Ok(())
    };
    let out = read().map(|()| {
        let mut exact = Vec::with_capacity(entries.len());
        exact.append(&mut entries);
        NameMap::from_entries(exact)
    });
    entries.clear();
    if entries.capacity() <= KEEP {
        scratch.set(entries);
    }
    out
}

/// `Deserialize` for `$type`, a map decoded through [`exact`] with the
/// per-thread `$scratch` and made into `$type` by `$make`.
macro_rules! exact_map_deserialize {
    ($type:ty, $scratch:path, $make:expr, $what:literal) => {
        impl<'de> ::serde::Deserialize<'de> for $type {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                struct MapVisitor;
                impl<'de> ::serde::de::Visitor<'de> for MapVisitor {
                    type Value = $type;

                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str($what)
                    }

                    fn visit_map<A: ::serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> Result<$type, A::Error> {
                        $crate::name_map::exact(map, &$scratch).map($make)
                    }
                }
                deserializer.deserialize_map(MapVisitor)
            }
        }
    };
}
pub(crate) use exact_map_deserialize;

thread_local! {
    /// The scratch of every map of JSON values: an attribute's `data` and
    /// an object's undeclared fields (never decoded one inside the other).
    pub(crate) static VALUES: Cell<Vec<(Name, Value)>> = const { Cell::new(Vec::new()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_name_keeps_its_first_position_and_last_value_at_any_size() {
        for n in [3, 16, 17, 1000] {
            let mut entries: Vec<(String, usize)> = (0..n).map(|i| (format!("k{i}"), i)).collect();
            entries.push(("k0".into(), n));
            let map: NameMap<usize> = entries.into_iter().collect();
            assert_eq!(map.len(), n, "{n}");
            assert_eq!(map.iter().next(), Some(("k0", &n)), "{n}");
            assert_eq!(map[&*format!("k{}", n - 1)], n - 1);
        }
    }

    #[test]
    fn a_large_map_keeps_its_index_through_every_change() {
        let mut map: NameMap<usize> = NameMap::new();
        for i in 0..200 {
            *map.get_or_insert_with(&format!("k{i}"), || 0) += i;
        }
        assert!(map.index.is_some());
        assert_eq!(map.insert("k5", 500), Some(5));
        assert_eq!(map.remove("k0"), Some(0));
        map.retain(|name, _| name != "k1");
        assert_eq!(map.len(), 198);
        assert_eq!(map.keys().next(), Some("k2"));
        for (i, (name, value)) in map.iter().enumerate() {
            assert_eq!(map.position(name), Some(i));
            assert_eq!(map.get(name), Some(value));
        }
        assert_eq!(map["k5"], 500);
        assert_eq!(map.get("k0"), None);
        map.retain(|name, _| name.len() < 3);
        assert!(map.index.is_none(), "{} entries", map.len());
        assert_eq!(map.get("k9"), Some(&9));
    }

    #[test]
    fn one_undeclared_field_of_an_attribute_is_held_at_its_size() {
        let attribute: crate::status::Attribute =
            serde_json::from_str(r#"{"value": 1, "new": true, "timestamp": "t"}"#).unwrap();
        let other: &NameMap<Value> = &attribute.other;
        assert_eq!((other.entries.len(), other.entries.capacity()), (1, 1));
        assert_eq!(other["new"], true);
    }

    #[test]
    fn equality_ignores_order_as_a_map_does() {
        let a: NameMap<u8> = [("x", 1), ("y", 2)].into_iter().collect();
        let b: NameMap<u8> = [("y", 2), ("x", 1)].into_iter().collect();
        let c: NameMap<u8> = [("y", 2), ("x", 3)].into_iter().collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
