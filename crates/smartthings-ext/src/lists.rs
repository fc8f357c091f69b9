//! One stream per list operation.

use futures::FutureExt;
use futures::future::BoxFuture;
use smartthings::types::{
    App, CapabilitySummary, Device, Location, Room, Rule, Scene, Subscription,
};

use crate::client::SmartThings;
use crate::error::Error;
use crate::paginate::ItemStream;

/// A page request that owns its client, as a stream's next step must.
fn page<P, F>(
    client: &SmartThings,
    fetch: impl FnOnce(SmartThings) -> F,
) -> BoxFuture<'static, Result<P, Error>>
where
    F: Future<Output = Result<P, Error>> + Send + 'static,
{
    fetch(client.clone()).boxed()
}

/// Filters of the device list (seed 003).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct DeviceQuery {
    /// Only devices with all of these capabilities.
    pub capabilities: Vec<String>,
    /// Only devices in this location.
    pub location_id: Option<String>,
    /// Only these devices.
    pub device_ids: Vec<String>,
    /// Embed every capability's status (seed 003).
    pub include_status: bool,
    /// Embed each device's `healthState` (seed 003).
    pub include_health: bool,
    /// Page size (at most 200, the default).
    pub page_size: Option<u32>,
}

impl DeviceQuery {
    /// All devices.
    pub fn all() -> Self {
        Self::default()
    }

    /// Devices with `capability`.
    pub fn capability(mut self, capability: impl Into<String>) -> Self {
        self.capabilities.push(capability.into());
        self
    }

    /// Devices of one location.
    pub fn location(mut self, location_id: impl Into<String>) -> Self {
        self.location_id = Some(location_id.into());
        self
    }

    /// One more device id to include.
    pub fn device(mut self, device_id: impl Into<String>) -> Self {
        self.device_ids.push(device_id.into());
        self
    }

    /// Embed status and health in the list (the fewest requests for a
    /// dashboard of every device).
    pub fn with_status_and_health(mut self) -> Self {
        self.include_status = true;
        self.include_health = true;
        self
    }

    /// A smaller page size.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size.clamp(1, 200));
        self
    }
}

impl SmartThings {
    /// Every device matching `query`, page by page.
    ///
    /// ```no_run
    /// # async fn run(client: smartthings_ext::SmartThings) -> Result<(), smartthings_ext::Error> {
    /// use futures::TryStreamExt;
    /// use smartthings_ext::DeviceQuery;
    ///
    /// let mut devices = client.devices(DeviceQuery::all().capability("switch"));
    /// while let Some(device) = devices.try_next().await? {
    ///     println!("{}", device.label.as_deref().unwrap_or("?"));
    /// }
    /// # Ok(()) }
    /// ```
    pub fn devices(&self, query: DeviceQuery) -> ItemStream<Device> {
        let first = page(self, |client| async move {
            let mut request = client.list_devices();
            if !query.capabilities.is_empty() {
                request = request.capability(query.capabilities);
            }
            if !query.device_ids.is_empty() {
                request = request.device_id(query.device_ids);
            }
            if let Some(location) = query.location_id {
                request = request.location_id(location);
            }
            if query.include_status {
                request = request.include_status(true);
            }
            if query.include_health {
                request = request.include_health(true);
            }
            if let Some(size) = query
                .page_size
                .and_then(|s| std::num::NonZeroU64::new(s.into()))
            {
                request = request.max(size);
            }
            request.send().await
        });
        self.paginate("list_devices", first)
    }

    /// Every location.
    pub fn locations(&self) -> ItemStream<Location> {
        self.paginate(
            "list_locations",
            page(self, |client| async move {
                client.list_locations().send().await
            }),
        )
    }

    /// The rooms of a location.
    pub fn rooms(&self, location_id: &str) -> ItemStream<Room> {
        let location = location_id.to_owned();
        self.paginate(
            "list_rooms",
            page(self, |client| async move {
                client.list_rooms().location_id(location).send().await
            }),
        )
    }

    /// Scenes, of one location or of all.
    pub fn scenes(&self, location_id: Option<&str>) -> ItemStream<Scene> {
        let location = location_id.map(str::to_owned);
        self.paginate(
            "list_scenes",
            page(self, |client| async move {
                let mut request = client.list_scenes();
                if let Some(location) = location {
                    request = request.location_id(location);
                }
                request.send().await
            }),
        )
    }

    /// The rules of a location, by `max`/`offset` (and next links, if sent).
    pub fn rules(&self, location_id: &str) -> ItemStream<Rule> {
        const PAGE: u64 = 100;
        let (client, location) = (self.clone(), location_id.to_owned());
        self.paginate_by_offset("list_rules", PAGE, move |offset| {
            let location = location.clone();
            page(&client, |client| async move {
                let mut request = client.list_rules().location_id(location).max(PAGE as i64);
                if offset > 0 {
                    request = request.offset(offset as i64);
                }
                request.send().await
            })
        })
    }

    /// The subscriptions of an installed app.
    pub fn subscriptions(&self, installed_app_id: &str) -> ItemStream<Subscription> {
        let app = installed_app_id.to_owned();
        self.paginate(
            "list_subscriptions",
            page(self, |client| async move {
                client
                    .list_subscriptions()
                    .installed_app_id(app)
                    .send()
                    .await
            }),
        )
    }

    /// The SmartApps of the account.
    pub fn apps(&self) -> ItemStream<App> {
        self.paginate(
            "list_apps",
            page(
                self,
                |client| async move { client.list_apps().send().await },
            ),
        )
    }

    /// Capability definitions.
    pub fn capabilities(&self) -> ItemStream<CapabilitySummary> {
        self.paginate(
            "list_capabilities",
            page(self, |client| async move {
                client.list_capabilities().send().await
            }),
        )
    }
}
