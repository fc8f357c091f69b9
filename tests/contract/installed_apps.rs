//! Installed app instances: list (filters, pages), read, rename, delete.

use serde_json::json;
use smartthings_ext::types::{
    InstalledAppClassificationsItem, InstalledAppInstalledAppStatus, InstalledAppInstalledAppType,
    InstalledAppPrincipalType, UpdateInstalledAppRequest,
};
use smartthings_ext::{LenientItems, OpenEnum, collect_all};
use smartthings_httpmock::MockServerExt;

use crate::harness::{Expect, check_declared_errors, client, typed};

const LOCATION: &str = "95efee9b-6073-4871-b5ba-de6642187293";
const OTHER_LOCATION: &str = "6b3d1909-1e1c-43ec-adc2-5f941de4fbf9";
const INSTALLED: &str = "5336bd07-435f-4f1c-9d7d-a1f3a4b54a8e";
const APP: &str = "e6d9bc06-61a5-4ae3-9c43-0c1a8b1ad3c1";
const DEVICE: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const MODE: &str = "7b2f4c1e-0d3a-4e5b-9c8d-1f2e3d4c5b6a";

/// One installed app as the API returns it (core-sdk's InstalledApp).
fn installed_app(id: &str, name: &str) -> serde_json::Value {
    json!({
        "installedAppId": id,
        "installedAppType": "WEBHOOK_SMART_APP",
        "installedAppStatus": "AUTHORIZED",
        "displayName": name,
        "appId": APP,
        "locationId": LOCATION,
        "owner": {"ownerType": "USER", "ownerId": "3c4a5f0e-2b1d-4e8f-9a7b-6c5d4e3f2a10"},
        "createdDate": "2026-11-30T18:05:40Z",
        "lastUpdatedDate": "2026-11-30T18:05:40Z",
        "ui": {"dashboardCardsEnabled": false, "preInstallDashboardCardsEnabled": false},
        "iconImage": {"url": "https://lights.example.com/icon.png"},
        "classifications": ["AUTOMATION"],
        "principalType": "LOCATION",
        "singleInstance": false
    })
}

mod list_installations {
    use super::*;

    #[tokio::test]
    async fn sends_every_filter_repeated_and_decodes() {
        let server = httpmock::MockServer::start_async().await;
        // core-sdk sends array filters as repeated keys.
        let expect = Expect::get("/installedapps")
            .query("locationId", LOCATION)
            .query("locationId", OTHER_LOCATION)
            .query("installedAppStatus", "AUTHORIZED")
            .query("installedAppStatus", "PENDING")
            .query("installedAppType", "WEBHOOK_SMART_APP")
            .query("appId", APP)
            .query("deviceId", DEVICE)
            .query("modeId", MODE)
            .query("max", "50")
            .query("page", "0");
        let mock = server.list_installations(|when, then| {
            expect.apply(when.into_inner());
            let mut behavior = installed_app("b-1", "Away lights");
            behavior["installedAppType"] = json!("BEHAVIOR");
            behavior["installedAppStatus"] = json!("PENDING");
            behavior["referenceId"] = json!("behavior-17");
            behavior["classifications"] = json!(["HIDDEN", "SOMETHING_NEW"]);
            behavior["restrictionTier"] = json!(2);
            then.ok(&typed(json!({
                "items": [installed_app(INSTALLED, "Evening Lights"), behavior],
                "_links": {}
            })));
        });
        let page = client(&server)
            .list_installations()
            .location_id(vec![LOCATION.to_owned(), OTHER_LOCATION.to_owned()])
            .installed_app_status(vec!["AUTHORIZED".to_owned(), "PENDING".to_owned()])
            .installed_app_type(vec!["WEBHOOK_SMART_APP".to_owned()])
            .app_id(vec![APP.to_owned()])
            .device_id(vec![DEVICE.to_owned()])
            .mode_id(vec![MODE.to_owned()])
            .max(50)
            .page(0)
            .send()
            .await
            .unwrap();
        mock.assert();
        let apps: Vec<_> = page.items.as_deref().unwrap().valid().cloned().collect();
        assert_eq!(apps.len(), 2);
        assert_eq!(apps[0].installed_app_id.as_deref(), Some(INSTALLED));
        assert_eq!(
            apps[0].installed_app_status,
            Some(OpenEnum::Known(InstalledAppInstalledAppStatus::Authorized))
        );
        assert_eq!(
            apps[1].installed_app_type,
            Some(OpenEnum::Known(InstalledAppInstalledAppType::Behavior))
        );
        assert_eq!(apps[1].reference_id.as_deref(), Some("behavior-17"));
        assert_eq!(apps[1].restriction_tier, Some(2));
        let classifications = apps[1].classifications.as_deref().unwrap();
        assert_eq!(
            classifications[0],
            OpenEnum::Known(InstalledAppClassificationsItem::Hidden)
        );
        assert_eq!(classifications[1].unknown(), Some("SOMETHING_NEW"));
    }

    #[tokio::test]
    async fn items_follows_the_next_page() {
        let server = httpmock::MockServer::start_async().await;
        let first = Expect::get("/installedapps")
            .query("locationId", LOCATION)
            .query("max", "1");
        let second = Expect::get("/installedapps")
            .query("locationId", LOCATION)
            .query("max", "1")
            .query("page", "1");
        let next = format!(
            "{}/installedapps?locationId={LOCATION}&max=1&page=1",
            server.base_url()
        );
        let first_page = server.list_installations(|when, then| {
            first.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [installed_app(INSTALLED, "Evening Lights")],
                "_links": {"next": {"href": next}}
            })));
        });
        let second_page = server.list_installations(|when, then| {
            second.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [installed_app("ia-2", "Morning Blinds")],
                "_links": {}
            })));
        });
        let c = client(&server);
        let listing = collect_all(
            c.list_installations()
                .location_id(vec![LOCATION.to_owned()])
                .max(1)
                .items(),
        )
        .await
        .unwrap();
        first_page.assert();
        second_page.assert();
        let names: Vec<_> = listing
            .items
            .iter()
            .map(|a| a.display_name.clone().unwrap())
            .collect();
        assert_eq!(names, ["Evening Lights", "Morning Blinds"]);
        assert!(listing.invalid.is_empty());
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "listInstallations",
            Expect::get("/installedapps"),
            |c| async move { c.list_installations().send().await },
        )
        .await;
    }
}

mod get_installation {
    use super::*;

    #[tokio::test]
    async fn decodes_an_installed_app_with_nulls() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("/installedapps/{INSTALLED}"));
        let mut body = installed_app(INSTALLED, "unused");
        // core-sdk: displayName and referenceId "may be null".
        body["displayName"] = json!(null);
        body["referenceId"] = json!(null);
        body["ui"]["pluginId"] = json!(null);
        let mock = server.get_installation(|when, then| {
            expect.apply(when.into_inner());
            // Raw: the typed response would send the nulls as no key at all.
            then.into_inner().status(200).json_body(body);
        });
        let installed = client(&server)
            .get_installation()
            .installed_app_id(INSTALLED)
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(installed.display_name, None);
        assert_eq!(installed.reference_id, None);
        assert_eq!(installed.location_id.as_deref(), Some(LOCATION));
        assert_eq!(
            installed.principal_type,
            Some(OpenEnum::Known(InstalledAppPrincipalType::Location))
        );
        assert_eq!(installed.single_instance, Some(false));
        let ui = installed.ui.unwrap();
        assert_eq!(ui.plugin_id, None);
        assert_eq!(ui.pre_install_dashboard_cards_enabled, Some(false));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getInstallation",
            Expect::get(&format!("/installedapps/{INSTALLED}")),
            |c| async move {
                c.get_installation()
                    .installed_app_id(INSTALLED)
                    .send()
                    .await
            },
        )
        .await;
    }
}

fn rename_request() -> UpdateInstalledAppRequest {
    UpdateInstalledAppRequest {
        display_name: "Porch lights at dusk".into(),
    }
}

mod update_installation {
    use super::*;

    #[tokio::test]
    async fn puts_the_new_name() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::put(&format!("/installedapps/{INSTALLED}"))
            .body(json!({"displayName": "Porch lights at dusk"}));
        let mock = server.update_installation(|when, then| {
            expect.apply(when.into_inner());
            let mut renamed = installed_app(INSTALLED, "Porch lights at dusk");
            renamed["lastUpdatedDate"] = json!("2026-12-01T07:50:12Z");
            then.ok(&typed(renamed));
        });
        let installed = client(&server)
            .update_installation()
            .installed_app_id(INSTALLED)
            .body(rename_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(
            installed.display_name.as_deref(),
            Some("Porch lights at dusk")
        );
        assert_eq!(
            installed.last_updated_date.as_deref(),
            Some("2026-12-01T07:50:12Z")
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "updateInstallation",
            Expect::put(&format!("/installedapps/{INSTALLED}"))
                .body(json!({"displayName": "Porch lights at dusk"})),
            |c| async move {
                c.update_installation()
                    .installed_app_id(INSTALLED)
                    .body(rename_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod delete_installation {
    use super::*;

    #[tokio::test]
    async fn deletes_the_installation() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::delete(&format!("/installedapps/{INSTALLED}"));
        let mock = server.delete_installation(|when, then| {
            expect.apply(when.into_inner());
            then.ok().into_inner().json_body(json!({}));
        });
        let () = client(&server)
            .delete_installation()
            .installed_app_id(INSTALLED)
            .send()
            .await
            .unwrap();
        mock.assert();
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "deleteInstallation",
            Expect::delete(&format!("/installedapps/{INSTALLED}")),
            |c| async move {
                c.delete_installation()
                    .installed_app_id(INSTALLED)
                    .send()
                    .await
            },
        )
        .await;
    }
}
