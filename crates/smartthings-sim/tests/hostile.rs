//! The simulator failing the way the real API fails, seen on the wire: faults
//! after processing, error pages, absurd 429 hints, stalled bodies and
//! paging quirks. (The client's side of each is `tests/fault_drill.rs`.)

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};
use smartthings_sim::{
    Config, FaultPlan, FaultRates, HOSTILE_HINTS, Home, PagingQuirks, Simulator,
};

const BULB: &str = "80e26532-85d4-484c-b012-1c04f3d35f95";

/// A plan where only `operation` fails, always with `kind`.
fn only(operation: &str, kind: &str) -> Config {
    let mut rates = FaultRates::default();
    rates.set(kind, 1.0).unwrap();
    Config {
        faults: FaultPlan {
            seed: 3,
            per_operation: HashMap::from([(operation.to_owned(), rates)]),
            ..FaultPlan::default()
        },
        stall: Duration::from_millis(600),
        ..Config::default()
    }
}

fn everywhere(kind: &str) -> Config {
    let mut rates = FaultRates::default();
    rates.set(kind, 1.0).unwrap();
    Config {
        faults: FaultPlan {
            seed: 3,
            global: rates,
            ..FaultPlan::default()
        },
        ..Config::default()
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn set_level(level: u32) -> Value {
    json!({"commands": [{"component": "main", "capability": "switchLevel", "command": "setLevel", "arguments": [level]}]})
}

async fn post(sim: &Simulator, path: &str, body: Value) -> reqwest::Result<reqwest::Response> {
    http()
        .post(format!("{}{path}", sim.base_url()))
        .bearer_auth(sim.token())
        .json(&body)
        .send()
        .await
}

async fn get(sim: &Simulator, path: &str) -> reqwest::Response {
    http()
        .get(format!("{}{path}", sim.base_url()))
        .bearer_auth(sim.token())
        .send()
        .await
        .unwrap()
}

fn level_of(sim: &Simulator, device: &str) -> Value {
    sim.with_home(|h| {
        h.devices[device].status["components"]["main"]["switchLevel"]["level"]["value"].clone()
    })
}

#[tokio::test]
async fn a_dropped_answer_after_a_command_leaves_the_command_executed_and_logged() {
    let sim = Simulator::start(Home::demo(), only("executeDeviceCommands", "drop-after"))
        .await
        .unwrap();
    let sent = post(&sim, &format!("/devices/{BULB}/commands"), set_level(42)).await;
    assert!(sent.is_err(), "the answer was lost: {sent:?}");
    assert_eq!(level_of(&sim, BULB), json!(42), "the command ran");
    let executed = sim.commands();
    assert_eq!(executed.len(), 1, "{executed:?}");
    assert_eq!(executed[0].device_id, BULB);
    assert_eq!(executed[0].arguments, vec![json!(42)]);
    let last = sim.log().pop().unwrap();
    assert_eq!((last.status, last.fault.as_deref()), (0, Some("DropAfter")));
    // Other operations are untouched.
    assert_eq!(get(&sim, "/devices").await.status(), 200);
}

#[tokio::test]
async fn a_5xx_after_creating_a_location_leaves_it_created() {
    let sim = Simulator::start(
        Home::generated(1, 5, 1).unwrap(),
        only("createLocation", "server-error-after"),
    )
    .await
    .unwrap();
    let response = post(&sim, "/locations", json!({"name": "Cabin"}))
        .await
        .unwrap();
    assert!(response.status().is_server_error(), "{response:?}");
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("after processing")
    );
    let names: Vec<Value> =
        sim.with_home(|h| h.locations.values().map(|l| l["name"].clone()).collect());
    assert!(names.contains(&json!("Cabin")), "{names:?}");
    let last = sim.log().pop().unwrap();
    assert!(last.fault.unwrap().starts_with("ServerErrorAfter("));
}

#[tokio::test]
async fn a_scene_runs_then_its_body_is_cut_off() {
    let sim = Simulator::start(Home::demo(), only("executeScene", "truncate"))
        .await
        .unwrap();
    let scene = sim.with_home(|h| {
        h.scenes
            .iter()
            .find(|(_, s)| s["actions"].as_array().is_some_and(|a| !a.is_empty()))
            .map(|(id, _)| id.clone())
            .expect("a demo scene with actions")
    });
    let response = post(&sim, &format!("/scenes/{scene}/execute"), json!({}))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let declared = response.content_length().unwrap();
    assert!(response.bytes().await.is_err(), "the body is cut off");
    assert!(declared > 0);
    assert!(!sim.commands().is_empty(), "the scene's actions ran");
    assert!(sim.with_home(|h| h.scenes[&scene]["lastExecutedDate"].is_string()));
}

#[tokio::test]
async fn faults_before_processing_execute_nothing() {
    for kind in [
        "server-error",
        "drop",
        "error-page",
        "hostile-429",
        "rate-limited",
        "html",
    ] {
        let sim = Simulator::start(Home::demo(), only("executeDeviceCommands", kind))
            .await
            .unwrap();
        let before = level_of(&sim, BULB);
        let _ = post(&sim, &format!("/devices/{BULB}/commands"), set_level(7)).await;
        assert!(sim.commands().is_empty(), "{kind}: {:?}", sim.commands());
        assert_eq!(level_of(&sim, BULB), before, "{kind}");
    }
}

#[tokio::test]
async fn error_pages_come_as_html_or_empty_on_every_status() {
    let sim = Simulator::start(Home::demo(), everywhere("error-page"))
        .await
        .unwrap();
    let mut seen = BTreeSet::new();
    for _ in 0..200 {
        let response = get(&sim, "/devices").await;
        let status = response.status().as_u16();
        for header in ["x-ratelimit-limit", "x-ratelimit-reset", "retry-after"] {
            assert!(
                response.headers().get(header).is_none(),
                "{status}: {header}"
            );
        }
        let html = response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap().starts_with("text/html"));
        let body = response.text().await.unwrap();
        if html {
            assert!(
                body.starts_with("<html>") && body.contains(&status.to_string()),
                "{body}"
            );
        } else {
            assert!(body.is_empty(), "{status}: {body:?}");
        }
        seen.insert((status, html));
    }
    let statuses = [401, 403, 404, 429, 500, 502, 503];
    let every: BTreeSet<_> = statuses
        .iter()
        .flat_map(|s| [(*s, true), (*s, false)])
        .collect();
    assert_eq!(seen, every);
    assert!(
        sim.log()
            .iter()
            .all(|e| e.fault.as_ref().unwrap().starts_with("ErrorPage("))
    );
}

#[tokio::test]
async fn hostile_429s_carry_every_absurd_hint() {
    let sim = Simulator::start(Home::demo(), everywhere("hostile-429"))
        .await
        .unwrap();
    let mut seen = BTreeSet::new();
    for _ in 0..100 {
        let response = get(&sim, "/devices").await;
        assert_eq!(response.status(), 429);
        let headers = response.headers();
        let retry_after = headers
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let reset = headers
            .get("x-ratelimit-reset")
            .map(|v| v.to_str().unwrap().to_owned());
        let which = match (retry_after, reset) {
            (Some(value), None) => match httpdate::parse_http_date(&value) {
                Ok(when) => {
                    let ahead = when.duration_since(SystemTime::now()).unwrap_or_default();
                    assert!(ahead <= Duration::from_secs(2), "{value}");
                    1
                }
                Err(_) => HOSTILE_HINTS
                    .iter()
                    .position(|(name, v)| *name == "retry-after" && *v == Some(value.as_str()))
                    .unwrap_or_else(|| panic!("unexpected Retry-After {value:?}")),
            },
            (None, Some(value)) => {
                assert_eq!(value, "10000000000000000000");
                5
            }
            other => panic!("one hint per 429: {other:?}"),
        };
        seen.insert(which);
    }
    assert_eq!(seen, (0..HOSTILE_HINTS.len()).collect());
}

#[tokio::test]
async fn a_stalled_body_sends_its_headers_and_half_then_nothing_until_the_stall_ends() {
    let sim = Simulator::start(Home::demo(), only("getDeviceStatus", "stall"))
        .await
        .unwrap();
    let started = Instant::now();
    let mut response = get(&sim, &format!("/devices/{BULB}/status")).await;
    assert_eq!(response.status(), 200);
    let declared = response.content_length().unwrap() as usize;
    let mut received = 0;
    let end = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received += chunk.len(),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    assert!(end.is_err(), "the stalled body never completes");
    assert_eq!(received, declared / 2);
    assert!(
        started.elapsed() >= Duration::from_millis(550),
        "{:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by Config::stall"
    );
    // The status was read and its command log untouched.
    assert!(sim.commands().is_empty());
}

#[tokio::test]
async fn paging_quirks_shape_pages_and_links() {
    let start = |paging: PagingQuirks| {
        Simulator::start(
            Home::generated(1, 150, 1).unwrap(),
            Config {
                paging,
                ..Config::default()
            },
        )
    };
    let page = |sim: &Simulator, path: &'static str| {
        let url = format!("{}{path}", sim.base_url());
        let token = sim.token().to_owned();
        async move {
            http()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let next = |page: &Value| page["_links"]["next"]["href"].as_str().map(str::to_owned);

    // Well-behaved: absolute links on the simulator's origin.
    let sim = start(PagingQuirks::default()).await.unwrap();
    let first = page(&sim, "/devices?max=100").await;
    assert!(next(&first).unwrap().starts_with(&sim.base_url()));
    assert_eq!(
        page(&sim, "/devices?max=100&page=1").await["_links"],
        json!({})
    );

    let sim = start(PagingQuirks {
        page_cap: Some(40),
        ..PagingQuirks::default()
    })
    .await
    .unwrap();
    let first = page(&sim, "/devices?max=100").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 40);
    assert!(next(&first).unwrap().ends_with("max=40&page=1"), "{first}");

    let sim = start(PagingQuirks {
        relative_next_links: true,
        ..PagingQuirks::default()
    })
    .await
    .unwrap();
    let href = next(&page(&sim, "/devices?max=100").await).unwrap();
    assert!(href.starts_with("/v1/devices?"), "{href}");

    let sim = start(PagingQuirks {
        repeat_next_link: true,
        ..PagingQuirks::default()
    })
    .await
    .unwrap();
    let href = next(&page(&sim, "/devices?max=50&page=1").await).unwrap();
    assert!(href.ends_with("page=1"), "page 1 links to itself: {href}");

    let sim = start(PagingQuirks {
        empty_pages_with_next: true,
        ..PagingQuirks::default()
    })
    .await
    .unwrap();
    let last = page(&sim, "/devices?max=100&page=5").await;
    assert_eq!(last["items"], json!([]));
    assert!(next(&last).is_some());

    let sim = start(PagingQuirks {
        foreign_next_links: Some("http://elsewhere.example:8443".into()),
        ..PagingQuirks::default()
    })
    .await
    .unwrap();
    let href = next(&page(&sim, "/devices?max=100").await).unwrap();
    assert!(
        href.starts_with("http://elsewhere.example:8443/v1/devices?"),
        "{href}"
    );

    // Rules page by offset: one quirk ignores it, the other caps the page.
    for (paging, second_first) in [
        (
            PagingQuirks {
                ignore_offset: true,
                ..PagingQuirks::default()
            },
            "rule-0",
        ),
        (PagingQuirks::default(), "rule-10"),
    ] {
        let sim = start(paging).await.unwrap();
        let location = sim.with_home(|h| {
            let location = h.locations.keys().next().cloned().unwrap();
            h.rules.clear();
            for i in 0..20 {
                h.rules.insert(
                    format!("rule-{i}"),
                    json!({"id": format!("rule-{i}"), "name": "r", "locationId": location, "actions": []}),
                );
            }
            location
        });
        let url = format!(
            "{}/rules?locationId={location}&max=10&offset=10",
            sim.base_url()
        );
        let second: Value = http()
            .get(url)
            .bearer_auth(sim.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(second["items"][0]["id"], json!(second_first));
    }
    let sim = start(PagingQuirks {
        page_cap: Some(5),
        ..PagingQuirks::default()
    })
    .await
    .unwrap();
    let location = sim.with_home(|h| {
        let location = h.locations.keys().next().cloned().unwrap();
        h.rules.clear();
        for i in 0..20 {
            h.rules.insert(
                format!("rule-{i}"),
                json!({"id": format!("rule-{i}"), "name": "r", "locationId": location, "actions": []}),
            );
        }
        location
    });
    let url = format!("{}/rules?locationId={location}&max=10", sim.base_url());
    let capped: Value = http()
        .get(url)
        .bearer_auth(sim.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(capped["items"].as_array().unwrap().len(), 5);
}

/// The binary's fault flags reach the fault plan: a per-operation `--fault`,
/// the stall bound and a paging quirk.
#[tokio::test]
async fn the_binary_turns_faults_on_from_its_flags() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_smartthings-sim"))
        .args([
            "--fault",
            "executeDeviceCommands:drop-after=1",
            "--fault",
            "getDeviceStatus:stall=1",
            "--stall-ms",
            "300",
            "--paging-quirk",
            "page-cap=7",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut base = None;
    for _ in 0..3 {
        let line = lines.next().unwrap().unwrap();
        if let Some(url) = line.trim().strip_prefix("URL:") {
            base = Some(url.trim().to_owned());
        }
    }
    let base = base.expect("the URL line");
    let http = http();
    let get = |path: String| {
        http.get(format!("{base}{path}"))
            .bearer_auth(smartthings_sim::DEFAULT_TOKEN)
            .send()
    };
    let page: Value = get("/devices".into()).await.unwrap().json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 7);
    let started = Instant::now();
    let stalled = get(format!("/devices/{BULB}/status")).await.unwrap();
    assert!(stalled.bytes().await.is_err());
    assert!(started.elapsed() < Duration::from_secs(5));
    let lost = http
        .post(format!("{base}/devices/{BULB}/commands"))
        .bearer_auth(smartthings_sim::DEFAULT_TOKEN)
        .json(&set_level(3))
        .send()
        .await;
    assert!(lost.is_err());
    let origin = base.trim_end_matches("/v1");
    let executed: Value = http
        .get(format!("{origin}/__sim/commands"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(executed.as_array().unwrap().len(), 1, "{executed}");
    child.kill().unwrap();
    child.wait().unwrap();

    for bad in [
        ["--fault", "meteor=0.1"],
        ["--fault", "drop=2"],
        ["--paging-quirk", "sideways"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_smartthings-sim"))
            .args(bad)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty(), "{bad:?}");
    }
}
