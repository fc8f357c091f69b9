//! Running a rule's actions on demand.

use serde_json::json;
use smartthings_httpmock::MockServerExt;

use crate::harness::{Expect, check_declared_errors, client, typed};

const LOCATION: &str = "95efee9b-6073-4871-b5ba-de6642187293";
const RULE: &str = "3c9d2e1f-4a5b-4c6d-8e7f-0a1b2c3d4e5f";
const LIGHT: &str = "80e26532-85d4-484c-b012-1c04f3d35f95";
const PLUG: &str = "2f8a4c6e-1b3d-4f5a-8c7e-9d0b1a2c3e4f";

/// An outcome as the API spells it (known or not).
fn spelled<T: ToString>(outcome: Option<&T>) -> String {
    outcome.map(ToString::to_string).unwrap_or_default()
}

mod execute_rule {
    use super::*;

    #[tokio::test]
    async fn posts_without_a_body_and_decodes_each_actions_outcome() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post(&format!("/rules/execute/{RULE}")).query("locationId", LOCATION);
        let mock = server.execute_rule(|when, then| {
            expect.apply(when.rule_id(RULE).location_id(LOCATION).into_inner());
            then.ok(&typed(json!({
                "executionId": "e7b1c2d3-4f5a-4b6c-9d8e-7f6a5b4c3d2e",
                "id": RULE,
                "result": "Success",
                "actions": [
                    {"actionId": "a-1", "if": {"result": "True"}},
                    {"actionId": "a-2", "command": [
                        {"deviceId": LIGHT, "result": "Success"},
                        {"deviceId": PLUG, "result": "Offline"}
                    ]},
                    {"actionId": "a-3", "location": {"locationId": LOCATION, "result": "Success"}},
                    {"actionId": "a-4", "sleep": {"result": "Ignored"}}
                ]
            })));
        });
        let outcome = client(&server)
            .execute_rule()
            .rule_id(RULE)
            .location_id(LOCATION)
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(outcome.id.as_deref(), Some(RULE));
        assert_eq!(spelled(outcome.result.as_ref()), "Success");
        let actions = outcome.actions.unwrap();
        assert_eq!(actions.len(), 4);
        let condition = actions[0].if_.as_ref().unwrap();
        assert_eq!(spelled(condition.result.as_ref()), "True");
        let commands = actions[1].command.as_deref().unwrap();
        assert_eq!(commands[1].device_id.as_deref(), Some(PLUG));
        assert_eq!(spelled(commands[1].result.as_ref()), "Offline");
        let location = actions[2].location.as_ref().unwrap();
        assert_eq!(location.location_id.as_deref(), Some(LOCATION));
        let sleep = actions[3].sleep.as_ref().unwrap();
        assert_eq!(spelled(sleep.result.as_ref()), "Ignored");
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "executeRule",
            Expect::post(&format!("/rules/execute/{RULE}")).query("locationId", LOCATION),
            |c| async move {
                c.execute_rule()
                    .rule_id(RULE)
                    .location_id(LOCATION)
                    .send()
                    .await
            },
        )
        .await;
    }
}
