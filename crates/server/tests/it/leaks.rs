//! `POST /admin/leaks` (the scanner's server check): hashes only, admin scope only, and every
//! malformed report refused with the RFC error shape and no change.
use serde_json::{Value, json};
use tessera_core::audit::EventKind;
use tessera_core::client::TokenFormat;
use tessera_proto::TokenString;

use crate::support::{TestClient, TestServer, error};

async fn report(
    server: &TestServer,
    auth: Option<&TestClient>,
    content_type: &str,
    body: String,
) -> (u16, Value) {
    let mut req = server
        .http
        .post(server.url("/admin/leaks"))
        .header("content-type", content_type)
        .body(body);
    if let Some(c) = auth {
        req = req.basic_auth(&c.id, Some(&c.secret));
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn a_leaked_opaque_token_is_reported_live_and_revoked() {
    let server = TestServer::start().await;
    let admin = server
        .client(|c| c.scopes = vec!["tessera:admin".into()])
        .await;
    let app = server
        .client(|c| c.token_format = TokenFormat::Opaque)
        .await;
    let token = server.access_token(&app).await;
    let parsed = TokenString::parse(&token).unwrap();
    let leak = json!({"sha256": parsed.hash.to_hex(), "kind": "at", "selector": parsed.selector, "location": "ci.yml:3"});
    let body = json!({"revoke": true, "leaks": [leak, {"sha256": "00".repeat(32), "kind": "at", "selector": 999}]});
    let (status, answer) =
        report(&server, Some(&admin), "application/json", body.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["results"][0]["live"], true);
    assert_eq!(answer["results"][0]["action"], "revoked");
    assert_eq!(
        answer["results"][1],
        json!({"sha256": "00".repeat(32), "live": false, "action": "none"})
    );
    assert_eq!(
        server.introspect(&admin, &token).await,
        json!({"active": false})
    );
    let leaked = server.events_of(EventKind::TokenLeaked).await;
    assert_eq!(leaked.len(), 1);
    assert_eq!(leaked[0].path.as_deref(), Some("ci.yml:3"));
}

#[tokio::test]
async fn bad_reports_and_callers_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let admin = server
        .client(|c| c.scopes = vec!["tessera:admin".into()])
        .await;
    let app = server
        .client(|c| c.token_format = TokenFormat::Opaque)
        .await;
    let token = server.access_token(&app).await;
    let parsed = TokenString::parse(&token).unwrap();
    let good = json!({"revoke": true, "leaks": [{"sha256": parsed.hash.to_hex(), "kind": "at", "selector": parsed.selector}]}).to_string();
    let cases = [
        (
            None,
            "application/json",
            good.clone(),
            401,
            error("invalid_client", "client authentication failed"),
        ),
        (
            Some(&app),
            "application/json",
            good.clone(),
            400,
            error(
                "unauthorized_client",
                "this client lacks the tessera:admin scope",
            ),
        ),
        (
            Some(&admin),
            "text/plain",
            good.clone(),
            400,
            error(
                "invalid_request",
                "the request body must be application/json",
            ),
        ),
        (
            Some(&admin),
            "application/json",
            "{not json".into(),
            400,
            error("invalid_request", "the body is not a leak report"),
        ),
        (
            Some(&admin),
            "application/json",
            json!({"leaks": [{"sha256": "xyz", "kind": "at"}]}).to_string(),
            400,
            error("invalid_request", "sha256 must be 64 hex digits"),
        ),
    ];
    for (auth, content_type, body, status, expected) in cases {
        assert_eq!(
            report(&server, auth, content_type, body).await,
            (status, expected)
        );
    }
    assert_eq!(server.introspect(&admin, &token).await["active"], true);
    assert!(server.events_of(EventKind::TokenLeaked).await.is_empty());
}
