//! The simulator's event sinks as an earlier run left them.

use serde_json::Value;
use smartthings_sim::Simulator;

/// Two sinks created with the simulator's token and never deleted: they
/// fill the 2-sink limit. Their ids.
pub async fn leak_two_sinks(sim: &Simulator) -> Vec<String> {
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let created: Value = http
            .post(sim.subscriptions_url())
            .bearer_auth(sim.token())
            .json(&serde_json::json!({
                "name": "leaked", "version": 20250122, "clientDeviceId": "iapp_earlier_run",
                "subscriptionFilters": [{"type": "LOCATIONIDS", "value": ["ALL"],
                    "eventType": ["DEVICE_EVENT"]}]
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(created["subscriptionId"].as_str().unwrap().to_owned());
    }
    ids
}
