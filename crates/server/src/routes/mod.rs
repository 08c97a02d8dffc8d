//! The OAuth endpoints. Handlers are thin: extract, call the core, respond.
mod authorize;
mod discovery;
mod introspect;
mod par;
mod revocations;
mod revoke;
mod token;

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::response::Response;
use axum::routing::{get, post};
use tessera_core::audit::RequestContext;
use tessera_core::client_auth::PresentedCredentials;
use tessera_core::params::Params;
use tessera_proto::OAuthError;

use tessera_core::binding::mtls::ClientCertificate;

use crate::extract::{self, PeerAddr};
use crate::respond::{error_response, no_store};
use crate::state::App;

/// The protocol router.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/authorize", get(authorize::handle))
        .route("/login", post(authorize::login))
        .route(tessera_core::authorize::par::PATH, post(par::handle))
        .route("/token", post(token::handle))
        .route("/introspect", post(introspect::handle))
        .route("/revoke", post(revoke::handle))
        .route("/revocations", get(revocations::handle))
        .merge(crate::admin::api())
        .route("/jwks", get(discovery::jwks))
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::metadata),
        )
        .route(crate::login::style::PATH, get(crate::login::style::handle))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::map_response(
            crate::security_headers::apply,
        ))
        .with_state(app)
}

async fn not_found() -> Response {
    let mut r = error_response(&OAuthError::invalid_request("no such endpoint"), false);
    *r.status_mut() = axum::http::StatusCode::NOT_FOUND;
    r
}

async fn method_not_allowed() -> Response {
    let mut r = error_response(
        &OAuthError::invalid_request("method not allowed on this endpoint"),
        false,
    );
    *r.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    r
}

/// What every form-posting, client-authenticated endpoint starts with.
pub(crate) struct Authenticated {
    pub headers: axum::http::HeaderMap,
    pub params: Params,
    pub credentials: PresentedCredentials,
    pub context: RequestContext,
}

/// Reads the form and the presented credentials; `Err` is the finished error response.
pub(crate) async fn read_request(
    app: &App,
    req: Request<Body>,
) -> Result<Authenticated, OAuthError> {
    let peer = req.extensions().get::<PeerAddr>().copied();
    let tls_cert = req.extensions().get::<ClientCertificate>().cloned();
    let (parts, params) = extract::form::read_form(req, &app.authority.config().limits).await?;
    // RFC 8705: the connection's certificate, or — only when explicitly configured — the one a
    // TLS-terminating proxy forwards in a header.
    let header_cert = || {
        let name = app
            .authority
            .config()
            .insecure_client_cert_header
            .as_deref()?;
        let value = parts.headers.get(name)?.to_str().ok()?;
        app.chains.check_header(value)
    };
    let client_cert = tls_cert.or_else(header_cert);
    let credentials =
        extract::client_credentials::extract(&parts.headers, &params, client_cert.is_some())?;
    let mut context = extract::context(peer, &parts.headers);
    context.client_cert = client_cert;
    Ok(Authenticated {
        headers: parts.headers,
        params,
        credentials,
        context,
    })
}

/// Finishes a protocol response: metrics, no-store, the RFC error form.
pub(crate) fn finish(
    app: &App,
    endpoint: &'static str,
    started: Instant,
    basic: bool,
    result: Result<Response, OAuthError>,
) -> Response {
    match result {
        Ok(r) => {
            app.metrics.observe(endpoint, "ok", started);
            with_dpop_nonce(app, no_store(r))
        }
        Err(e) => {
            app.metrics.observe(endpoint, e.code.as_str(), started);
            with_dpop_nonce(app, error_response(&e, basic))
        }
    }
}

/// RFC 9449 §8: when nonces are required, every response hands out the current one.
fn with_dpop_nonce(app: &App, mut response: Response) -> Response {
    let authority = &app.authority;
    if authority.config().dpop.require_nonce {
        let nonce = authority.dpop_nonces().current(authority.clock().now());
        if let Ok(v) = axum::http::HeaderValue::from_str(&nonce) {
            response.headers_mut().insert("dpop-nonce", v);
        }
    }
    response
}
