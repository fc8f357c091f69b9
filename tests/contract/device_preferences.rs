//! Device preferences: list (by namespace), create, get, update.
//!
//! Bodies are shaped as `@smartthings/core-sdk` 8.3.2 declares them
//! (`dist/endpoint/devicepreferences.d.ts`, one preference type each) and go
//! out through the typed `then.ok(..)` (see `tests/README.md`), except the
//! integer preference of `get_preference_by_id`, whose integer bounds a
//! typed value would send as `f64`s.

use futures::TryStreamExt;
use serde_json::json;
use smartthings_ext::types::{
    CreateDevicePreferenceRequest, DevicePreferenceDefinitionStringType, DevicePreferenceInput,
    DevicePreferencePreferenceType,
};
use smartthings_ext::{LenientItems, OpenEnum};
use smartthings_httpmock::MockServerExt;

use crate::harness::{Expect, check_declared_errors, client, typed};

const NAMESPACE: &str = "perfectlife6617";
const SENSITIVITY: &str = "perfectlife6617.motionSensitivity";
const ROOM_NAME: &str = "perfectlife6617.roomName";

/// An enumeration preference, as its author writes it; the SDK always sends
/// `explicit: true`.
fn create_body() -> serde_json::Value {
    json!({
        "name": "motionSensitivity",
        "title": "Motion sensitivity",
        "description": "How readily motion is reported",
        "required": false,
        "preferenceType": "enumeration",
        "explicit": true,
        "definition": {
            "options": {"low": "Low", "medium": "Medium", "high": "High"},
            "default": "medium"
        }
    })
}

fn create_request() -> CreateDevicePreferenceRequest {
    serde_json::from_value(create_body()).unwrap()
}

fn sensitivity() -> serde_json::Value {
    let mut preference = create_body();
    preference.as_object_mut().unwrap().remove("explicit");
    preference["preferenceId"] = json!(SENSITIVITY);
    preference
}

fn boolean_preference() -> serde_json::Value {
    json!({
        "preferenceId": "perfectlife6617.ledIndicator",
        "name": "ledIndicator",
        "title": "LED indicator",
        "required": false,
        "preferenceType": "boolean",
        "definition": {"default": true}
    })
}

/// A whole string preference, as an update sends it.
fn room_name() -> serde_json::Value {
    json!({
        "preferenceId": ROOM_NAME,
        "name": "roomName",
        "title": "Room name",
        "description": "Shown on the device's display",
        "required": true,
        "preferenceType": "string",
        "definition": {
            "minLength": 1,
            "maxLength": 24,
            "stringType": "text",
            "default": "Hallway"
        }
    })
}

fn update_request() -> DevicePreferenceInput {
    serde_json::from_value(room_name()).unwrap()
}

mod list_preferences {
    use super::*;

    #[tokio::test]
    async fn filters_by_namespace() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/devicepreferences").query("namespace", NAMESPACE);
        let mock = server.list_preferences(|when, then| {
            expect.apply(when.namespace(NAMESPACE).into_inner());
            then.ok(&typed(json!({
                "items": [sensitivity(), boolean_preference()],
                "_links": {}
            })));
        });
        let page = client(&server)
            .list_preferences()
            .namespace(NAMESPACE)
            .send()
            .await
            .unwrap();
        mock.assert();
        let preferences: Vec<_> = page.items.as_deref().unwrap().valid().cloned().collect();
        assert_eq!(preferences[0].preference_id.as_deref(), Some(SENSITIVITY));
        let options = preferences[0]
            .definition
            .as_ref()
            .unwrap()
            .options
            .clone()
            .unwrap();
        assert_eq!(options["high"], "High");
        assert_eq!(
            preferences[1].preference_type,
            Some(OpenEnum::Known(DevicePreferencePreferenceType::Boolean))
        );
    }

    #[tokio::test]
    async fn without_a_namespace_sends_no_query() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/devicepreferences");
        let mock = server.list_preferences(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(
                json!({"items": [boolean_preference()], "_links": {}}),
            ));
        });
        let page = client(&server).list_preferences().send().await.unwrap();
        mock.assert();
        assert_eq!(page.items.unwrap().valid().count(), 1);
    }

    #[tokio::test]
    async fn items_follow_the_next_link() {
        let server = httpmock::MockServer::start_async().await;
        let next = format!(
            "{}/devicepreferences?namespace={NAMESPACE}&page=1",
            server.base_url()
        );
        let first_expect = Expect::get("/devicepreferences").query("namespace", NAMESPACE);
        let first = server.list_preferences(|when, then| {
            first_expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [sensitivity()],
                "_links": {"next": {"href": next}}
            })));
        });
        let second_expect = Expect::get("/devicepreferences")
            .query("namespace", NAMESPACE)
            .query("page", "1");
        let second = server.list_preferences(|when, then| {
            second_expect.apply(when.into_inner());
            then.ok(&typed(
                json!({"items": [boolean_preference()], "_links": {}}),
            ));
        });
        let c = client(&server);
        let all: Vec<_> = c
            .list_preferences()
            .namespace(NAMESPACE)
            .items()
            .try_collect()
            .await
            .unwrap();
        first.assert();
        second.assert();
        let ids: Vec<_> = all
            .iter()
            .filter_map(|p| p.preference_id.as_deref())
            .collect();
        assert_eq!(ids, [SENSITIVITY, "perfectlife6617.ledIndicator"]);
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "listPreferences",
            Expect::get("/devicepreferences"),
            |c| async move { c.list_preferences().send().await },
        )
        .await;
    }
}

mod create_preference {
    use super::*;

    #[tokio::test]
    async fn posts_the_preference() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post("/devicepreferences").body(create_body());
        let mock = server.create_preference(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(sensitivity()));
        });
        let created = client(&server)
            .create_preference()
            .body(create_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(created.preference_id.as_deref(), Some(SENSITIVITY));
        assert_eq!(
            created.preference_type,
            Some(OpenEnum::Known(DevicePreferencePreferenceType::Enumeration))
        );
        assert_eq!(created.definition.unwrap().default, Some(json!("medium")));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "createPreference",
            Expect::post("/devicepreferences").body(create_body()),
            |c| async move { c.create_preference().body(create_request()).send().await },
        )
        .await;
    }
}

mod get_preference_by_id {
    use super::*;

    #[tokio::test]
    async fn decodes_an_integer_preference() {
        let server = httpmock::MockServer::start_async().await;
        let id = "perfectlife6617.reportInterval";
        let expect = Expect::get(&format!("/devicepreferences/{id}"));
        let mock = server.get_preference_by_id(|when, then| {
            expect.apply(when.preference_id(id).into_inner());
            // Raw: the typed response would send the integer bounds as 10.0
            // and 3600.0, and the API sends integers.
            then.into_inner().status(200).json_body(json!({
                "preferenceId": id,
                "name": "reportInterval",
                "title": "Report interval",
                "description": "Seconds between reports",
                "required": false,
                "preferenceType": "integer",
                "definition": {"minimum": 10, "maximum": 3600, "default": 300}
            }));
        });
        let preference = client(&server)
            .get_preference_by_id()
            .preference_id(id)
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(
            preference.preference_type,
            Some(OpenEnum::Known(DevicePreferencePreferenceType::Integer))
        );
        let definition = preference.definition.unwrap();
        assert_eq!(definition.minimum, Some(10.0));
        assert_eq!(definition.maximum, Some(3600.0));
        assert_eq!(definition.default, Some(json!(300)));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getPreferenceById",
            Expect::get(&format!("/devicepreferences/{SENSITIVITY}")),
            |c| async move {
                c.get_preference_by_id()
                    .preference_id(SENSITIVITY)
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod update_preference_by_id {
    use super::*;

    #[tokio::test]
    async fn puts_the_whole_preference() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::put(&format!("/devicepreferences/{ROOM_NAME}")).body(room_name());
        let mock = server.update_preference_by_id(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(room_name()));
        });
        let updated = client(&server)
            .update_preference_by_id()
            .preference_id(ROOM_NAME)
            .body(update_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(updated.required, Some(true));
        let definition = updated.definition.unwrap();
        assert_eq!(definition.max_length, Some(24));
        assert_eq!(
            definition.string_type,
            Some(OpenEnum::Known(DevicePreferenceDefinitionStringType::Text))
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "updatePreferenceById",
            Expect::put(&format!("/devicepreferences/{ROOM_NAME}")).body(room_name()),
            |c| async move {
                c.update_preference_by_id()
                    .preference_id(ROOM_NAME)
                    .body(update_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}
