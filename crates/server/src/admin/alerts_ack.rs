//! `POST /admin/alerts/{id}/ack`: acknowledges an alert in the name of the calling admin client
//! and answers with the alert. Acknowledging twice is not an error: the answer shows the first
//! acknowledgement, which stands.
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use tessera_core::ops::alerts::{self, Acked};

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
        let id = id.parse::<i64>().unwrap_or(-1);
        Ok(
            match alerts::ack(&app.authority, &admin.caller, id).await? {
                Acked::Alert { alert, .. } => axum::Json(alerts::to_json(&alert)).into_response(),
                Acked::NotFound => caller::not_found("no alert with this id"),
            },
        )
    }
    .await;
    finish(&app, "admin_alerts", started, basic, result)
}
