//! Where state changes meet the event stream: every change of the home is
//! made under its lock and published before the lock is let go, by
//! `Sim::change`, so that the stream never contradicts the state. The random
//! activity and the random stream faults run here too.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::time::{Instant, MissedTickBehavior};

use super::Sim;
use crate::history::Entry;
use crate::home::Home;
use crate::stream::{Activity, ActivityCounts, Attribute, ChangeKind, Running, StateChange, Tally};

/// A device history entry for an attribute change, named as the device
/// and its component are now.
fn history_entry(home: &Home, change: &StateChange, attribute: &Attribute) -> Entry {
    let device = home.devices.get(&change.device_id);
    let device_name = device.map(crate::home::device_label).unwrap_or_default();
    let component_label = device
        .and_then(|d| d.component(&attribute.component))
        .and_then(|c| c["label"].as_str())
        .map(str::to_owned);
    Entry {
        epoch: change.time_ms,
        hash: 0,
        device_id: change.device_id.clone(),
        device_name,
        location_id: change.location_id.clone(),
        component_label,
        attribute: attribute.clone(),
    }
}

/// Two-state attributes the activity flips between.
const TOGGLES: [(&str, &str); 6] = [
    ("on", "off"),
    ("active", "inactive"),
    ("open", "closed"),
    ("locked", "unlocked"),
    ("present", "not present"),
    ("wet", "dry"),
];

/// How often the background tasks wake.
const TICK: Duration = Duration::from_millis(10);

impl Sim {
    /// Change the home, then publish what changed, in order, before the
    /// home is let go.
    pub(crate) fn change<T>(&self, f: impl FnOnce(&mut Home) -> T) -> T {
        let mut home = self.home.lock().expect("home");
        let out = f(&mut home);
        if !home.pending.is_empty() {
            let mut sinks = self.sinks.lock().expect("sinks");
            let mut history = self.history.lock().expect("history");
            let pending = std::mem::take(&mut home.pending);
            for change in pending {
                sinks.publish(&change);
                if let ChangeKind::Attribute(attribute) = &change.kind {
                    history.record(history_entry(&home, &change, attribute));
                }
            }
        }
        out
    }

    pub(crate) fn start_activity(self: &Arc<Self>, activity: Activity) {
        self.stop_activity();
        let stop = Arc::new(Notify::new());
        let tally = Arc::new(Mutex::new(Tally::default()));
        *self.activity.lock().expect("activity") = Some(Running {
            stop: stop.clone(),
            tally: tally.clone(),
        });
        let sim = self.clone();
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(activity.seed);
            let started = Instant::now();
            let mut done = 0_u64;
            let mut tick = tokio::time::interval(TICK);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = stop.notified() => return,
                    _ = tick.tick() => {}
                }
                // Owed by the clock, not by the ticks: a late tick catches up.
                let due = (started.elapsed().as_secs_f64() * activity.events_per_second) as u64;
                let stopped = sim.change(|home| {
                    let mut tally = tally.lock().expect("tally");
                    while done < due && !tally.stopped {
                        done += 1;
                        random_change(home, &mut rng, &activity, &mut tally.counts);
                    }
                    tally.stopped
                });
                if stopped {
                    return;
                }
            }
        });
    }

    /// Stop the activity; what it changed.
    pub(crate) fn stop_activity(&self) -> ActivityCounts {
        let Some(running) = self.activity.lock().expect("activity").take() else {
            return ActivityCounts::default();
        };
        running.stop.notify_one();
        let mut tally = running.tally.lock().expect("tally");
        tally.stopped = true;
        tally.counts
    }

    /// Start the random stream faults of `Config::events`, if any.
    pub(crate) fn start_stream_faults(self: &Arc<Self>) {
        let rates = self.config.events.faults.clone();
        if !rates.any() {
            return;
        }
        let stop = Arc::new(Notify::new());
        *self.chaos.lock().expect("chaos") = Some(stop.clone());
        let sim = self.clone();
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(rates.seed);
            let mut tick = tokio::time::interval(TICK);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            let mut last = Instant::now();
            loop {
                tokio::select! {
                    () = stop.notified() => return,
                    _ = tick.tick() => {}
                }
                let elapsed = last.elapsed();
                last = Instant::now();
                let device = (rates.silence > 0.0).then(|| {
                    let home = sim.home.lock().expect("home");
                    let picked = rng.usize(..home.devices.len().max(1));
                    home.devices.get_index(picked).map(|(id, _)| id.clone())
                });
                sim.sinks.lock().expect("sinks").random_faults(
                    &mut rng,
                    &rates,
                    elapsed,
                    device.flatten().as_deref(),
                );
            }
        });
    }

    /// Stop the background tasks and close every stream with `goodbye`.
    pub(crate) fn shut_down(&self) {
        self.stop_activity();
        if let Some(stop) = self.chaos.lock().expect("chaos").take() {
            stop.notify_one();
        }
        self.sinks.lock().expect("sinks").shutdown();
    }
}

/// One random change to one of the first `activity.devices` devices: a
/// health flip, or an attribute the device has given a new value (a
/// two-state one flipped, a number changed). Numbers are whole, so that
/// every value compares exactly after a round trip.
impl Sim {
    /// Give the home a past: `events` attribute changes spread evenly over
    /// the `window` before now, recorded in the device history as if they
    /// had happened, ending in the home's current state. Worked backwards
    /// from that state: the newest change of an attribute set its current
    /// value (its status timestamp becomes that change's time), and each
    /// earlier one the value before. Nothing is published: no sink existed
    /// then. Attributes the random activity cannot change take no part.
    /// `false`, doing nothing, once the history has entries: the past must
    /// come before them.
    pub(crate) fn invent_past(&self, window: chrono::Duration, events: usize, seed: u64) -> bool {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut home = self.home.lock().expect("home");
        let mut history = self.history.lock().expect("history");
        if !history.entries().is_empty() {
            return false;
        }
        // Every changeable attribute, with its value at the time reached so
        // far going back, and whether its timestamp was set.
        let mut slots: Vec<(String, Attribute, bool)> = Vec::new();
        for (device_id, device) in &home.devices {
            for (component, capability, attribute, state) in changeable(&device.status) {
                slots.push((
                    device_id.clone(),
                    Attribute {
                        component: component.clone(),
                        capability: capability.clone(),
                        attribute: attribute.clone(),
                        value: state["value"].clone(),
                        unit: state["unit"].as_str().map(str::to_owned),
                        command_id: None,
                    },
                    false,
                ));
            }
        }
        if slots.is_empty() || events == 0 {
            return true;
        }
        let now = chrono::Utc::now();
        let step = window / events as i32;
        let mut past = Vec::with_capacity(events);
        for i in 0..events {
            // Newest first: i = 0 is one step before now.
            let at = now - step * (i as i32 + 1);
            let slot = rng.usize(..slots.len());
            let (device_id, attribute, stamped) = &mut slots[slot];
            if !*stamped {
                *stamped = true;
                let state = &mut home
                    .devices
                    .get_mut(device_id.as_str())
                    .expect("listed")
                    .status["components"][&attribute.component][&attribute.capability]
                    [&attribute.attribute];
                state["timestamp"] = json!(crate::home::timestamp(at));
            }
            past.push((device_id.clone(), attribute.clone(), at));
            attribute.value = next_value(&attribute.value, &mut rng).expect("changeable");
        }
        for (device_id, attribute, at) in past.into_iter().rev() {
            let Some(device) = home.devices.get(&device_id) else {
                continue;
            };
            let change = StateChange {
                device_id,
                location_id: device.location_id().to_owned(),
                kind: ChangeKind::Attribute(attribute.clone()),
                time_ms: at.timestamp_millis(),
            };
            history.record(history_entry(&home, &change, &attribute));
        }
        true
    }
}

fn random_change(
    home: &mut Home,
    rng: &mut fastrand::Rng,
    activity: &Activity,
    counts: &mut ActivityCounts,
) {
    let count = activity.devices.min(home.devices.len());
    if count == 0 {
        return;
    }
    let at = chrono::Utc::now();
    let (device_id, device) = home
        .devices
        .get_index(rng.usize(..count))
        .expect("index within the home");
    let device_id = device_id.clone();
    if rng.f64() < activity.health_fraction {
        let online = device.health["state"] == "OFFLINE";
        home.set_health(&device_id, online, at);
        counts.health_flips += 1;
        return;
    }
    let candidates: Vec<_> = changeable(&device.status).collect();
    if candidates.is_empty() {
        return;
    }
    let (component, capability, attribute, state) = candidates[rng.usize(..candidates.len())];
    let value = next_value(&state["value"], rng).expect("changeable");
    let change = Attribute {
        component: component.clone(),
        capability: capability.clone(),
        attribute: attribute.clone(),
        value,
        unit: None,
        command_id: None,
    };
    home.set_attribute(&device_id, change, at);
    counts.attribute_changes += 1;
}

/// The attributes of a device status the activity can change, as
/// (component, capability, attribute, state): toggles and numbers, outside
/// `healthCheck`.
fn changeable(status: &Value) -> impl Iterator<Item = (&String, &String, &String, &Value)> {
    fn objects(v: &Value) -> impl Iterator<Item = (&String, &Value)> {
        v.as_object().into_iter().flatten()
    }
    objects(&status["components"]).flat_map(move |(component, capabilities)| {
        objects(capabilities)
            .filter(|(capability, _)| *capability != "healthCheck")
            .flat_map(move |(capability, attributes)| {
                objects(attributes)
                    .filter(|(_, state)| is_changeable(&state["value"]))
                    .map(move |(attribute, state)| (component, capability, attribute, state))
            })
    })
}

/// Whether [`next_value`] has a new value for `value`.
fn is_changeable(value: &Value) -> bool {
    value.is_number()
        || value
            .as_str()
            .is_some_and(|text| TOGGLES.iter().any(|(a, b)| text == *a || text == *b))
}

/// A new value for an attribute the activity can change: the other state
/// of a toggle; another whole number (0–100 for one in that range, else a
/// step of up to 5 either way).
fn next_value(value: &Value, rng: &mut fastrand::Rng) -> Option<Value> {
    if let Some(text) = value.as_str() {
        let (a, b) = TOGGLES.iter().find(|(a, b)| text == *a || text == *b)?;
        return Some(json!(if text == *a { *b } else { *a }));
    }
    let old = value.as_f64()?;
    let new = if (0.0..=100.0).contains(&old) {
        let new = rng.i64(0..=99);
        if new as f64 >= old { new + 1 } else { new }
    } else {
        let step = rng.i64(1..=5);
        old.round() as i64 + if rng.bool() { step } else { -step }
    };
    Some(json!(new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_values_always_differ_and_stay_whole() {
        let mut rng = fastrand::Rng::with_seed(3);
        for old in [json!(0), json!(50), json!(100), json!(72.5), json!(4000)] {
            for _ in 0..200 {
                let new = next_value(&old, &mut rng).unwrap();
                assert!(new.is_i64(), "{new}");
                assert_ne!(new.as_f64(), old.as_f64());
            }
        }
        assert_eq!(next_value(&json!("on"), &mut rng), Some(json!("off")));
        assert_eq!(
            next_value(&json!("locked"), &mut rng),
            Some(json!("unlocked"))
        );
        assert_eq!(next_value(&json!("paused"), &mut rng), None);
        assert_eq!(next_value(&json!({"hue": 1}), &mut rng), None);
    }
}
