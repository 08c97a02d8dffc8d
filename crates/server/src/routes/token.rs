//! `POST /token` (RFC 6749 §3.2).
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use tessera_proto::response::TokenResponse;

use super::{finish, read_request};
use crate::extract;
use crate::state::App;

pub async fn handle(State(app): State<App>, req: Request<Body>) -> Response {
    let started = Instant::now();
    let mut basic = false;
    let result = async {
        let r = read_request(&app, req).await?;
        basic = r.credentials.used_basic();
        let proof = extract::dpop_proof(&r.headers)?;
        let issued = tessera_core::token::token(
            &app.authority,
            &r.credentials,
            &r.params,
            proof,
            &r.context,
        )
        .await?;
        app.metrics
            .issued(&issued.client_id, issued.format.as_str());
        let body = TokenResponse {
            access_token: issued.access_token,
            token_type: issued.token_type,
            expires_in: issued.expires_in,
            scope: issued.scope,
            refresh_token: issued.refresh_token,
            issued_token_type: issued.issued_token_type,
        };
        Ok(axum::Json(body).into_response())
    }
    .await;
    finish(&app, "token", started, basic, result)
}
