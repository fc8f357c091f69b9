//! Capability definitions: namespaces, the custom capabilities of a
//! namespace, one definition (get, create, update, delete) and its
//! localizations.
//!
//! Bodies are shaped as `@smartthings/core-sdk` 8.3.2 declares them
//! (`dist/endpoint/capabilities.d.ts`) and go out through the typed
//! `then.ok(..)` (see `tests/README.md`).

use futures::TryStreamExt;
use serde_json::json;
use smartthings_ext::types::{
    CapabilityDefinitionStatus, CapabilityLocalizationInput, CreateCapabilityRequest,
    UpdateCapabilityRequest,
};
use smartthings_ext::{Lenient, LenientItems, OpenEnum};
use smartthings_httpmock::MockServerExt;

use crate::harness::{Expect, check_declared_errors, client, typed};

const NAMESPACE: &str = "perfectlife6617";
const CAPABILITY: &str = "perfectlife6617.fanSpeed";
/// The path of version 1 of [`CAPABILITY`].
const V1: &str = "/capabilities/perfectlife6617.fanSpeed/1";

/// The attributes and commands of the capability, as written by its author.
fn definition_body() -> serde_json::Value {
    json!({
        "attributes": {
            "fanSpeed": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "value": {"type": "integer", "minimum": 0, "maximum": 4}
                    },
                    "additionalProperties": false,
                    "required": ["value"]
                },
                "setter": "setFanSpeed"
            },
            "fanMode": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "value": {"type": "string", "enum": ["auto", "manual"]}
                    },
                    "additionalProperties": false,
                    "required": ["value"]
                },
                "enumCommands": [
                    {"command": "auto", "value": "auto"},
                    {"command": "manual", "value": "manual"}
                ]
            }
        },
        "commands": {
            "setFanSpeed": {
                "name": "setFanSpeed",
                "arguments": [{
                    "name": "speed",
                    "optional": false,
                    "schema": {"type": "integer", "minimum": 0, "maximum": 4}
                }]
            },
            "auto": {"name": "auto"},
            "manual": {"name": "manual"}
        }
    })
}

fn create_body() -> serde_json::Value {
    let mut body = definition_body();
    body["name"] = json!("Fan Speed");
    body
}

fn create_request() -> CreateCapabilityRequest {
    serde_json::from_value(create_body()).unwrap()
}

fn update_request() -> UpdateCapabilityRequest {
    serde_json::from_value(definition_body()).unwrap()
}

/// The definition as the API returns it: the request plus id, version and
/// status (commands without arguments come back with `[]`).
fn capability_response() -> serde_json::Value {
    let mut capability = create_body();
    capability["id"] = json!(CAPABILITY);
    capability["version"] = json!(1);
    capability["status"] = json!("proposed");
    capability["commands"]["auto"]["arguments"] = json!([]);
    capability["commands"]["manual"]["arguments"] = json!([]);
    capability
}

fn localization_body() -> serde_json::Value {
    json!({
        "tag": "ko",
        "label": "팬 속도",
        "description": "팬의 속도를 설정합니다",
        "attributes": {
            "fanSpeed": {
                "label": "팬 속도",
                "description": "현재 팬 속도",
                "displayTemplate": "{{device.label}}의 팬 속도는 {{value}}입니다",
                "i18n": {
                    "value": {
                        "0": {"label": "꺼짐"},
                        "4": {"label": "최대", "description": "가장 빠른 속도"}
                    }
                }
            }
        },
        "commands": {
            "setFanSpeed": {
                "label": "팬 속도 설정",
                "description": "팬 속도를 바꿉니다",
                "arguments": {
                    "speed": {
                        "label": "속도",
                        "i18n": {"0": {"label": "꺼짐"}}
                    }
                }
            }
        }
    })
}

fn localization_request() -> CapabilityLocalizationInput {
    serde_json::from_value(localization_body()).unwrap()
}

mod list_capability_namespaces {
    use super::*;

    #[tokio::test]
    async fn decodes_the_bare_array_leniently() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/capabilities/namespaces");
        let mock = server.list_capability_namespaces(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!([
                {"name": NAMESPACE, "ownerType": "USER", "ownerId": "0b6d5b3a-6b51-4d1e-9c38-3c1e4b1e7a10"},
                {"name": 42, "ownerType": "ORGANIZATION"}
            ])));
        });
        let namespaces = client(&server)
            .list_capability_namespaces()
            .send()
            .await
            .unwrap();
        mock.assert();
        // A plain JSON array, not a page: the odd item is kept aside, raw.
        assert_eq!(namespaces.len(), 2);
        let first = namespaces.valid().next().unwrap();
        assert_eq!(first.name.as_deref(), Some(NAMESPACE));
        assert_eq!(first.owner_type.as_deref(), Some("USER"));
        match &namespaces[1] {
            Lenient::Invalid(odd) => assert_eq!(odd.raw["name"], 42),
            Lenient::Valid(ns) => panic!("a numeric name decoded: {ns:?}"),
        }
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "listCapabilityNamespaces",
            Expect::get("/capabilities/namespaces"),
            |c| async move { c.list_capability_namespaces().send().await },
        )
        .await;
    }
}

mod list_namespaced_capabilities {
    use super::*;

    #[tokio::test]
    async fn lists_one_namespace() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("/capabilities/namespaces/{NAMESPACE}"));
        let mock = server.list_namespaced_capabilities(|when, then| {
            expect.apply(when.namespace(NAMESPACE).into_inner());
            then.ok(&typed(json!({
                "items": [
                    {"id": CAPABILITY, "version": 1, "status": "proposed"},
                    {"id": "perfectlife6617.filterLife", "version": 2, "status": "live"}
                ],
                "_links": {}
            })));
        });
        let page = client(&server)
            .list_namespaced_capabilities()
            .namespace(NAMESPACE)
            .send()
            .await
            .unwrap();
        mock.assert();
        let summaries: Vec<_> = page
            .items
            .as_deref()
            .unwrap()
            .valid()
            .map(|c| (c.id.clone().unwrap(), c.version.unwrap()))
            .collect();
        assert_eq!(
            summaries,
            [
                (CAPABILITY.to_owned(), 1),
                ("perfectlife6617.filterLife".to_owned(), 2)
            ]
        );
    }

    #[tokio::test]
    async fn items_follow_the_next_link() {
        let server = httpmock::MockServer::start_async().await;
        let path = format!("/capabilities/namespaces/{NAMESPACE}");
        let next = format!("{}{path}?page=1", server.base_url());
        let first_expect = Expect::get(&path);
        let first = server.list_namespaced_capabilities(|when, then| {
            first_expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [{"id": CAPABILITY, "version": 1, "status": "proposed"}],
                "_links": {"next": {"href": next}}
            })));
        });
        let second_expect = Expect::get(&path).query("page", "1");
        let second = server.list_namespaced_capabilities(|when, then| {
            second_expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [{"id": "perfectlife6617.filterLife", "version": 2, "status": "live"}],
                "_links": {}
            })));
        });
        let c = client(&server);
        let all: Vec<_> = c
            .list_namespaced_capabilities()
            .namespace(NAMESPACE)
            .items()
            .try_collect()
            .await
            .unwrap();
        first.assert();
        second.assert();
        let ids: Vec<_> = all.iter().filter_map(|c| c.id.as_deref()).collect();
        assert_eq!(ids, [CAPABILITY, "perfectlife6617.filterLife"]);
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "listNamespacedCapabilities",
            Expect::get(&format!("/capabilities/namespaces/{NAMESPACE}")),
            |c| async move {
                c.list_namespaced_capabilities()
                    .namespace(NAMESPACE)
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod create_capability {
    use super::*;

    #[tokio::test]
    async fn posts_the_definition_into_the_namespace() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post("/capabilities")
            .query("namespace", NAMESPACE)
            .body(create_body());
        let mock = server.create_capability(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(capability_response()));
        });
        let created = client(&server)
            .create_capability()
            .namespace(NAMESPACE)
            .body(create_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(created.id.as_deref(), Some(CAPABILITY));
        assert_eq!(created.version, Some(1));
        assert_eq!(
            created.status,
            Some(OpenEnum::Known(CapabilityDefinitionStatus::Proposed))
        );
        let attributes = created.attributes.unwrap();
        assert_eq!(
            attributes["fanSpeed"].setter.as_deref(),
            Some("setFanSpeed")
        );
        assert_eq!(
            attributes["fanMode"].enum_commands.as_ref().unwrap()[1].value,
            Some(json!("manual"))
        );
    }

    #[tokio::test]
    async fn without_a_namespace_sends_no_query() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post("/capabilities").body(create_body());
        let mock = server.create_capability(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(capability_response()));
        });
        let created = client(&server)
            .create_capability()
            .body(create_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(created.name.as_deref(), Some("Fan Speed"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "createCapability",
            Expect::post("/capabilities")
                .query("namespace", NAMESPACE)
                .body(create_body()),
            |c| async move {
                c.create_capability()
                    .namespace(NAMESPACE)
                    .body(create_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod get_capability {
    use super::*;

    #[tokio::test]
    async fn gets_one_version_and_decodes_its_schemas() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(V1);
        let mock = server.get_capability(|when, then| {
            expect.apply(
                when.capability_id(CAPABILITY)
                    .capability_version(1)
                    .into_inner(),
            );
            then.ok(&typed(capability_response()));
        });
        let capability = client(&server)
            .get_capability()
            .capability_id(CAPABILITY)
            .capability_version(1)
            .send()
            .await
            .unwrap();
        mock.assert();
        let attributes = capability.attributes.unwrap();
        let schema = attributes["fanSpeed"].schema.as_ref().unwrap();
        assert_eq!(schema["properties"]["value"]["maximum"], json!(4));
        let commands = capability.commands.unwrap();
        let argument = &commands["setFanSpeed"].arguments.as_ref().unwrap()[0];
        assert_eq!(argument.name.as_deref(), Some("speed"));
        assert_eq!(argument.optional, Some(false));
        assert_eq!(commands["auto"].arguments.as_deref(), Some(&[][..]));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors("getCapability", Expect::get(V1), |c| async move {
            c.get_capability()
                .capability_id(CAPABILITY)
                .capability_version(1)
                .send()
                .await
        })
        .await;
    }
}

mod update_capability {
    use super::*;

    #[tokio::test]
    async fn puts_the_attributes_and_commands() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::put(V1).body(definition_body());
        let mock = server.update_capability(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(capability_response()));
        });
        let updated = client(&server)
            .update_capability()
            .capability_id(CAPABILITY)
            .capability_version(1)
            .body(update_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(updated.id.as_deref(), Some(CAPABILITY));
        assert_eq!(updated.commands.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "updateCapability",
            Expect::put(V1).body(definition_body()),
            |c| async move {
                c.update_capability()
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

mod delete_capability {
    use super::*;

    #[tokio::test]
    async fn deletes_one_version() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::delete(V1);
        let mock = server.delete_capability(|when, then| {
            expect.apply(when.into_inner());
            then.ok().into_inner().json_body(json!({}));
        });
        let () = client(&server)
            .delete_capability()
            .capability_id(CAPABILITY)
            .capability_version(1)
            .send()
            .await
            .unwrap();
        mock.assert();
        // The 200's `{}`.
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors("deleteCapability", Expect::delete(V1), |c| async move {
            c.delete_capability()
                .capability_id(CAPABILITY)
                .capability_version(1)
                .send()
                .await
        })
        .await;
    }
}

mod list_capability_localizations {
    use super::*;

    #[tokio::test]
    async fn lists_the_locales() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("{V1}/i18n"));
        let mock = server.list_capability_localizations(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [{"tag": "en"}, {"tag": "ko"}],
                "_links": {}
            })));
        });
        let page = client(&server)
            .list_capability_localizations()
            .capability_id(CAPABILITY)
            .capability_version(1)
            .send()
            .await
            .unwrap();
        mock.assert();
        let tags: Vec<_> = page
            .items
            .as_deref()
            .unwrap()
            .valid()
            .filter_map(|l| l.tag.clone())
            .collect();
        assert_eq!(tags, ["en", "ko"]);
    }

    #[tokio::test]
    async fn items_follow_the_next_link() {
        let server = httpmock::MockServer::start_async().await;
        let path = format!("{V1}/i18n");
        let next = format!("{}{path}?page=1", server.base_url());
        let first_expect = Expect::get(&path);
        let first = server.list_capability_localizations(|when, then| {
            first_expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [{"tag": "en"}],
                "_links": {"next": {"href": next}}
            })));
        });
        let second_expect = Expect::get(&path).query("page", "1");
        let second = server.list_capability_localizations(|when, then| {
            second_expect.apply(when.into_inner());
            then.ok(&typed(json!({"items": [{"tag": "ko"}], "_links": {}})));
        });
        let c = client(&server);
        let all: Vec<_> = c
            .list_capability_localizations()
            .capability_id(CAPABILITY)
            .capability_version(1)
            .items()
            .try_collect()
            .await
            .unwrap();
        first.assert();
        second.assert();
        let tags: Vec<_> = all.iter().filter_map(|l| l.tag.as_deref()).collect();
        assert_eq!(tags, ["en", "ko"]);
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "listCapabilityLocalizations",
            Expect::get(&format!("{V1}/i18n")),
            |c| async move {
                c.list_capability_localizations()
                    .capability_id(CAPABILITY)
                    .capability_version(1)
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod create_capability_localization {
    use super::*;

    #[tokio::test]
    async fn posts_the_translations() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post(&format!("{V1}/i18n")).body(localization_body());
        let mock = server.create_capability_localization(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(localization_body()));
        });
        let created = client(&server)
            .create_capability_localization()
            .capability_id(CAPABILITY)
            .capability_version(1)
            .body(localization_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(created.tag.as_deref(), Some("ko"));
        let attribute = &created.attributes.unwrap()["fanSpeed"];
        let values = &attribute.i18n.as_ref().unwrap()["value"];
        assert_eq!(values["0"].label.as_deref(), Some("꺼짐"));
        assert_eq!(values["4"].description.as_deref(), Some("가장 빠른 속도"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "createCapabilityLocalization",
            Expect::post(&format!("{V1}/i18n")).body(localization_body()),
            |c| async move {
                c.create_capability_localization()
                    .capability_id(CAPABILITY)
                    .capability_version(1)
                    .body(localization_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod get_capability_localization {
    use super::*;

    #[tokio::test]
    async fn gets_one_locale() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("{V1}/i18n/ko"));
        let mock = server.get_capability_localization(|when, then| {
            expect.apply(when.locale("ko").into_inner());
            then.ok(&typed(localization_body()));
        });
        let localization = client(&server)
            .get_capability_localization()
            .capability_id(CAPABILITY)
            .capability_version(1)
            .locale("ko")
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(localization.label.as_deref(), Some("팬 속도"));
        let command = &localization.commands.unwrap()["setFanSpeed"];
        let argument = &command.arguments.as_ref().unwrap()["speed"];
        assert_eq!(argument.label.as_deref(), Some("속도"));
        assert_eq!(
            argument.i18n.as_ref().unwrap()["0"].label.as_deref(),
            Some("꺼짐")
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getCapabilityLocalization",
            Expect::get(&format!("{V1}/i18n/ko")),
            |c| async move {
                c.get_capability_localization()
                    .capability_id(CAPABILITY)
                    .capability_version(1)
                    .locale("ko")
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod update_capability_localization {
    use super::*;

    #[tokio::test]
    async fn puts_the_translations_of_the_locale() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::put(&format!("{V1}/i18n/ko")).body(localization_body());
        let mock = server.update_capability_localization(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(localization_body()));
        });
        let updated = client(&server)
            .update_capability_localization()
            .capability_id(CAPABILITY)
            .capability_version(1)
            .locale("ko")
            .body(localization_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(updated.tag.as_deref(), Some("ko"));
        assert_eq!(
            updated.attributes.unwrap()["fanSpeed"]
                .display_template
                .as_deref(),
            Some("{{device.label}}의 팬 속도는 {{value}}입니다")
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "updateCapabilityLocalization",
            Expect::put(&format!("{V1}/i18n/ko")).body(localization_body()),
            |c| async move {
                c.update_capability_localization()
                    .capability_id(CAPABILITY)
                    .capability_version(1)
                    .locale("ko")
                    .body(localization_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}
