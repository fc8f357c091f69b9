//! The simulator against the generated client and the smartthings-ext stack.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use smartthings::status::DeviceStatus;
use smartthings::types::{CreateLocationRequest, DeviceCommandRequest};
use smartthings::{Hooks, LenientItems};
use smartthings_ext::{
    Command, DeviceQuery, ErrorKind, RateLimitPolicy, RetryPolicy, SmartThings, Snapshot,
    SnapshotOptions, collect_all,
};
use smartthings_sim::{Config, FaultPlan, FaultRates, Home, Simulator};

const HOME: &str = "95efee9b-6073-4871-b5ba-de6642187293";
const BULB: &str = "80e26532-85d4-484c-b012-1c04f3d35f95";
const OUTLET: &str = "af8a2a04-eba2-47f5-b388-e36663d92f81";

fn client(sim: &Simulator) -> SmartThings {
    SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .build()
        .unwrap()
}

/// The generated client with no retry or limiter layer, auth only.
fn bare_client(sim: &Simulator) -> smartthings::Client {
    let http = reqwest::Client::builder()
        .default_headers(
            [(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {}", sim.token()).parse().unwrap(),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .unwrap();
    smartthings::Client::new_with_client(&sim.base_url(), http, Hooks::default())
}

fn body<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

#[tokio::test]
async fn every_operation_of_the_generated_client_works_and_decodes() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let c = client(&sim);

    // Devices.
    let devices = c
        .list_devices()
        .capability(vec!["switch".into()])
        .include_status(true)
        .include_health(true)
        .send()
        .await
        .unwrap();
    let items = devices.items.as_deref().unwrap();
    assert_eq!(items.invalid().count(), 0);
    assert!(items.valid().all(|d| d.health_state.is_some()));
    let device = c.get_device().device_id(BULB).send().await.unwrap();
    assert_eq!(device.label.as_deref(), Some("Color & Tunable White Bulb"));
    let status = c.get_device_status().device_id(BULB).send().await.unwrap();
    assert!(status.component("main").is_some());
    let component = c
        .get_device_component_status()
        .device_id(OUTLET)
        .component_id("outlet1")
        .send()
        .await
        .unwrap();
    assert!(component.capability("switch").is_some());
    let capability = c
        .get_device_capability_status()
        .device_id(BULB)
        .component_id("main")
        .capability_id("switchLevel")
        .send()
        .await
        .unwrap();
    assert_eq!(
        capability.attribute("level").unwrap().value,
        Some(json!(50))
    );
    let health = c.get_device_health().device_id(BULB).send().await.unwrap();
    assert_eq!(health.device_id.as_deref(), Some(BULB));
    let results = c
        .execute_device_commands()
        .device_id(BULB)
        .body(body::<DeviceCommandRequest>(
            json!({"commands": [{"component": "main", "capability": "switch", "command": "off"}]}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(results.results.as_ref().unwrap().len(), 1);
    let caps = c.list_capabilities().send().await.unwrap();
    assert!(
        caps.items
            .as_deref()
            .unwrap()
            .valid()
            .any(|c| c.id.as_deref() == Some("switch"))
    );

    // Locations and rooms.
    let locations = c.list_locations().send().await.unwrap();
    assert_eq!(locations.items.as_deref().unwrap().valid().count(), 2);
    let created = c
        .create_location()
        .body(body::<CreateLocationRequest>(
            json!({"name": "Office", "countryCode": "USA", "temperatureScale": "C"}),
        ))
        .send()
        .await
        .unwrap();
    let office = created.location_id.clone().unwrap();
    let got = c.get_location().location_id(&office).send().await.unwrap();
    assert_eq!(got.name.as_deref(), Some("Office"));
    let updated = c
        .update_location()
        .location_id(&office)
        .body(body::<CreateLocationRequest>(json!({"name": "Office 2"})))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("Office 2"));
    assert_eq!(
        updated.country_code.as_deref(),
        Some("USA"),
        "PUT only updates given fields"
    );
    let room = c
        .create_room()
        .location_id(&office)
        .body_map(|b| b.name("Lab"))
        .send()
        .await
        .unwrap();
    let rooms = c.list_rooms().location_id(&office).send().await.unwrap();
    assert_eq!(
        rooms
            .items
            .as_deref()
            .unwrap()
            .valid()
            .next()
            .unwrap()
            .room_id,
        room.room_id
    );

    // Scenes, rules, subscriptions, apps.
    let scenes = c.list_scenes().location_id(HOME).send().await.unwrap();
    let scene_id = scenes
        .items
        .as_deref()
        .unwrap()
        .valid()
        .next()
        .unwrap()
        .scene_id
        .clone()
        .unwrap();
    let executed = c.execute_scene().scene_id(&scene_id).send().await.unwrap();
    assert_eq!(executed.status.as_deref(), Some("success"));
    let rule_body = json!({"name": "Night", "actions": [{"if": {}}], "timeZoneId": "UTC"});
    let rule = c
        .create_rule()
        .location_id(HOME)
        .body(body::<smartthings::types::CreateRuleRequest>(
            rule_body.clone(),
        ))
        .send()
        .await
        .unwrap();
    let rule_id = rule.id.clone().unwrap();
    let rules = c.list_rules().location_id(HOME).send().await.unwrap();
    assert!(
        rules
            .items
            .as_deref()
            .unwrap()
            .valid()
            .any(|r| r.id.as_deref() == Some(&rule_id))
    );
    c.get_rule()
        .rule_id(&rule_id)
        .location_id(HOME)
        .send()
        .await
        .unwrap();
    let renamed = c
        .update_rule()
        .rule_id(&rule_id)
        .location_id(HOME)
        .body(body::<smartthings::types::CreateRuleRequest>(
            json!({"name": "Night 2", "actions": []}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("Night 2"));
    c.delete_rule()
        .rule_id(&rule_id)
        .location_id(HOME)
        .send()
        .await
        .unwrap();
    let app = "23ad67f8-aaaa-bbbb-cccc-000000000001";
    let subscription = c
        .create_subscription()
        .installed_app_id(app)
        .body(body::<smartthings::types::CreateSubscriptionRequest>(
            json!({"sourceType": "DEVICE", "device": {"deviceId": BULB}}),
        ))
        .send()
        .await
        .unwrap();
    let subscriptions = c
        .list_subscriptions()
        .installed_app_id(app)
        .send()
        .await
        .unwrap();
    assert_eq!(subscriptions.items.as_deref().unwrap().valid().count(), 2);
    c.delete_subscription()
        .installed_app_id(app)
        .subscription_id(subscription.id.clone().unwrap())
        .send()
        .await
        .unwrap();
    c.delete_all_subscriptions()
        .installed_app_id(app)
        .send()
        .await
        .unwrap();
    let apps = c.list_apps().send().await.unwrap();
    let app_name = apps
        .items
        .as_deref()
        .unwrap()
        .valid()
        .next()
        .unwrap()
        .app_name
        .clone()
        .unwrap();
    c.get_app().app_id(app_name).send().await.unwrap();

    // Deletes.
    c.delete_device().device_id(OUTLET).send().await.unwrap();
    c.delete_location()
        .location_id(&office)
        .send()
        .await
        .unwrap();
    let gone = c
        .get_location()
        .location_id(&office)
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::NotFound);

    let stats = sim.stats();
    let operations: Vec<&String> = stats.by_operation.keys().collect();
    assert_eq!(operations.len(), 29, "{operations:?}");
    assert!(!stats.by_operation.contains_key("unknown"));
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401_with_the_error_body() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    for auth in [None, Some("Bearer wrong"), Some("Basic abc")] {
        let mut request = http.get(format!("{}/devices", sim.base_url()));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{auth:?}");
        let body: Value = response.json().await.unwrap();
        assert!(body["requestId"].is_string());
        assert_eq!(body["error"]["code"], "UnauthorizedError");
    }
}

#[tokio::test]
async fn devices_page_by_200_with_absolute_next_links_and_filters() {
    let home = Home::generated(3, 450, 9).unwrap();
    let sim = Simulator::start(home, Config::default()).await.unwrap();
    let http = reqwest::Client::new();
    let get = |url: String| {
        let http = http.clone();
        let token = sim.token().to_owned();
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let first = get(format!("{}/devices?includeStatus=true", sim.base_url())).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 200);
    let next = first["_links"]["next"]["href"].as_str().unwrap().to_owned();
    assert!(next.starts_with(&sim.base_url()), "{next}");
    assert!(
        next.contains("includeStatus=true") && next.contains("page=1") && next.contains("max=200"),
        "{next}"
    );
    let second = get(next).await;
    let third = get(second["_links"]["next"]["href"]
        .as_str()
        .unwrap()
        .to_owned())
    .await;
    assert_eq!(third["items"].as_array().unwrap().len(), 50);
    assert_eq!(third["_links"], json!({}));
    assert!(third["items"][0]["components"][0]["capabilities"][0]["status"].is_object());
    // `max` is capped at 200.
    let capped = get(format!("{}/devices?max=500", sim.base_url())).await;
    assert_eq!(capped["items"].as_array().unwrap().len(), 200);

    let c = client(&sim);
    let all = collect_all(c.devices(DeviceQuery::all())).await.unwrap();
    assert_eq!(all.items.len(), 450);
    let locks = collect_all(c.devices(DeviceQuery::all().capability("lock")))
        .await
        .unwrap();
    assert!(!locks.items.is_empty());
    let expected_locks = sim.with_home(|h| {
        h.devices
            .values()
            .filter(|d| d.has_capability("lock"))
            .count()
    });
    assert_eq!(locks.items.len(), expected_locks);
    let location = all.items[0].location_id.clone().unwrap();
    let here = collect_all(c.devices(DeviceQuery::all().location(&location)))
        .await
        .unwrap();
    assert_eq!(here.items.len(), 150);
    let ids = [
        all.items[3].device_id.clone().unwrap(),
        all.items[7].device_id.clone().unwrap(),
    ];
    let chosen = collect_all(c.devices(DeviceQuery::all().device(&ids[0]).device(&ids[1])))
        .await
        .unwrap();
    assert_eq!(chosen.items.len(), 2);
}

#[tokio::test]
async fn commands_change_status_and_bad_commands_get_422() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let c = client(&sim);
    c.execute(
        BULB,
        [
            Command::switch_off(),
            Command::set_level(30).unwrap(),
            Command::set_color(10.0, 20.0).unwrap(),
            Command::set_color_temperature(3000).unwrap(),
        ],
    )
    .await
    .unwrap();
    let status = c.get_device_status().device_id(BULB).send().await.unwrap();
    let main = status.main().unwrap();
    assert_eq!(main.switch(), Some(false));
    assert_eq!(main.level().unwrap().value, 30.0);
    assert_eq!(main.color().unwrap().hue, 10.0);
    assert_eq!(main.color_temperature().unwrap().value, 3000.0);
    let stamped = main
        .capability("switch")
        .unwrap()
        .attribute("switch")
        .unwrap()
        .timestamp()
        .unwrap();
    assert!(
        chrono::Utc::now()
            .signed_duration_since(stamped)
            .num_seconds()
            < 60
    );

    for (command, code) in [
        (
            Command::switch_on().on_component("nope"),
            "UnknownComponent",
        ),
        (Command::lock(), "UnknownCapability"),
        (Command::new("switch", "explode"), "InvalidCommand"),
        (
            Command::new("switchLevel", "setLevel").arg(500),
            "InvalidCommand",
        ),
    ] {
        let error = c.execute(BULB, [command]).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Validation);
        assert_eq!(error.status().unwrap().as_u16(), 422);
        assert_eq!(error.details()[0].code.as_deref(), Some(code));
    }
    // A refused request changes nothing, even its valid commands.
    let before = c.get_device_status().device_id(BULB).send().await.unwrap();
    let _ = c
        .execute(
            BULB,
            [Command::switch_on(), Command::new("switch", "explode")],
        )
        .await
        .unwrap_err();
    assert_eq!(
        c.get_device_status().device_id(BULB).send().await.unwrap(),
        before
    );
}

#[tokio::test]
async fn executing_a_scene_applies_its_device_states() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let c = client(&sim);
    c.execute(BULB, [Command::switch_on()]).await.unwrap();
    c.execute_scene()
        .scene_id("6a0f2c55-scene-good-night")
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get_device_status()
            .device_id(BULB)
            .send()
            .await
            .unwrap()
            .main()
            .unwrap()
            .switch(),
        Some(false)
    );
    let executed: Vec<_> = sim
        .commands()
        .into_iter()
        .map(|e| (e.capability, e.command))
        .collect();
    assert!(executed.contains(&("lock".into(), "lock".into())));
}

#[tokio::test]
async fn the_location_limit_is_a_422_limit_error_and_deletes_cascade() {
    let sim = Simulator::start(Home::generated(10, 20, 1).unwrap(), Config::default())
        .await
        .unwrap();
    let c = client(&sim);
    let error = c
        .create_location()
        .body(body::<CreateLocationRequest>(json!({"name": "Eleventh"})))
        .send()
        .await
        .unwrap_err();

    assert_eq!(error.status().unwrap().as_u16(), 422);
    assert_eq!(error.code(), Some("LimitError"));

    let location = sim.with_home(|h| h.locations.keys().next().cloned().unwrap());
    let before = sim.with_home(|h| h.devices.len());
    c.delete_location()
        .location_id(&location)
        .send()
        .await
        .unwrap();
    let remaining = collect_all(c.devices(DeviceQuery::all())).await.unwrap();
    assert_eq!(remaining.items.len(), before - 2);
    assert!(
        remaining
            .items
            .iter()
            .all(|d| d.location_id.as_deref() != Some(location.as_str()))
    );
    let rooms = c
        .list_rooms()
        .location_id(&location)
        .send()
        .await
        .unwrap_err();
    assert_eq!(rooms.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn every_response_carries_rate_limit_headers() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let response = reqwest::Client::new()
        .get(format!("{}/devices/{BULB}/status", sim.base_url()))
        .bearer_auth(sim.token())
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-ratelimit-limit"], "350");
    assert_eq!(response.headers()["x-ratelimit-remaining"], "349");
    let reset: u64 = response.headers()["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset <= 60_000);
}

/// 400 status reads of one device: seed 002 allows 350 per device per
/// minute, shrunk here to 350 per second.
async fn bulk_status_reads(sim: &Simulator, with_ext: bool) -> usize {
    let ids = vec![BULB.to_owned(); 400];
    if with_ext {
        let c = SmartThings::builder()
            .token(sim.token())
            .base_url(sim.base_url())
            .rate_limits(RateLimitPolicy::default().time_scale(60.0))
            .build()
            .unwrap();
        let results: Vec<_> = c.statuses(ids, 16).collect().await;
        results.iter().filter(|(_, r)| r.is_err()).count()
    } else {
        let c = bare_client(sim);
        let results: Vec<_> = futures::stream::iter(ids)
            .map(|id| {
                let c = c.clone();
                async move { c.get_device_status().device_id(id).send().await }
            })
            .buffer_unordered(16)
            .collect()
            .await;
        results.iter().filter(|r| r.is_err()).count()
    }
}

#[tokio::test]
async fn bulk_load_trips_the_limits_without_the_ext_layer_and_never_with_it() {
    let config = || Config {
        time_scale: 60.0,
        ..Config::default()
    };
    let bare = Simulator::start(Home::demo(), config()).await.unwrap();
    let failures = bulk_status_reads(&bare, false).await;
    assert!(bare.stats().throttled >= 50, "{:?}", bare.stats());
    assert_eq!(failures as u64, bare.stats().throttled);

    let managed = Simulator::start(Home::demo(), config()).await.unwrap();
    let failures = bulk_status_reads(&managed, true).await;
    assert_eq!(failures, 0);
    assert_eq!(managed.stats().throttled, 0, "{:?}", managed.stats());
    assert_eq!(managed.stats().by_operation["getDeviceStatus"], 400);
}

#[tokio::test]
async fn faults_are_deterministic_and_typed_on_the_client() {
    let plan = |seed| FaultPlan {
        seed,
        global: FaultRates {
            server_error: 0.3,
            html: 0.1,
            truncate: 0.1,
            drop: 0.1,
            ..FaultRates::default()
        },
        ..FaultPlan::default()
    };
    let mut sequences = Vec::new();
    for _ in 0..2 {
        let sim = Simulator::start(
            Home::demo(),
            Config {
                faults: plan(5),
                ..Config::default()
            },
        )
        .await
        .unwrap();
        let c = SmartThings::builder()
            .token(sim.token())
            .base_url(sim.base_url())
            .retry(RetryPolicy::none())
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let mut kinds = Vec::new();
        for _ in 0..40 {
            // Sequential, so arrival order (and so the draw) is fixed.
            kinds.push(
                c.get_device_status()
                    .device_id(BULB)
                    .send()
                    .await
                    .err()
                    .map(|e| e.kind()),
            );
        }
        let faults: Vec<_> = sim.log().into_iter().map(|e| e.fault).collect();
        assert!(kinds.contains(&Some(ErrorKind::Server)));
        assert!(
            kinds.contains(&Some(ErrorKind::Decode)) || kinds.contains(&Some(ErrorKind::Transport))
        );
        assert!(kinds.contains(&None));
        sequences.push(faults);
    }
    assert_eq!(sequences[0], sequences[1]);
}

#[tokio::test]
async fn a_recorded_home_is_served_back_losslessly() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/seed003");
    let dir = std::env::temp_dir().join(format!("st-recorded-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("status")).unwrap();
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(format!("{fixtures}/{name}")).unwrap())
            .unwrap()
    };
    let plain = read("list_devices_capability_switch.json");
    let embedded = read("list_devices_include_status_health.json");
    let full = read("device_status_full.json");
    std::fs::write(dir.join("devices-1.json"), plain.to_string()).unwrap();
    std::fs::write(dir.join("devices-2.json"), embedded.to_string()).unwrap();
    std::fs::write(dir.join(format!("status/{BULB}.json")), full.to_string()).unwrap();

    let sim = Simulator::start(Home::recorded(&dir).unwrap(), Config::default())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let get = |path: String| {
        let (http, token, base) = (http.clone(), sim.token().to_owned(), sim.base_url());
        async move {
            http.get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let listed = get("/devices".into()).await;
    for (i, captured) in plain["items"].as_array().unwrap().iter().enumerate() {
        assert_eq!(&listed["items"][i], captured);
    }
    let disposer = embedded["items"][0]["deviceId"].as_str().unwrap();
    let with_status = get(format!(
        "/devices?deviceId={disposer}&includeStatus=true&includeHealth=true"
    ))
    .await;
    assert_eq!(with_status["items"][0], embedded["items"][0]);
    assert_eq!(get(format!("/devices/{BULB}/status")).await, full);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_binary_prints_its_url_and_token() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_smartthings-sim"))
        .args(["--token", "printed-token"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    for _ in 0..3 {
        seen.push_str(&lines.next().unwrap().unwrap());
        seen.push('\n');
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(seen.contains("URL:   http://127.0.0.1:"), "{seen}");
    assert!(seen.contains("/v1"), "{seen}");
    assert!(seen.contains("token: printed-token"), "{seen}");
}

/// A device page's size (seed 002).
const PAGE: usize = 200;

/// A snapshot's statuses by device id.
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
