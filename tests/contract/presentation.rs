//! Device configurations: get one by presentation id, create one, generate
//! one from a device profile.
//!
//! Bodies are shaped as `@smartthings/core-sdk` 8.3.2 declares them
//! (`dist/endpoint/presentation.d.ts`) and go out through the typed
//! `then.ok(..)` (see `tests/README.md`); ranges and steps are `f64`s, so
//! they are written `4.0`, as the client sends them.

use serde_json::json;
use smartthings_ext::OpenEnum;
use smartthings_ext::types::{
    CreatePresentationDeviceConfigRequest, PresentationDeviceConfigDpInfoOperatingMode,
    PresentationDeviceConfigPatchItemOp, PresentationDeviceConfigType,
};
use smartthings_httpmock::MockServerExt;

use crate::harness::{Expect, check_declared_errors, client, typed};

const PRESENTATION_ID: &str = "e8a3b6f2-6c1d-3f5e-9a4b-2d7c8e1f0a93";
const MANUFACTURER: &str = "SmartThingsCommunity";
const PROFILE: &str = "3acbf2fc-6be2-4be0-aeb5-c10f4ff357bb";

/// The configuration as its author writes it: which capabilities of which
/// component appear where, narrowed and patched.
fn config_body() -> serde_json::Value {
    json!({
        "type": "profile",
        "iconUrl": "fan",
        "dashboard": {
            "states": [{"component": "main", "capability": "switch", "version": 1}],
            "actions": [{"component": "main", "capability": "switch", "version": 1}]
        },
        "detailView": [
            {"component": "main", "capability": "switch", "version": 1},
            {
                "component": "main",
                "capability": "perfectlife6617.fanSpeed",
                "version": 1,
                "values": [{"key": "fanSpeed.value", "range": [0.0, 3.0], "step": 1.0}],
                "patch": [{"op": "replace", "path": "/0/label", "value": "Speed"}],
                "visibleCondition": {
                    "capability": "switch",
                    "component": "main",
                    "value": "switch.value",
                    "operator": "EQUALS",
                    "operand": "on"
                }
            }
        ],
        "automation": {
            "conditions": [{
                "component": "main",
                "capability": "switch",
                "version": 1,
                "values": [{"key": "switch.value", "enabledValues": ["on"]}]
            }],
            "actions": [{"component": "main", "capability": "perfectlife6617.fanSpeed", "version": 1}]
        }
    })
}

fn create_request() -> CreatePresentationDeviceConfigRequest {
    serde_json::from_value(config_body()).unwrap()
}

/// The configuration as the API returns it: with its manufacturer name,
/// presentation id and the vendor detail pages.
fn config_response() -> serde_json::Value {
    let mut config = config_body();
    config["manufacturerName"] = json!(MANUFACTURER);
    config["presentationId"] = json!(PRESENTATION_ID);
    config["dpInfo"] = json!([
        {"os": "ios", "dpUri": "plugin://com.samsung.ios.plugin.stplugin/assets/files/index.html"},
        {"os": "android", "dpUri": "plugin://com.samsung.android.plugin.stplugin", "operatingMode": "deviceControl"}
    ]);
    config
}

mod get_device_configuration {
    use super::*;

    #[tokio::test]
    async fn asks_by_presentation_id_and_manufacturer() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/presentation/deviceconfig")
            .query("presentationId", PRESENTATION_ID)
            .query("manufacturerName", MANUFACTURER);
        let mock = server.get_device_configuration(|when, then| {
            let when = when
                .presentation_id(PRESENTATION_ID)
                .manufacturer_name(MANUFACTURER);
            expect.apply(when.into_inner());
            then.ok(&typed(config_response()));
        });
        let config = client(&server)
            .get_device_configuration()
            .presentation_id(PRESENTATION_ID)
            .manufacturer_name(MANUFACTURER)
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(config.presentation_id.as_deref(), Some(PRESENTATION_ID));
        assert_eq!(
            config.type_,
            Some(OpenEnum::Known(PresentationDeviceConfigType::Profile))
        );
        let detail = &config.detail_view.unwrap()[1];
        let value = &detail.values.as_ref().unwrap()[0];
        assert_eq!(value.range.as_deref(), Some(&[0.0, 3.0][..]));
        let patch = &detail.patch.as_ref().unwrap()[0];
        assert_eq!(
            patch.op,
            Some(OpenEnum::Known(
                PresentationDeviceConfigPatchItemOp::Replace
            ))
        );
        assert_eq!(patch.value, Some(json!("Speed")));
        let dp = &config.dp_info.unwrap()[1];
        assert_eq!(
            dp.operating_mode,
            Some(OpenEnum::Known(
                PresentationDeviceConfigDpInfoOperatingMode::DeviceControl
            ))
        );
    }

    #[tokio::test]
    async fn without_a_manufacturer_sends_only_the_presentation_id() {
        let server = httpmock::MockServer::start_async().await;
        let expect =
            Expect::get("/presentation/deviceconfig").query("presentationId", PRESENTATION_ID);
        let mock = server.get_device_configuration(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(config_response()));
        });
        let config = client(&server)
            .get_device_configuration()
            .presentation_id(PRESENTATION_ID)
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(config.manufacturer_name.as_deref(), Some(MANUFACTURER));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getDeviceConfiguration",
            Expect::get("/presentation/deviceconfig").query("presentationId", PRESENTATION_ID),
            |c| async move {
                c.get_device_configuration()
                    .presentation_id(PRESENTATION_ID)
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod create_device_configuration {
    use super::*;

    #[tokio::test]
    async fn posts_the_configuration_and_gets_its_presentation_id() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post("/presentation/deviceconfig").body(config_body());
        let mock = server.create_device_configuration(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(config_response()));
        });
        let created = client(&server)
            .create_device_configuration()
            .body(create_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(created.presentation_id.as_deref(), Some(PRESENTATION_ID));
        assert_eq!(created.manufacturer_name.as_deref(), Some(MANUFACTURER));
        let condition = &created.automation.unwrap().conditions.unwrap()[0];
        assert_eq!(
            condition.values.as_ref().unwrap()[0].enabled_values,
            Some(vec!["on".to_owned()])
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "createDeviceConfiguration",
            Expect::post("/presentation/deviceconfig").body(config_body()),
            |c| async move {
                c.create_device_configuration()
                    .body(create_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod generate_device_config {
    use super::*;

    #[tokio::test]
    async fn generates_from_the_profile() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("/presentation/types/{PROFILE}/deviceconfig"));
        let mock = server.generate_device_config(|when, then| {
            expect.apply(when.profile_id(PROFILE).into_inner());
            then.ok(&typed(config_response()));
        });
        let config = client(&server)
            .generate_device_config()
            .profile_id(PROFILE)
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(config.icon_url.as_deref(), Some("fan"));
        let dashboard = config.dashboard.unwrap();
        assert_eq!(
            dashboard.states.unwrap()[0].capability.as_deref(),
            Some("switch")
        );
        let fan = &config.detail_view.unwrap()[1];
        assert_eq!(
            fan.visible_condition.as_ref().unwrap().operand.as_deref(),
            Some("on")
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "generateDeviceConfig",
            Expect::get(&format!("/presentation/types/{PROFILE}/deviceconfig")),
            |c| async move { c.generate_device_config().profile_id(PROFILE).send().await },
        )
        .await;
    }
}
