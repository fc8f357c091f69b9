//! The transport under every operation: pagination, retries, rate limits,
//! errors and the token's confinement.

mod support;

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use httpmock::MockServer;
use serde_json::json;
use smartthings_ext::types::DeviceCommandRequest;
use smartthings_ext::{
    DeviceQuery, ErrorKind, RateLimitPolicy, RetryPolicy, SmartThings, collect_all,
};
use support::{Reply, TOKEN, client, scripted};

fn device(id: &str) -> serde_json::Value {
    json!({"deviceId": id, "label": format!("Device {id}"), "type": "VIPER"})
}

fn page(ids: &[&str], next: Option<String>) -> serde_json::Value {
    let items: Vec<_> = ids.iter().map(|id| device(id)).collect();
    match next {
        Some(href) => json!({"items": items, "_links": {"next": {"href": href}}}),
        None => json!({"items": items, "_links": {}}),
    }
}

#[tokio::test]
async fn a_list_over_several_pages_yields_every_item_once_with_no_extra_request() {
    let server = MockServer::start_async().await;
    let base = server.url("/v1");
    let first = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/devices")
                .query_param("capability", "switch")
                .query_param_missing("page")
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(200).json_body(page(
                &["a", "b"],
                Some(format!(
                    "{base}/devices?capability=switch&max=2&page=1&isNext=true"
                )),
            ));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/devices")
                .query_param("capability", "switch")
                .query_param("max", "2")
                .query_param("page", "1")
                .query_param("isNext", "true")
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(200).json_body(page(
                &["c", "d"],
                Some(format!(
                    "{base}/devices?capability=switch&max=2&page=2&isNext=true"
                )),
            ));
        })
        .await;
    let third = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/devices")
                .query_param("page", "2");
            then.status(200).json_body(page(&["e"], None));
        })
        .await;

    let client = client(&base);
    let ids: Vec<String> = client
        .devices(DeviceQuery::all().capability("switch"))
        .map_ok(|d| d.device_id.unwrap())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
    third.assert_calls_async(1).await;
    assert_eq!(client.metrics().requests, 3);
}

#[tokio::test]
async fn every_list_builder_streams_its_items_across_pages() {
    let server = MockServer::start_async().await;
    let base = server.url("/v1");
    let first = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/locations/home/rooms")
                .query_param_missing("page");
            then.status(200).json_body(json!({
                "items": [{"roomId": "r1", "name": "Kitchen"}, {"roomId": 7}],
                "_links": {"next": {"href": format!("{base}/locations/home/rooms?page=1")}}
            }));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/locations/home/rooms")
                .query_param("page", "1");
            then.status(200).json_body(json!({
                "items": [{"roomId": "r2", "name": "Hall"}],
                "_links": {}
            }));
        })
        .await;
    let client = client(&base);
    // Borrowing the client: no clone, no 'static needed.
    let listing = collect_all(client.list_rooms().location_id("home").items())
        .await
        .unwrap();
    let ids: Vec<_> = listing
        .items
        .iter()
        .map(|r| r.room_id.clone().unwrap())
        .collect();
    assert_eq!(ids, ["r1", "r2"]);
    // The room whose id is a number is kept aside, raw, and the list went on.
    assert_eq!(listing.invalid.len(), 1);
    assert_eq!(listing.invalid[0].raw["roomId"], 7);
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_previous_link_is_followed_on_the_same_origin_only() {
    let server = MockServer::start_async().await;
    let base = server.url("/v1");
    let newer = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/history/devices")
                .query_param("pagingAfterEpoch", "1700000000000")
                .query_param("pagingAfterHash", "7")
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(200).json_body(json!({
                "items": [{"deviceId": "d1", "epoch": 1700000000500_i64, "hash": 8}],
                "_links": {}
            }));
        })
        .await;
    let client = client(&base);
    let page: smartthings_ext::types::DeviceActivityList = client
        .get_link(&format!(
            "{base}/history/devices?locationId=l&pagingAfterEpoch=1700000000000&pagingAfterHash=7"
        ))
        .await
        .unwrap();
    let items = page.items.unwrap();
    assert_eq!(items.len(), 1);
    newer.assert_calls_async(1).await;

    let elsewhere = client
        .get_link::<serde_json::Value>("https://evil.example/v1/history/devices")
        .await
        .unwrap_err();
    assert_eq!(elsewhere.kind(), ErrorKind::Pagination);
    assert_eq!(client.metrics().requests, 1, "nothing was sent elsewhere");
}

#[tokio::test]
async fn the_stream_is_lazy() {
    let server = MockServer::start_async().await;
    let base = server.url("/v1");
    let first = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/devices")
                .query_param_missing("page");
            then.status(200)
                .json_body(page(&["a", "b"], Some(format!("{base}/devices?page=1"))));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/devices")
                .query_param("page", "1");
            then.status(200).json_body(page(&["c"], None));
        })
        .await;
    let client = client(&base);
    let two: Vec<_> = client.devices(DeviceQuery::all()).take(2).collect().await;
    assert_eq!(two.len(), 2);
    first.assert_calls_async(1).await;
    second.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_next_link_to_another_host_stops_the_stream_and_that_host_sees_nothing() {
    let server = MockServer::start_async().await;
    let elsewhere = MockServer::start_async().await;
    let trap = elsewhere
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).json_body(page(&["stolen"], None));
        })
        .await;
    let base = server.url("/v1");
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/locations");
            then.status(200).json_body(json!({
                "items": [{"locationId": "l1", "name": "Home"}],
                "_links": {"next": {"href": elsewhere.url("/v1/locations?page=1")}}
            }));
        })
        .await;
    let results: Vec<_> = client(&base).locations().collect().await;
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    let error = results[1].as_ref().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Pagination);
    assert!(error.to_string().contains("not followed"), "{error}");
    trap.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_repeated_next_link_ends_with_an_error_instead_of_looping() {
    let server = MockServer::start_async().await;
    let base = server.url("/v1");
    let looping = server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/scenes");
            then.status(200).json_body(json!({
                "items": [{"sceneId": "s1"}],
                "_links": {"next": {"href": format!("{base}/scenes?page=1")}}
            }));
        })
        .await;
    let results: Vec<_> = client(&base).scenes(None).collect().await;
    // Page 0, then page 1 — the same items again, so not yielded twice —
    // whose next link is page 1 again.
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    assert_eq!(
        results[1].as_ref().unwrap_err().kind(),
        ErrorKind::Pagination
    );
    looping.assert_calls_async(2).await;
}

#[tokio::test]
async fn missing_null_and_empty_links_end_the_list_cleanly() {
    for links in [
        None,
        Some(json!(null)),
        Some(json!({})),
        Some(json!({"next": null})),
    ] {
        let server = MockServer::start_async().await;
        let mut body = json!({"items": [{"appId": "a1"}]});
        if let Some(links) = links.clone() {
            body["_links"] = links;
        }
        let mock = server
            .mock_async(|when, then| {
                when.method("GET").path("/v1/apps");
                then.status(200).json_body(body.clone());
            })
            .await;
        let listing = collect_all(client(&server.url("/v1")).apps())
            .await
            .unwrap();
        assert_eq!(listing.items.len(), 1, "{links:?}");
        mock.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn rules_page_by_offset() {
    let server = MockServer::start_async().await;
    let full: Vec<_> = (0..100).map(|i| json!({"id": format!("r{i}")})).collect();
    let first = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/rules")
                .query_param("locationId", "loc")
                .query_param("max", "100")
                .query_param_missing("offset");
            then.status(200).json_body(json!({"items": full}));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/rules")
                .query_param("offset", "100");
            then.status(200)
                .json_body(json!({"items": [{"id": "r100"}]}));
        })
        .await;
    // A short page may be a server's cap, not the end: only an empty page
    // ends the list.
    let end = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/v1/rules")
                .query_param("offset", "101");
            then.status(200).json_body(json!({"items": []}));
        })
        .await;
    let listing = collect_all(client(&server.url("/v1")).rules("loc"))
        .await
        .unwrap();
    assert_eq!(listing.items.len(), 101);
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
    end.assert_calls_async(1).await;
}

#[tokio::test]
async fn an_odd_item_is_set_aside_and_the_list_goes_on() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/devices");
            then.status(200).json_body(json!({
                "items": [device("a"), {"deviceId": "b", "components": "nonsense"}, device("c")],
                "_links": {}
            }));
        })
        .await;
    let listing = collect_all(client(&server.url("/v1")).devices(DeviceQuery::all()))
        .await
        .unwrap();
    assert_eq!(listing.items.len(), 2);
    assert_eq!(listing.invalid.len(), 1);
    assert_eq!(listing.invalid[0].raw["deviceId"], "b");
}

async fn retried_once_after(reply: Reply, hint: Duration) {
    let server = scripted(vec![reply, Reply::json(200, device("d1"))]).await;
    let client = SmartThings::builder()
        .token(TOKEN)
        .base_url(&server.base)
        .without_timeouts()
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let got = client.get_device().device_id("d1").send().await.unwrap();
    assert_eq!(got.device_id.as_deref(), Some("d1"));
    let metrics = client.metrics();
    assert_eq!(
        (metrics.requests, metrics.retries, metrics.throttled),
        (2, 1, 1)
    );
    assert_eq!(metrics.retry_wait_ms, hint.as_millis() as u64);
    assert!(
        started.elapsed() >= hint,
        "{:?} < {hint:?}",
        started.elapsed()
    );
    assert_eq!(server.requests().len(), 2);
}

fn too_many(details_message: &str) -> Reply {
    Reply::json(
        429,
        json!({"requestId": "r-429", "error": {"code": "TooManyRequestError", "message": "Too many requests",
            "details": [{"code": "Limit", "message": details_message}]}}),
    )
}

#[tokio::test(start_paused = true)]
async fn a_429_with_retry_after_seconds_waits_that_long() {
    retried_once_after(
        too_many("slow down").header("retry-after", "7"),
        Duration::from_secs(7),
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_429_with_x_ratelimit_reset_waits_that_many_millis() {
    retried_once_after(
        too_many("slow down").header("x-ratelimit-reset", "4200"),
        // One more: the server states whole milliseconds, perhaps rounded
        // down.
        Duration::from_millis(4201),
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_429_with_retry_in_n_millis_in_the_details_waits_that_long() {
    retried_once_after(
        too_many("Rate limit exceeded, retry in 2600 millis"),
        Duration::from_millis(2600),
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn exhausted_retries_give_a_rate_limited_error_with_the_last_hint() {
    let replies = (0..3)
        .map(|_| too_many("retry in 1000 millis").header("x-ratelimit-reset", "1500"))
        .collect();
    let server = scripted(replies).await;
    let client = SmartThings::builder()
        .token(TOKEN)
        .base_url(&server.base)
        .without_timeouts()
        .retry(RetryPolicy::default().max_attempts(3))
        .build()
        .unwrap();
    let error = client
        .get_device_status()
        .device_id("d1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    assert_eq!(error.attempts(), 3);
    assert!(error.was_retried());
    assert_eq!(error.request_id(), Some("r-429"));
    // The hint the transport obeyed: `x-ratelimit-reset` comes first.
    assert_eq!(error.retry_after(), Some(Duration::from_millis(1501)));
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_post_answered_with_500_is_not_retried() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST").path("/v1/devices/d1/commands");
            then.status(500).body("oops");
        })
        .await;
    let body: DeviceCommandRequest = serde_json::from_value(
        json!({"commands": [{"component": "main", "capability": "switch", "command": "on"}]}),
    )
    .unwrap();
    let error = client(&server.url("/v1"))
        .execute_device_commands()
        .device_id("d1")
        .body(body)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Server);
    assert_eq!(error.attempts(), 1);
    assert_eq!(error.snippet(), Some("oops"));
    mock.assert_calls_async(1).await;
}

#[tokio::test(start_paused = true)]
async fn a_post_answered_with_429_is_retried() {
    let server = scripted(vec![
        too_many("retry in 500 millis"),
        Reply::json(
            200,
            json!({"results": [{"id": "c1", "status": "ACCEPTED"}]}),
        ),
    ])
    .await;
    let client = SmartThings::builder()
        .token(TOKEN)
        .base_url(&server.base)
        .without_timeouts()
        .build()
        .unwrap();
    let body: DeviceCommandRequest = serde_json::from_value(
        json!({"commands": [{"component": "main", "capability": "switch", "command": "on"}]}),
    )
    .unwrap();
    client
        .execute_device_commands()
        .device_id("d1")
        .body(body)
        .send()
        .await
        .unwrap();
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].body, seen[1].body,
        "the same command, replayed once"
    );
}

#[tokio::test(start_paused = true)]
async fn a_get_answered_with_503_twice_then_200_succeeds() {
    let server = scripted(vec![
        Reply::raw(503, "text/html", "<html>unavailable</html>"),
        Reply::raw(503, "text/html", "<html>unavailable</html>"),
        Reply::json(200, json!({"locationId": "l1", "name": "Home"})),
    ])
    .await;
    let client = SmartThings::builder()
        .token(TOKEN)
        .base_url(&server.base)
        .without_timeouts()
        .build()
        .unwrap();
    let location = client
        .get_location()
        .location_id("l1")
        .send()
        .await
        .unwrap();
    assert_eq!(location.name.as_deref(), Some("Home"));
    assert_eq!(server.requests().len(), 3);
    assert_eq!(client.metrics().retries, 2);
}

#[tokio::test(start_paused = true)]
async fn the_limiter_waits_before_sending_when_the_server_says_the_window_is_spent() {
    let server = scripted(vec![
        Reply::json(200, json!({"items": [], "_links": {}}))
            .header("x-ratelimit-limit", "1000")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", "3000"),
        Reply::json(200, json!({"items": [], "_links": {}})),
    ])
    .await;
    let client = SmartThings::builder()
        .token(TOKEN)
        .base_url(&server.base)
        .without_timeouts()
        .rate_limits(RateLimitPolicy::default())
        .build()
        .unwrap();
    client.list_devices().send().await.unwrap();
    let started = tokio::time::Instant::now();
    client.list_devices().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(3));
    let metrics = client.metrics();
    assert_eq!((metrics.limiter_waits, metrics.throttled), (1, 0));
    assert!(metrics.limiter_wait_ms >= 3000);
}

#[tokio::test]
async fn bodies_that_are_not_json_become_decode_errors_with_a_snippet() {
    let cases = vec![
        (
            Reply::raw(200, "text/html", "<html><body>Bad gateway</body></html>"),
            "<html>",
        ),
        (Reply::raw(200, "application/json", ""), "(empty body)"),
        (
            Reply::raw(
                200,
                "application/json",
                "{\"deviceId\": \"d1\", \"label\": tru",
            ),
            "{\"deviceId\"",
        ),
    ];
    for (reply, expected) in cases {
        let server = scripted(vec![reply]).await;
        let error = client(&server.base)
            .get_device()
            .device_id("d1")
            .send()
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Decode, "{error}");
        assert!(error.snippet().unwrap().starts_with(expected), "{error}");
    }
}

#[tokio::test]
async fn a_truncated_body_is_a_decode_error_not_a_panic() {
    let server = scripted(vec![Reply::Truncated {
        status: 200,
        declared: 500,
        body: "{\"deviceId\": \"d1\"".into(),
    }])
    .await;
    let error = client(&server.base)
        .get_device()
        .device_id("d1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode, "{error}");
}

#[tokio::test]
async fn an_html_error_page_keeps_its_status_and_a_snippet() {
    let server = scripted(vec![
        Reply::raw(
            502,
            "text/html",
            "<html>502 Bad Gateway</html>"
        );
        6
    ])
    .await;
    let client = SmartThings::builder()
        .token(TOKEN)
        .base_url(&server.base)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let error = client
        .get_device()
        .device_id("d1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Server);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(502));
    assert!(error.snippet().unwrap().contains("502 Bad Gateway"));
}
