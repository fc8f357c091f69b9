//! The capability catalogue: `listCapabilities`.

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;

use super::Shared;
use super::operations::Api;
use super::paging::listing;

pub(super) fn routes(api: Api) -> Api {
    api.get("/capabilities", "listCapabilities", list_capabilities)
}

async fn list_capabilities(State(sim): State<Shared>, uri: Uri) -> Response {
    let items = sim.home.lock().expect("home").capabilities.clone();
    listing(&sim, &uri, items)
}
