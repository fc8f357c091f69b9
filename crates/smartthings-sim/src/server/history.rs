//! Device history, `listDeviceHistory`: the recorded attribute events of
//! the given locations (and devices), newest first unless `oldestFirst`,
//! `limit` per page ([`HISTORY_PAGE`] by default, at most [`MAX_PAGE`]).
//!
//! Pages are cut by the `(epoch, hash)` of an entry: `pagingBefore*` asks
//! for the entries older than that one, `pagingAfter*` for the newer ones,
//! and in either case a page holds the `limit` entries nearest the cursor.
//! `_links.next` continues in the order of the page (older when newest
//! first), `_links.previous` goes back the other way; each is there only
//! when such entries exist at the time of the request. Links are absolute
//! and keep every other query parameter.

use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::request::{param, params, query};
use super::respond::{Refusal, ok, unprocessable};
use super::{API_PREFIX, MAX_PAGE, Shared};
use crate::history::{Entry, HISTORY_PAGE};

use super::operations::Api;

const CURSORS: [&str; 4] = [
    "pagingBeforeEpoch",
    "pagingBeforeHash",
    "pagingAfterEpoch",
    "pagingAfterHash",
];

pub(super) fn routes(api: Api) -> Api {
    api.get("/history/devices", "listDeviceHistory", list_device_history)
}

fn cursor(q: &[(String, String)], which: &str) -> Result<Option<(i64, i64)>, Refusal> {
    let epoch = param(q, &format!("paging{which}Epoch"));
    let hash = param(q, &format!("paging{which}Hash"));
    let number = |name: String, raw: &str| {
        raw.parse::<i64>().map_err(|_| {
            Refusal::from(unprocessable(
                "InvalidParameter",
                format!("{name} must be an integer, got {raw:?}"),
                Some(&name),
            ))
        })
    };
    match (epoch, hash) {
        (None, None) => Ok(None),
        (Some(e), h) => {
            let epoch = number(format!("paging{which}Epoch"), e)?;
            // An epoch alone cuts at the start (after: the end) of that
            // millisecond.
            let hash = match h {
                Some(h) => number(format!("paging{which}Hash"), h)?,
                None if which == "Before" => i64::MIN,
                None => i64::MAX,
            };
            Ok(Some((epoch, hash)))
        }
        (None, Some(_)) => Err(unprocessable(
            "InvalidParameter",
            format!("paging{which}Hash needs paging{which}Epoch"),
            Some(&format!("paging{which}Epoch")),
        )
        .into()),
    }
}

async fn list_device_history(State(sim): State<Shared>, uri: Uri) -> Response {
    let q = query(&uri);
    let locations = params(&q, "locationId");
    if locations.is_empty() {
        return unprocessable(
            "MissingParameter",
            "locationId is required".into(),
            Some("locationId"),
        );
    }
    let devices = params(&q, "deviceId");
    let oldest_first = param(&q, "oldestFirst") == Some("true");
    let limit = match param(&q, "limit").map(str::parse::<usize>) {
        None => HISTORY_PAGE,
        Some(Ok(n)) if n >= 1 => n.min(MAX_PAGE),
        Some(_) => {
            return unprocessable(
                "InvalidParameter",
                "limit must be a positive integer".into(),
                Some("limit"),
            );
        }
    };
    let (before, after) = match (cursor(&q, "Before"), cursor(&q, "After")) {
        (Ok(b), Ok(a)) => (b, a),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let home = sim.home.lock().expect("home");
    let history = sim.history.lock().expect("history");
    let entries = history.entries();
    let wanted = |e: &&Entry| {
        locations.contains(&e.location_id.as_str())
            && (devices.is_empty() || devices.contains(&e.device_id.as_str()))
    };
    // The window the cursors leave, as indices into the entries (oldest
    // first).
    let low = after.map_or(0, |key| history.after(key));
    let high = before.map_or(entries.len(), |key| history.before(key));
    let high = high.max(low);
    // Nearest the cursor: the oldest of the window when only `after` is
    // given, or when reading oldest first without a `before`; otherwise
    // the newest.
    let from_oldest = match (before, after) {
        (None, Some(_)) => true,
        (Some(_), _) => false,
        (None, None) => oldest_first,
    };
    let mut page: Vec<&Entry> = if from_oldest {
        entries
            .range(low..high)
            .filter(wanted)
            .take(limit)
            .collect()
    } else {
        entries
            .range(low..high)
            .rev()
            .filter(wanted)
            .take(limit)
            .collect()
    };
    // Oldest first while collecting when from_oldest; put in display order.
    if from_oldest != oldest_first {
        page.reverse();
    }
    let (Some(first), Some(last)) = (page.first(), page.last()) else {
        return ok(json!({"items": [], "_links": {}}));
    };
    let (oldest, newest) = if oldest_first {
        (first.key(), last.key())
    } else {
        (last.key(), first.key())
    };
    let older = entries
        .range(..history.before(oldest))
        .rev()
        .any(|e| wanted(&e));
    let newer = entries.range(history.after(newest)..).any(|e| wanted(&e));
    let link = |which: &str, (epoch, hash): (i64, i64)| {
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in q
            .iter()
            .filter(|(k, _)| k != "limit" && !CURSORS.contains(&k.as_str()))
        {
            next.append_pair(k, v);
        }
        next.append_pair("limit", &limit.to_string());
        next.append_pair(&format!("paging{which}Epoch"), &epoch.to_string());
        next.append_pair(&format!("paging{which}Hash"), &hash.to_string());
        json!({"href": format!("{}{API_PREFIX}/history/devices?{}", sim.origin, next.finish())})
    };
    let mut links = json!({});
    let (toward_next, toward_previous) = if oldest_first {
        ((newer, "After", newest), (older, "Before", oldest))
    } else {
        ((older, "Before", oldest), (newer, "After", newest))
    };
    if toward_next.0 {
        links["next"] = link(toward_next.1, toward_next.2);
    }
    if toward_previous.0 {
        links["previous"] = link(toward_previous.1, toward_previous.2);
    }
    let items: Vec<Value> = page
        .iter()
        .map(|e| {
            let device_name = home
                .devices
                .get(&e.device_id)
                .map(crate::home::device_label);
            let location_name = home
                .locations
                .get(&e.location_id)
                .map_or("", |l| l["name"].as_str().unwrap_or_default());
            e.activity(device_name.as_deref(), location_name)
        })
        .collect();
    ok(json!({"items": items, "_links": links}))
}
