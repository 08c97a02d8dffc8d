//! `GET /authorize` (RFC 6749 §4.1.1) and `POST /login` (the built-in login form). Thin: the
//! core decides; this renders its answer as a page or a redirect.
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use tessera_core::authorize::login::LoginStep;
use tessera_core::authorize::{self, AuthorizeStep};
use tessera_core::params::Params;
use tessera_proto::OAuthError;

use crate::extract::{self, PeerAddr};
use crate::login;
use crate::state::App;

/// `GET /authorize`: parameters in the query (RFC 6749 §3.1).
pub async fn handle(State(app): State<App>, req: Request<Body>) -> Response {
    let started = Instant::now();
    let pairs = req
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let params = Params::new(pairs);
    let (outcome, response) = match authorize::authorize(&app.authority, &params).await {
        Ok(AuthorizeStep::Login(consent)) => {
            ("ok", login::consent_page(&consent, None, StatusCode::OK))
        }
        Ok(AuthorizeStep::Redirect(url)) => ("redirect", login::redirect(&url, StatusCode::FOUND)),
        Ok(AuthorizeStep::ErrorPage(e)) | Err(e) => (e.code.as_str(), error(&e)),
    };
    app.metrics.observe("authorize", outcome, started);
    response
}

/// `POST /login`: the login form's submission.
pub async fn login(State(app): State<App>, req: Request<Body>) -> Response {
    let started = Instant::now();
    let peer = req.extensions().get::<PeerAddr>().copied();
    let result = async {
        let (parts, params) = extract::form::read_form(req, &app.authority.config().limits).await?;
        let context = extract::context(peer, &parts.headers);
        tessera_core::authorize::login::login(&app.authority, &params, &context).await
    }
    .await;
    let (outcome, response) = match result {
        Ok(LoginStep::Redirect(url)) => ("redirect", login::redirect(&url, StatusCode::SEE_OTHER)),
        Ok(LoginStep::Retry(consent, message)) => (
            "retry",
            login::consent_page(&consent, Some(message), StatusCode::OK),
        ),
        Ok(LoginStep::ErrorPage(e)) | Err(e) => (e.code.as_str(), error(&e)),
    };
    app.metrics.observe("login", outcome, started);
    response
}

fn error(e: &OAuthError) -> Response {
    if e.code == tessera_proto::ErrorCode::ServerError {
        tracing::error!(detail = ?e.detail, "authorization request failed");
    }
    login::error_page(e)
}
