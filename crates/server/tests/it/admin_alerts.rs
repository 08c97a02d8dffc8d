//! `GET /admin/alerts`, `GET /admin/alerts/{id}`, `POST /admin/alerts/{id}/ack`: alerts stored
//! in the server's own database, read and acknowledged by a client holding `tessera:admin`;
//! every refusal is an exact RFC-style JSON body.
use serde_json::{Value, json};
use tessera_core::store::{AlertRecord, AlertStatus};

use crate::support::{TestClient, TestServer, error};

/// An admin client.
async fn admin(server: &TestServer) -> TestClient {
    server
        .client(|c| c.scopes = vec!["tessera:admin".into()])
        .await
}

/// An alert of `detector` at event time `time_ms`, stored straight into the server's store.
async fn stored(server: &TestServer, detector: &str, time_ms: u64) -> i64 {
    let alert = AlertRecord {
        id: 0,
        detector: detector.into(),
        severity: "high".into(),
        token_id: Some("42".into()),
        client_id: Some("mobile".into()),
        time_ms,
        summary: format!("{detector} alert"),
        evidence: json!({"distance_km": 9700}),
        actions: vec!["revoke_token:done".into()],
        status: AlertStatus::Open,
        acked_at: None,
        acked_by: None,
    };
    server.store.insert_alert(&alert).await.unwrap()
}

/// Sends a request with optional Basic credentials; returns status and JSON body.
async fn call(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    auth: Option<&TestClient>,
) -> (u16, Value) {
    let mut req = server.http.request(method, server.url(path));
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

async fn get(server: &TestServer, path: &str, auth: Option<&TestClient>) -> (u16, Value) {
    call(server, reqwest::Method::GET, path, auth).await
}

async fn post(server: &TestServer, path: &str, auth: Option<&TestClient>) -> (u16, Value) {
    call(server, reqwest::Method::POST, path, auth).await
}

#[tokio::test]
async fn an_admin_lists_shows_and_acks_alerts() {
    let server = TestServer::start().await;
    let admin = admin(&server).await;
    let first = stored(&server, "impossible_travel", 1_700_000_000_000).await;
    let second = stored(&server, "burst", 1_700_000_060_000).await;

    let (status, body) = get(&server, "/admin/alerts", Some(&admin)).await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<_> = body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(ids, [json!(second), json!(first)], "newest first");

    let (status, body) = get(&server, &format!("/admin/alerts/{first}"), Some(&admin)).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "id": first, "detector": "impossible_travel", "severity": "high",
            "token_id": "42", "client_id": "mobile", "time": "2023-11-14T22:13:20Z",
            "summary": "impossible_travel alert", "evidence": {"distance_km": 9700},
            "actions": ["revoke_token:done"], "status": "open",
            "acked_at": null, "acked_by": null,
        })
    );

    let (status, body) = post(&server, &format!("/admin/alerts/{first}/ack"), Some(&admin)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "acked");
    assert_eq!(body["acked_by"], admin.id.as_str());
    assert!(body["acked_at"].is_string());
    // Again: still 200, the first acknowledgement stands.
    let (status, again) = post(&server, &format!("/admin/alerts/{first}/ack"), Some(&admin)).await;
    assert_eq!((status, &again), (200, &body));

    let (_, open) = get(&server, "/admin/alerts?status=open", Some(&admin)).await;
    assert_eq!(open["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(open["alerts"][0]["id"], second);
    let (_, acked) = get(&server, "/admin/alerts?status=acked", Some(&admin)).await;
    assert_eq!(acked["alerts"][0]["id"], first);
    let (_, all) = get(&server, "/admin/alerts?status=all&limit=1", Some(&admin)).await;
    assert_eq!(all["alerts"].as_array().unwrap().len(), 1);
    let (_, burst) = get(&server, "/admin/alerts?detector=burst", Some(&admin)).await;
    assert_eq!(burst["alerts"][0]["id"], second);
    assert_eq!(burst["alerts"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_alert_ids_are_json_404s() {
    let server = TestServer::start().await;
    let admin = admin(&server).await;
    let not_found = error("invalid_request", "no alert with this id");
    for path in ["/admin/alerts/999", "/admin/alerts/not-a-number"] {
        assert_eq!(
            get(&server, path, Some(&admin)).await,
            (404, not_found.clone()),
            "{path}"
        );
    }
    assert_eq!(
        post(&server, "/admin/alerts/999/ack", Some(&admin)).await,
        (404, not_found)
    );
}

#[tokio::test]
async fn callers_without_credentials_or_the_admin_scope_are_refused() {
    let server = TestServer::start().await;
    let id = stored(&server, "burst", 1).await;
    let plain = server.client(|_| {}).await;
    let events_only = server
        .client(|c| c.scopes = vec!["tessera:events".into()])
        .await;
    let wrong = TestClient {
        id: plain.id.clone(),
        secret: "tsr_cs_wrong".into(),
    };
    let no_client = error("invalid_client", "client authentication failed");
    let no_scope = error(
        "unauthorized_client",
        "this client lacks the tessera:admin scope",
    );
    let paths = ["/admin/alerts".to_string(), format!("/admin/alerts/{id}")];
    for path in &paths {
        assert_eq!(
            get(&server, path, None).await,
            (401, no_client.clone()),
            "{path}"
        );
        assert_eq!(
            get(&server, path, Some(&wrong)).await,
            (401, no_client.clone())
        );
        assert_eq!(
            get(&server, path, Some(&plain)).await,
            (400, no_scope.clone())
        );
        assert_eq!(
            get(&server, path, Some(&events_only)).await,
            (400, no_scope.clone())
        );
    }
    let ack = format!("/admin/alerts/{id}/ack");
    assert_eq!(post(&server, &ack, None).await, (401, no_client));
    assert_eq!(post(&server, &ack, Some(&plain)).await, (400, no_scope));
    let alert = server.store.get_alert(id).await.unwrap().unwrap();
    assert_eq!(
        alert.status,
        AlertStatus::Open,
        "a refused ack changes nothing"
    );
}

#[tokio::test]
async fn bad_list_parameters_are_invalid_request() {
    let server = TestServer::start().await;
    let admin = admin(&server).await;
    for (query, description) in [
        ("status=closed", "status must be open, acked or all"),
        ("limit=0", "limit must be a number from 1 to 1000"),
        ("limit=1001", "limit must be a number from 1 to 1000"),
        ("limit=ten", "limit must be a number from 1 to 1000"),
        ("statuss=open", "unknown parameter statuss"),
        (
            "status=open&status=acked",
            "the status parameter is repeated",
        ),
    ] {
        assert_eq!(
            get(&server, &format!("/admin/alerts?{query}"), Some(&admin)).await,
            (400, error("invalid_request", description)),
            "{query}"
        );
    }
}
