//! Snapshots of a generated home: the one device list and the lists by
//! location see the same home, each in the requests it should cost.

use std::collections::{BTreeMap, HashMap};

use smartthings::status::DeviceStatus;
use smartthings_ext::{SmartThings, Snapshot, SnapshotOptions};
use smartthings_sim::{Config, Home, Simulator};

const PAGE: usize = 200;

fn client(sim: &Simulator) -> SmartThings {
    SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .build()
        .unwrap()
}

fn statuses(snapshot: &Snapshot) -> BTreeMap<String, DeviceStatus> {
    snapshot
        .devices
        .iter()
        .map(|d| (d.id().to_owned(), d.status.clone()))
        .collect()
}

#[tokio::test]
async fn devices_listed_by_location_are_the_same_home_at_a_page_per_location() {
    let home = Home::generated(3, 250, 7).unwrap();
    let mut per_location: HashMap<String, usize> = HashMap::new();
    for device in home.devices.values() {
        let location = device.device["locationId"].as_str().unwrap().to_owned();
        *per_location.entry(location).or_default() += 1;
    }
    assert_eq!(per_location.len(), 3);
    let sim = Simulator::start(home, Config::default()).await.unwrap();
    let c = client(&sim);

    let one_list = c.snapshot().await.unwrap();
    let by_location = c
        .snapshot_with(SnapshotOptions::default().devices_by_location(true))
        .await
        .unwrap();

    assert_eq!(one_list.devices.len(), 250);
    assert_eq!(by_location.devices.len(), 250);
    assert_eq!(statuses(&by_location), statuses(&one_list));
    assert!(statuses(&one_list).values().all(|s| s.main().is_some()));
    assert_eq!(by_location.locations.len(), 3);
    assert_eq!(by_location.status_fallbacks, 0);
    assert!(by_location.invalid.is_empty());
    // Locations, scenes and one room list per location, then the pages.
    let fixed = 1 + 1 + 3;
    assert_eq!(one_list.requests as usize, fixed + 250_usize.div_ceil(PAGE));
    let pages: usize = per_location.values().map(|n| n.div_ceil(PAGE)).sum();
    // Three partial pages where the one list has two: the lists by
    // location were taken, and cost one request more.
    assert_eq!(pages, 3, "{per_location:?}");
    assert_eq!(by_location.requests as usize, fixed + pages);
}
