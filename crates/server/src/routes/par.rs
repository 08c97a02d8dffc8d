//! `POST /par` (RFC 9126 §2): pushed authorization requests. Thin: the core authenticates the
//! client and validates the request; this answers `201` with the `request_uri`, or the JSON
//! error of §2.3.
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use tessera_proto::ErrorCode;

use super::{finish, read_request};
use crate::state::App;

pub async fn handle(State(app): State<App>, req: Request<Body>) -> Response {
    let started = Instant::now();
    let mut basic = false;
    let result: Result<Response, tessera_proto::OAuthError> = async {
        let r = read_request(&app, req).await?;
        basic = r.credentials.used_basic();
        let pushed = tessera_core::authorize::par::push(
            &app.authority,
            &r.credentials,
            &r.params,
            &r.context,
        )
        .await?;
        // RFC 9126 §2.2: "the authorization server ... returns ... with a 201 HTTP status code".
        let body = serde_json::json!({
            "request_uri": pushed.request_uri,
            "expires_in": pushed.expires_in,
        });
        Ok((StatusCode::CREATED, axum::Json(body)).into_response())
    }
    .await;
    let too_many = matches!(&result, Err(e) if e.code == ErrorCode::TemporarilyUnavailable);
    let mut response = finish(&app, "par", started, basic, result);
    if too_many {
        // RFC 9126 §2.3: 429 Too Many Requests (the client's cap of open pushed requests).
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    }
    response
}
