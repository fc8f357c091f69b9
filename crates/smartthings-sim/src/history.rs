//! Device history: every attribute event the simulator publishes, kept in
//! order as `listDeviceHistory` serves it. Each entry has an `epoch` (its
//! time, in milliseconds) and a `hash` (a counter over every entry ever
//! recorded), and `(epoch, hash)` strictly increases in recording order: the
//! epoch never goes back (a clock that does is held at the last epoch), and
//! the hash is never repeated. Paging by that pair therefore has neither
//! gaps nor duplicates, whatever arrives meanwhile.

use std::collections::VecDeque;

use serde_json::{Value, json};

use crate::stream::Attribute;

/// How many history entries the simulator keeps: the oldest go first.
pub const MAX_HISTORY: usize = 100_000;

/// The device history page size when `limit` is not given (at most
/// [`MAX_PAGE`](crate::MAX_PAGE), 200, per page).
pub const HISTORY_PAGE: usize = 20;

/// One recorded attribute event.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) epoch: i64,
    pub(crate) hash: i64,
    pub(crate) device_id: String,
    /// The device's label when the event happened (the answer uses the
    /// label at the time of the query while the device exists).
    pub(crate) device_name: String,
    pub(crate) location_id: String,
    pub(crate) component_label: Option<String>,
    pub(crate) attribute: Attribute,
}

impl Entry {
    /// The position of the entry in the total order.
    pub(crate) fn key(&self) -> (i64, i64) {
        (self.epoch, self.hash)
    }

    /// The `DeviceActivity` as served, with the device's current name and
    /// its location's name.
    pub(crate) fn activity(&self, device_name: Option<&str>, location_name: &str) -> Value {
        let a = &self.attribute;
        let name = device_name.unwrap_or(&self.device_name);
        let value = match &a.value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let unit = a.unit.as_deref().unwrap_or_default();
        let time = chrono::DateTime::from_timestamp_millis(self.epoch)
            .map(crate::home::timestamp)
            .unwrap_or_default();
        let mut activity = json!({
            "deviceId": self.device_id,
            "deviceName": name,
            "locationId": self.location_id,
            "locationName": location_name,
            "time": time,
            "epoch": self.epoch,
            "hash": self.hash,
            "component": a.component,
            "capability": a.capability,
            "attribute": a.attribute,
            "value": a.value,
            "translatedAttributeName": a.attribute,
            "translatedAttributeValue": value,
            "text": format!("{name} {} is {value}{unit}", a.attribute),
            "data": {},
        });
        if let Some(unit) = &a.unit {
            activity["unit"] = json!(unit);
        }
        if let Some(label) = &self.component_label {
            activity["componentLabel"] = json!(label);
        }
        activity
    }
}

/// The recorded entries, oldest first, at most [`MAX_HISTORY`].
#[derive(Debug, Default)]
pub(crate) struct History {
    entries: VecDeque<Entry>,
    last_epoch: i64,
    next_hash: i64,
}

impl History {
    /// Record an event; its epoch is held at the last one if the clock
    /// went back.
    pub(crate) fn record(&mut self, mut entry: Entry) {
        entry.epoch = entry.epoch.max(self.last_epoch);
        self.last_epoch = entry.epoch;
        self.next_hash += 1;
        entry.hash = self.next_hash;
        if self.entries.len() == MAX_HISTORY {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// Every entry, oldest first.
    pub(crate) fn entries(&self) -> &VecDeque<Entry> {
        &self.entries
    }

    /// The index of the first entry after `key` (entries are sorted by
    /// key).
    pub(crate) fn after(&self, key: (i64, i64)) -> usize {
        self.entries.partition_point(|e| e.key() <= key)
    }

    /// The index of the first entry at or after `key`.
    pub(crate) fn before(&self, key: (i64, i64)) -> usize {
        self.entries.partition_point(|e| e.key() < key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(epoch: i64) -> Entry {
        Entry {
            epoch,
            hash: 0,
            device_id: "d".into(),
            device_name: "Device".into(),
            location_id: "l".into(),
            component_label: None,
            attribute: Attribute {
                component: "main".into(),
                capability: "switch".into(),
                attribute: "switch".into(),
                value: json!("on"),
                unit: None,
                command_id: None,
            },
        }
    }

    #[test]
    fn keys_strictly_increase_even_when_the_clock_goes_back() {
        let mut history = History::default();
        for epoch in [5, 5, 3, 9, 9, 1] {
            history.record(entry(epoch));
        }
        let keys: Vec<_> = history.entries().iter().map(Entry::key).collect();
        assert_eq!(keys, [(5, 1), (5, 2), (5, 3), (9, 4), (9, 5), (9, 6)]);
        assert_eq!(history.after((5, 2)), 2);
        assert_eq!(history.before((5, 2)), 1);
        assert_eq!(history.before((9, i64::MIN)), 3);
    }

    #[test]
    fn the_oldest_entries_go_beyond_the_bound() {
        let mut history = History::default();
        for epoch in 0..(MAX_HISTORY as i64 + 10) {
            history.record(entry(epoch));
        }
        assert_eq!(history.entries().len(), MAX_HISTORY);
        assert_eq!(history.entries()[0].key(), (10, 11));
    }
}
