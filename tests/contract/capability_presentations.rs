//! Capability presentations: how the app draws a custom capability on the
//! dashboard, in the detail view and in automations.
//!
//! Bodies are shaped as `@smartthings/core-sdk` 8.3.2 declares them
//! (`CapabilityPresentation*` in `dist/endpoint/capabilities.d.ts`). The
//! SDK's `[number, number]` ranges and steps are `number`s, `f64` here: a
//! typed value sends `4` as `4.0`, so the bodies below write `4.0`; the API's
//! own integers (`[0, 4]`) are in the raw response of
//! `get_capability_presentation`.

use serde_json::json;
use smartthings_ext::OpenEnum;
use smartthings_ext::types::{
    CapabilityPresentationAlternativeType, CapabilityPresentationVisibleConditionOperator,
    CreateCapabilityPresentationRequest, UpdateCapabilityPresentationRequest,
};
use smartthings_httpmock::MockServerExt;

use crate::harness::{Expect, check_declared_errors, client, typed};

const CAPABILITY: &str = "perfectlife6617.fanSpeed";
const PRESENTATION: &str = "/capabilities/perfectlife6617.fanSpeed/1/presentation";

/// The dashboard, detail view and automation of the presentation, as its
/// author writes them (ranges and steps as the `f64`s the client sends).
fn views() -> serde_json::Value {
    json!({
        "dashboard": {
            "states": [{
                "label": "{{fanSpeed.value}}",
                "alternatives": [
                    {"key": "0", "value": "Off", "type": "inactive"},
                    {"key": "4", "value": "Max", "type": "active"}
                ]
            }],
            "actions": [{
                "displayType": "pushButton",
                "pushButton": {"command": "setFanSpeed", "argument": "4"}
            }],
            "basicPlus": [{
                "displayType": "feature",
                "feature": [{"key": "fanSchedule", "value": "Schedule"}],
                "visibleCondition": {
                    "capability": "switch",
                    "version": 1,
                    "component": "main",
                    "value": "switch.value",
                    "operator": "EQUALS",
                    "operand": "on"
                }
            }]
        },
        "detailView": [{
            "label": "Fan speed",
            "displayType": "slider",
            "slider": {
                "range": [0.0, 4.0],
                "step": 1.0,
                "command": "setFanSpeed",
                "value": "fanSpeed.value"
            }
        }],
        "automation": {
            "conditions": [{
                "label": "Fan speed",
                "displayType": "numberField",
                "numberField": {"value": "fanSpeed.value", "range": [0.0, 4.0]}
            }],
            "actions": [{
                "label": "Set fan speed",
                "displayType": "list",
                "emphasis": true,
                "list": {
                    "alternatives": [
                        {"key": "0", "value": "Off"},
                        {"key": "4", "value": "Max"}
                    ],
                    "command": "setFanSpeed"
                }
            }]
        }
    })
}

/// The presentation with its capability id and version: the create body,
/// and the response of all three operations.
fn presentation() -> serde_json::Value {
    let mut presentation = views();
    presentation["id"] = json!(CAPABILITY);
    presentation["version"] = json!(1);
    presentation
}

fn create_request() -> CreateCapabilityPresentationRequest {
    serde_json::from_value(presentation()).unwrap()
}

fn update_request() -> UpdateCapabilityPresentationRequest {
    serde_json::from_value(views()).unwrap()
}

mod get_capability_presentation {
    use super::*;

    #[tokio::test]
    async fn decodes_the_views_with_the_apis_integer_ranges() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(PRESENTATION);
        let mut sent = presentation();
        sent["detailView"][0]["slider"]["range"] = json!([0, 4]);
        sent["detailView"][0]["slider"]["step"] = json!(1);
        sent["automation"]["conditions"][0]["numberField"]["range"] = json!([0, 4]);
        let mock = server.get_capability_presentation(|when, then| {
            expect.apply(
                when.capability_id(CAPABILITY)
                    .capability_version(1)
                    .into_inner(),
            );
            // Raw: the typed response would send the integers as 0.0 and
            // 4.0, and the API sends integers.
            then.into_inner().status(200).json_body(sent);
        });
        let presentation = client(&server)
            .get_capability_presentation()
            .capability_id(CAPABILITY)
            .capability_version(1)
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(presentation.id.as_deref(), Some(CAPABILITY));
        let dashboard = presentation.dashboard.unwrap();
        let alternatives = dashboard.states.unwrap()[0].alternatives.clone().unwrap();
        assert_eq!(
            alternatives[0].type_,
            Some(OpenEnum::Known(
                CapabilityPresentationAlternativeType::Inactive
            ))
        );
        let condition = dashboard.basic_plus.unwrap()[0]
            .visible_condition
            .clone()
            .unwrap();
        assert_eq!(
            condition.operator,
            Some(OpenEnum::Known(
                CapabilityPresentationVisibleConditionOperator::Equals
            ))
        );
        let detail = &presentation.detail_view.unwrap()[0];
        let slider = detail.slider.as_ref().unwrap();
        assert_eq!(slider.range.as_deref(), Some(&[0.0, 4.0][..]));
        assert_eq!(slider.step, Some(1.0));
        let action = &presentation.automation.unwrap().actions.unwrap()[0];
        assert_eq!(action.emphasis, Some(true));
        assert_eq!(
            action.list.as_ref().unwrap().command.as_deref(),
            Some("setFanSpeed")
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getCapabilityPresentation",
            Expect::get(PRESENTATION),
            |c| async move {
                c.get_capability_presentation()
                    .capability_id(CAPABILITY)
                    .capability_version(1)
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod create_custom_capability_presentation {
    use super::*;

    #[tokio::test]
    async fn posts_the_presentation_with_its_id_and_version() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post(PRESENTATION).body(presentation());
        let mock = server.create_custom_capability_presentation(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(presentation()));
        });
        let created = client(&server)
            .create_custom_capability_presentation()
            .capability_id(CAPABILITY)
            .capability_version(1)
            .body(create_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(created.version, Some(1));
        let actions = created.dashboard.unwrap().actions.unwrap();
        let button = actions[0].push_button.as_ref().unwrap();
        assert_eq!(button.command.as_deref(), Some("setFanSpeed"));
        assert_eq!(button.argument.as_deref(), Some("4"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "createCustomCapabilityPresentation",
            Expect::post(PRESENTATION).body(presentation()),
            |c| async move {
                c.create_custom_capability_presentation()
                    .capability_id(CAPABILITY)
                    .capability_version(1)
                    .body(create_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod update_custom_capability_presentation {
    use super::*;

    #[tokio::test]
    async fn puts_the_views() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::put(PRESENTATION).body(views());
        let mock = server.update_custom_capability_presentation(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(presentation()));
        });
        let updated = client(&server)
            .update_custom_capability_presentation()
            .capability_id(CAPABILITY)
            .capability_version(1)
            .body(update_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        let condition = &updated.automation.unwrap().conditions.unwrap()[0];
        assert_eq!(condition.display_type.as_deref(), Some("numberField"));
        assert_eq!(
            condition.number_field.as_ref().unwrap().range.as_deref(),
            Some(&[0.0, 4.0][..])
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "updateCustomCapabilityPresentation",
            Expect::put(PRESENTATION).body(views()),
            |c| async move {
                c.update_custom_capability_presentation()
                    .capability_id(CAPABILITY)
                    .capability_version(1)
                    .body(update_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}
