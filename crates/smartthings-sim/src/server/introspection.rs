//! The simulator's own endpoints under `/__sim`: stats, the request log and
//! the command log. They bypass the pipeline and have no operation id.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::Shared;
use super::respond::ok;

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/__sim/stats", get(stats))
        .route("/__sim/log", get(request_log))
        .route("/__sim/commands", get(command_log))
}

async fn stats(State(sim): State<Shared>) -> Response {
    ok(serde_json::to_value(sim.stats()).unwrap_or_default())
}

async fn request_log(State(sim): State<Shared>) -> Response {
    ok(serde_json::to_value(sim.log.lock().expect("log").clone()).unwrap_or_default())
}

async fn command_log(State(sim): State<Shared>) -> Response {
    ok(serde_json::to_value(sim.commands.lock().expect("commands").clone()).unwrap_or_default())
}
