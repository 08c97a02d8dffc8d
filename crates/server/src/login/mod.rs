//! The built-in login and consent page: one small server-rendered HTML form, no JavaScript, no
//! session cookie. The form carries the pending authorization's random single-use id in a hidden
//! field (its CSRF protection) and posts to `/login`. Every page forbids caching and framing.
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use tessera_core::authorize::Consent;
use tessera_proto::OAuthError;

/// HTML-escapes text for element content and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}\
label{display:block;margin:.6rem 0}input[type=text],input[type=password]{width:100%;padding:.4rem}\
button{padding:.5rem 1.2rem;margin-right:.5rem}.error{color:#a00}";

/// Headers of every page: no caching (RFC 6749 §5.1 spirit), no framing (clickjacking,
/// RFC 6749 §10.13 / RFC 9700 §4.16), no referrer leaking the query.
pub fn secure(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The login and consent form, with an optional message (a failed login).
pub fn consent_page(consent: &Consent, message: Option<&str>, status: StatusCode) -> Response {
    let scopes: String = if consent.scopes.is_empty() {
        "<li>no particular scope</li>".into()
    } else {
        consent
            .scopes
            .iter()
            .map(|s| format!("<li><code>{}</code></li>", escape(s)))
            .collect()
    };
    let message = message
        .map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(m)))
        .unwrap_or_default();
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Sign in – Tessera</title><style>{STYLE}</style></head><body>\
<h1>Sign in</h1>\
<p><strong>{name}</strong> (<code>{id}</code>) asks for access to:</p><ul>{scopes}</ul>{message}\
<form method=\"post\" action=\"/login\">\
<input type=\"hidden\" name=\"request\" value=\"{request}\">\
<label>User name <input type=\"text\" name=\"username\" autocomplete=\"username\" autofocus></label>\
<label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label>\
<button type=\"submit\" name=\"action\" value=\"allow\">Allow</button>\
<button type=\"submit\" name=\"action\" value=\"deny\">Deny</button>\
</form></body></html>",
        name = escape(&consent.client_name),
        id = escape(&consent.client_id),
        request = escape(&consent.request_id),
    );
    secure((status, Html(body)).into_response())
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
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Authorization error – Tessera</title><style>{STYLE}</style></head><body>\
<h1>Authorization error</h1><p><code>{code}</code>: {description}</p></body></html>",
        code = error.code.as_str(),
        description = escape(&error.description),
    );
    secure((status, Html(body)).into_response())
}

/// A redirect to the client: `302 Found` from the authorization endpoint (RFC 6749 §4.1.2),
/// `303 See Other` after the login form's POST, so the browser does not re-post the password
/// (RFC 9700 §4.12).
pub fn redirect(location: &str, status: StatusCode) -> Response {
    let mut response = status.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    secure(response)
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
