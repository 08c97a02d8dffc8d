//! The webhook sink delivers each alert as JSON with a verifiable HMAC-SHA256 signature.
use std::sync::Arc;

use tessera_core::clock::FixedClock;
use tessera_monitor::sink::webhook::{SIGNATURE_HEADER, verify};
use tessera_monitor::sink::{AlertSink, WebhookConfig, WebhookSink};
use tessera_monitor::{Alert, Severity};
use tessera_proto::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::*;

/// Accepts one HTTP/1.1 request on `listener`, answers 200, returns its head and body.
async fn receive_one(listener: TcpListener) -> (String, Vec<u8>) {
    let (mut sock, _) = listener.accept().await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = sock.read(&mut chunk).await.unwrap();
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = sock.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
            }
            sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .await
                .unwrap();
            return (head, buf[end + 4..end + 4 + len].to_vec());
        }
    }
}

#[tokio::test]
async fn webhook_posts_signed_alerts() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let clock = Arc::new(FixedClock::at(1_710_000_000));
    let sink = WebhookSink::spawn(
        WebhookConfig {
            url,
            secret: Secret::new("whsec-test"),
            timeout_ms: 5000,
            queue: 8,
            attempts: 1,
        },
        clock,
    )
    .unwrap();
    let event = Ev::used(START_MS, "app", "tok", ip(TOKYO, 1, 1)).done();
    let alert = Alert::from_event("impossible_travel", Severity::High, &event, "x".into());
    sink.send(&alert);

    let (head, body) = receive_one(listener).await;
    assert!(head.starts_with("post /hook http/1.1"), "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    let signature = head
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{SIGNATURE_HEADER}:")))
        .unwrap()
        .trim()
        .to_string();
    assert!(signature.starts_with("t=1710000000,v1="), "{signature}");
    assert!(verify(b"whsec-test", &signature, &body, 1_710_000_030, 300));
    assert!(!verify(b"wrong", &signature, &body, 1_710_000_030, 300));
    let got: Alert = serde_json::from_slice(&body).unwrap();
    assert_eq!(got, alert);
    assert_eq!(sink.dropped(), 0);
}

#[test]
fn sinks_config_parses_from_toml_and_hides_the_secret() {
    let config = tessera_monitor::MonitorConfig::from_toml(
        "[sinks]\nstdout = true\n[[sinks.webhooks]]\nurl = \"https://hooks.example.com/t\"\nsecret = \"s3cret\"\n",
    )
    .unwrap();
    assert!(config.sinks.log && config.sinks.stdout);
    assert_eq!(config.sinks.webhooks[0].timeout_ms, 5000);
    assert!(!format!("{config:?}").contains("s3cret"));
}
