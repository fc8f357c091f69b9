//! What the operation walks share: the demo home's ids, a client on the
//! simulator, and JSON conversions for bodies and answers.

#![allow(dead_code)] // each walk uses its own part of it

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use smartthings_ext::SmartThings;
use smartthings_sim::Simulator;

pub const HOME: &str = "95efee9b-6073-4871-b5ba-de6642187293";
pub const CABIN: &str = "d768125b-abb6-46ea-9e73-2eb58b82d0db";
pub const BULB: &str = "80e26532-85d4-484c-b012-1c04f3d35f95";
pub const DIMMER: &str = "b9af18af-55c8-4441-83e2-bfe6021235c4";

/// The full client stack pointed at `sim`.
pub fn client(sim: &Simulator) -> SmartThings {
    SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .build()
        .unwrap()
}

/// A typed request body written as JSON.
pub fn body<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

/// A typed answer as JSON.
pub fn raw<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

/// The HTTP status of an API error (0 for none).
pub fn status(error: &smartthings_ext::Error) -> u16 {
    error.status().map_or(0, |s| s.as_u16())
}
