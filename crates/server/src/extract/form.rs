//! The form body of a protocol request, checked before anything reads it: no parameters in the
//! URL query (tokens and credentials never belong in URLs), the right content type, a bounded
//! size, UTF-8. Each failure is an `invalid_request` JSON answer, never a framework's plain text.
use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{Request, header};
use tessera_core::config::LimitConfig;
use tessera_core::params::Params;
use tessera_proto::OAuthError;

/// Reads and decodes the form body of `req`, within `limits` (size and read timeout).
pub async fn read_form(
    req: Request<Body>,
    limits: &LimitConfig,
) -> Result<(Parts, Params), OAuthError> {
    let (parts, body) = req.into_parts();
    if parts.uri.query().is_some_and(|q| !q.is_empty()) {
        return Err(OAuthError::invalid_request(
            "parameters must be sent in the request body, never in the URL query",
        ));
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request(
            "the request body must be application/x-www-form-urlencoded",
        ));
    }
    let bytes = super::body::read(body, limits.max_body_bytes, limits.read_timeout()).await?;
    if std::str::from_utf8(&bytes).is_err() {
        return Err(OAuthError::invalid_request(
            "the request body is not valid UTF-8",
        ));
    }
    let pairs = form_urlencoded::parse(&bytes).into_owned().collect();
    Ok((parts, Params::new(pairs)))
}
