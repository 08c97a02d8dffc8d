//! `token.used` events, reported to `POST {issuer}/admin/events` as `{"events":[...]}` with the
//! resource server's client credentials: queued without waiting (a full queue drops the event
//! rather than slow a request), sent in batches, a failed batch logged and dropped.
use std::time::Duration;

use tessera_core::audit::AuditEvent;
use tokio::sync::mpsc;

use crate::config::ClientCredentials;

/// Events waiting beyond this are dropped.
const QUEUE: usize = 10_000;

/// The sending side, cheap to clone.
#[derive(Clone)]
pub struct UsageReporter {
    tx: mpsc::Sender<AuditEvent>,
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
        let (tx, mut rx) = mpsc::channel::<AuditEvent>(QUEUE);
        tokio::spawn(async move {
            let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let (id, secret) = (enc(&client.id), enc(&client.secret));
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
                let body = serde_json::json!({ "events": std::mem::take(&mut buf) });
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

    /// Queues an event; never waits.
    pub fn report(&self, event: AuditEvent) {
        let _ = self.tx.try_send(event);
    }
}
