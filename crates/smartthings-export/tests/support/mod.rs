//! What the export tests share.

use smartthings_ext::SmartThings;
use smartthings_sim::Simulator;

/// A client of the simulator, with the default policies.
pub fn client(sim: &Simulator) -> SmartThings {
    SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .build()
        .unwrap()
}
