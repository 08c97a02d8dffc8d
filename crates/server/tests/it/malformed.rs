//! Hostile and malformed input: each gets the RFC error as JSON, the audit event where one is
//! due, and changes nothing.
use tessera_core::audit::EventKind;
use tessera_core::client::GrantType;

use crate::support::{API, TestServer, error};

#[tokio::test]
async fn wrong_secret_is_invalid_client_with_www_authenticate_and_an_audit_event() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    let (status, headers, body) = server
        .post(
            "/token",
            Some((&c.id, "tsr_cs_wrong")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        error("invalid_client", "client authentication failed")
    );
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    let failed = server
        .events_of(EventKind::ClientAuthenticationFailed)
        .await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].client_id.as_deref(), Some(c.id.as_str()));
    assert_eq!(failed[0].reason.as_deref(), Some("wrong_secret"));
    assert!(server.events_of(EventKind::TokenIssued).await.is_empty());
}

#[tokio::test]
async fn unknown_client_gets_the_same_answer_as_a_wrong_secret() {
    let server = TestServer::start().await;
    let (status, _, body) = server
        .post(
            "/token",
            Some(("nobody", "secret")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        error("invalid_client", "client authentication failed")
    );
    assert_eq!(
        server
            .events_of(EventKind::ClientAuthenticationFailed)
            .await[0]
            .reason
            .as_deref(),
        Some("unknown_client")
    );
}

#[tokio::test]
async fn no_credentials_is_invalid_client() {
    let server = TestServer::start().await;
    let (status, headers, body) = server
        .post("/token", None, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        error("invalid_client", "client authentication failed")
    );
    assert!(headers.get("www-authenticate").is_none());
}

#[tokio::test]
async fn grant_errors_use_their_rfc_codes() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    type Case<'a> = (&'a [(&'a str, &'a str)], u16, &'a str, &'a str);
    let cases: &[Case] = &[
        (
            &[("grant_type", "password")],
            400,
            "unsupported_grant_type",
            "this grant type is not supported",
        ),
        (
            &[("grant_type", "client_credentials"), ("scope", "admin")],
            400,
            "invalid_scope",
            "the requested scope exceeds what this client may have",
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("scope", "deploy:read \"x"),
            ],
            400,
            "invalid_scope",
            "scope contains an invalid character",
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("resource", "https://evil.example.com"),
            ],
            400,
            "invalid_target",
            "the requested resource is not allowed for this client",
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("resource", "not-a-uri"),
            ],
            400,
            "invalid_target",
            "resource must be an absolute URI without a fragment",
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("resource", API),
                ("resource", "https://other.example"),
            ],
            400,
            "invalid_target",
            "a token is issued for exactly one resource",
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("scope", "a"),
                ("scope", "b"),
            ],
            400,
            "invalid_request",
            "parameter scope is included more than once",
        ),
        (
            &[("scope", "deploy:read")],
            400,
            "invalid_request",
            "parameter grant_type is missing",
        ),
    ];
    for (form, status, code, description) in cases {
        let (got_status, _, body) = server.post("/token", Some((&c.id, &c.secret)), form).await;
        assert_eq!(
            (got_status, &body),
            (*status, &error(code, description)),
            "form {form:?}"
        );
    }
    assert!(server.events_of(EventKind::TokenIssued).await.is_empty());
}

#[tokio::test]
async fn a_client_without_the_grant_is_unauthorized_client() {
    let server = TestServer::start().await;
    let c = server.client(|c| c.grant_types = vec![]).await;
    let (status, body) = server.token(&c, &[]).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        error(
            "unauthorized_client",
            "this client may not use this grant type"
        )
    );
    let _ = GrantType::ClientCredentials;
}

#[tokio::test]
async fn multi_audience_client_must_name_its_resource() {
    let server = TestServer::start().await;
    let c = server
        .client(|c| c.audiences = vec![API.into(), "https://billing.example.com".into()])
        .await;
    let (status, body) = server.token(&c, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target"))
    );
    let (status, body) = server
        .token(&c, &[("resource", "https://billing.example.com")])
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn parameters_in_the_query_string_are_refused() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    for path in [
        "/token?grant_type=client_credentials",
        "/introspect?token=abc",
        "/revoke?token=abc",
    ] {
        let resp = server
            .http
            .post(server.url(path))
            .basic_auth(&c.id, Some(&c.secret))
            .form(&[("grant_type", "client_credentials"), ("token", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{path}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(
            body,
            error(
                "invalid_request",
                "parameters must be sent in the request body, never in the URL query"
            )
        );
    }
    assert!(server.events_of(EventKind::TokenIssued).await.is_empty());
}

#[tokio::test]
async fn wrong_content_type_oversized_and_non_utf8_bodies_are_invalid_request_json() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    let send = |body: Vec<u8>, content_type: &'static str| {
        server
            .http
            .post(server.url("/token"))
            .basic_auth(&c.id, Some(&c.secret))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let resp = send(
        br#"{"grant_type":"client_credentials"}"#.to_vec(),
        "application/json",
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap(),
        error(
            "invalid_request",
            "the request body must be application/x-www-form-urlencoded"
        )
    );
    let big = format!(
        "grant_type=client_credentials&pad={}",
        "a".repeat(70 * 1024)
    );
    let resp = send(big.into_bytes(), "application/x-www-form-urlencoded")
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap(),
        error(
            "invalid_request",
            "the request body exceeds 65536 bytes or could not be read"
        )
    );
    let resp = send(
        b"grant_type=\xff\xfe".to_vec(),
        "application/x-www-form-urlencoded",
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap(),
        error("invalid_request", "the request body is not valid UTF-8")
    );
    assert!(server.events_of(EventKind::TokenIssued).await.is_empty());
}

#[tokio::test]
async fn malformed_basic_and_double_authentication_are_invalid_request() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    let resp = server
        .http
        .post(server.url("/token"))
        .header("authorization", "Basic !!notbase64")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap(),
        error("invalid_request", "malformed HTTP Basic credentials")
    );
    let (status, _, body) = server
        .post(
            "/token",
            Some((&c.id, &c.secret)),
            &[
                ("grant_type", "client_credentials"),
                ("client_secret", &c.secret),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        error(
            "invalid_request",
            "use one client authentication method, not two"
        )
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json() {
    let server = TestServer::start().await;
    let resp = server.http.get(server.url("/token")).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_request"
    );
    let resp = server.http.get(server.url("/nope")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_request"
    );
}

/// A 2 MB body (30× the limit) through reqwest gets its JSON error, whether the server stopped
/// reading at the limit or never read the body. (2 MB fits in loopback's socket buffers, so this
/// passes without the lingering close too; `oversized.rs` is the test that needs it.)
#[tokio::test]
async fn a_2_mb_body_gets_the_json_error() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    let big = format!("grant_type=client_credentials&pad={}", "a".repeat(2 << 20));
    for round in 0..5 {
        // A fresh connection each time, as a one-shot client (curl) makes.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        for (content_type, description) in [
            (
                "application/x-www-form-urlencoded",
                "the request body exceeds 65536 bytes or could not be read",
            ),
            (
                "application/json",
                "the request body must be application/x-www-form-urlencoded",
            ),
        ] {
            let resp = http
                .post(server.url("/token"))
                .basic_auth(&c.id, Some(&c.secret))
                .header("content-type", content_type)
                .body(big.clone())
                .send()
                .await
                .unwrap_or_else(|e| panic!("round {round}, {content_type}: {e:?}"));
            assert_eq!(resp.status(), 400);
            assert_eq!(
                resp.json::<serde_json::Value>().await.unwrap(),
                error("invalid_request", description)
            );
        }
    }
    // And ordinary requests are still answered afterwards.
    let (status, _, body) = server
        .post(
            "/token",
            Some((&c.id, &c.secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
}
