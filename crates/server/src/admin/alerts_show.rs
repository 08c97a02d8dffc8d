//! `GET /admin/alerts/{id}`: one stored alert, for a client holding `tessera:admin`; an id that
//! names no alert (or is not a number) is a JSON 404.
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use tessera_core::ops::alerts;

use super::caller::{self, BodyKind};
use crate::routes::finish;
use crate::state::App;

pub async fn handle(
    State(app): State<App>,
    Path(id): Path<String>,
    req: Request<Body>,
) -> Response {
    let started = Instant::now();
    let mut basic = false;
    let result = async {
        let admin = caller::read(&app, req, BodyKind::Empty, &mut basic).await?;
        let found = match id.parse::<i64>() {
            Ok(id) => alerts::get(&app.authority, &admin.caller, id).await?,
            // Still checks the scope, so an outsider cannot tell ids from non-ids.
            Err(_) => alerts::get(&app.authority, &admin.caller, -1).await?,
        };
        Ok(match found {
            Some(alert) => axum::Json(alerts::to_json(&alert)).into_response(),
            None => caller::not_found("no alert with this id"),
        })
    }
    .await;
    finish(&app, "admin_alerts", started, basic, result)
}
