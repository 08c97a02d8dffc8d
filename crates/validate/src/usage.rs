//! `token.used` events, reported to `POST {issuer}/admin/events` as `{"events":[...]}` with the
//! resource server's client credentials: queued without waiting (a full queue drops the event
//! rather than slow a request), sent in batches, a failed batch logged and dropped. Each event
//! carries the `token` it was made with: the server resolves it and keeps only uses of tokens
//! addressed to this resource server (its registered `--resource-uri`), so a reporter cannot
//! name other clients' tokens. The token goes only to the issuer, as for introspection.
use std::time::Duration;

use tessera_proto::audit::AuditEvent;
use tokio::sync::mpsc;

use crate::config::ClientCredentials;

/// Events waiting beyond this are dropped.
const QUEUE: usize = 10_000;

/// The sending side, cheap to clone.
#[derive(Clone)]
pub struct UsageReporter {
    tx: mpsc::Sender<Report>,
}

/// One queued use: the event and the token it was made with (never logged).
struct Report {
    event: AuditEvent,
    token: Option<String>,
}

impl Report {
    fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(&self.event).expect("an AuditEvent serialises");
        if let (Some(token), Some(map)) = (&self.token, v.as_object_mut()) {
            map.insert("token".into(), token.clone().into());
        }
        v
    }
}

impl UsageReporter {
    /// Starts the batching task.
    pub fn start(
        http: reqwest::Client,
        url: String,
        client: ClientCredentials,
        batch: usize,
        wait: Duration,
    ) -> Self {
        let (tx, mut rx) = mpsc::channel::<Report>(QUEUE);
        tokio::spawn(async move {
            let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let (id, secret) = (enc(&client.id), enc(client.secret.expose_secret()));
            let mut buf = Vec::with_capacity(batch);
            loop {
                let Some(first) = rx.recv().await else { return };
                buf.push(first);
                let deadline = tokio::time::sleep(wait);
                tokio::pin!(deadline);
                while buf.len() < batch {
                    tokio::select! {
                        e = rx.recv() => match e {
                            Some(e) => buf.push(e),
                            None => break,
                        },
                        _ = &mut deadline => break,
                    }
                }
                let events: Vec<_> = buf.drain(..).map(|r: Report| r.to_json()).collect();
                let body = serde_json::json!({ "events": events });
                let sent = http
                    .post(&url)
                    .basic_auth(&id, Some(&secret))
                    .json(&body)
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status);
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "token.used events could not be sent");
                }
            }
        });
        Self { tx }
    }

    /// Queues an event with the token it was made with (`None` when the request carried
    /// none); never waits.
    pub fn report(&self, event: AuditEvent, token: Option<String>) {
        let _ = self.tx.try_send(Report { event, token });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use axum::Json;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use tessera_proto::audit::{AuditEvent, EventKind};

    use super::UsageReporter;
    use crate::config::ClientCredentials;

    type Seen = Arc<Mutex<Vec<(Option<String>, serde_json::Value)>>>;

    async fn sink(
        State(seen): State<Seen>,
        headers: HeaderMap,
        Json(body): Json<serde_json::Value>,
    ) -> StatusCode {
        let auth = headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_string());
        seen.lock().unwrap().push((auth, body));
        StatusCode::ACCEPTED
    }

    #[tokio::test]
    async fn events_are_batched_and_posted_with_basic_credentials() {
        let seen: Seen = Arc::default();
        let app = axum::Router::new()
            .route("/admin/events", axum::routing::post(sink))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let reporter = UsageReporter::start(
            reqwest::Client::new(),
            format!("http://{addr}/admin/events"),
            ClientCredentials {
                id: "rs".into(),
                secret: tessera_proto::Secret::new("s"),
            },
            3,
            Duration::from_millis(200),
        );
        for i in 0..4 {
            let mut e = AuditEvent::new(EventKind::TokenUsed, 1_700_000_000_000 + i);
            e.token_id = Some(format!("j{i}"));
            reporter.report(e, Some(format!("tok-{i}")));
        }
        for _ in 0..50 {
            if seen.lock().unwrap().len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2, "a full batch of 3, then 1 after the wait");
        assert_eq!(seen[0].0.as_deref(), Some("Basic cnM6cw=="));
        assert_eq!(seen[0].1["events"].as_array().unwrap().len(), 3);
        assert_eq!(seen[0].1["events"][0]["type"], "token.used");
        assert_eq!(seen[1].1["events"][0]["token_id"], "j3");
        assert_eq!(seen[1].1["events"][0]["token"], "tok-3");
    }

    #[tokio::test]
    async fn an_unreachable_sink_is_tolerated() {
        let reporter = UsageReporter::start(
            reqwest::Client::new(),
            "http://127.0.0.1:9/admin/events".into(),
            ClientCredentials {
                id: "rs".into(),
                secret: tessera_proto::Secret::new("s"),
            },
            1,
            Duration::from_millis(10),
        );
        reporter.report(AuditEvent::new(EventKind::TokenUsed, 0), None);
        tokio::time::sleep(Duration::from_millis(100)).await;
        reporter.report(AuditEvent::new(EventKind::TokenUsed, 1), None);
    }
}
