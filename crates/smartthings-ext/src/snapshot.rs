//! The whole home in the fewest requests the API allows, and bulk status.

use std::collections::HashMap;
use std::sync::Arc;

use futures::stream::{self, StreamExt, TryStreamExt};
use smartthings::InvalidItem;
use smartthings::types::{Device, Location, Room, Scene};

use crate::client::SmartThings;
use crate::error::Error;
use crate::lists::DeviceQuery;
use crate::paginate::{Listing, collect_all};
use smartthings::status::DeviceStatus;

use crate::device::{DeviceExt, Health};

/// A location with its rooms and scenes.
#[derive(Clone, Debug)]
pub struct LocationSnapshot {
    /// The location.
    pub location: Location,
    /// Its rooms.
    pub rooms: Vec<Room>,
    /// Its scenes.
    pub scenes: Vec<Scene>,
}

/// A device with its status and health.
#[derive(Clone, Debug)]
pub struct DeviceSnapshot {
    /// The device as listed.
    pub device: Device,
    /// Its full status.
    pub status: DeviceStatus,
    /// Its health, when the list embedded it.
    pub health: Option<Health>,
}

impl DeviceSnapshot {
    /// The device id.
    pub fn id(&self) -> &str {
        self.device.device_id.as_deref().unwrap_or_default()
    }
}

/// Everything in the account at one moment.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Every location, with its rooms and scenes.
    pub locations: Vec<LocationSnapshot>,
    /// Every device, with status and health.
    pub devices: Vec<DeviceSnapshot>,
    /// List items that did not decode, kept as sent.
    pub invalid: Vec<InvalidItem>,
    /// HTTP requests made (attempts, retries included).
    pub requests: u64,
    /// Devices whose status was not embedded and was fetched one by one.
    pub status_fallbacks: usize,
}

/// The device list as [`SmartThings::listed_devices`] sorts it.
#[derive(Default)]
struct ListedDevices {
    /// Devices whose status the list embedded.
    embedded: Vec<DeviceSnapshot>,
    /// Devices listed without status, with their health.
    missing: Vec<(Device, Option<Health>)>,
    /// List items that did not decode.
    invalid: Vec<InvalidItem>,
}

impl ListedDevices {
    /// Both lists, this one's devices first.
    fn append(mut self, other: ListedDevices) -> ListedDevices {
        self.embedded.extend(other.embedded);
        self.missing.extend(other.missing);
        self.invalid.extend(other.invalid);
        self
    }
}

/// How a snapshot is taken.
#[derive(Clone)]
#[non_exhaustive]
pub struct SnapshotOptions {
    /// Requests in flight at once in each stream of per-item requests:
    /// the room lists, the device lists by location, the fallback status
    /// calls.
    pub concurrency: usize,
    /// Called after each step with (done, total) devices, for progress bars.
    pub progress: Option<Arc<dyn Fn(u64, u64) + Send + Sync>>,
    /// List the devices location by location, at once; see
    /// [`SnapshotOptions::devices_by_location`].
    pub devices_by_location: bool,
}

impl Default for SnapshotOptions {
    fn default() -> Self {
        Self {
            concurrency: 8,
            progress: None,
            devices_by_location: false,
        }
    }
}

impl SnapshotOptions {
    /// Requests in flight at once in each stream of per-item requests.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// List the devices of each location on its own, up to `concurrency`
    /// locations at once, rather than in one list whose pages can only be
    /// fetched one after the other (each page's link leads to the next).
    ///
    /// Faster in a home of several locations (the server builds their pages
    /// side by side), at a cost in requests: Σ⌈nᵢ/200⌉ device pages for
    /// locations of nᵢ devices instead of ⌈N/200⌉, the same when at most
    /// one location's last page is partial, and at most one more for each
    /// further location (an empty location costs one). When the location
    /// list is empty, holds an item that did not decode, or names a
    /// location twice or not at all, the one list is taken instead. Only
    /// devices of the listed locations are seen: a device in a location the
    /// token cannot list is missed, where the one list would show it.
    pub fn devices_by_location(mut self, by_location: bool) -> Self {
        self.devices_by_location = by_location;
        self
    }

    /// Report progress as (done, total) devices.
    pub fn progress(mut self, progress: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }
}

impl std::fmt::Debug for SnapshotOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotOptions")
            .field("concurrency", &self.concurrency)
            .field("devices_by_location", &self.devices_by_location)
            .finish_non_exhaustive()
    }
}

impl SmartThings {
    /// Every location with its rooms and scenes, and every device with its
    /// status and health, in ⌈N/200⌉ device pages (`includeStatus=true&
    /// includeHealth=true`) plus the location, room and scene lists. Devices
    /// the server lists without status get one status call each, with
    /// bounded concurrency, under the rate limiter.
    ///
    /// ```no_run
    /// # async fn run(client: smartthings_ext::SmartThings) -> Result<(), smartthings_ext::Error> {
    /// let home = client.snapshot().await?;
    /// println!("{} devices in {} requests", home.devices.len(), home.requests);
    /// # Ok(()) }
    /// ```
    pub async fn snapshot(&self) -> Result<Snapshot, Error> {
        self.snapshot_with(SnapshotOptions::default()).await
    }

    /// [`snapshot`](Self::snapshot) with options.
    pub async fn snapshot_with(&self, options: SnapshotOptions) -> Result<Snapshot, Error> {
        let before = self.metrics().requests;
        let concurrency = options.concurrency.max(1);
        let by_location = options.devices_by_location;
        let everything = || DeviceQuery::all().with_status_and_health();
        // The device pages follow each other's next links, so they are the
        // long pole: the room lists (and, by location, the device lists) go
        // out as soon as the location list is in, while the pages of the
        // one list are still coming, not after them.
        let locations_with_rooms = async {
            let locations = collect_all(self.locations()).await?;
            // Owned ids: a future borrowing the list through a closure
            // argument would not be `Send`, and callers spawn snapshots.
            let ids: Vec<String> = locations
                .items
                .iter()
                .map(|location| location.location_id.clone().unwrap_or_default())
                .collect();
            // Listing by location sees every device only when every
            // location is known by its id, once each.
            let mut distinct: Vec<&str> = ids.iter().map(String::as_str).collect();
            distinct.sort_unstable();
            distinct.dedup();
            let every_location_listed = !ids.is_empty()
                && locations.invalid.is_empty()
                && distinct.len() == ids.len()
                && !distinct.contains(&"");
            let rooms = stream::iter(ids.clone())
                .map(|id| async move { collect_all(self.rooms(&id)).await })
                .buffered(concurrency)
                .try_collect::<Vec<Listing<Room>>>();
            let devices = async {
                if !by_location {
                    return Ok(None);
                }
                if !every_location_listed {
                    return self.listed_devices(everything()).await.map(Some);
                }
                let lists: Vec<ListedDevices> = stream::iter(ids.clone())
                    .map(|id| self.listed_devices(everything().location(id)))
                    .buffered(concurrency)
                    .try_collect()
                    .await?;
                Ok(Some(
                    lists
                        .into_iter()
                        .fold(ListedDevices::default(), ListedDevices::append),
                ))
            };
            let (rooms, devices) = futures::try_join!(rooms, devices)?;
            Ok::<_, Error>((locations, rooms, devices))
        };
        let one_list = async {
            if by_location {
                return Ok(None);
            }
            self.listed_devices(everything()).await.map(Some)
        };
        let ((locations, rooms, by_location), scenes, one_list) = futures::try_join!(
            locations_with_rooms,
            collect_all(self.scenes(None)),
            one_list,
        )?;
        let listed = by_location.or(one_list).unwrap_or_default();
        let mut invalid = [locations.invalid, scenes.invalid, listed.invalid].concat();
        let mut scenes_by_location: HashMap<String, Vec<Scene>> = HashMap::new();
        for scene in scenes.items {
            let key = scene.location_id.clone().unwrap_or_default();
            scenes_by_location.entry(key).or_default().push(scene);
        }
        let locations = locations
            .items
            .into_iter()
            .zip(rooms)
            .map(|(location, rooms)| {
                invalid.extend(rooms.invalid);
                let id = location.location_id.clone().unwrap_or_default();
                LocationSnapshot {
                    scenes: scenes_by_location.remove(&id).unwrap_or_default(),
                    rooms: rooms.items,
                    location,
                }
            })
            .collect();

        let ListedDevices {
            mut embedded,
            missing,
            ..
        } = listed;
        let total = (embedded.len() + missing.len()) as u64;
        let report = |done| {
            if let Some(progress) = &options.progress {
                progress(done, total);
            }
        };
        report(embedded.len() as u64);
        let status_fallbacks = missing.len();
        let done = embedded.len() as u64;
        let fetched: Vec<DeviceSnapshot> = stream::iter(missing)
            .map(|(device, health)| async move {
                let id = device.device_id.clone().unwrap_or_default();
                let status = self.get_device_status().device_id(id).send().await?;
                Ok::<_, Error>(DeviceSnapshot {
                    device,
                    status,
                    health,
                })
            })
            .buffered(concurrency)
            .enumerate()
            .map(|(i, result)| {
                report(done + i as u64 + 1);
                result
            })
            .try_collect()
            .await?;
        embedded.extend(fetched);
        Ok(Snapshot {
            locations,
            devices: embedded,
            invalid,
            requests: self.metrics().requests - before,
            status_fallbacks,
        })
    }

    /// Every device `query` lists, with status and health, split into
    /// those whose status the list embedded and those it did not.
    ///
    /// Each page's devices are turned into snapshots while the next page is
    /// already requested: `ready_chunks` hands over what the list has
    /// buffered only once it has polled for more, which sends the next
    /// page's request, so the server builds that page while this converts
    /// (cloning every status takes a few milliseconds per 1000 devices).
    async fn listed_devices(&self, query: DeviceQuery) -> Result<ListedDevices, Error> {
        // Larger than any page (at most 200 items), so that a chunk ends
        // where the list has to wait for the server, not at a page's end.
        const CHUNK: usize = 256;
        let mut pages = self.devices(query).ready_chunks(CHUNK);
        let mut listed = ListedDevices::default();
        while let Some(chunk) = pages.next().await {
            for item in chunk {
                let device = match item {
                    Ok(device) => device,
                    // An odd device is set aside, as `collect_all` does.
                    Err(e) => {
                        listed.invalid.push(e.into_invalid_item()?);
                        continue;
                    }
                };
                let health = device.health();
                match device.embedded_status() {
                    Some(status) => listed.embedded.push(DeviceSnapshot {
                        device,
                        status,
                        health,
                    }),
                    None => listed.missing.push((device, health)),
                }
            }
        }
        Ok(listed)
    }

    /// The status of many devices, `concurrency` requests at a time, each
    /// waiting for its device's rate-limit bucket: a stream of
    /// `(device id, status)` in input order.
    pub fn statuses<'a>(
        &'a self,
        device_ids: impl IntoIterator<Item = String> + 'a,
        concurrency: usize,
    ) -> impl futures::Stream<Item = (String, Result<DeviceStatus, Error>)> + 'a {
        stream::iter(device_ids)
            .map(move |id| async move {
                let status = self.get_device_status().device_id(id.as_str()).send().await;
                (id, status)
            })
            .buffered(concurrency.max(1))
    }
}
