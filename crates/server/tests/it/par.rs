//! Pushed authorization requests (RFC 9126): the push, `/authorize` with `client_id` and
//! `request_uri`, through the login page to a code and a token; every refusal with its exact
//! answer (JSON on `/par`, the error page on `/authorize`).
use reqwest::header::{LOCATION, WWW_AUTHENTICATE};
use serde_json::Value;
use tessera_core::client::GrantType;

use crate::support::flow::*;
use crate::support::{API, TestClient, TestServer, error, test_config};

const URN: &str = "urn:ietf:params:oauth:request_uri:";

/// POST /par as `c` (Basic for a confidential client, `client_id` in the body for a public one).
async fn push(server: &TestServer, c: &TestClient, form: &[(&str, &str)]) -> (u16, Value) {
    let mut form = form.to_vec();
    let mut req = server.http.post(server.url("/par"));
    if c.secret.is_empty() {
        form.push(("client_id", c.id.as_str()));
    } else {
        req = req.basic_auth(&c.id, Some(&c.secret));
    }
    let resp = req.form(&form).send().await.unwrap();
    let status = resp.status().as_u16();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    (status, resp.json().await.unwrap())
}

/// Pushes the standard request for `c`; its `request_uri`.
async fn pushed(server: &TestServer, c: &TestClient, challenge: &str) -> String {
    let mut form = request(c, challenge, &[]);
    form.retain(|(k, _)| *k != "client_id");
    let (status, body) = push(server, c, &form).await;
    assert_eq!(status, 201, "{body}");
    body["request_uri"].as_str().unwrap().to_string()
}

/// GET /authorize with only `client_id` and `request_uri` (plus `extra`); status and page.
async fn authorize_pushed(
    server: &TestServer,
    c: &TestClient,
    request_uri: &str,
    extra: &[(&str, &str)],
) -> (u16, String) {
    let mut q = vec![("client_id", c.id.as_str()), ("request_uri", request_uri)];
    q.extend_from_slice(extra);
    let resp = authorize(server, &q).await;
    let status = resp.status().as_u16();
    assert!(resp.headers().get(LOCATION).is_none());
    (status, resp.text().await.unwrap())
}

fn shows_error(html: &str, code: &str, description: &str) -> bool {
    html.contains(&format!("<code>{code}</code>: {description}"))
}

const BAD_URI: &str =
    "the request_uri is unknown, expired, already used or was pushed by another client";

#[tokio::test]
async fn a_pushed_request_leads_through_login_to_a_code_and_a_token() {
    let server = TestServer::start().await;
    let c = code_client(&server, false, |_| {}).await;
    let (verifier, challenge) = pkce();
    let mut form = request(&c, &challenge, &[]);
    form.retain(|(k, _)| *k != "client_id");
    let (status, body) = push(&server, &c, &form).await;
    assert_eq!(status, 201, "{body}");
    // RFC 9126 §2.2: exactly these two members.
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    assert_eq!(body["expires_in"], 60);
    let request_uri = body["request_uri"].as_str().unwrap();
    let random = request_uri.strip_prefix(URN).expect(request_uri);
    assert_eq!(random.len(), 43, "256 random bits in base64url");
    // Parameters on the query besides client_id and request_uri are ignored: the pushed
    // request (scope deploy:read, state xyz) is what the user approves.
    let (status, html) = authorize_pushed(
        &server,
        &c,
        request_uri,
        &[("scope", "deploy:write"), ("state", "tampered")],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("deploy:read") && !html.contains("deploy:write"));
    let resp = allow(&server, &request_field(&html), USER, PASSWORD).await;
    assert_eq!(resp.status().as_u16(), 303);
    let params = location_params(&resp);
    assert_eq!(param(&params, "state"), Some("xyz"));
    assert_eq!(param(&params, "iss"), Some(server.base.as_str()));
    let code = param(&params, "code").unwrap().to_string();
    let (status, token) = exchange(&server, &c, &code, &verifier, None).await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["scope"], "deploy:read");
    let introspected = server
        .introspect(&c, token["access_token"].as_str().unwrap())
        .await;
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["aud"], API);
}

#[tokio::test]
async fn a_public_client_pushes_with_its_client_id_alone() {
    let server = TestServer::start().await;
    let c = code_client(&server, true, |_| {}).await;
    let (verifier, challenge) = pkce();
    let request_uri = pushed(&server, &c, &challenge).await;
    let (status, html) = authorize_pushed(&server, &c, &request_uri, &[]).await;
    assert_eq!(status, 200, "{html}");
    let resp = allow(&server, &request_field(&html), USER, PASSWORD).await;
    let code = param(&location_params(&resp), "code").unwrap().to_string();
    assert_eq!(exchange(&server, &c, &code, &verifier, None).await.0, 200);
}

#[tokio::test]
async fn a_request_uri_is_single_use() {
    let server = TestServer::start().await;
    let c = code_client(&server, true, |_| {}).await;
    let (_, challenge) = pkce();
    let request_uri = pushed(&server, &c, &challenge).await;
    assert_eq!(
        authorize_pushed(&server, &c, &request_uri, &[]).await.0,
        200
    );
    let (status, html) = authorize_pushed(&server, &c, &request_uri, &[]).await;
    assert_eq!(status, 400);
    assert!(shows_error(&html, "invalid_request_uri", BAD_URI), "{html}");
}

#[tokio::test]
async fn a_request_uri_expires_after_60_seconds() {
    let clock = crate::support::fixed_clock();
    let server = TestServer::start_with(test_config(), clock.clone()).await;
    let c = code_client(&server, true, |_| {}).await;
    let (_, challenge) = pkce();
    let first = pushed(&server, &c, &challenge).await;
    let second = pushed(&server, &c, &challenge).await;
    clock.advance(59);
    assert_eq!(authorize_pushed(&server, &c, &first, &[]).await.0, 200);
    clock.advance(1);
    let (status, html) = authorize_pushed(&server, &c, &second, &[]).await;
    assert_eq!(status, 400);
    assert!(shows_error(&html, "invalid_request_uri", BAD_URI), "{html}");
}

#[tokio::test]
async fn another_clients_or_an_unknown_request_uri_is_refused() {
    let server = TestServer::start().await;
    let a = code_client(&server, true, |_| {}).await;
    let b = code_client(&server, true, |_| {}).await;
    let (_, challenge) = pkce();
    let request_uri = pushed(&server, &a, &challenge).await;
    for uri in [
        request_uri.as_str(),
        "urn:ietf:params:oauth:request_uri:nothing-was-pushed-here",
        "https://client.example/request.jwt",
    ] {
        let (status, html) = authorize_pushed(&server, &b, uri, &[]).await;
        assert_eq!(status, 400, "{uri}");
        assert!(shows_error(&html, "invalid_request_uri", BAD_URI), "{html}");
    }
    // The other client's attempt did not use it up: it is still the pusher's.
    assert_eq!(
        authorize_pushed(&server, &a, &request_uri, &[]).await.0,
        200
    );
}

#[tokio::test]
async fn a_request_uri_is_not_a_login_form_and_a_login_form_is_not_a_request_uri() {
    let server = TestServer::start().await;
    let c = code_client(&server, true, |_| {}).await;
    let (_, challenge) = pkce();
    let request_uri = pushed(&server, &c, &challenge).await;
    let resp = allow(&server, &request_uri, USER, PASSWORD).await;
    assert_eq!(resp.status().as_u16(), 400);
    let form = open_login_form(&server, &c).await;
    let (status, html) = authorize_pushed(&server, &c, &form, &[]).await;
    assert_eq!(status, 400);
    assert!(shows_error(&html, "invalid_request_uri", BAD_URI), "{html}");
    // Both still work for what they are.
    assert_eq!(
        authorize_pushed(&server, &c, &request_uri, &[]).await.0,
        200
    );
    assert_eq!(
        allow(&server, &form, USER, PASSWORD)
            .await
            .status()
            .as_u16(),
        303
    );
}

const MUST_PUSH: &str = "this client must push its authorization request to the pushed authorization request endpoint first (RFC 9126)";

#[tokio::test]
async fn a_client_registered_with_require_par_must_push() {
    let server = TestServer::start().await;
    let c = code_client(&server, true, |c| c.require_par = true).await;
    let other = code_client(&server, true, |_| {}).await;
    let (_, challenge) = pkce();
    assert_plain_refused_pushed_accepted(&server, &c, &challenge).await;
    // Other clients are not concerned.
    let resp = authorize(&server, &request(&other, &challenge, &[])).await;
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn the_server_wide_switch_requires_par_of_every_client_and_is_advertised() {
    let mut config = test_config();
    config.par.require_pushed_authorization_requests = true;
    let server = TestServer::start_with(
        config,
        std::sync::Arc::new(tessera_core::clock::SystemClock),
    )
    .await;
    let c = code_client(&server, true, |_| {}).await;
    let (_, challenge) = pkce();
    assert_plain_refused_pushed_accepted(&server, &c, &challenge).await;
    let metadata: Value = server
        .http
        .get(server.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["require_pushed_authorization_requests"], true);
    assert_eq!(
        metadata["pushed_authorization_request_endpoint"],
        server.url("/par")
    );
}

#[tokio::test]
async fn metadata_advertises_the_endpoint_and_par_is_optional_by_default() {
    let server = TestServer::start().await;
    let metadata: Value = server
        .http
        .get(server.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        metadata["pushed_authorization_request_endpoint"],
        server.url("/par")
    );
    assert_eq!(metadata["require_pushed_authorization_requests"], false);
}

#[tokio::test]
async fn client_authentication_is_the_token_endpoints() {
    let server = TestServer::start().await;
    let c = code_client(&server, false, |_| {}).await;
    let (_, challenge) = pkce();
    let mut form = request(&c, &challenge, &[]);
    form.retain(|(k, _)| *k != "client_id");
    // No credentials at all.
    let resp = server
        .http
        .post(server.url("/par"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        error("invalid_client", "client authentication failed")
    );
    // A wrong secret, over Basic: 401 with the Basic challenge (RFC 6749 §5.2).
    let resp = server
        .http
        .post(server.url("/par"))
        .basic_auth(&c.id, Some("wrong"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(resp.headers().get(WWW_AUTHENTICATE).is_some());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        error("invalid_client", "client authentication failed")
    );
    // A confidential client naming itself without its secret.
    let mut unauthenticated = form.clone();
    unauthenticated.push(("client_id", c.id.as_str()));
    let resp = server
        .http
        .post(server.url("/par"))
        .form(&unauthenticated)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    // GET is not the method (RFC 9126 §2.3: 405).
    let resp = server.http.get(server.url("/par")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    // Nothing was stored by any of them: a correct push still works and is the only one.
    assert_eq!(push(&server, &c, &form).await.0, 201);
}

#[tokio::test]
async fn a_bad_pushed_request_gets_the_rfc_error_as_json() {
    let server = TestServer::start().await;
    let c = code_client(&server, false, |c| {
        c.audiences = vec![API.into(), "https://other.example.com".into()]
    })
    .await;
    let no_code = code_client(&server, false, |c| {
        c.grant_types = vec![GrantType::ClientCredentials]
    })
    .await;
    let (_, challenge) = pkce();
    let base = |extra: &[(&'static str, &'static str)], drop: &[&str]| {
        let mut f: Vec<(String, String)> = request(&c, &challenge, &[])
            .into_iter()
            .filter(|(k, _)| *k != "client_id" && !drop.contains(k))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        f.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        f.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        f
    };
    let cases: Vec<(Vec<(String, String)>, Value)> = vec![
        (
            base(
                &[
                    ("request_uri", "urn:ietf:params:oauth:request_uri:x"),
                    ("resource", API),
                ],
                &[],
            ),
            error(
                "invalid_request",
                "request_uri must not be pushed (RFC 9126 §2.1)",
            ),
        ),
        (
            base(
                &[
                    ("redirect_uri", "https://evil.example/cb"),
                    ("resource", API),
                ],
                &[],
            ),
            error(
                "invalid_request",
                "redirect_uri does not match any redirection URI registered for this client",
            ),
        ),
        (
            base(&[("resource", API)], &["code_challenge"]),
            error(
                "invalid_request",
                "code_challenge is required (PKCE, RFC 7636)",
            ),
        ),
        (
            base(
                &[("code_challenge_method", "plain"), ("resource", API)],
                &[],
            ),
            error(
                "invalid_request",
                "code_challenge_method must be S256 (plain is not supported)",
            ),
        ),
        (
            base(&[("response_type", "token"), ("resource", API)], &[]),
            error(
                "unsupported_response_type",
                "only response_type=code is supported",
            ),
        ),
        (
            base(&[("scope", "admin"), ("resource", API)], &[]),
            error(
                "invalid_scope",
                "the requested scope exceeds what this client may have",
            ),
        ),
        (
            base(&[], &[]),
            error(
                "invalid_target",
                "resource is required: this client may request tokens for several audiences",
            ),
        ),
        (
            base(&[("resource", "https://nope.example.com")], &[]),
            error(
                "invalid_target",
                "the requested resource is not allowed for this client",
            ),
        ),
        (
            base(&[("client_id", "someone-else"), ("resource", API)], &[]),
            error(
                "invalid_request",
                "client_id does not match the Authorization header",
            ),
        ),
    ];
    for (form, expected) in cases {
        let resp = server
            .http
            .post(server.url("/par"))
            .basic_auth(&c.id, Some(&c.secret))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{form:?}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body, expected, "{form:?}");
    }
    // The same request with a resource is fine.
    let (status, body) = push(
        &server,
        &c,
        &base(&[("resource", API)], &[])
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // A client without the authorization code grant.
    let mut form = request(&no_code, &challenge, &[]);
    form.retain(|(k, _)| *k != "client_id");
    let (status, body) = push(&server, &no_code, &form).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        error(
            "unauthorized_client",
            "this client may not use the authorization code grant"
        )
    );
}

#[tokio::test]
async fn one_client_may_hold_only_so_many_open_pushed_requests() {
    let mut config = test_config();
    config.par.max_per_client = 2;
    let server = TestServer::start_with(
        config,
        std::sync::Arc::new(tessera_core::clock::SystemClock),
    )
    .await;
    let c = code_client(&server, true, |_| {}).await;
    let other = code_client(&server, true, |_| {}).await;
    let (_, challenge) = pkce();
    let first = pushed(&server, &c, &challenge).await;
    pushed(&server, &c, &challenge).await;
    let mut form = request(&c, &challenge, &[]);
    form.retain(|(k, _)| *k != "client_id");
    let (status, body) = push(&server, &c, &form).await;
    assert_eq!(status, 429);
    assert_eq!(
        body,
        error(
            "temporarily_unavailable",
            "too many pushed authorization requests are open for this client: use or let some expire"
        )
    );
    // Another client is not held up by it.
    pushed(&server, &other, &challenge).await;
    // A used request keeps its slot until it expires: the cap bounds stored rows.
    assert_eq!(authorize_pushed(&server, &c, &first, &[]).await.0, 200);
    assert_eq!(push(&server, &c, &form).await.0, 429);
}

/// A client that must push: its plain `/authorize` gets the error page (no redirect), its pushed
/// request the login page.
async fn assert_plain_refused_pushed_accepted(
    server: &TestServer,
    c: &TestClient,
    challenge: &str,
) {
    let resp = authorize(server, &request(c, challenge, &[])).await;
    assert_eq!(resp.status().as_u16(), 400);
    assert!(resp.headers().get(LOCATION).is_none());
    assert!(shows_error(
        &resp.text().await.unwrap(),
        "invalid_request",
        MUST_PUSH
    ));
    let request_uri = pushed(server, c, challenge).await;
    assert_eq!(authorize_pushed(server, c, &request_uri, &[]).await.0, 200);
}
