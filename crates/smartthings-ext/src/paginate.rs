//! Lazy item streams over SmartThings' list endpoints.
//!
//! The rules (seed 002): a page's `_links.next.href` is the absolute URL of
//! the next page with all its query parameters; `_links` missing, `null` or
//! `{}` ends the list. A next link is followed only on the configured origin
//! (the token never goes elsewhere), and a link seen twice ends the stream
//! with an error instead of looping. Rules page by `max`/`offset`.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt};
use reqwest::header::{ACCEPT, HeaderValue};
use serde::de::DeserializeOwned;
use smartthings::types::{
    App, CapabilitySummary, Device, ListAppsResponse, ListCapabilitiesResponse,
    ListDevicesResponse, ListLocationsResponse, ListRoomsResponse, ListRulesResponse,
    ListScenesResponse, ListSubscriptionsResponse, Location, Room, Rule, Scene, Subscription,
};
use smartthings::{InvalidItem, Lenient, Transport};

use crate::client::SmartThings;
use crate::error::{Error, ErrorKind};
use crate::transport::same_origin;

/// A stream of the items of a list, fetched page by page as it is read.
pub type ItemStream<T> = BoxStream<'static, Result<T, Error>>;

/// A list response of the generated client: its items and its next link.
pub trait ListPage: DeserializeOwned + Send + 'static {
    /// The item type.
    type Item: Send + 'static;
    /// The page's items and the `href` of its next page, if any.
    fn into_parts(self) -> (Vec<Lenient<Self::Item>>, Option<String>);
}

macro_rules! list_pages {
    ($($page:ty => $item:ty),* $(,)?) => {$(
        impl ListPage for $page {
            type Item = $item;
            fn into_parts(self) -> (Vec<Lenient<$item>>, Option<String>) {
                let next = self.links.and_then(|l| l.next).and_then(|n| n.href);
                (self.items.unwrap_or_default(), next.filter(|h| !h.is_empty()))
            }
        }
    )*};
}

list_pages! {
    ListDevicesResponse => Device,
    ListLocationsResponse => Location,
    ListRoomsResponse => Room,
    ListScenesResponse => Scene,
    ListRulesResponse => Rule,
    ListSubscriptionsResponse => Subscription,
    ListAppsResponse => App,
    ListCapabilitiesResponse => CapabilitySummary,
}

/// Every item of a list, with the items that did not decode set aside.
#[derive(Clone, Debug)]
pub struct Listing<T> {
    /// Items that decoded, in order.
    pub items: Vec<T>,
    /// Items that did not decode, kept as sent.
    pub invalid: Vec<InvalidItem>,
}

/// Read a whole stream: fails on the first transport or API error, but an
/// odd item only lands in [`Listing::invalid`].
///
/// Note that this reads every page before returning; for large homes
/// prefer consuming the stream.
pub async fn collect_all<T>(mut stream: ItemStream<T>) -> Result<Listing<T>, Error> {
    let mut listing = Listing {
        items: Vec::new(),
        invalid: Vec::new(),
    };
    while let Some(item) = stream.next().await {
        match item {
            Ok(item) => listing.items.push(item),
            Err(e) => match e.into_invalid_item() {
                Ok(invalid) => listing.invalid.push(invalid),
                Err(e) => return Err(e),
            },
        }
    }
    Ok(listing)
}

type PageFuture<P> = BoxFuture<'static, Result<P, Error>>;
type OffsetFetch<P> = Arc<dyn Fn(u64) -> PageFuture<P> + Send + Sync>;

enum Next<P> {
    First(PageFuture<P>),
    Link(String),
    Offset(u64),
    /// The list ends with this error once the buffered items are out.
    Fail(Error),
    Done,
}

struct State<P: ListPage> {
    client: SmartThings,
    operation: &'static str,
    buffer: VecDeque<Lenient<P::Item>>,
    next: Next<P>,
    seen: HashSet<String>,
    /// For offset paging: the page size asked for, and how to ask.
    offset: Option<(u64, OffsetFetch<P>)>,
    consumed: u64,
}

impl SmartThings {
    /// A stream over a list whose first page `first` fetches.
    pub fn paginate<P: ListPage>(
        &self,
        operation: &'static str,
        first: PageFuture<P>,
    ) -> ItemStream<P::Item> {
        self.stream(operation, first, None)
    }

    /// Like [`paginate`](Self::paginate) for `max`/`offset` lists: when a
    /// page has no next link but is full, the next offset is requested.
    pub fn paginate_by_offset<P: ListPage>(
        &self,
        operation: &'static str,
        page_size: u64,
        fetch: impl Fn(u64) -> PageFuture<P> + Send + Sync + 'static,
    ) -> ItemStream<P::Item> {
        let fetch: OffsetFetch<P> = Arc::new(fetch);
        self.stream(operation, fetch(0), Some((page_size.max(1), fetch)))
    }

    fn stream<P: ListPage>(
        &self,
        operation: &'static str,
        first: PageFuture<P>,
        offset: Option<(u64, OffsetFetch<P>)>,
    ) -> ItemStream<P::Item> {
        let state = State::<P> {
            client: self.clone(),
            operation,
            buffer: VecDeque::new(),
            next: Next::First(first),
            seen: HashSet::new(),
            offset,
            consumed: 0,
        };
        stream::unfold(state, |mut state| async move {
            loop {
                if let Some(item) = state.buffer.pop_front() {
                    let item = item.into_result().map_err(Error::invalid_item);
                    return Some((item, state));
                }
                let page = match std::mem::replace(&mut state.next, Next::Done) {
                    Next::Done => return None,
                    Next::Fail(error) => return Some((Err(error), state)),
                    Next::First(future) => future.await,
                    Next::Offset(offset) => {
                        let (_, fetch) = state.offset.as_ref().expect("offset paging");
                        fetch(offset).await
                    }
                    Next::Link(href) => state.client.fetch_page::<P>(&href, state.operation).await,
                };
                let page = match page {
                    Ok(page) => page,
                    Err(e) => return Some((Err(e), state)),
                };
                let (items, link) = page.into_parts();
                let count = items.len() as u64;
                state.consumed += count;
                state.buffer.extend(items);
                state.next = match (link, &state.offset) {
                    (Some(href), _) => {
                        if state.seen.insert(href.clone()) {
                            Next::Link(href)
                        } else {
                            Next::Fail(Error::new(
                                ErrorKind::Pagination,
                                format!("the server repeated the next link {href:?}; stopped instead of looping"),
                            ))
                        }
                    }
                    (None, Some((size, _))) if count >= *size => Next::Offset(state.consumed),
                    (None, _) => Next::Done,
                };
            }
        })
        .boxed()
    }

    /// Fetch a page by its next link, on the configured origin only.
    async fn fetch_page<P: ListPage>(
        &self,
        href: &str,
        operation: &'static str,
    ) -> Result<P, Error> {
        let url = next_page_url(self.base_url(), href)?;
        self.get_json(url, operation).await
    }

    /// GET a URL on the configured origin through the transport and decode
    /// its JSON body.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        url: url::Url,
        operation: &'static str,
    ) -> Result<T, Error> {
        let request = self
            .http
            .get(url)
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .build()
            .map_err(Error::transport)?;
        let response = self
            .transport
            .execute(&self.http, request, operation)
            .await
            .map_err(Error::transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(Error::body)?;
        if !status.is_success() {
            return Err(Error::from_response(status, &headers, &body));
        }
        serde_json::from_slice(&body).map_err(|e| Error::decode(&body, e))
    }
}

/// The pagination link check: the URL of a `_links.next.href`, resolved
/// against the base URL, if and only if it is on the base URL's origin
/// (scheme, host and port). The token is never sent anywhere else.
///
/// ```
/// use smartthings_ext::next_page_url;
/// let base = url::Url::parse("https://api.smartthings.com/v1").unwrap();
/// assert!(next_page_url(&base, "https://api.smartthings.com/v1/devices?page=1").is_ok());
/// assert!(next_page_url(&base, "https://evil.example/v1/devices?page=1").is_err());
/// assert!(next_page_url(&base, "http://api.smartthings.com/v1/devices").is_err());
/// ```
pub fn next_page_url(base: &url::Url, href: &str) -> Result<url::Url, Error> {
    let url = base.join(href).map_err(|e| {
        Error::new(
            ErrorKind::Pagination,
            format!("next link {href:?} is not a URL: {e}"),
        )
    })?;
    if same_origin(&url, base) {
        Ok(url)
    } else {
        Err(Error::new(
            ErrorKind::Pagination,
            format!(
                "next link points to {}, not to the configured {}; not followed (the token is never sent elsewhere)",
                origin(&url),
                origin(base)
            ),
        ))
    }
}

fn origin(url: &url::Url) -> String {
    match url.port() {
        Some(port) => format!(
            "{}://{}:{port}",
            url.scheme(),
            url.host_str().unwrap_or("?")
        ),
        None => format!("{}://{}", url.scheme(), url.host_str().unwrap_or("?")),
    }
}
