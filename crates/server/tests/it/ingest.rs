//! `POST /admin/events`: resource servers report `token.used` events in JSON batches, each with
//! the token it was made with. The server resolves the token and keeps a use only when the
//! token is addressed to the reporter (its `aud` is one of the reporter's resource URIs); token
//! facts come from the token, never from the report; the reporter is `reported_by`, the
//! presenter (`caller_id`) and address (`ip`) are kept as reported; provenance says whether the
//! monitor may act on it. Malformed batches are refused whole with exact JSON and record nothing.
use serde_json::{Value, json};
use tessera_core::audit::{EventKind, Provenance};
use tessera_core::client::TokenFormat;

use crate::support::{API, TestClient, TestServer, error};

/// A resource server for `API` that may report events.
async fn reporter(server: &TestServer, scope: &str) -> TestClient {
    let scope = scope.to_string();
    server
        .client(move |c| {
            c.scopes = vec![scope];
            c.audiences = vec![];
            c.resource_uris = vec![API.into()];
        })
        .await
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

/// The events' own RFC 3339 form of `ms`.
fn rfc3339(ms: u64) -> Value {
    let e = tessera_core::audit::AuditEvent::new(EventKind::TokenUsed, ms);
    serde_json::to_value(e).unwrap()["time"].clone()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A `token.used` event `offset_ms` from now, made with `token`; its token facts are lies the
/// server must not keep.
fn used_at(token: Option<&str>, offset_ms: i64) -> Value {
    let mut e = json!({
        "type": "token.used",
        "time": rfc3339(now_ms().saturating_add_signed(offset_ms)),
        "client_id": "mobile",
        "caller_id": "mobile",
        "token_id": "1",
        "scope": "admin",
        "resource": API,
        "ip": "203.0.113.9",
        "method": "GET",
        "path": "/v1/orders",
        "reason": "accepted",
    });
    if let Some(t) = token {
        e["token"] = json!(t);
    }
    e
}

fn used(token: &str) -> Value {
    used_at(Some(token), 0)
}

/// The `token_id` of every `token.issued` event, in order.
async fn issued_ids(server: &TestServer) -> Vec<String> {
    server
        .events_of(EventKind::TokenIssued)
        .await
        .into_iter()
        .map(|e| e.token_id.unwrap())
        .collect()
}

#[tokio::test]
async fn uses_of_jwt_and_opaque_tokens_are_recorded_with_facts_from_the_token() {
    let server = TestServer::start().await;
    let jwt_client = server.client(|_| {}).await;
    let opaque_client = server
        .client(|c| c.token_format = TokenFormat::Opaque)
        .await;
    let jwt = server.access_token(&jwt_client).await;
    let opaque = server.access_token(&opaque_client).await;
    let ids = issued_ids(&server).await;
    for scope in ["tessera:events", "tessera:admin"] {
        let rs = reporter(&server, scope).await;
        let (status, body) = ingest(
            &server,
            Some(&rs),
            json!({"events": [used(&jwt), used(&opaque)]}),
        )
        .await;
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
    for (e, (owner, id)) in recorded.iter().zip(
        [(&jwt_client, &ids[0]), (&opaque_client, &ids[1])]
            .into_iter()
            .cycle(),
    ) {
        assert_eq!(e.token_id.as_deref(), Some(id.as_str()), "from the token");
        assert_eq!(e.client_id.as_deref(), Some(owner.id.as_str()), "the owner");
        assert_eq!(e.scope.as_deref(), Some("deploy:read"), "the token's scope");
        assert_eq!(e.resource.as_deref(), Some(API));
        assert_eq!(
            e.caller_id.as_deref(),
            Some("mobile"),
            "the presenter, as reported"
        );
        assert_eq!(e.ip, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(e.provenance, Provenance::Reported);
        assert!(e.reported_by.as_deref().unwrap().starts_with("client-"));
    }
    assert_ne!(recorded[0].reported_by, recorded[2].reported_by);
    // The opaque token's id is not its sequential selector: `<selector>.<tag>`.
    assert!(ids[1].contains('.') && ids[1].len() > 10, "{}", ids[1]);
}

#[tokio::test]
async fn a_reporter_cannot_forge_reported_by_or_provenance() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    let token = server.access_token(&c).await;
    let rs = reporter(&server, "tessera:events").await;
    let mut event = used(&token);
    event["reported_by"] = json!("someone-else");
    event["provenance"] = json!("reported_trusted");
    let (status, _) = ingest(&server, Some(&rs), json!({"events": [event]})).await;
    assert_eq!(status, 200);
    let recorded = server.events_of(EventKind::TokenUsed).await;
    assert_eq!(recorded[0].reported_by.as_deref(), Some(rs.id.as_str()));
    assert_eq!(recorded[0].provenance, Provenance::Reported);

    let trusted = reporter(&server, "tessera:events").await;
    let trusted_id = trusted.id.clone();
    let mut stored = server.store.get_client(&trusted_id).await.unwrap().unwrap();
    stored.scopes = vec!["tessera:events".into(), "tessera:events:act".into()];
    server.store.update_client(&stored).await.unwrap();
    let (status, _) = ingest(&server, Some(&trusted), json!({"events": [used(&token)]})).await;
    assert_eq!(status, 200);
    let recorded = server.events_of(EventKind::TokenUsed).await;
    assert_eq!(recorded[1].provenance, Provenance::ReportedTrusted);
}

#[tokio::test]
async fn uses_of_tokens_not_addressed_to_the_reporter_are_dropped() {
    let server = TestServer::start().await;
    let other_api = server
        .client(|c| c.audiences = vec!["https://other.example.com".into()])
        .await;
    let other_opaque = server
        .client(|c| {
            c.audiences = vec!["https://other.example.com".into()];
            c.token_format = TokenFormat::Opaque;
        })
        .await;
    let foreign_jwt = server.access_token(&other_api).await;
    let foreign_opaque = server.access_token(&other_opaque).await;
    let mine = server.access_token(&server.client(|_| {}).await).await;
    let rs = reporter(&server, "tessera:events").await;
    // A guessed opaque token (selector 1, made-up randomness) and junk resolve to nothing.
    let guessed = tessera_proto::TokenString::generate(tessera_proto::TokenKind::AccessToken, 1);
    let batch = json!({"events": [
        used(&foreign_jwt),
        used(&foreign_opaque),
        used(guessed.expose_secret()),
        used("not-a-token"),
        used(&mine),
    ]});
    assert_eq!(
        ingest(&server, Some(&rs), batch).await,
        (
            200,
            json!({"accepted": 1, "dropped": {"not_addressed_to_reporter": 2, "unknown_token": 2}})
        )
    );
    // A reporter with tessera:events but no resource URI is addressed by no token at all.
    let unregistered = server
        .client(|c| c.scopes = vec!["tessera:events".into()])
        .await;
    assert_eq!(
        ingest(
            &server,
            Some(&unregistered),
            json!({"events": [used(&mine)]})
        )
        .await,
        (
            200,
            json!({"accepted": 0, "dropped": {"not_addressed_to_reporter": 1}})
        )
    );
    let recorded = server.events_of(EventKind::TokenUsed).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].reported_by.as_deref(), Some(rs.id.as_str()));
}

#[tokio::test]
async fn a_use_without_a_token_names_no_token_or_client() {
    let server = TestServer::start().await;
    let rs = reporter(&server, "tessera:events").await;
    // The old attack: `token_id` 1..20 named real opaque tokens by their sequential selector.
    let batch: Vec<Value> = (0..20).map(|_| used_at(None, 0)).collect();
    assert_eq!(
        ingest(&server, Some(&rs), json!({ "events": batch })).await,
        (200, json!({"accepted": 20}))
    );
    for e in server.events_of(EventKind::TokenUsed).await {
        assert_eq!(
            (e.token_id, e.client_id, e.caller_id, e.scope, e.resource),
            (None, None, None, None, None)
        );
        assert_eq!(e.path.as_deref(), Some("/v1/orders"), "request facts stay");
    }
}

#[tokio::test]
async fn reported_times_far_in_the_future_or_past_are_dropped() {
    let server = TestServer::start().await;
    let token = server.access_token(&server.client(|_| {}).await).await;
    let rs = reporter(&server, "tessera:events").await;
    let batch = json!({"events": [
        used_at(Some(&token), 30_000),
        used_at(Some(&token), 3_600_000),
        used_at(Some(&token), -7_200_000),
        used_at(Some(&token), -60_000),
    ]});
    assert_eq!(
        ingest(&server, Some(&rs), batch).await,
        (
            200,
            json!({"accepted": 2, "dropped": {"time_in_future": 1, "time_too_old": 1}})
        )
    );
}

#[tokio::test]
async fn unauthenticated_and_unscoped_reporters_are_refused() {
    let server = TestServer::start().await;
    let batch = json!({"events": [used_at(None, 0)]});
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
    let too_many: Vec<Value> = (0..1001).map(|_| used_at(None, 0)).collect();
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
    let mut issued = used_at(None, 0);
    issued["type"] = json!("token.issued");
    assert_eq!(
        ingest(
            &server,
            Some(&rs),
            json!({"events": [used_at(None, 0), issued]})
        )
        .await,
        (
            400,
            error(
                "invalid_request",
                "events[1]: only token.used events may be reported"
            )
        )
    );
    let full: Vec<Value> = (0..1000).map(|_| used_at(None, 0)).collect();
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
