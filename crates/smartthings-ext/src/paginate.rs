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
use serde::Serialize;
use serde::de::DeserializeOwned;
use smartthings::{InvalidItem, Lenient, Transport};

use crate::call::{failed, recorded};
use crate::client::SmartThings;
use crate::error::{Error, ErrorKind};
use crate::transport::same_origin;

/// A stream of the items of a list, fetched page by page as it is read;
/// `'a` is the client it borrows (see [`ItemStream`] for an owned one).
pub type Items<'a, T> = BoxStream<'a, Result<T, Error>>;

/// A list's item stream that owns its client, as the convenience lists
/// (`client.devices(..)`, `client.rooms(..)`, ...) return: it can be moved
/// into a task.
pub type ItemStream<T> = Items<'static, T>;

/// A list response of the generated client: its items and its next link.
/// Implemented by `cargo xtask regen` for every response with `items` and
/// `_links`, whose builders then have `items()`.
pub trait ListPage: DeserializeOwned + Send + 'static {
    /// The item type.
    type Item: Serialize + Send + 'static;
    /// The page's items and the `href` of its next page, if any.
    fn into_parts(self) -> (Vec<Lenient<Self::Item>>, Option<String>);
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
pub async fn collect_all<T>(mut stream: Items<'_, T>) -> Result<Listing<T>, Error> {
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

type PageFuture<'a, P> = BoxFuture<'a, Result<P, Error>>;
type OffsetFetch<P> = Arc<dyn Fn(u64) -> PageFuture<'static, P> + Send + Sync>;

enum Next<'a, P> {
    First(PageFuture<'a, P>),
    Link(String),
    Offset(u64),
    /// The list ends with this error once the buffered items are out.
    Fail(Error),
    Done,
}

struct State<'a, P: ListPage> {
    client: SmartThings,
    operation: &'static str,
    buffer: VecDeque<Lenient<P::Item>>,
    next: Next<'a, P>,
    /// Next links followed, in canonical form (query pairs sorted).
    seen: HashSet<String>,
    /// For offset paging: the page size asked for, and how to ask.
    offset: Option<(u64, OffsetFetch<P>)>,
    consumed: u64,
    /// Pages fetched so far.
    pages: u32,
    /// Empty pages in a row that still had a next page.
    empty_run: u32,
    /// A fingerprint of the last non-empty page's items.
    last_page: Option<u64>,
}

/// Empty pages in a row (each with a next link) after which a list is taken
/// to be spinning.
const MAX_EMPTY_RUN: u32 = 3;

/// The loop guards, checked after each page: whether the list may go on to
/// the next page. Each refusal is a [`ErrorKind::Pagination`] error that the
/// stream yields after the page's items — except a repeated page, whose
/// items were all yielded before.
impl<P: ListPage> State<'_, P> {
    fn guard(&mut self, items: &[Lenient<P::Item>], more: bool) -> Result<(), Stop> {
        self.pages += 1;
        let refuse = |why: String| Err(Stop::After(Error::new(ErrorKind::Pagination, why)));
        if !items.is_empty() {
            self.empty_run = 0;
            let fingerprint = fingerprint(items);
            if self.last_page.replace(fingerprint) == Some(fingerprint) {
                return Err(Stop::Instead(Error::new(
                    ErrorKind::Pagination,
                    format!(
                        "the server sent the same page twice in {} (it ignored the paging \
                     parameters?); stopped instead of looping",
                        self.operation
                    ),
                )));
            }
        } else if more {
            self.empty_run += 1;
            if self.empty_run >= MAX_EMPTY_RUN {
                return refuse(format!(
                    "{MAX_EMPTY_RUN} empty pages in a row, each with a next page, in {}; \
                     stopped instead of spinning",
                    self.operation
                ));
            }
        }
        if more && self.pages >= self.client.max_pages {
            return refuse(format!(
                "{} has more than {} pages; stopped (raise ClientBuilder::max_pages if the \
                 account really is that large)",
                self.operation, self.client.max_pages
            ));
        }
        Ok(())
    }
}

/// Why a list stops: after the page's items, or instead of them (a page
/// already yielded).
enum Stop {
    After(Error),
    Instead(Error),
}

fn fingerprint<T: Serialize>(items: &[T]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_vec(items)
        .unwrap_or_default()
        .hash(&mut hasher);
    hasher.finish()
}

/// A next link in a form where the same page compares equal however its
/// query is ordered.
fn canonical_link(base: &url::Url, href: &str) -> String {
    let Ok(mut url) = base.join(href) else {
        return href.to_owned();
    };
    let mut pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    pairs.sort();
    url.set_fragment(None);
    if pairs.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

impl SmartThings {
    /// A stream over a list whose first page `first` fetches; the pages
    /// after it by their next links. Every list builder's `items()` is this.
    pub fn paginate<'a, P: ListPage>(
        &self,
        operation: &'static str,
        first: PageFuture<'a, P>,
    ) -> Items<'a, P::Item> {
        self.stream(operation, first, None)
    }

    /// Like [`paginate`](Self::paginate) for `max`/`offset` lists: when a
    /// page has no next link but is full, the next offset is requested.
    pub fn paginate_by_offset<P: ListPage>(
        &self,
        operation: &'static str,
        page_size: u64,
        fetch: impl Fn(u64) -> PageFuture<'static, P> + Send + Sync + 'static,
    ) -> ItemStream<P::Item> {
        let fetch: OffsetFetch<P> = Arc::new(fetch);
        self.stream(operation, fetch(0), Some((page_size.max(1), fetch)))
    }

    fn stream<'a, P: ListPage>(
        &self,
        operation: &'static str,
        first: PageFuture<'a, P>,
        offset: Option<(u64, OffsetFetch<P>)>,
    ) -> Items<'a, P::Item> {
        let state = State::<'a, P> {
            client: self.clone(),
            operation,
            buffer: VecDeque::new(),
            next: Next::First(first),
            seen: HashSet::new(),
            offset,
            consumed: 0,
            pages: 0,
            empty_run: 0,
            last_page: None,
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
                let next = match (link, &state.offset) {
                    (Some(href), _) => {
                        let canonical = canonical_link(state.client.base_url(), &href);
                        if state.seen.insert(canonical) {
                            Next::Link(href)
                        } else {
                            Next::Fail(Error::new(
                                ErrorKind::Pagination,
                                format!("the server repeated the next link {href:?}; stopped instead of looping"),
                            ))
                        }
                    }
                    // A short page is not proof of the end: a server may cap
                    // its pages below the size asked. Only an empty page ends
                    // an offset list (one request more, nothing missed).
                    (None, Some(_)) if count > 0 => Next::Offset(state.consumed),
                    (None, _) => Next::Done,
                };
                let more = matches!(next, Next::Link(_) | Next::Offset(_));
                state.next = match state.guard(&items, more) {
                    Ok(()) => next,
                    Err(Stop::After(error)) => Next::Fail(error),
                    Err(Stop::Instead(error)) => {
                        state.next = Next::Fail(error);
                        continue;
                    }
                };
                state.buffer.extend(items);
            }
        })
        .boxed()
    }

    /// GET a link the API answered with — a list's `_links.previous.href`
    /// to page backwards, or any `_links` entry — on the configured origin
    /// only (the token never goes elsewhere), through the same transport
    /// as every operation (limits, retries, typed errors).
    ///
    /// ```no_run
    /// # async fn run(client: smartthings_ext::SmartThings) -> Result<(), smartthings_ext::Error> {
    /// use smartthings_ext::types::DeviceActivityList;
    ///
    /// let page = client.list_device_history().location_id(vec!["home".into()]).send().await?;
    /// if let Some(previous) = page.links.and_then(|l| l.previous).and_then(|l| l.href) {
    ///     let newer: DeviceActivityList = client.get_link(&previous).await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_link<T: DeserializeOwned>(&self, href: &str) -> Result<T, Error> {
        let url = next_page_url(self.base_url(), href)?;
        self.get_json(url, "get_link").await
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
        self.send_json(request, operation).await
    }

    /// Send a request through the transport (token, limits, retries) and
    /// decode its JSON body; an empty body decodes as `null`.
    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        request: reqwest::Request,
        operation: &'static str,
    ) -> Result<T, Error> {
        let (result, record) = recorded(async {
            let response = self
                .transport
                .execute(&self.http, request, operation)
                .await?;
            response.bytes().await
        })
        .await;
        match result {
            Ok(body) if record.error_response.is_none() && record.local.is_none() => {
                let body: &[u8] = if body.is_empty() { b"null" } else { &body };
                smartthings::decode_body(body)
                    .map_err(|e| failed(record, || Error::decode(body, e)))
            }
            Ok(_) => Err(failed(record, || {
                Error::new(ErrorKind::Http, "the server refused the request")
            })),
            Err(e) => Err(failed(record, || Error::transport(e))),
        }
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
