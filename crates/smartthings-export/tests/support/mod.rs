//! What the export tests share.
// Each test binary uses a part of it.
#![allow(dead_code)]

use serde_json::json;
use smartthings_ext::SmartThings;
use smartthings_sim::Simulator;

/// A client of the simulator, with the default policies.
pub fn client(sim: &Simulator) -> SmartThings {
    SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .build()
        .unwrap()
}

/// `n` level changes spread over every device, values never repeating.
pub fn change_levels(sim: &Simulator, n: usize, first: usize) {
    let ids: Vec<String> = sim.with_home(|h| h.devices.keys().cloned().collect());
    change_levels_of(sim, &ids, n, first);
}

/// `n` level changes spread over the devices of the home's first location.
pub fn change_levels_in_first_location(sim: &Simulator, n: usize, first: usize) {
    let ids: Vec<String> = sim.with_home(|h| {
        let first_location = h.locations.keys().next().expect("a location");
        h.devices
            .iter()
            .filter(|(_, d)| d.location_id() == first_location)
            .map(|(id, _)| id.clone())
            .collect()
    });
    change_levels_of(sim, &ids, n, first);
}

fn change_levels_of(sim: &Simulator, ids: &[String], n: usize, first: usize) {
    for i in 0..n {
        let id = &ids[i % ids.len()];
        assert!(sim.set_attribute(id, "main", "switchLevel", "level", json!(first + i)));
    }
}
