//! A server's answer never panics, poisons or silently stalls the client:
//! every wait it asks for is bounded, every wait before sending counts
//! against the call's deadline, and what the builders accept is what works.

mod support;

use std::time::Duration;

use serde_json::json;
use smartthings_ext::{
    DeviceQuery, ErrorKind, Limit, RateLimitPolicy, RetryPolicy, Scope, SmartThings, Token,
};
use support::{Reply, TOKEN, scripted};

fn device(id: &str) -> serde_json::Value {
    json!({"deviceId": id, "label": "Lamp"})
}

fn too_many(header: &str, value: &str) -> Reply {
    Reply::json(
        429,
        json!({"requestId": "r-429", "error": {"code": "TooManyRequestError"}}),
    )
    .header(header, value)
}

fn client(base: &str) -> SmartThings {
    SmartThings::builder()
        .token(TOKEN)
        .base_url(base)
        .without_timeouts()
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn absurd_retry_hints_fail_typed_and_leave_the_client_usable() {
    let server = scripted(vec![
        too_many("retry-after", "1e20"),
        too_many("x-ratelimit-reset", "10000000000000000000"),
        too_many("retry-after", "-7"),
        Reply::json(200, device("d1")),
    ])
    .await;
    let client = client(&server.base);
    // 1e20 s panicked converting to a Duration; now it is a wait longer than
    // the call accepts: a typed error at once, naming the (capped) wait.
    let started = tokio::time::Instant::now();
    let error = client
        .get_device()
        .device_id("d1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    assert_eq!(error.retry_after(), Some(smartthings_ext::MAX_SERVER_HINT));
    assert_eq!(error.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(error.request_id(), Some("r-429"));
    assert!(started.elapsed() < Duration::from_secs(1));
    // 1e19 ms overflowed an Instant under the limiter's lock, poisoning it:
    // every later rate-limited request panicked.
    let error = client
        .get_device()
        .device_id("d2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    // A negative hint is no hint: the policy's backoff applies and the call
    // goes on to succeed.
    let got = client.get_device().device_id("d3").send().await.unwrap();
    assert_eq!(got.device_id.as_deref(), Some("d1"));
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_limiter_wait_longer_than_the_call_allows_fails_at_once_with_its_length() {
    let server = scripted(vec![
        too_many("x-ratelimit-reset", "840000"),
        Reply::json(200, device("d1")),
    ])
    .await;
    let client = client(&server.base);
    let first = client
        .get_device()
        .device_id("d1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(first.kind(), ErrorKind::RateLimited);
    assert_eq!(first.attempts(), 1);
    // The next call used to sleep 14 minutes without a word. Now nothing is
    // sent, and the error says how long it would have taken.
    let started = tokio::time::Instant::now();
    let second = client
        .get_device()
        .device_id("d1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        started.elapsed(),
        Duration::ZERO,
        "refused without sleeping"
    );
    assert_eq!(second.kind(), ErrorKind::RateLimited);
    assert_eq!(second.attempts(), 0, "nothing was sent");
    assert_eq!(second.status(), None, "the server did not answer this one");
    let wait = second.retry_after().unwrap();
    assert!(
        // The stated 840 000 ms, plus the millisecond a server may have
        // rounded down.
        wait > Duration::from_secs(830) && wait <= Duration::from_millis(840_001),
        "{wait:?}"
    );
    assert_eq!(server.requests().len(), 1);
    assert_eq!(client.metrics().limiter_refusals, 1);

    // A caller that accepts the wait gets the request sent after it.
    let patient = SmartThings::builder()
        .token(TOKEN)
        .base_url(&server.base)
        .without_timeouts()
        .retry(
            RetryPolicy::default()
                .deadline(Duration::from_secs(3600))
                .max_hinted_wait(Duration::from_secs(3600)),
        )
        .rate_limits(RateLimitPolicy::disabled().with(Limit::new(
            reqwest::Method::GET,
            "/devices/*",
            1,
            Duration::from_secs(900),
            Scope::Device,
        )))
        .build()
        .unwrap();
    patient.get_device().device_id("d1").send().await.unwrap();
    let started = tokio::time::Instant::now();
    let error = patient
        .get_device()
        .device_id("d1")
        .send()
        .await
        .unwrap_err();
    // The script is exhausted (599): what matters is that it was sent after
    // the window, not refused and not sent early.
    assert_eq!(error.status().map(|s| s.as_u16()), Some(599));
    assert!(
        started.elapsed() >= Duration::from_secs(899),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(patient.metrics().limiter_waits, 1);
}

#[tokio::test(start_paused = true)]
async fn a_custom_limit_on_a_disabled_policy_is_enforced() {
    let server = scripted(vec![
        Reply::json(200, json!({"items": [], "_links": {}})),
        Reply::json(200, json!({"items": [], "_links": {}})),
    ])
    .await;
    let client = SmartThings::builder()
        .token(TOKEN)
        .base_url(&server.base)
        .without_timeouts()
        .rate_limits(RateLimitPolicy::disabled().with(Limit::new(
            reqwest::Method::GET,
            "/devices",
            1,
            Duration::from_secs(10),
            Scope::Principal,
        )))
        .build()
        .unwrap();
    client.list_devices().send().await.unwrap();
    let started = tokio::time::Instant::now();
    client.list_devices().send().await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    assert_eq!(client.metrics().limiter_waits, 1);
}

#[tokio::test]
async fn a_token_with_a_trailing_newline_is_sent_trimmed() {
    let server = scripted(vec![Reply::json(200, device("d1"))]).await;
    let client = SmartThings::builder()
        .token(format!("{TOKEN}\r\n"))
        .base_url(&server.base)
        .build()
        .unwrap();
    client.get_device().device_id("d1").send().await.unwrap();
    let seen = server.requests();
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(Token::new(" abc\n").expose(), "abc");
}

#[test]
fn builders_refuse_what_cannot_work_instead_of_panicking() {
    let base = "http://127.0.0.1:9/v1";
    for (what, builder) in [
        (
            "deadline MAX",
            SmartThings::builder().retry(RetryPolicy::default().deadline(Duration::MAX)),
        ),
        (
            "deadline 0",
            SmartThings::builder().retry(RetryPolicy::default().deadline(Duration::ZERO)),
        ),
        (
            "time scale 0",
            SmartThings::builder().rate_limits(RateLimitPolicy::default().time_scale(0.0)),
        ),
        (
            "time scale NaN",
            SmartThings::builder().rate_limits(RateLimitPolicy::default().time_scale(f64::NAN)),
        ),
        (
            "a token a header cannot carry",
            SmartThings::builder().token("abc\u{7f}def"),
        ),
    ] {
        let builder = if what.contains("token") {
            builder
        } else {
            builder.token(TOKEN)
        };
        let error = builder.base_url(base).build().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config, "{what}: {error}");
    }
    // A time scale in range still builds.
    SmartThings::builder()
        .token(TOKEN)
        .base_url(base)
        .rate_limits(RateLimitPolicy::default().time_scale(1e9))
        .build()
        .unwrap();
}

#[tokio::test]
async fn a_dot_segment_id_is_refused_before_anything_is_sent() {
    let server = scripted(vec![Reply::json(200, device("d1"))]).await;
    let client = client(&server.base);
    for id in [".", "..", ""] {
        let error = client
            .get_device_status()
            .device_id(id)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Validation, "{id:?}: {error}");
        assert_eq!(error.attempts(), 0);
    }
    assert!(
        server.requests().is_empty(),
        "`/devices/../status` is `/status`"
    );
}

fn page(ids: &[&str], next: Option<String>) -> serde_json::Value {
    let items: Vec<_> = ids.iter().map(|id| device(id)).collect();
    match next {
        Some(href) => json!({"items": items, "_links": {"next": {"href": href}}}),
        None => json!({"items": items, "_links": {}}),
    }
}

/// Every item of the stream, and the error that ended it.
async fn drain<T>(
    mut stream: smartthings_ext::ItemStream<T>,
) -> (usize, Option<smartthings_ext::Error>) {
    use futures::StreamExt;
    let mut items = 0;
    while let Some(item) = stream.next().await {
        match item {
            Ok(_) => items += 1,
            Err(error) => return (items, Some(error)),
        }
    }
    (items, None)
}

#[tokio::test]
async fn the_same_link_with_its_query_reordered_is_recognised() {
    let server = scripted(vec![
        Reply::json(
            200,
            page(&["a", "b"], Some("{BASE}/devices?max=2&page=1".into())),
        ),
        Reply::json(
            200,
            page(&["c", "d"], Some("{BASE}/devices?page=1&max=2".into())),
        ),
        Reply::json(200, page(&["c", "d"], None)),
    ])
    .await;
    let (items, error) = drain(client(&server.base).devices(DeviceQuery::all())).await;
    assert_eq!(items, 4, "every item of every distinct page, once");
    assert_eq!(error.unwrap().kind(), ErrorKind::Pagination);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_server_ignoring_the_offset_is_stopped_after_one_page() {
    let rules: Vec<_> = (0..100)
        .map(|i| json!({"id": format!("r{i}"), "name": format!("rule {i}")}))
        .collect();
    let full = Reply::json(200, json!({"items": rules}));
    let server = scripted(vec![full.clone(), full.clone(), full]).await;
    let (items, error) = drain(client(&server.base).rules("l1")).await;
    assert_eq!(items, 100, "the first page's rules, each once");
    let error = error.expect("a loop guard");
    assert_eq!(error.kind(), ErrorKind::Pagination, "{error}");
    assert_eq!(server.requests().len(), 2);
    assert!(server.requests()[1].target.contains("offset=100"));
}

#[tokio::test]
async fn empty_pages_that_always_have_a_next_page_are_stopped() {
    let replies = (0..10)
        .map(|i| {
            Reply::json(
                200,
                page(&[], Some(format!("{{BASE}}/devices?page={}", i + 1))),
            )
        })
        .collect();
    let server = scripted(replies).await;
    let (items, error) = drain(client(&server.base).devices(DeviceQuery::all())).await;
    assert_eq!(items, 0);
    assert_eq!(error.unwrap().kind(), ErrorKind::Pagination);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_list_longer_than_the_page_cap_ends_with_a_typed_error() {
    let replies = (0..5)
        .map(|i| {
            let id = format!("d{i}");
            Reply::json(
                200,
                page(&[&id], Some(format!("{{BASE}}/devices?page={}", i + 1))),
            )
        })
        .collect();
    let server = scripted(replies).await;
    let client = SmartThings::builder()
        .token(TOKEN)
        .base_url(&server.base)
        .max_pages(3)
        .build()
        .unwrap();
    let (items, error) = drain(client.devices(DeviceQuery::all())).await;
    assert_eq!(items, 3);
    let error = error.unwrap();
    assert_eq!(error.kind(), ErrorKind::Pagination);
    assert!(error.to_string().contains("max_pages"), "{error}");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_body_over_the_cap_is_a_typed_error() {
    let big = json!({"deviceId": "d1", "label": "x".repeat(10_000)});
    let server = scripted(vec![
        Reply::json(200, big.clone()),
        Reply::Chunked {
            status: 200,
            body: big.to_string(),
        },
        Reply::json(200, json!({"deviceId": "d1"})),
    ])
    .await;
    let client = SmartThings::builder()
        .token(TOKEN)
        .base_url(&server.base)
        .max_body_bytes(1_000)
        .build()
        .unwrap();
    // Declared too long, then streamed without a length.
    for _ in 0..2 {
        let error = client
            .get_device()
            .device_id("d1")
            .send()
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::TooLarge, "{error}");
        assert!(error.to_string().contains("1000-byte cap"), "{error}");
    }
    let small = client.get_device().device_id("d1").send().await.unwrap();
    assert_eq!(small.device_id.as_deref(), Some("d1"));
}

#[tokio::test]
async fn a_429_whose_body_is_cut_off_keeps_its_status() {
    let server = scripted(vec![Reply::Truncated {
        status: 429,
        declared: 500,
        body: "{\"requestId\": \"r-cut\", \"error\"".into(),
    }])
    .await;
    let error = client(&server.base)
        .get_device()
        .device_id("d1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RateLimited, "{error}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(error.attempts(), 1);
}
