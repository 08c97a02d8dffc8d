//! What every JSON admin endpoint (`/admin/alerts…`, `/admin/events`) starts with: the caller is
//! a client authenticated like any other — HTTP Basic (or a certificate) in the headers, since a
//! JSON body carries no form credentials — and a JSON body, when there is one, read with a bound.
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::{Request, header};
use tessera_core::client::Client;
use tessera_core::params::Params;
use tessera_proto::OAuthError;

use crate::extract::{self, PeerAddr};
use crate::state::App;

/// An authenticated admin request.
pub(crate) struct AdminRequest {
    pub caller: Arc<Client>,
    pub context: tessera_core::audit::RequestContext,
    pub body: Bytes,
}

/// How the body must look.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// None is read (GET, and actions whose path says it all).
    Empty,
    /// `application/json`, at most this many bytes.
    Json(usize),
}

/// Reads the body and authenticates the caller. `basic` is set as soon as the credentials are
/// known, so an `invalid_client` answer carries `WWW-Authenticate` (RFC 6749 §5.2). The body is
/// read before authentication so a bad body and bad credentials fail the same way everywhere,
/// but it is parsed only after, by the handler: nothing unauthenticated is interpreted.
pub(crate) async fn read(
    app: &App,
    req: Request<Body>,
    kind: BodyKind,
    basic: &mut bool,
) -> Result<AdminRequest, OAuthError> {
    let peer = req.extensions().get::<PeerAddr>().copied();
    let (parts, body) = req.into_parts();
    let body = match kind {
        BodyKind::Empty => Bytes::new(),
        BodyKind::Json(limit) => {
            if !is_json(&parts) {
                return Err(OAuthError::invalid_request(
                    "the request body must be application/json",
                ));
            }
            let timeout = app.authority.config().limits.read_timeout();
            extract::body::read(body, limit, timeout).await?
        }
    };
    let credentials =
        extract::client_credentials::extract(&parts.headers, &Params::default(), false)?;
    *basic = credentials.used_basic();
    let context = extract::context(peer, &parts.headers);
    let caller =
        tessera_core::client_auth::authenticate(&app.authority, &credentials, &context).await?;
    Ok(AdminRequest {
        caller,
        context,
        body,
    })
}

fn is_json(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
}

/// A 404 in the RFC error shape, for an id that names nothing.
pub(crate) fn not_found(description: &'static str) -> axum::response::Response {
    let mut r = crate::respond::error_response(&OAuthError::invalid_request(description), false);
    *r.status_mut() = axum::http::StatusCode::NOT_FOUND;
    crate::respond::no_store(r)
}
