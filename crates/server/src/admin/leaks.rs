//! `POST /admin/leaks`: the scanner's live-check and revocation of leaked credentials. The body
//! carries hashes only (see `tessera_core::ops::leaks`); the caller is a client holding the
//! `tessera:admin` scope, authenticated like any client (`admin_caller`).
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use tessera_core::ops::leaks::LeakReport;
use tessera_proto::OAuthError;

use super::caller::{self, BodyKind};
use crate::routes::finish;
use crate::state::App;

pub async fn handle(State(app): State<App>, req: Request<Body>) -> Response {
    let started = Instant::now();
    let mut basic = false;
    let result = async {
        let limit = app.authority.config().limits.max_body_bytes * 4;
        let admin = caller::read(&app, req, BodyKind::Json(limit), &mut basic).await?;
        let report: LeakReport = serde_json::from_slice(&admin.body)
            .map_err(|_| OAuthError::invalid_request("the body is not a leak report"))?;
        let results =
            tessera_core::ops::leaks::handle(&app.authority, &admin.caller, report, &admin.context)
                .await?;
        Ok(axum::Json(serde_json::json!({ "results": results })).into_response())
    }
    .await;
    finish(&app, "leaks", started, basic, result)
}
