//! `GET /revocations?after=CURSOR`: the revocation feed resource servers poll so a revoked JWT
//! is refused within seconds without an introspection call per request (see docs/validate.md).
//! The caller is any authenticated client (its resource server credentials); the answer names
//! tokens by `jti` or selector only, never by value.
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use tessera_core::params::Params;
use tessera_core::store::RevokedKind;
use tessera_proto::OAuthError;

use super::finish;
use crate::extract::{self, PeerAddr};
use crate::state::App;

/// Most entries per page.
const PAGE: u32 = 1000;

/// The next cursor re-reads this many seconds, so a revocation committed late by another node
/// (or stamped by a clock slightly behind) is still seen. Entries are idempotent for readers.
const OVERLAP_SECS: u64 = 2;

fn cursor(query: Option<&str>) -> Result<u64, OAuthError> {
    let mut after = 0;
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if k == "after" {
            after = v
                .parse()
                .map_err(|_| OAuthError::invalid_request("after must be a non-negative integer"))?;
        }
    }
    Ok(after)
}

pub async fn handle(State(app): State<App>, req: Request<Body>) -> Response {
    let started = Instant::now();
    let mut basic = false;
    let result = async {
        let peer = req.extensions().get::<PeerAddr>().copied();
        let (parts, _) = req.into_parts();
        let after = cursor(parts.uri.query())?;
        let credentials =
            extract::client_credentials::extract(&parts.headers, &Params::default(), false)?;
        basic = credentials.used_basic();
        let context = extract::context(peer, &parts.headers);
        tessera_core::client_auth::authenticate(&app.authority, &credentials, &context).await?;
        let now = app.authority.clock().now();
        let list = app
            .authority
            .store()
            .list_revocations(after, now, PAGE)
            .await?;
        let last = list.last().map_or(after, |r| r.revoked_at);
        // A full page moves on to its last second; otherwise keep a small overlap.
        let next = if list.len() as u32 >= PAGE {
            last
        } else {
            after.max(last.saturating_sub(OVERLAP_SECS))
        };
        let revocations: Vec<_> = list
            .iter()
            .map(|r| {
                serde_json::json!({
                    "type": match r.kind { RevokedKind::Jwt => "jwt", RevokedKind::Opaque => "opaque" },
                    "id": r.id,
                    "expires_at": r.expires_at,
                    "revoked_at": r.revoked_at,
                })
            })
            .collect();
        Ok(axum::Json(serde_json::json!({ "revocations": revocations, "next": next }))
            .into_response())
    }
    .await;
    finish(&app, "revocations", started, basic, result)
}
