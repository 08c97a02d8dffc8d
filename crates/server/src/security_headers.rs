//! The security headers of every page a browser renders, set in one layer over the protocol
//! router, so no page (the login form, the error page, a page added later) can forget them.
//! JSON answers keep their own headers (`respond.rs`).
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

/// The pages' policy: nothing loads but the stylesheet from this origin (no script at all, no
/// inline style), no `<base>` rewriting, and no framing by anyone (RFC 6749 §10.13,
/// RFC 9700 §4.16: clickjacking of the consent form). `form-action` is left out on purpose:
/// browsers apply it to the redirect that follows the form's POST, which goes to the client.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Sets the headers on an HTML page or a redirect; other responses pass through unchanged.
/// Use with `axum::middleware::map_response(security_headers::apply)`.
pub async fn apply(mut response: Response) -> Response {
    if is_page(&response) {
        set(response.headers_mut());
    }
    response
}

/// A page the browser renders (`text/html`), or a redirect of the login flow, whose `Location`
/// may carry an authorization code.
fn is_page(response: &Response) -> bool {
    response.status().is_redirection()
        || response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"))
}

fn set(h: &mut HeaderMap) {
    // The pages hold a single-use form id and the redirects a code: never cached (RFC 6749
    // §5.1's rule for token responses, applied to the front channel).
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    // The authorization request's query must not leak to other sites as a Referer.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}
