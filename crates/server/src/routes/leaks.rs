//! `POST /admin/leaks`: the scanner's live-check and revocation of leaked credentials. The body
//! carries hashes only (see `tessera_core::leaks`); the caller is a client holding the
//! `tessera:admin` scope, authenticated like any client.
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, header};
use axum::response::{IntoResponse, Response};
use tessera_core::leaks::LeakReport;
use tessera_core::params::Params;
use tessera_proto::OAuthError;

use super::finish;
use crate::extract::{self, PeerAddr};
use crate::state::App;

pub async fn handle(State(app): State<App>, req: Request<Body>) -> Response {
    let started = Instant::now();
    let mut basic = false;
    let result = async {
        let peer = req.extensions().get::<PeerAddr>().copied();
        let (parts, body) = req.into_parts();
        let json = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case("application/json")
            });
        if !json {
            return Err(OAuthError::invalid_request(
                "the request body must be application/json",
            ));
        }
        let limit = app.authority.config().limits.max_body_bytes * 4;
        let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
            OAuthError::invalid_request(format!("the request body exceeds {limit} bytes"))
        })?;
        let report: LeakReport = serde_json::from_slice(&bytes)
            .map_err(|_| OAuthError::invalid_request("the body is not a leak report"))?;
        let credentials =
            extract::client_credentials::extract(&parts.headers, &Params::default(), false)?;
        basic = credentials.used_basic();
        let context = extract::context(peer, &parts.headers);
        let caller =
            tessera_core::client_auth::authenticate(&app.authority, &credentials, &context).await?;
        let results =
            tessera_core::leaks::handle(&app.authority, &caller, report, &context).await?;
        Ok(axum::Json(serde_json::json!({ "results": results })).into_response())
    }
    .await;
    finish(&app, "leaks", started, basic, result)
}
