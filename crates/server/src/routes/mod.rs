//! The JSON API under `/api`. Every handler is a one-line call into `Steward`.

mod accelerators;
mod allocation;
mod datasets;
mod dispatch;
mod json;
mod live;
mod machine;
mod nodes;
mod profile;

use axum::Router;
use axum::routing::{get, post};
use steward_api::Steward;

pub fn api() -> Router<Steward> {
    Router::new()
        .route("/inventory", get(machine::inventory))
        .route("/status", get(machine::status))
        .route("/snapshot", get(machine::snapshot))
        .route("/history", post(machine::history))
        .route("/series", get(machine::series))
        .route("/live", get(live::live))
        .route("/nodes", get(nodes::list).post(nodes::add))
        .route("/nodes/live", get(nodes::live))
        .route("/nodes/probe", post(nodes::probe))
        .route("/nodes/{id}", axum::routing::delete(nodes::remove))
        .route("/nodes/{id}/drain", post(nodes::drain))
        .route("/nodes/{id}/undrain", post(nodes::undrain))
        .route("/resources", get(allocation::resources))
        .route("/reservations", get(allocation::reservations))
        .route("/reservations.ics", get(allocation::reservations_ics))
        .route(
            "/reservations/{id}",
            get(allocation::reservation).patch(allocation::update_reservation).delete(allocation::delete_reservation),
        )
        .route("/allocations", get(allocation::allocations))
        .route("/allocations/{id}", axum::routing::delete(allocation::cancel_allocation))
        .route("/events", get(allocation::events))
        .route("/datasets", get(datasets::list))
        .route("/datasets/{name}", axum::routing::put(datasets::put).delete(datasets::remove))
        .route("/executions", get(dispatch::executions))
        .route("/executions/{id}", get(dispatch::execution))
        .route("/executions/{id}/output", get(dispatch::output))
        .route("/executions/{id}/partitions/{index}/output", get(dispatch::partition_output))
        .route("/executions/{id}/cancel", post(dispatch::cancel))
        .route("/profile", post(profile::profile))
        .route("/profile/events", get(profile::events))
        .route("/profile/thresholds", get(profile::thresholds))
        .route("/modules", get(profile::modules).put(profile::put_module))
        .route("/modules/{name}", axum::routing::delete(profile::delete_module))
        .route("/modules/{name}/deep-profile", get(profile::deep_profile).post(profile::start_deep_profile))
        .fallback(|| async { crate::error::HttpError::new(steward_api::ErrorKind::NotFound, "no such API route") })
}

/// The REST resources beside `/api` (`/resources/*`), under the same Host/Origin guard.
pub fn resources() -> Router<Steward> {
    Router::new()
        .route("/resources/profile", post(profile::profile))
        .route("/resources/allocate", post(allocation::allocate))
        .route("/resources/distributed", post(dispatch::distributed))
        .route("/resources/accelerators", post(accelerators::accelerators))
}
