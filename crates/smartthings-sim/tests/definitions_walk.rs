//! The definition and app-management operations (device profiles and
//! preferences, installed apps and their schedules, apps, notifications,
//! custom capabilities with their localizations and presentations, device
//! configurations) walked through the public client: create, then get and
//! list show it, update changes it, delete removes it (404 afterwards);
//! 404 for unknown ids, 422 for a body missing what it needs.

mod walk;

use futures::TryStreamExt;
use serde_json::{Value, json};
use smartthings::types;
use smartthings_ext::SmartThings;
use smartthings_sim::{Config, Home, Simulator};
use walk::{BULB, CABIN, DIMMER, HOME, body, client, raw, status};

/// The demo's installed app, the one its subscription belongs to.
const INSTALLED: &str = "23ad67f8-aaaa-bbbb-cccc-000000000001";
const APP: &str = "4a8e6b3c-app-hello";

async fn demo() -> (Simulator, SmartThings) {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let c = client(&sim);
    (sim, c)
}

fn walked(sim: &Simulator, operations: &[&str]) {
    let stats = sim.stats();
    for operation in operations {
        assert!(stats.by_operation.contains_key(*operation), "{operation}");
    }
}

#[tokio::test]
async fn device_profiles_create_list_update_delete() {
    let (sim, c) = demo().await;
    let profile = c
        .create_device_profile()
        .body(body::<types::CreateDeviceProfileRequest>(json!({
            "name": "sim-switch",
            "components": [{"id": "main", "capabilities": [{"id": "switch", "version": 1}]}],
            "metadata": {"vid": "generic-switch"}
        })))
        .send()
        .await
        .unwrap();
    let profile = raw(&profile);
    let id = profile["id"].as_str().unwrap().to_owned();
    assert_eq!(profile["name"], "sim-switch");
    assert_eq!(profile["status"], "DEVELOPMENT");
    assert_eq!(profile["components"][0]["capabilities"][0]["id"], "switch");

    let got = c
        .get_device_profile()
        .device_profile_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&got)["metadata"]["vid"], "generic-switch");
    c.create_device_profile()
        .body(body::<types::CreateDeviceProfileRequest>(json!({
            "name": "sim-dimmer",
            "components": [{"id": "main", "capabilities": [{"id": "switchLevel", "version": 1}]}]
        })))
        .send()
        .await
        .unwrap();
    let all: Vec<_> = c
        .list_device_profiles()
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        all.iter()
            .map(|p| raw(p)["name"].clone())
            .collect::<Vec<_>>(),
        ["sim-switch", "sim-dimmer"]
    );
    let page = c.list_device_profiles().send().await.unwrap();
    assert_eq!(raw(&page)["items"].as_array().unwrap().len(), 2);
    // Paged like every list (`max`, `page`, `_links.next.href`).
    let first: Value = reqwest::Client::new()
        .get(format!("{}/deviceprofiles?max=1", sim.base_url()))
        .bearer_auth(sim.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    let next = first["_links"]["next"]["href"].as_str().unwrap();
    assert!(next.ends_with("/deviceprofiles?max=1&page=1"), "{next}");

    let updated = c
        .update_device_profile()
        .device_profile_id(&id)
        .body(body::<types::UpdateDeviceProfileRequest>(json!({
            "components": [{"id": "main", "capabilities": [
                {"id": "switch", "version": 1}, {"id": "refresh", "version": 1}
            ]}]
        })))
        .send()
        .await
        .unwrap();
    let updated = raw(&updated);
    assert_eq!(updated["name"], "sim-switch");
    assert_eq!(updated["components"][0]["capabilities"][1]["id"], "refresh");
    assert_eq!(updated["metadata"]["vid"], "generic-switch");

    let invalid = c
        .create_device_profile()
        .body(body::<types::CreateDeviceProfileRequest>(
            json!({"name": "no components"}),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&invalid), 422);
    let invalid = c
        .create_device_profile()
        .body(body::<types::CreateDeviceProfileRequest>(json!({
            "components": [{"id": "main", "capabilities": [{"id": "switch", "version": 1}]}]
        })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&invalid), 422);

    c.delete_device_profile()
        .device_profile_id(&id)
        .send()
        .await
        .unwrap();
    let gone = c
        .get_device_profile()
        .device_profile_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&gone), 404);
    let gone = c
        .delete_device_profile()
        .device_profile_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&gone), 404);
    let gone = c
        .update_device_profile()
        .device_profile_id("nope")
        .body(body::<types::UpdateDeviceProfileRequest>(json!({})))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&gone), 404);
    let left: Vec<_> = c
        .list_device_profiles()
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    walked(
        &sim,
        &[
            "listDeviceProfiles",
            "createDeviceProfile",
            "getDeviceProfile",
            "updateDeviceProfile",
            "deleteDeviceProfile",
        ],
    );
}

#[tokio::test]
async fn device_preferences_create_list_filter_get_update() {
    let (sim, c) = demo().await;
    let created = c
        .create_preference()
        .body(body::<types::CreateDevicePreferenceRequest>(json!({
            "name": "motionTimeout",
            "title": "Motion timeout",
            "preferenceType": "integer",
            "definition": {"minimum": 5, "maximum": 600, "default": 60}
        })))
        .send()
        .await
        .unwrap();
    let created = raw(&created);
    let id = created["preferenceId"].as_str().unwrap().to_owned();
    assert_eq!(id, "simulator.motionTimeout");
    assert_eq!(created["definition"]["maximum"], 600.0);

    let got = c
        .get_preference_by_id()
        .preference_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&got)["title"], "Motion timeout");
    let listed: Vec<_> = c.list_preferences().items().try_collect().await.unwrap();
    assert_eq!(listed.len(), 1);
    let ours: Vec<_> = c
        .list_preferences()
        .namespace("simulator")
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ours.len(), 1);
    let others: Vec<_> = c
        .list_preferences()
        .namespace("elsewhere")
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(others.is_empty());

    let updated = c
        .update_preference_by_id()
        .preference_id(&id)
        .body(body::<types::DevicePreferenceInput>(json!({
            "name": "motionTimeout",
            "title": "Motion timeout (s)",
            "preferenceType": "integer",
            "definition": {"minimum": 5, "maximum": 900, "default": 60}
        })))
        .send()
        .await
        .unwrap();
    let updated = raw(&updated);
    assert_eq!(updated["title"], "Motion timeout (s)");
    assert_eq!(updated["preferenceId"], id);
    let got = c
        .get_preference_by_id()
        .preference_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&got)["definition"]["maximum"], 900.0);

    // The same name again, an empty title, an unknown id.
    let duplicate = c
        .create_preference()
        .body(body::<types::CreateDevicePreferenceRequest>(json!({
            "name": "motionTimeout", "title": "Again", "preferenceType": "integer", "definition": {}
        })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&duplicate), 422);
    let invalid = c
        .create_preference()
        .body(body::<types::CreateDevicePreferenceRequest>(json!({
            "title": "", "preferenceType": "boolean", "definition": {}
        })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&invalid), 422);
    let missing = c
        .get_preference_by_id()
        .preference_id("simulator.nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&missing), 404);
    let missing = c
        .update_preference_by_id()
        .preference_id("simulator.nope")
        .body(body::<types::DevicePreferenceInput>(json!({
            "title": "x", "preferenceType": "boolean", "definition": {}
        })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&missing), 404);
    walked(
        &sim,
        &[
            "listPreferences",
            "createPreference",
            "getPreferenceById",
            "updatePreferenceById",
        ],
    );
}

#[tokio::test]
async fn installed_apps_list_filter_get_rename_delete() {
    let (sim, c) = demo().await;
    let all: Vec<_> = c.list_installations().items().try_collect().await.unwrap();
    let all: Vec<Value> = all.iter().map(raw).collect();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["installedAppId"], INSTALLED);
    assert!(all.iter().all(|a| a["appId"] == APP));
    // Stable ids: another simulator of the same home has the same.
    let again = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let again: Vec<_> = client(&again)
        .list_installations()
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all, again.iter().map(raw).collect::<Vec<_>>());
    // A generated home has one per location too.
    let generated = Simulator::start(Home::generated(3, 30, 7).unwrap(), Config::default())
        .await
        .unwrap();
    let installed: Vec<_> = client(&generated)
        .list_installations()
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(installed.len(), 3);
    // ... of an app the home has.
    let app_id = raw(&installed[0])["appId"].as_str().unwrap().to_owned();
    let app = client(&generated)
        .get_app()
        .app_id(&app_id)
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&app)["appId"], app_id);

    let cabin: Vec<_> = c
        .list_installations()
        .location_id(vec![CABIN.to_owned()])
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(cabin.len(), 1);
    let cabin_app = raw(&cabin[0])["installedAppId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(raw(&cabin[0])["locationId"], CABIN);
    let both: Vec<_> = c
        .list_installations()
        .location_id(vec![HOME.to_owned(), CABIN.to_owned()])
        .installed_app_status(vec!["AUTHORIZED".to_owned()])
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(both.len(), 2);
    let none: Vec<_> = c
        .list_installations()
        .app_id(vec!["another-app".to_owned()])
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(none.is_empty());
    // The demo's installed app subscribes to the bulb.
    let using: Vec<_> = c
        .list_installations()
        .device_id(vec![BULB.to_owned()])
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(using.len(), 1);
    assert_eq!(raw(&using[0])["installedAppId"], INSTALLED);
    let using: Vec<_> = c
        .list_installations()
        .device_id(vec![DIMMER.to_owned()])
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(using.is_empty());

    let got = c
        .get_installation()
        .installed_app_id(INSTALLED)
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&got)["locationId"], HOME);
    let renamed = c
        .update_installation()
        .installed_app_id(INSTALLED)
        .body(body::<types::UpdateInstalledAppRequest>(
            json!({"displayName": "Porch lights"}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&renamed)["displayName"], "Porch lights");
    let got = c
        .get_installation()
        .installed_app_id(INSTALLED)
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&got)["displayName"], "Porch lights");
    let invalid = c
        .update_installation()
        .installed_app_id(INSTALLED)
        .body(body::<types::UpdateInstalledAppRequest>(
            json!({"displayName": ""}),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&invalid), 422);

    // Deleting takes the installed app's subscriptions with it.
    let subscriptions: Vec<_> = c
        .list_subscriptions()
        .installed_app_id(INSTALLED)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(subscriptions.len(), 1);
    c.delete_installation()
        .installed_app_id(INSTALLED)
        .send()
        .await
        .unwrap();
    let gone = c
        .get_installation()
        .installed_app_id(INSTALLED)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&gone), 404);
    let gone = c
        .delete_installation()
        .installed_app_id(INSTALLED)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&gone), 404);
    let gone = c
        .update_installation()
        .installed_app_id(INSTALLED)
        .body(body::<types::UpdateInstalledAppRequest>(
            json!({"displayName": "x"}),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&gone), 404);
    let subscriptions: Vec<_> = c
        .list_subscriptions()
        .installed_app_id(INSTALLED)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(subscriptions.is_empty());
    let left: Vec<_> = c.list_installations().items().try_collect().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(raw(&left[0])["installedAppId"], cabin_app);
    walked(
        &sim,
        &[
            "listInstallations",
            "getInstallation",
            "updateInstallation",
            "deleteInstallation",
        ],
    );
}

#[tokio::test]
async fn schedules_of_an_installed_app() {
    let (sim, c) = demo().await;
    let cron = c
        .create_schedule()
        .installed_app_id(INSTALLED)
        .body(body::<types::CreateScheduleRequest>(json!({
            "name": "nightly",
            "cron": {"expression": "0 22 * * ? *", "timezone": "America/Chicago"}
        })))
        .send()
        .await
        .unwrap();
    let cron = raw(&cron);
    assert_eq!(cron["installedAppId"], INSTALLED);
    assert_eq!(cron["locationId"], HOME);
    assert_eq!(cron["cron"]["expression"], "0 22 * * ? *");
    let once = c
        .create_schedule()
        .installed_app_id(INSTALLED)
        .body(body::<types::CreateScheduleRequest>(json!({
            "name": "wake-up", "once": {"time": 1_893_456_000_000_i64}
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&once)["once"]["time"], 1_893_456_000_000_i64);

    let got = c
        .get_schedule()
        .installed_app_id(INSTALLED)
        .schedule_name("wake-up")
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&got)["name"], "wake-up");
    let listed: Vec<_> = c
        .list_schedules()
        .installed_app_id(INSTALLED)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|s| raw(s)["name"].clone())
            .collect::<Vec<_>>(),
        ["nightly", "wake-up"]
    );
    // Schedules belong to their installed app.
    let cabin: Vec<_> = c
        .list_installations()
        .location_id(vec![CABIN.to_owned()])
        .items()
        .try_collect()
        .await
        .unwrap();
    let cabin_app = raw(&cabin[0])["installedAppId"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs: Vec<_> = c
        .list_schedules()
        .installed_app_id(&cabin_app)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(theirs.is_empty());

    // Neither cron nor once; both; an unknown installed app.
    let invalid = c
        .create_schedule()
        .installed_app_id(INSTALLED)
        .body(body::<types::CreateScheduleRequest>(
            json!({"name": "never"}),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&invalid), 422);
    let invalid = c
        .create_schedule()
        .installed_app_id(INSTALLED)
        .body(body::<types::CreateScheduleRequest>(json!({
            "name": "both",
            "cron": {"expression": "0 22 * * ? *", "timezone": "UTC"},
            "once": {"time": 1_893_456_000_000_i64}
        })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&invalid), 422);
    let unknown = c
        .list_schedules()
        .installed_app_id("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&unknown), 404);

    c.delete_schedule()
        .installed_app_id(INSTALLED)
        .schedule_name("wake-up")
        .send()
        .await
        .unwrap();
    let gone = c
        .get_schedule()
        .installed_app_id(INSTALLED)
        .schedule_name("wake-up")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&gone), 404);
    let gone = c
        .delete_schedule()
        .installed_app_id(INSTALLED)
        .schedule_name("wake-up")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&gone), 404);
    c.delete_all_schedules()
        .installed_app_id(INSTALLED)
        .send()
        .await
        .unwrap();
    let left: Vec<_> = c
        .list_schedules()
        .installed_app_id(INSTALLED)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(left.is_empty());
    let unknown = c
        .delete_all_schedules()
        .installed_app_id("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&unknown), 404);
    walked(
        &sim,
        &[
            "listSchedules",
            "createSchedule",
            "getSchedule",
            "deleteSchedule",
            "deleteAllSchedules",
        ],
    );
}

fn app_request(name: &str, display: &str) -> Value {
    json!({
        "appName": name,
        "displayName": display,
        "description": "Made in a test",
        "appType": "WEBHOOK_SMART_APP",
        "classifications": ["AUTOMATION"],
        "singleInstance": false,
        "webhookSmartApp": {"targetUrl": "https://example.com/smartapp"},
        "oauth": {"clientName": "test client", "scope": ["r:devices:*"], "redirectUris": []}
    })
}

#[tokio::test]
async fn apps_create_update_oauth_settings_register_delete() {
    let (sim, c) = demo().await;
    let created = c
        .create_app()
        .require_confirmation(true)
        .body(body::<types::CreateAppRequest>(app_request(
            "sim-test-app",
            "Test App",
        )))
        .send()
        .await
        .unwrap();
    let created = raw(&created);
    let id = created["app"]["appId"].as_str().unwrap().to_owned();
    assert!(created["oauthClientId"].is_string());
    assert!(created["oauthClientSecret"].is_string());
    assert_eq!(created["app"]["webhookSmartApp"]["targetStatus"], "PENDING");
    assert_eq!(
        created["app"]["webhookSmartApp"]["signatureType"],
        "ST_PADLOCK"
    );
    // listApps and getApp (by id and by name) know it.
    let apps: Vec<_> = c.list_apps().items().try_collect().await.unwrap();
    assert_eq!(apps.len(), 2);
    let by_name = c.get_app().app_id("sim-test-app").send().await.unwrap();
    assert_eq!(raw(&by_name)["appId"], id);

    let updated = c
        .update_app()
        .app_id(&id)
        .body(body::<types::UpdateAppRequest>(app_request(
            "sim-test-app",
            "Renamed App",
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&updated)["displayName"], "Renamed App");
    let got = c.get_app().app_id(&id).send().await.unwrap();
    assert_eq!(raw(&got)["displayName"], "Renamed App");
    // The name is unique; the required fields are required.
    let taken = c
        .update_app()
        .app_id(&id)
        .body(body::<types::UpdateAppRequest>(app_request(
            "hello-world",
            "Clash",
        )))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&taken), 422);
    let mut invalid = app_request("another", "Another");
    invalid["description"] = json!("");
    let invalid = c
        .create_app()
        .body(body::<types::CreateAppRequest>(invalid))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&invalid), 422);

    let oauth = c.get_app_oauth().app_id(&id).send().await.unwrap();
    assert_eq!(raw(&oauth)["clientName"], "test client");
    let oauth = c
        .update_app_oauth()
        .app_id(&id)
        .body(body::<types::AppOAuthInput>(json!({
            "clientName": "renamed client",
            "scope": ["r:devices:*", "x:devices:*"],
            "redirectUris": ["https://example.com/callback"]
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&oauth)["scope"][1], "x:devices:*");
    let oauth = c.get_app_oauth().app_id(&id).send().await.unwrap();
    assert_eq!(
        raw(&oauth)["redirectUris"][0],
        "https://example.com/callback"
    );
    let generated = c
        .generate_st_oauth_credentials()
        .app_id(&id)
        .body(body::<types::GenerateAppOAuthRequest>(json!({
            "clientName": "regenerated", "scope": ["r:locations:*"]
        })))
        .send()
        .await
        .unwrap();
    let generated = raw(&generated);
    assert_ne!(generated["oauthClientId"], created["oauthClientId"]);
    assert_eq!(generated["oauthClientDetails"]["clientName"], "regenerated");
    assert_eq!(
        generated["oauthClientDetails"]["redirectUris"][0],
        "https://example.com/callback"
    );

    let settings = c.get_app_settings().app_id(&id).send().await.unwrap();
    assert_eq!(raw(&settings), json!({"settings": {}}));
    let settings = c
        .update_app_settings()
        .app_id(&id)
        .body(body::<types::AppSettingsInput>(
            json!({"settings": {"apiKey": "abc", "region": "us"}}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&settings)["settings"]["region"], "us");
    let settings = c.get_app_settings().app_id(&id).send().await.unwrap();
    assert_eq!(raw(&settings)["settings"]["apiKey"], "abc");

    c.register().app_id(&id).send().await.unwrap();
    let got = c.get_app().app_id(&id).send().await.unwrap();
    assert_eq!(raw(&got)["webhookSmartApp"]["targetStatus"], "CONFIRMED");

    // The demo's app has no target to confirm.
    let refused = c.register().app_id(APP).send().await.unwrap_err();
    assert_eq!(status(&refused), 422);
    // Deleting the demo's app deletes its installations.
    c.delete_app().app_id(APP).send().await.unwrap();
    let installed: Vec<_> = c.list_installations().items().try_collect().await.unwrap();
    assert!(installed.is_empty());
    c.delete_app().app_id(&id).send().await.unwrap();
    for gone in [
        c.get_app().app_id(&id).send().await.map(|_| ()),
        c.delete_app().app_id(&id).send().await,
        c.get_app_oauth().app_id(&id).send().await.map(|_| ()),
        c.get_app_settings().app_id(&id).send().await.map(|_| ()),
        c.register().app_id(&id).send().await.map(|_| ()),
    ] {
        assert_eq!(status(&gone.unwrap_err()), 404);
    }
    let apps: Vec<_> = c.list_apps().items().try_collect().await.unwrap();
    assert!(apps.is_empty());
    walked(
        &sim,
        &[
            "createApp",
            "updateApp",
            "deleteApp",
            "getAppOauth",
            "updateAppOauth",
            "generateStOauthCredentials",
            "getAppSettings",
            "updateAppSettings",
            "register",
        ],
    );
}

#[tokio::test]
async fn notifications_are_checked_and_kept() {
    let (sim, c) = demo().await;
    let sent = c
        .create_notification()
        .body(body::<types::NotificationRequest>(json!({
            "locationId": HOME,
            "type": "ALERT",
            "messages": [{"default": {"title": "Door", "body": "The front door opened"}}]
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&sent), json!({"code": 200, "message": "Success"}));
    let kept = sim.notifications();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["messages"][0]["default"]["title"], "Door");
    let invalid = c
        .create_notification()
        .body(body::<types::NotificationRequest>(
            json!({"locationId": HOME, "type": "ALERT", "messages": []}),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&invalid), 422);
    let unknown = c
        .create_notification()
        .body(body::<types::NotificationRequest>(json!({
            "locationId": "nope", "type": "ALERT",
            "messages": [{"default": {"title": "x", "body": "y"}}]
        })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&unknown), 404);
    assert_eq!(sim.notifications().len(), 1);
    walked(&sim, &["createNotification"]);
}

#[tokio::test]
async fn custom_capabilities_localizations_and_presentations() {
    let (sim, c) = demo().await;
    let created = c
        .create_capability()
        .namespace("simtest")
        .body(body::<types::CreateCapabilityRequest>(json!({
            "name": "Fan speed",
            "attributes": {"speed": {"schema": {
                "type": "object",
                "properties": {"value": {"type": "integer", "minimum": 0, "maximum": 3}},
                "additionalProperties": false,
                "required": ["value"]
            }}},
            "commands": {}
        })))
        .send()
        .await
        .unwrap();
    let created = raw(&created);
    assert_eq!(created["id"], "simtest.fanSpeed");
    assert_eq!(created["version"], 1);
    let id = "simtest.fanSpeed";
    // Listed and defined like the home's own.
    let listed: Vec<_> = c
        .list_namespaced_capabilities()
        .namespace("simtest")
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let got = c
        .get_capability()
        .capability_id(id)
        .capability_version(1)
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&got)["name"], "Fan speed");
    assert!(raw(&got)["attributes"]["speed"].is_object());

    let updated = c
        .update_capability()
        .capability_id(id)
        .capability_version(1)
        .body(body::<types::UpdateCapabilityRequest>(json!({
            "attributes": {},
            "commands": {"setSpeed": {"name": "setSpeed", "arguments": []}}
        })))
        .send()
        .await
        .unwrap();
    assert!(raw(&updated)["commands"]["setSpeed"].is_object());
    let got = c
        .get_capability()
        .capability_id(id)
        .capability_version(1)
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&got)["attributes"], json!({}));
    // The home's capabilities are not ours to change; names are needed.
    let standard = c
        .update_capability()
        .capability_id("switch")
        .capability_version(1)
        .body(body::<types::UpdateCapabilityRequest>(json!({})))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&standard), 403);
    let invalid = c
        .create_capability()
        .body(body::<types::CreateCapabilityRequest>(json!({"name": ""})))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&invalid), 422);
    let duplicate = c
        .create_capability()
        .namespace("simtest")
        .body(body::<types::CreateCapabilityRequest>(
            json!({"name": "fan speed"}),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&duplicate), 422);

    // Localizations, one per tag.
    let en = c
        .create_capability_localization()
        .capability_id(id)
        .capability_version(1)
        .body(body::<types::CapabilityLocalizationInput>(json!({
            "tag": "en", "label": "Fan speed", "description": "How fast the fan turns"
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&en)["label"], "Fan speed");
    c.create_capability_localization()
        .capability_id(id)
        .capability_version(1)
        .body(body::<types::CapabilityLocalizationInput>(
            json!({"tag": "ko", "label": "팬 속도"}),
        ))
        .send()
        .await
        .unwrap();
    let tags: Vec<_> = c
        .list_capability_localizations()
        .capability_id(id)
        .capability_version(1)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        tags.iter().map(raw).collect::<Vec<_>>(),
        [json!({"tag": "en"}), json!({"tag": "ko"})]
    );
    let again = c
        .create_capability_localization()
        .capability_id(id)
        .capability_version(1)
        .body(body::<types::CapabilityLocalizationInput>(
            json!({"tag": "en"}),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&again), 422);
    let updated = c
        .update_capability_localization()
        .capability_id(id)
        .capability_version(1)
        .locale("en")
        .body(body::<types::CapabilityLocalizationInput>(
            json!({"tag": "en", "label": "Fan level"}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&updated)["label"], "Fan level");
    let got = c
        .get_capability_localization()
        .capability_id(id)
        .capability_version(1)
        .locale("en")
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&got)["label"], "Fan level");
    let missing = c
        .get_capability_localization()
        .capability_id(id)
        .capability_version(1)
        .locale("fr")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&missing), 404);

    // The presentation.
    let missing = c
        .get_capability_presentation()
        .capability_id(id)
        .capability_version(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&missing), 404);
    let presentation = c
        .create_custom_capability_presentation()
        .capability_id(id)
        .capability_version(1)
        .body(body::<types::CreateCapabilityPresentationRequest>(json!({
            "id": id, "version": 1,
            "detailView": [{"label": "Speed", "displayType": "slider",
                            "slider": {"range": [0, 3], "value": "speed.value", "command": "setSpeed"}}]
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&presentation)["id"], id);
    let again = c
        .create_custom_capability_presentation()
        .capability_id(id)
        .capability_version(1)
        .body(body::<types::CreateCapabilityPresentationRequest>(
            json!({"id": id, "version": 1}),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&again), 422);
    let mismatched = c
        .update_custom_capability_presentation()
        .capability_id("switch")
        .capability_version(1)
        .body(body::<types::UpdateCapabilityPresentationRequest>(
            json!({}),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&mismatched), 403);
    let mismatched = c
        .create_custom_capability_presentation()
        .capability_id(id)
        .capability_version(1)
        .body(body::<types::CreateCapabilityPresentationRequest>(
            json!({"id": "simtest.other", "version": 1}),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&mismatched), 422);
    let got = c
        .get_capability_presentation()
        .capability_id(id)
        .capability_version(1)
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&got)["detailView"][0]["label"], "Speed");
    let updated = c
        .update_custom_capability_presentation()
        .capability_id(id)
        .capability_version(1)
        .body(body::<types::UpdateCapabilityPresentationRequest>(json!({
            "detailView": [{"label": "Level", "displayType": "slider",
                            "slider": {"range": [0, 3], "value": "speed.value", "command": "setSpeed"}}]
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&updated)["detailView"][0]["label"], "Level");
    let got = c
        .get_capability_presentation()
        .capability_id(id)
        .capability_version(1)
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&got)["detailView"][0]["label"], "Level");

    // Deleting takes its localizations and presentation with it.
    c.delete_capability()
        .capability_id(id)
        .capability_version(1)
        .send()
        .await
        .unwrap();
    let gone = c
        .get_capability()
        .capability_id(id)
        .capability_version(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&gone), 404);
    let gone = c
        .delete_capability()
        .capability_id(id)
        .capability_version(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&gone), 404);
    let gone = c
        .list_capability_localizations()
        .capability_id(id)
        .capability_version(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&gone), 404);
    let gone = c
        .get_capability_presentation()
        .capability_id(id)
        .capability_version(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&gone), 404);
    walked(
        &sim,
        &[
            "createCapability",
            "updateCapability",
            "deleteCapability",
            "listCapabilityLocalizations",
            "createCapabilityLocalization",
            "getCapabilityLocalization",
            "updateCapabilityLocalization",
            "getCapabilityPresentation",
            "createCustomCapabilityPresentation",
            "updateCustomCapabilityPresentation",
        ],
    );
}

#[tokio::test]
async fn device_configurations_created_and_generated() {
    let (sim, c) = demo().await;
    let config = json!({
        "type": "profile",
        "iconUrl": "https://example.com/icon.png",
        "dashboard": {"states": [{"component": "main", "capability": "switch", "version": 1}], "actions": []},
        "detailView": [{"component": "main", "capability": "switch", "version": 1}]
    });
    let created = c
        .create_device_configuration()
        .body(body::<types::CreatePresentationDeviceConfigRequest>(
            config.clone(),
        ))
        .send()
        .await
        .unwrap();
    let created = raw(&created);
    let id = created["presentationId"].as_str().unwrap().to_owned();
    assert_eq!(created["manufacturerName"], "SmartThingsCommunity");
    // Idempotent: the same content, the same configuration.
    let again = c
        .create_device_configuration()
        .body(body::<types::CreatePresentationDeviceConfigRequest>(config))
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&again)["presentationId"], id);
    let got = c
        .get_device_configuration()
        .presentation_id(&id)
        .manufacturer_name("SmartThingsCommunity")
        .send()
        .await
        .unwrap();
    assert_eq!(raw(&got)["detailView"][0]["capability"], "switch");
    let missing = c
        .get_device_configuration()
        .presentation_id("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&missing), 404);

    // Generated from a device profile: its capabilities, component by
    // component; found by its presentation id afterwards.
    let profile = c
        .create_device_profile()
        .body(body::<types::CreateDeviceProfileRequest>(json!({
            "name": "sim-bulb",
            "components": [{"id": "main", "capabilities": [
                {"id": "switch", "version": 1}, {"id": "switchLevel", "version": 1}
            ]}]
        })))
        .send()
        .await
        .unwrap();
    let profile_id = raw(&profile)["id"].as_str().unwrap().to_owned();
    let generated = c
        .generate_device_config()
        .profile_id(&profile_id)
        .send()
        .await
        .unwrap();
    let generated = raw(&generated);
    assert_eq!(generated["detailView"][1]["capability"], "switchLevel");
    let presentation = generated["presentationId"].as_str().unwrap().to_owned();
    let got = c
        .get_device_configuration()
        .presentation_id(&presentation)
        .send()
        .await
        .unwrap();
    assert_eq!(
        raw(&got)["automation"]["actions"][0]["capability"],
        "switch"
    );
    let missing = c
        .generate_device_config()
        .profile_id("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&missing), 404);
    walked(
        &sim,
        &[
            "createDeviceConfiguration",
            "getDeviceConfiguration",
            "generateDeviceConfig",
        ],
    );
}
