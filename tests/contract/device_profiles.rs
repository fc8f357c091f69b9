//! Device profiles: list, create, get, update, delete.
//!
//! Bodies are shaped as `@smartthings/core-sdk` 8.3.2 declares them
//! (`dist/endpoint/deviceprofiles.d.ts`) and go out through the typed
//! `then.ok(..)` (see `tests/README.md`). The responses carry the `owner`
//! the API adds, which the spec leaves to `extra`.

use futures::TryStreamExt;
use serde_json::json;
use smartthings_ext::types::{
    CreateDeviceProfileRequest, DeviceProfilePreferencePreferenceType, DeviceProfileStatus,
    UpdateDeviceProfileRequest,
};
use smartthings_ext::{LenientItems, OpenEnum};
use smartthings_httpmock::MockServerExt;

use crate::harness::{Expect, check_declared_errors, client, typed};

const PROFILE: &str = "3acbf2fc-6be2-4be0-aeb5-c10f4ff357bb";
const OTHER_PROFILE: &str = "9d1c0a5e-2f4b-4c1a-8e7d-6b5a4c3d2e1f";

/// Components, metadata and preferences, as the profile's author writes
/// them: an explicit preference (defined on its own) and an inline one.
fn definition() -> serde_json::Value {
    json!({
        "components": [{
            "id": "main",
            "capabilities": [
                {"id": "switch", "version": 1},
                {"id": "perfectlife6617.fanSpeed", "version": 1}
            ]
        }],
        "metadata": {
            "deviceType": "Fan",
            "ocfDeviceType": "oic.d.fan",
            "mnmn": "SmartThingsCommunity",
            "vid": "e8a3b6f2-6c1d-3f5e-9a4b-2d7c8e1f0a93"
        },
        "preferences": [
            {"preferenceId": "perfectlife6617.motionSensitivity", "explicit": true},
            {
                "title": "LED indicator",
                "description": "Light the LED while the fan runs",
                "required": false,
                "preferenceType": "boolean",
                "explicit": false,
                "definition": {"default": true}
            }
        ]
    })
}

fn create_body() -> serde_json::Value {
    let mut body = definition();
    body["name"] = json!("Fan Controller");
    body
}

fn create_request() -> CreateDeviceProfileRequest {
    serde_json::from_value(create_body()).unwrap()
}

fn update_request() -> UpdateDeviceProfileRequest {
    serde_json::from_value(definition()).unwrap()
}

/// A profile as the API returns it: the definition plus id, owner, status
/// and the component labels the server sets.
fn profile(id: &str, name: &str) -> serde_json::Value {
    let mut profile = create_body();
    profile["id"] = json!(id);
    profile["name"] = json!(name);
    profile["owner"] =
        json!({"ownerType": "USER", "ownerId": "0b6d5b3a-6b51-4d1e-9c38-3c1e4b1e7a10"});
    profile["components"][0]["label"] = json!("main");
    profile["status"] = json!("DEVELOPMENT");
    profile
}

mod list_device_profiles {
    use super::*;

    #[tokio::test]
    async fn decodes_the_page() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/deviceprofiles");
        let mock = server.list_device_profiles(|when, then| {
            expect.apply(when.into_inner());
            let mut published = profile(OTHER_PROFILE, "Ceiling Fan");
            published["status"] = json!("PUBLISHED");
            then.ok(&typed(json!({
                "items": [profile(PROFILE, "Fan Controller"), published],
                "_links": {}
            })));
        });
        let page = client(&server).list_device_profiles().send().await.unwrap();
        mock.assert();
        let profiles: Vec<_> = page.items.as_deref().unwrap().valid().cloned().collect();
        assert_eq!(profiles.len(), 2);
        assert_eq!(profiles[0].id.as_deref(), Some(PROFILE));
        assert_eq!(
            profiles[1].status,
            Some(OpenEnum::Known(DeviceProfileStatus::Published))
        );
        assert_eq!(profiles[1].extra["owner"]["ownerType"], "USER");
    }

    #[tokio::test]
    async fn items_follow_the_next_link() {
        let server = httpmock::MockServer::start_async().await;
        let next = format!("{}/deviceprofiles?page=1", server.base_url());
        let first_expect = Expect::get("/deviceprofiles");
        let first = server.list_device_profiles(|when, then| {
            first_expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [profile(PROFILE, "Fan Controller")],
                "_links": {"next": {"href": next}}
            })));
        });
        let second_expect = Expect::get("/deviceprofiles").query("page", "1");
        let second = server.list_device_profiles(|when, then| {
            second_expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [profile(OTHER_PROFILE, "Ceiling Fan")],
                "_links": {}
            })));
        });
        let c = client(&server);
        let all: Vec<_> = c
            .list_device_profiles()
            .items()
            .try_collect()
            .await
            .unwrap();
        first.assert();
        second.assert();
        let names: Vec<_> = all.iter().filter_map(|p| p.name.as_deref()).collect();
        assert_eq!(names, ["Fan Controller", "Ceiling Fan"]);
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "listDeviceProfiles",
            Expect::get("/deviceprofiles"),
            |c| async move { c.list_device_profiles().send().await },
        )
        .await;
    }
}

mod create_device_profile {
    use super::*;

    #[tokio::test]
    async fn posts_the_profile() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post("/deviceprofiles").body(create_body());
        let mock = server.create_device_profile(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(profile(PROFILE, "Fan Controller")));
        });
        let created = client(&server)
            .create_device_profile()
            .body(create_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(created.id.as_deref(), Some(PROFILE));
        assert_eq!(
            created.status,
            Some(OpenEnum::Known(DeviceProfileStatus::Development))
        );
        let component = &created.components.unwrap()[0];
        assert_eq!(component.label.as_deref(), Some("main"));
        let capabilities = component.capabilities.as_ref().unwrap();
        assert_eq!(
            capabilities[1].id.as_deref(),
            Some("perfectlife6617.fanSpeed")
        );
        assert_eq!(
            created.metadata.unwrap()["ocfDeviceType"],
            "oic.d.fan".to_owned()
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "createDeviceProfile",
            Expect::post("/deviceprofiles").body(create_body()),
            |c| async move {
                c.create_device_profile()
                    .body(create_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod get_device_profile {
    use super::*;

    #[tokio::test]
    async fn gets_the_profile_and_its_preferences() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("/deviceprofiles/{PROFILE}"));
        let mock = server.get_device_profile(|when, then| {
            expect.apply(when.device_profile_id(PROFILE).into_inner());
            then.ok(&typed(profile(PROFILE, "Fan Controller")));
        });
        let profile = client(&server)
            .get_device_profile()
            .device_profile_id(PROFILE)
            .send()
            .await
            .unwrap();
        mock.assert();
        let preferences = profile.preferences.unwrap();
        assert_eq!(preferences[0].explicit, Some(true));
        assert_eq!(
            preferences[0].preference_id.as_deref(),
            Some("perfectlife6617.motionSensitivity")
        );
        assert_eq!(
            preferences[1].preference_type,
            Some(OpenEnum::Known(
                DeviceProfilePreferencePreferenceType::Boolean
            ))
        );
        assert_eq!(
            preferences[1].definition.as_ref().unwrap().default,
            Some(json!(true))
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getDeviceProfile",
            Expect::get(&format!("/deviceprofiles/{PROFILE}")),
            |c| async move {
                c.get_device_profile()
                    .device_profile_id(PROFILE)
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod update_device_profile {
    use super::*;

    #[tokio::test]
    async fn puts_components_metadata_and_preferences() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::put(&format!("/deviceprofiles/{PROFILE}")).body(definition());
        let mock = server.update_device_profile(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(profile(PROFILE, "Fan Controller")));
        });
        let updated = client(&server)
            .update_device_profile()
            .device_profile_id(PROFILE)
            .body(update_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(updated.name.as_deref(), Some("Fan Controller"));
        assert_eq!(updated.preferences.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "updateDeviceProfile",
            Expect::put(&format!("/deviceprofiles/{PROFILE}")).body(definition()),
            |c| async move {
                c.update_device_profile()
                    .device_profile_id(PROFILE)
                    .body(update_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod delete_device_profile {
    use super::*;

    #[tokio::test]
    async fn deletes_the_profile() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::delete(&format!("/deviceprofiles/{PROFILE}"));
        let mock = server.delete_device_profile(|when, then| {
            expect.apply(when.into_inner());
            then.ok().into_inner().json_body(json!({}));
        });
        let () = client(&server)
            .delete_device_profile()
            .device_profile_id(PROFILE)
            .send()
            .await
            .unwrap();
        mock.assert();
        // The 200's `{}`.
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "deleteDeviceProfile",
            Expect::delete(&format!("/deviceprofiles/{PROFILE}")),
            |c| async move {
                c.delete_device_profile()
                    .device_profile_id(PROFILE)
                    .send()
                    .await
            },
        )
        .await;
    }
}
