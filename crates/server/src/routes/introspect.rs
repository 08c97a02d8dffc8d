//! `POST /introspect` (RFC 7662).
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::response::{IntoResponse, Response};

use super::{finish, read_request};
use crate::state::App;

pub async fn handle(State(app): State<App>, req: Request<Body>) -> Response {
    let started = Instant::now();
    let mut basic = false;
    let result = async {
        let r = read_request(&app, req).await?;
        basic = r.credentials.used_basic();
        let body = tessera_core::introspect::introspect(
            &app.authority,
            &r.credentials,
            &r.params,
            &r.context,
        )
        .await?;
        Ok(axum::Json(body).into_response())
    }
    .await;
    finish(&app, "introspect", started, basic, result)
}
