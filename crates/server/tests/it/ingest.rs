//! `POST /admin/events`: resource servers report `token.used` events in JSON batches; accepted
//! events enter the audit trail with the reporter in `reported_by` and the reported presenter
//! (`caller_id`) and address (`ip`) untouched; every refusal is exact JSON and records nothing.
use serde_json::{Value, json};
use tessera_core::audit::EventKind;

use crate::support::{TestClient, TestServer, error};

/// A client that may report events.
async fn reporter(server: &TestServer, scope: &str) -> TestClient {
    let scope = scope.to_string();
    server.client(move |c| c.scopes = vec![scope]).await
}

/// POSTs `body` as JSON (raw text, to send malformed bodies too).
async fn send(
    server: &TestServer,
    auth: Option<&TestClient>,
    content_type: &str,
    body: String,
) -> (u16, Value) {
    let mut req = server
        .http
        .post(server.url("/admin/events"))
        .header("content-type", content_type)
        .body(body);
    if let Some(c) = auth {
        req = req.basic_auth(&c.id, Some(&c.secret));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn ingest(server: &TestServer, auth: Option<&TestClient>, body: Value) -> (u16, Value) {
    send(server, auth, "application/json", body.to_string()).await
}

/// A `token.used` event at second `n` of a fixed minute.
fn used(n: u64) -> Value {
    json!({
        "type": "token.used",
        "time": format!("2026-03-01T10:00:{:02}Z", n % 60),
        "client_id": "mobile",
        "caller_id": "mobile",
        "token_id": format!("tok-{n}"),
        "ip": "203.0.113.9",
        "method": "GET",
        "path": "/v1/orders",
        "reason": "accepted",
    })
}

#[tokio::test]
async fn token_used_batches_are_recorded_with_the_reporter() {
    let server = TestServer::start().await;
    for scope in ["tessera:events", "tessera:admin"] {
        let rs = reporter(&server, scope).await;
        let (status, body) =
            ingest(&server, Some(&rs), json!({"events": [used(1), used(2)]})).await;
        assert_eq!((status, body), (200, json!({"accepted": 2})), "{scope}");
    }
    let (status, body) = ingest(
        &server,
        Some(&reporter(&server, "tessera:events").await),
        json!({"events": []}),
    )
    .await;
    assert_eq!((status, body), (200, json!({"accepted": 0})));
    let recorded = server.events_of(EventKind::TokenUsed).await;
    assert_eq!(recorded.len(), 4);
    let e = &recorded[0];
    assert_eq!(e.token_id.as_deref(), Some("tok-1"));
    assert_eq!(
        e.caller_id.as_deref(),
        Some("mobile"),
        "the presenter, as reported"
    );
    assert_eq!(
        e.ip,
        Some("203.0.113.9".parse().unwrap()),
        "the presenter's address"
    );
    assert!(e.reported_by.as_deref().unwrap().starts_with("client-"));
    assert_ne!(recorded[0].reported_by, recorded[2].reported_by);
}

#[tokio::test]
async fn a_reporter_cannot_forge_reported_by() {
    let server = TestServer::start().await;
    let rs = reporter(&server, "tessera:events").await;
    let mut event = used(1);
    event["reported_by"] = json!("someone-else");
    let (status, _) = ingest(&server, Some(&rs), json!({"events": [event]})).await;
    assert_eq!(status, 200);
    let recorded = server.events_of(EventKind::TokenUsed).await;
    assert_eq!(recorded[0].reported_by.as_deref(), Some(rs.id.as_str()));
}

#[tokio::test]
async fn unauthenticated_and_unscoped_reporters_are_refused() {
    let server = TestServer::start().await;
    let batch = json!({"events": [used(1)]});
    let no_client = error("invalid_client", "client authentication failed");
    assert_eq!(
        ingest(&server, None, batch.clone()).await,
        (401, no_client.clone())
    );
    let plain = server.client(|_| {}).await;
    let wrong = TestClient {
        id: plain.id.clone(),
        secret: "tsr_cs_wrong".into(),
    };
    assert_eq!(
        ingest(&server, Some(&wrong), batch.clone()).await,
        (401, no_client)
    );
    assert_eq!(
        ingest(&server, Some(&plain), batch).await,
        (
            400,
            error(
                "unauthorized_client",
                "this client lacks the tessera:admin or tessera:events scope"
            )
        )
    );
    assert!(server.events_of(EventKind::TokenUsed).await.is_empty());
}

#[tokio::test]
async fn malformed_oversized_and_foreign_batches_are_refused_whole() {
    let server = TestServer::start().await;
    let rs = reporter(&server, "tessera:events").await;
    let not_a_batch = error("invalid_request", "the body is not an event batch");
    for body in [
        "{",
        "[]",
        r#"{"events": [{"type": "token.used"}]}"#,
        r#"{"events": [{"type": "no.such", "time": "2026-03-01T10:00:00Z"}]}"#,
    ] {
        assert_eq!(
            send(&server, Some(&rs), "application/json", body.into()).await,
            (400, not_a_batch.clone()),
            "{body}"
        );
    }
    assert_eq!(
        send(
            &server,
            Some(&rs),
            "text/plain",
            json!({"events": []}).to_string()
        )
        .await,
        (
            400,
            error(
                "invalid_request",
                "the request body must be application/json"
            )
        )
    );
    let too_many: Vec<Value> = (0..1001).map(used).collect();
    assert_eq!(
        ingest(&server, Some(&rs), json!({ "events": too_many })).await,
        (
            400,
            error(
                "invalid_request",
                "too many events in one request (at most 1000)"
            )
        )
    );
    let mut issued = used(2);
    issued["type"] = json!("token.issued");
    assert_eq!(
        ingest(&server, Some(&rs), json!({"events": [used(1), issued]})).await,
        (
            400,
            error(
                "invalid_request",
                "events[1]: only token.used events may be reported"
            )
        )
    );
    let full: Vec<Value> = (0..1000).map(used).collect();
    assert_eq!(
        ingest(&server, Some(&rs), json!({ "events": full })).await,
        (200, json!({"accepted": 1000})),
        "exactly the maximum is fine"
    );
    assert_eq!(
        server.events_of(EventKind::TokenUsed).await.len(),
        1000,
        "refused batches left nothing"
    );
}
