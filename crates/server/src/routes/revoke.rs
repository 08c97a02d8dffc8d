//! `POST /revoke` (RFC 7009).
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{finish, read_request};
use crate::state::App;

pub async fn handle(State(app): State<App>, req: Request<Body>) -> Response {
    let started = Instant::now();
    let mut basic = false;
    let result = async {
        let r = read_request(&app, req).await?;
        basic = r.credentials.used_basic();
        tessera_core::revoke::revoke(&app.authority, &r.credentials, &r.params, &r.context).await?;
        // RFC 7009 §2.2: "The authorization server responds with HTTP status code 200".
        Ok(StatusCode::OK.into_response())
    }
    .await;
    finish(&app, "revoke", started, basic, result)
}
