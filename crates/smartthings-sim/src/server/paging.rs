//! Seed 002 paging, shared by every list operation.

use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::request::{param, query};
use super::respond::{Refusal, ok, unprocessable};
use super::{API_PREFIX, MAX_PAGE, Sim};

/// Seed 002 paging: `max` defaults to and is capped at 200; `page` counts
/// from 0; `_links.next.href` is absolute on the simulator's own origin and
/// carries every query parameter; `_links` is `{}` on the last page.
fn paged(sim: &Sim, uri: &Uri, items: Vec<Value>) -> Result<Value, Refusal> {
    let query = query(uri);
    let max = match param(&query, "max") {
        None => MAX_PAGE,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if n >= 1 => n.min(MAX_PAGE),
            _ => {
                return Err(unprocessable(
                    "InvalidParameter",
                    format!("max must be a positive integer, got {raw:?}"),
                    Some("max"),
                )
                .into());
            }
        },
    };
    let page = match param(&query, "page").map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return Err(unprocessable(
                "InvalidParameter",
                "page must be a non-negative integer".into(),
                Some("page"),
            )
            .into());
        }
    };
    let quirks = &sim.config.paging;
    // A server that caps its pages below what was asked: smaller pages,
    // consistently, and next links that say so.
    let max = quirks.page_cap.map_or(max, |cap| cap.clamp(1, max));
    let start = page.saturating_mul(max).min(items.len());
    let end = (start + max).min(items.len());
    let more = end < items.len();
    let links = if more || quirks.empty_pages_with_next {
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in query.iter().filter(|(k, _)| k != "page" && k != "max") {
            next.append_pair(k, v);
        }
        next.append_pair("max", &max.to_string());
        let next_page = if quirks.repeat_next_link { 1 } else { page + 1 };
        next.append_pair("page", &next_page.to_string());
        let path = uri.path();
        let path = path.strip_prefix(API_PREFIX).unwrap_or(path);
        let origin = match &quirks.foreign_next_links {
            Some(elsewhere) => elsewhere.trim_end_matches('/'),
            None if quirks.relative_next_links => "",
            None => &sim.origin,
        };
        json!({"next": {"href": format!("{origin}{API_PREFIX}{path}?{}", next.finish())}})
    } else {
        json!({})
    };
    let items = if quirks.empty_pages_with_next {
        Vec::new()
    } else {
        items[start..end].to_vec()
    };
    Ok(json!({"items": items, "_links": links}))
}

pub(super) fn listing(sim: &Sim, uri: &Uri, items: Vec<Value>) -> Response {
    match paged(sim, uri, items) {
        Ok(page) => ok(page),
        Err(refusal) => refusal.into_response(),
    }
}
