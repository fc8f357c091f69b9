//! Scenes, rules, subscriptions and apps.

use serde_json::json;
use smartthings_ext::types::{
    CreateRuleRequest, CreateSubscriptionRequest, CreateSubscriptionRequestDevice,
    CreateSubscriptionRequestSourceType, RuleExecutionLocation, SubscriptionSourceType,
};
use smartthings_ext::{Lenient, LenientItems, OpenEnum};
use smartthings_httpmock::MockServerExt;

use crate::harness::{Expect, check_declared_errors, client, typed};

const LOCATION: &str = "95efee9b-6073-4871-b5ba-de6642187293";
const APP: &str = "23ad67f8-aaaa-bbbb-cccc-000000000001";

fn rule_body() -> serde_json::Value {
    json!({
        "name": "Lights on at sunset",
        "actions": [{"if": {"equals": {"left": {"string": "a"}, "right": {"string": "a"}}, "then": []}}],
        "timeZoneId": "America/Chicago"
    })
}

fn rule_request() -> CreateRuleRequest {
    serde_json::from_value(rule_body()).unwrap()
}

fn rule_response() -> serde_json::Value {
    let mut rule = rule_body();
    rule["id"] = json!("rule-1");
    rule["executionLocation"] = json!("Local");
    rule["ownerId"] = json!("owner-1");
    rule
}

mod list_scenes {
    use super::*;

    #[tokio::test]
    async fn filters_by_location_and_decodes() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/scenes").query("locationId", LOCATION);
        let mock = server.list_scenes(|when, then| {
            expect.apply(when.location_id(LOCATION).into_inner());
            then.ok(&typed(json!({
                "items": [{
                    "sceneId": "s-1", "sceneName": "Movie night", "sceneIcon": "204",
                    "sceneColor": null, "locationId": LOCATION, "createdBy": "u-1",
                    "createdDate": 1712589722623u64, "lastExecutedDate": "2026-04-08T15:22:02Z"
                }],
                "_links": {}
            })));
        });
        let page = client(&server)
            .list_scenes()
            .location_id(LOCATION)
            .send()
            .await
            .unwrap();
        mock.assert();
        let items = page.items.unwrap();
        // The live API sends epoch millis where the spec says date-time: the
        // scene is kept, as a Lenient::Invalid with its raw JSON, or decoded.
        assert_eq!(items.len(), 1);
        let scene_name = match &items[0] {
            Lenient::Valid(scene) => scene.scene_name.clone().unwrap(),
            Lenient::Invalid(raw) => raw.raw["sceneName"].as_str().unwrap().to_owned(),
        };
        assert_eq!(scene_name, "Movie night");
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors("listScenes", Expect::get("/scenes"), |c| async move {
            c.list_scenes().send().await
        })
        .await;
    }
}

mod execute_scene {
    use super::*;

    #[tokio::test]
    async fn posts_without_a_body() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post("/scenes/s-1/execute");
        let mock = server.execute_scene(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!({"status": "success"})));
        });
        let result = client(&server)
            .execute_scene()
            .scene_id("s-1")
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(result.status.as_deref(), Some("success"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "executeScene",
            Expect::post("/scenes/s-1/execute"),
            |c| async move { c.execute_scene().scene_id("s-1").send().await },
        )
        .await;
    }
}

mod list_rules {
    use super::*;

    #[tokio::test]
    async fn pages_by_offset_and_decodes() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/rules")
            .query("locationId", LOCATION)
            .query("max", "10")
            .query("offset", "20");
        let mock = server.list_rules(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!({"items": [rule_response()], "_links": {}})));
        });
        let page = client(&server)
            .list_rules()
            .location_id(LOCATION)
            .max(10)
            .offset(20)
            .send()
            .await
            .unwrap();
        mock.assert();
        let rule = page
            .items
            .as_deref()
            .unwrap()
            .valid()
            .next()
            .unwrap()
            .clone();
        assert_eq!(
            rule.execution_location,
            Some(OpenEnum::Known(RuleExecutionLocation::Local))
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors("listRules", Expect::get("/rules"), |c| async move {
            c.list_rules().send().await
        })
        .await;
    }
}

mod create_rule {
    use super::*;

    #[tokio::test]
    async fn posts_the_rule_with_its_location() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post("/rules")
            .query("locationId", LOCATION)
            .body(rule_body());
        let mock = server.create_rule(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(rule_response()));
        });
        let rule = client(&server)
            .create_rule()
            .location_id(LOCATION)
            .body(rule_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(rule.id.as_deref(), Some("rule-1"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "createRule",
            Expect::post("/rules")
                .query("locationId", LOCATION)
                .body(rule_body()),
            |c| async move {
                c.create_rule()
                    .location_id(LOCATION)
                    .body(rule_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod get_rule {
    use super::*;

    #[tokio::test]
    async fn gets_with_its_location() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/rules/rule-1").query("locationId", LOCATION);
        let mock = server.get_rule(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(rule_response()));
        });
        let rule = client(&server)
            .get_rule()
            .rule_id("rule-1")
            .location_id(LOCATION)
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(rule.actions.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getRule",
            Expect::get("/rules/rule-1").query("locationId", LOCATION),
            |c| async move {
                c.get_rule()
                    .rule_id("rule-1")
                    .location_id(LOCATION)
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod update_rule {
    use super::*;

    #[tokio::test]
    async fn puts_the_rule() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::put("/rules/rule-1")
            .query("locationId", LOCATION)
            .body(rule_body());
        let mock = server.update_rule(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(rule_response()));
        });
        let rule = client(&server)
            .update_rule()
            .rule_id("rule-1")
            .location_id(LOCATION)
            .body(rule_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(rule.name.as_deref(), Some("Lights on at sunset"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "updateRule",
            Expect::put("/rules/rule-1")
                .query("locationId", LOCATION)
                .body(rule_body()),
            |c| async move {
                c.update_rule()
                    .rule_id("rule-1")
                    .location_id(LOCATION)
                    .body(rule_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod delete_rule {
    use super::*;

    #[tokio::test]
    async fn deletes_with_its_location() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::delete("/rules/rule-1").query("locationId", LOCATION);
        let mock = server.delete_rule(|when, then| {
            expect.apply(when.into_inner());
            // The typed `ok()` sends no body; the API sends one.
            then.ok().into_inner().json_body(json!({}));
        });
        // `()`: the 200 and its body were accepted.
        let () = client(&server)
            .delete_rule()
            .rule_id("rule-1")
            .location_id(LOCATION)
            .send()
            .await
            .unwrap();
        mock.assert();
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "deleteRule",
            Expect::delete("/rules/rule-1").query("locationId", LOCATION),
            |c| async move {
                c.delete_rule()
                    .rule_id("rule-1")
                    .location_id(LOCATION)
                    .send()
                    .await
            },
        )
        .await;
    }
}

fn subscription_body() -> serde_json::Value {
    json!({
        "sourceType": "CAPABILITY",
        "device": {"deviceId": "*", "componentId": "main", "capability": "switch", "attribute": "switch", "stateChangeOnly": true}
    })
}

fn subscription_request() -> CreateSubscriptionRequest {
    CreateSubscriptionRequest {
        source_type: CreateSubscriptionRequestSourceType::Capability,
        device: Some(CreateSubscriptionRequestDevice {
            device_id: Some("*".into()),
            component_id: Some("main".into()),
            capability: Some("switch".into()),
            attribute: Some("switch".into()),
            state_change_only: Some(true),
        }),
    }
}

mod list_subscriptions {
    use super::*;

    #[tokio::test]
    async fn lists_an_installed_apps_subscriptions() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("/installedapps/{APP}/subscriptions"));
        let mock = server.list_subscriptions(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [
                    {"id": "sub-1", "installedAppId": APP, "sourceType": "CAPABILITY"},
                    {"id": "sub-2", "installedAppId": APP, "sourceType": "HUB_HEALTH"}
                ],
                "_links": {}
            })));
        });
        let page = client(&server)
            .list_subscriptions()
            .installed_app_id(APP)
            .send()
            .await
            .unwrap();
        mock.assert();
        let kinds: Vec<_> = page
            .items
            .as_deref()
            .unwrap()
            .valid()
            .map(|s| s.source_type.clone().unwrap())
            .collect();
        assert_eq!(
            kinds[0],
            OpenEnum::Known(SubscriptionSourceType::Capability)
        );
        assert_eq!(kinds[1].unknown(), Some("HUB_HEALTH"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "listSubscriptions",
            Expect::get(&format!("/installedapps/{APP}/subscriptions")),
            |c| async move { c.list_subscriptions().installed_app_id(APP).send().await },
        )
        .await;
    }
}

mod create_subscription {
    use super::*;

    #[tokio::test]
    async fn posts_the_subscription() {
        let server = httpmock::MockServer::start_async().await;
        let expect =
            Expect::post(&format!("/installedapps/{APP}/subscriptions")).body(subscription_body());
        let mock = server.create_subscription(|when, then| {
            expect.apply(when.into_inner());
            let mut created = subscription_body();
            created["id"] = json!("sub-3");
            created["installedAppId"] = json!(APP);
            then.ok(&typed(created));
        });
        let created = client(&server)
            .create_subscription()
            .installed_app_id(APP)
            .body(subscription_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(created.id.as_deref(), Some("sub-3"));
        assert_eq!(created.device.unwrap().state_change_only, Some(true));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "createSubscription",
            Expect::post(&format!("/installedapps/{APP}/subscriptions")).body(subscription_body()),
            |c| async move {
                c.create_subscription()
                    .installed_app_id(APP)
                    .body(subscription_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod delete_all_subscriptions {
    use super::*;

    #[tokio::test]
    async fn deletes_every_subscription_of_the_app() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::delete(&format!("/installedapps/{APP}/subscriptions"));
        let mock = server.delete_all_subscriptions(|when, then| {
            expect.apply(when.into_inner());
            // The typed `ok()` sends no body; the API sends one.
            then.ok().into_inner().json_body(json!({"count": 2}));
        });
        // `()`: the 200 and its body were accepted.
        let () = client(&server)
            .delete_all_subscriptions()
            .installed_app_id(APP)
            .send()
            .await
            .unwrap();
        mock.assert();
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "deleteAllSubscriptions",
            Expect::delete(&format!("/installedapps/{APP}/subscriptions")),
            |c| async move {
                c.delete_all_subscriptions()
                    .installed_app_id(APP)
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod delete_subscription {
    use super::*;

    #[tokio::test]
    async fn deletes_one_subscription() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::delete(&format!("/installedapps/{APP}/subscriptions/sub-1"));
        let mock = server.delete_subscription(|when, then| {
            expect.apply(when.into_inner());
            // The typed `ok()` sends no body; the API sends one.
            then.ok().into_inner().json_body(json!({}));
        });
        // `()`: the 200 and its body were accepted.
        let () = client(&server)
            .delete_subscription()
            .installed_app_id(APP)
            .subscription_id("sub-1")
            .send()
            .await
            .unwrap();
        mock.assert();
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "deleteSubscription",
            Expect::delete(&format!("/installedapps/{APP}/subscriptions/sub-1")),
            |c| async move {
                c.delete_subscription()
                    .installed_app_id(APP)
                    .subscription_id("sub-1")
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod list_apps {
    use super::*;

    #[tokio::test]
    async fn decodes_apps_with_new_enum_values() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/apps");
        let mock = server.list_apps(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [
                    {"appId": "app-1", "appName": "hello", "appType": "WEBHOOK_SMART_APP", "principalType": "LOCATION"},
                    {"appId": "app-2", "appName": "edge", "appType": "EDGE_DRIVER", "principalType": "USER_LEVEL", "singleInstance": true}
                ],
                "_links": {}
            })));
        });
        let page = client(&server).list_apps().send().await.unwrap();
        mock.assert();
        let apps: Vec<_> = page.items.as_deref().unwrap().valid().cloned().collect();
        assert_eq!(apps.len(), 2);
        assert_eq!(
            apps[1].app_type.as_ref().unwrap().unknown(),
            Some("EDGE_DRIVER")
        );
        assert_eq!(
            apps[1].principal_type.as_ref().unwrap().to_string(),
            "USER_LEVEL"
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors("listApps", Expect::get("/apps"), |c| async move {
            c.list_apps().send().await
        })
        .await;
    }
}

mod get_app {
    use super::*;

    #[tokio::test]
    async fn gets_by_name_or_id() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/apps/hello%20app");
        let mock = server.get_app(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "appId": "app-1", "appName": "hello app", "displayName": "Hello", "appType": "API_ONLY"
            })));
        });
        let app = client(&server)
            .get_app()
            .app_id("hello app")
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(app.display_name.as_deref(), Some("Hello"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors("getApp", Expect::get("/apps/app-1"), |c| async move {
            c.get_app().app_id("app-1").send().await
        })
        .await;
    }
}
