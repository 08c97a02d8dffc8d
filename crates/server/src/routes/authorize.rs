//! `GET /authorize` (RFC 6749 §4.1.1) and `POST /login` (the built-in login form). Thin: the
//! core decides; this renders its answer as a page or a redirect.
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use tessera_core::authorize::login::{BUSY, LoginStep};
use tessera_core::authorize::{self, AuthorizeStep};
use tessera_core::config::LimitConfig;
use tessera_core::params::Params;
use tessera_proto::OAuthError;

use crate::extract::{self, PeerAddr};
use crate::login;
use crate::state::App;

/// Largest accepted login form body, in bytes.
const LOGIN_FORM_BYTES: usize = 8 * 1024;

/// `GET /authorize`: parameters in the query (RFC 6749 §3.1).
pub async fn handle(State(app): State<App>, req: Request<Body>) -> Response {
    let started = Instant::now();
    let query = req.uri().query().unwrap_or("");
    if query.len() > authorize::MAX_QUERY_BYTES {
        let e = OAuthError::invalid_request("the authorization request is too long");
        app.metrics.observe("authorize", e.code.as_str(), started);
        return error(&e);
    }
    let params = Params::new(
        form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect(),
    );
    let peer = req.extensions().get::<PeerAddr>().copied();
    let ip = extract::context(peer, req.headers()).ip;
    let (outcome, response) = match authorize::authorize(&app.authority, &params, ip).await {
        Ok(AuthorizeStep::Login(consent)) => {
            ("ok", login::consent_page(&consent, None, StatusCode::OK))
        }
        Ok(AuthorizeStep::Redirect(url)) => ("redirect", login::redirect(&url, StatusCode::FOUND)),
        Ok(AuthorizeStep::TooMany(e)) => (
            e.code.as_str(),
            login::error_page_with(&e, StatusCode::TOO_MANY_REQUESTS),
        ),
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
        // The form has four short fields (a password is at most `user::MAX_PASSWORD` bytes,
        // three times that percent-encoded): a few KiB is plenty, whatever `max_body_bytes`.
        let limits = LimitConfig {
            max_body_bytes: app
                .authority
                .config()
                .limits
                .max_body_bytes
                .min(LOGIN_FORM_BYTES),
            ..app.authority.config().limits.clone()
        };
        let (parts, params) = extract::form::read_form(req, &limits).await?;
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
        Ok(LoginStep::Busy(consent)) => (
            "busy",
            login::consent_page(&consent, Some(BUSY), StatusCode::OK),
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
