//! Administration: the admin listener (liveness at `/healthz`, which also checks the store, and
//! `/metrics`), and the `/admin/*` API served on the protocol listener to clients holding an admin
//! scope (`caller.rs` authenticates them; one file per endpoint).
mod alerts_ack;
mod alerts_list;
mod alerts_show;
pub(crate) mod caller;
mod events;
mod leaks;
pub mod metrics;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::App;

/// The `/admin/*` API, merged into the protocol router (it answers on the protocol listener, with
/// client authentication, not on the unauthenticated admin listener).
pub(crate) fn api() -> Router<App> {
    use axum::routing::post;
    Router::new()
        .route("/admin/leaks", post(leaks::handle))
        .route("/admin/alerts", get(alerts_list::handle))
        .route("/admin/alerts/{id}", get(alerts_show::handle))
        .route("/admin/alerts/{id}/ack", post(alerts_ack::handle))
        .route("/admin/events", post(events::handle))
}

/// The admin listener's router.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(app)
}

async fn healthz(State(app): State<App>) -> impl IntoResponse {
    match app.authority.store().ping().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok"})),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "health check: store unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "store unavailable"})),
            )
        }
    }
}

async fn metrics(State(app): State<App>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(&app.authority),
    )
}
