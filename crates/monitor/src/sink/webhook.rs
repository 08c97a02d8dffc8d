//! The webhook sink: POSTs each alert as JSON, signed so the receiver knows it came from this
//! server and was not replayed.
//!
//! `X-Tessera-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` — the
//! timestamp is inside the MAC, so a receiver that rejects stale `t` also rejects replays (the
//! scheme Stripe and GitHub receivers already know). Delivery runs on a background task fed by
//! a bounded queue: a slow receiver drops alerts (counted), never slows the server.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_lc_rs::hmac;
use serde::Deserialize;
use tessera_core::clock::Clock;
use tessera_proto::Secret;
use tokio::sync::mpsc;

use super::AlertSink;
use crate::alert::Alert;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-tessera-signature";

/// One webhook.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where to POST.
    pub url: String,
    /// The shared HMAC key.
    pub secret: Secret,
    /// Per-attempt timeout, milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Alerts queued before new ones are dropped.
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// Attempts per alert (with doubling back-off from 500 ms).
    #[serde(default = "default_attempts")]
    pub attempts: u32,
}

fn default_timeout_ms() -> u64 {
    5000
}
fn default_queue() -> usize {
    1024
}
fn default_attempts() -> u32 {
    3
}

/// The `X-Tessera-Signature` value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// Checks a signature header (for receivers and tests): the MAC in constant time, and that `t`
/// is within `tolerance_secs` of `now`.
pub fn verify(secret: &[u8], header: &str, body: &[u8], now: u64, tolerance_secs: u64) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<u64>().ok(),
            Some(("v1", v)) => v1 = decode_hex(v),
            _ => {}
        }
    }
    let (Some(t), Some(mac)) = (t, v1) else {
        return false;
    };
    if t.abs_diff(now) > tolerance_secs {
        return false;
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut msg = Vec::with_capacity(body.len() + 21);
    msg.extend_from_slice(t.to_string().as_bytes());
    msg.push(b'.');
    msg.extend_from_slice(body);
    hmac::verify(&key, &msg, &mac).is_ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Queues alerts for a background task that POSTs them.
pub struct WebhookSink {
    queue: mpsc::Sender<String>,
    dropped: Arc<AtomicU64>,
}

impl WebhookSink {
    /// Starts the delivery task (needs a Tokio runtime).
    pub fn spawn(config: WebhookConfig, clock: Arc<dyn Clock>) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            .build()
            .map_err(|e| format!("webhook client: {e}"))?;
        let (tx, mut rx) = mpsc::channel::<String>(config.queue.max(1));
        tokio::spawn(async move {
            while let Some(body) = rx.recv().await {
                deliver(&http, &config, clock.as_ref(), body).await;
            }
        });
        Ok(Self {
            queue: tx,
            dropped: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Alerts dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

async fn deliver(http: &reqwest::Client, config: &WebhookConfig, clock: &dyn Clock, body: String) {
    let mut backoff = Duration::from_millis(500);
    for attempt in 1..=config.attempts.max(1) {
        let signature = sign(
            config.secret.expose_secret().as_bytes(),
            clock.now(),
            body.as_bytes(),
        );
        let sent = http
            .post(&config.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(resp) if resp.status().is_success() => return,
            Ok(resp) => {
                tracing::warn!(target: "tessera::monitor", status = resp.status().as_u16(), attempt, "webhook refused an alert")
            }
            Err(e) => {
                tracing::warn!(target: "tessera::monitor", error = %e, attempt, "webhook delivery failed")
            }
        }
        if attempt < config.attempts {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
}

impl AlertSink for WebhookSink {
    fn send(&self, alert: &Alert) {
        if self.queue.try_send(alert.to_json()).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_reject_tampering_and_staleness() {
        let header = sign(b"k", 1000, b"{}");
        assert!(header.starts_with("t=1000,v1="));
        assert!(verify(b"k", &header, b"{}", 1010, 300));
        assert!(!verify(b"k", &header, b"{ }", 1010, 300));
        assert!(!verify(b"other", &header, b"{}", 1010, 300));
        assert!(!verify(b"k", &header, b"{}", 2000, 300));
    }
}
