//! The login pages as a browser sees them: every value is HTML-escaped by the template engine,
//! and every page — the form, the form after a failure, the error pages (400 and 429), the
//! redirects — carries the security headers of one layer, with a policy that allows no script
//! and no inline style (the stylesheet has its own route).
use reqwest::Response;
use reqwest::header::HeaderMap;

use crate::support::flow::{
    PASSWORD, USER, authorize, code_client, pkce, post_login, request, request_field,
};
use crate::support::{TestServer, test_config};

/// Decodes the character references an HTML escaper may use (named or numeric).
fn unescape(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let Some(end) = rest[i..].find(';') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let entity = &rest[i + 1..i + end];
        let decoded = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&rest[i..=i + end]),
        }
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    out
}

/// The text between `open` and the next `close`.
fn between<'a>(html: &'a str, open: &str, close: &str) -> &'a str {
    let start = html
        .find(open)
        .unwrap_or_else(|| panic!("no {open} in {html}"))
        + open.len();
    let end = start + html[start..].find(close).unwrap();
    &html[start..end]
}

fn assert_page_headers(headers: &HeaderMap, what: &str) {
    let get = |name: &str| {
        headers
            .get(name)
            .unwrap_or_else(|| panic!("{what}: no {name}"))
            .to_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(get("cache-control"), "no-store", "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    let csp = get("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert!(csp.contains("style-src 'self'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(
        !csp.contains("script-src"),
        "{what}: no script is allowed: {csp}"
    );
}

/// An HTML page: its headers, and markup with no inline script or style for the policy to block.
async fn assert_page(resp: Response, status: u16, what: &str) -> String {
    assert_eq!(resp.status().as_u16(), status, "{what}");
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{what}"
    );
    assert_page_headers(resp.headers(), what);
    let html = resp.text().await.unwrap();
    for inline in ["<script", "<style", " style="] {
        assert!(!html.contains(inline), "{what}: {inline} in {html}");
    }
    assert!(
        html.contains("<link rel=\"stylesheet\" href=\"/assets/tessera.css\">"),
        "{what}: {html}"
    );
    html
}

async fn get(server: &TestServer, path: &str) -> Response {
    server.http.get(server.url(path)).send().await.unwrap()
}

#[tokio::test]
async fn html_special_values_are_escaped_on_the_consent_page() {
    let server = TestServer::start().await;
    let name = r#"<script>alert("name")</script> & 'co'"#;
    let id = r#"id"><img src=x onerror=alert(1)>"#;
    // RFC 6749 §3.3 allows < > & ' in a scope token (not " or \, refused before any page).
    let odd_scope = "a<b>&'c";
    let c = code_client(&server, true, |c| {
        c.name = name.into();
        c.id = id.into();
        c.scopes.push(odd_scope.into());
    })
    .await;
    let (_, challenge) = pkce();
    let scope = format!("deploy:read {odd_scope}");
    let mut q = request(&c, &challenge, &[]);
    q.retain(|(k, _)| *k != "scope");
    q.push(("scope", &scope));
    let resp = authorize(&server, &q).await;
    let html = assert_page(resp, 200, "consent page").await;
    for raw in ["<script>", "<img", "a<b>", "\"name\"", "'co'", "& 'co"] {
        assert!(!html.contains(raw), "{raw} reached the markup: {html}");
    }
    assert_eq!(unescape(between(&html, "<strong>", "</strong>")), name);
    assert_eq!(unescape(between(&html, "(<code>", "</code>)")), id);
    let items: Vec<String> = html
        .split("<li><code>")
        .skip(1)
        .map(|s| unescape(&s[..s.find("</code></li>").unwrap()]))
        .collect();
    assert_eq!(items, ["deploy:read", odd_scope]);
    // The hidden field round-trips: the escaped form still completes the flow.
    let resp = post_login(
        &server,
        &[
            ("request", &unescape(&request_field(&html))),
            ("username", USER),
            ("password", PASSWORD),
            ("action", "allow"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
}

#[tokio::test]
async fn every_page_and_redirect_carries_the_security_headers() {
    let mut config = test_config();
    config.login.max_authorize_per_ip = 1;
    let server = TestServer::start_with(
        config,
        std::sync::Arc::new(tessera_core::clock::SystemClock),
    )
    .await;
    let c = code_client(&server, false, |_| {}).await;
    let (_, challenge) = pkce();

    // 1. The form.
    let resp = authorize(&server, &request(&c, &challenge, &[])).await;
    let html = assert_page(resp, 200, "consent page").await;
    let id = request_field(&html);
    // 2. The form again, after a wrong password.
    let form = |password: &'static str| {
        [
            ("request", id.as_str()),
            ("username", USER),
            ("password", password),
            ("action", "allow"),
        ]
    };
    let retry = post_login(&server, &form("wrong")).await;
    let html = assert_page(retry, 200, "retry page").await;
    assert!(
        html.contains("role=\"alert\">Wrong user name or password.</p>"),
        "{html}"
    );
    // 3. The 303 redirect carrying the code.
    let done = post_login(&server, &form(PASSWORD)).await;
    assert_eq!(done.status().as_u16(), 303);
    assert_page_headers(done.headers(), "303 redirect");
    // 4. The error page of a form already used (POST /login, 400).
    let stale = post_login(&server, &form(PASSWORD)).await;
    let html = assert_page(stale, 400, "stale form page").await;
    assert!(html.contains("<code>invalid_request</code>: this login form has expired"));
    // 5. The error page of an unknown client (GET /authorize, 400).
    let mut q = request(&c, &challenge, &[]);
    q.retain(|(k, _)| *k != "client_id");
    q.push(("client_id", "<nobody>"));
    let html = assert_page(authorize(&server, &q).await, 400, "unknown client page").await;
    assert!(
        html.contains("<code>invalid_request</code>: unknown client"),
        "{html}"
    );
    // 6. The 302 error redirect (a refusal the client may hear).
    let mut q = request(&c, &challenge, &[]);
    q.retain(|(k, _)| *k != "code_challenge_method");
    let redirect = authorize(&server, &q).await;
    assert_eq!(redirect.status().as_u16(), 302);
    assert_page_headers(redirect.headers(), "302 redirect");
    // 7. The 429 page once this address opened too many forms.
    let flooded = authorize(&server, &request(&c, &challenge, &[])).await;
    assert_page(flooded, 429, "too-many page").await;

    // The stylesheet the policy allows is served from this origin, and JSON answers are left
    // to their own headers.
    let css = get(&server, "/assets/tessera.css").await;
    assert_eq!(css.status().as_u16(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(css.headers()["x-content-type-options"], "nosniff");
    assert!(css.text().await.unwrap().contains(".error{color:#a00}"));
    let json = get(&server, "/.well-known/oauth-authorization-server").await;
    assert_eq!(json.status().as_u16(), 200);
    assert!(json.headers().get("content-security-policy").is_none());
}
