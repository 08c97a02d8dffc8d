//! The built-in login and consent page: one small server-rendered HTML form, no JavaScript, no
//! session cookie. The form carries the pending authorization's random single-use id in a hidden
//! field (its CSRF protection) and posts to `/login`. The pages are askama templates
//! (`crates/server/templates/`), checked at compile time and HTML-escaped by the engine, so no
//! value reaches the markup unescaped; their security headers come from one layer
//! ([`crate::security_headers`]) and their stylesheet from [`style`].
pub mod style;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use tessera_core::authorize::Consent;
use tessera_proto::OAuthError;

/// The login and consent form.
#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    consent: &'a Consent,
    message: Option<&'a str>,
}

/// The page shown when the error must not be redirected.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    code: &'a str,
    description: &'a str,
}

/// Renders a page. The templates only display strings, which cannot fail to format; should one
/// ever fail, the browser gets a `server_error` page without the failed values, never a panic.
fn render(page: &impl Template, status: StatusCode) -> Response {
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a login page failed to render");
            let fallback = ErrorPage {
                code: tessera_proto::ErrorCode::ServerError.as_str(),
                description: "the page could not be shown",
            };
            let body = fallback.render().unwrap_or_default();
            (StatusCode::INTERNAL_SERVER_ERROR, Html(body)).into_response()
        }
    }
}

/// The login and consent form, with an optional message (a failed login).
pub fn consent_page(consent: &Consent, message: Option<&str>, status: StatusCode) -> Response {
    render(&ConsentPage { consent, message }, status)
}

/// An error page (400): used when the client or its redirection URI is not trusted, so the
/// error must not be redirected (RFC 6749 §4.1.2.1).
pub fn error_page(error: &OAuthError) -> Response {
    let status = match crate::respond::status_of(error.code) {
        s if s.is_server_error() => s,
        _ => StatusCode::BAD_REQUEST,
    };
    error_page_with(error, status)
}

/// An error page with the given status (429 for the flood bounds of `GET /authorize`).
pub fn error_page_with(error: &OAuthError, status: StatusCode) -> Response {
    let page = ErrorPage {
        code: error.code.as_str(),
        description: &error.description,
    };
    render(&page, status)
}

/// A redirect to the client: `302 Found` from the authorization endpoint (RFC 6749 §4.1.2),
/// `303 See Other` after the login form's POST, so the browser does not re-post the password
/// (RFC 9700 §4.12). Its `Location` may carry a fresh code: the security-headers layer marks
/// every redirect `no-store` and `no-referrer` like a page.
pub fn redirect(location: &str, status: StatusCode) -> Response {
    let mut response = status.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}
