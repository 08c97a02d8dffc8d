//! `POST /admin/events`: resource servers report token uses as a JSON batch `{"events": [...]}`
//! of `token.used` events, each with the `token` it was made with (docs/events.md); the caller
//! holds `tessera:events` or `tessera:admin` and is registered with the resource URIs the tokens
//! are addressed to. Answers `{"accepted": N, "dropped": {reason: N}}` (core::ops::ingest).
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use tessera_core::ops::ingest::{self, EventBatch};
use tessera_proto::OAuthError;

use super::caller::{self, BodyKind};
use crate::routes::finish;
use crate::state::App;

/// Body bound: room for a full batch of 1000 events with long paths and user agents.
const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

pub async fn handle(State(app): State<App>, req: Request<Body>) -> Response {
    let started = Instant::now();
    let mut basic = false;
    let result = async {
        let admin = caller::read(&app, req, BodyKind::Json(MAX_BODY_BYTES), &mut basic).await?;
        let batch: EventBatch = serde_json::from_slice(&admin.body).map_err(|e| {
            OAuthError::invalid_request("the body is not an event batch").with_detail(e.to_string())
        })?;
        let outcome = ingest::ingest(&app.authority, &admin.caller, batch).await?;
        Ok(axum::Json(outcome).into_response())
    }
    .await;
    finish(&app, "admin_events", started, basic, result)
}
