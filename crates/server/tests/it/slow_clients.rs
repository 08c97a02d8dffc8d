//! `[limits]` against slow and idle clients: a connection that sends nothing, headers or a body
//! sent too slowly, a stalled TLS handshake, and more connections than `max_connections`.
use std::sync::Arc;
use std::time::{Duration, Instant};

use tessera_core::clock::SystemClock;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{TestServer, basic_credentials, error, test_config};

/// A server whose read timeout is one second.
async fn impatient_server(max_connections: usize) -> TestServer {
    let mut config = test_config();
    config.limits.read_timeout_secs = 1;
    config.limits.max_connections = max_connections;
    TestServer::start_with(config, Arc::new(SystemClock)).await
}

/// Reads until the server closes the connection; returns what it sent and how long that took.
/// Fails the test if the connection is still open after ten seconds.
async fn until_closed(stream: &mut TcpStream) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (received, started.elapsed()),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server kept the connection open for 10 s"),
        }
    }
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_read_timeout() {
    let server = impatient_server(100).await;
    let mut stream = TcpStream::connect(server.running.addr).await.unwrap();
    let (received, took) = until_closed(&mut stream).await;
    assert!(received.is_empty());
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");
}

#[tokio::test]
async fn headers_sent_too_slowly_close_the_connection_and_reach_no_handler() {
    let server = impatient_server(100).await;
    let c = server.client(|_| {}).await;
    let events_before = server.events().await.len();
    let mut stream = TcpStream::connect(server.running.addr).await.unwrap();
    stream
        .write_all(b"POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let (received, took) = until_closed(&mut stream).await;
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");
    // Whatever hyper answers (nothing or a bare 408), it is not an OAuth response.
    assert!(!String::from_utf8_lossy(&received).contains("200 OK"));
    assert_eq!(
        server.events().await.len(),
        events_before,
        "no request reached a handler"
    );
    // The server still serves others.
    assert_eq!(server.token(&c, &[]).await.0, 200);
}

#[tokio::test]
async fn a_body_sent_too_slowly_gets_invalid_request_and_issues_nothing() {
    let server = impatient_server(100).await;
    let c = server.client(|_| {}).await;
    let events_before = server.events().await.len();
    let mut stream = TcpStream::connect(server.running.addr).await.unwrap();
    let form = "grant_type=client_credentials";
    let head = format!(
        "POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        basic_credentials(&c.id, &c.secret),
        form.len() + 100
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(form.as_bytes()).await.unwrap();
    let (received, _) = until_closed(&mut stream).await;
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    let body: serde_json::Value =
        serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(
        body,
        error(
            "invalid_request",
            "the request body did not arrive within 1 s"
        )
    );
    assert_eq!(
        server.events().await.len(),
        events_before,
        "nothing issued or audited"
    );
}

#[tokio::test]
async fn a_stalled_tls_handshake_is_closed_after_the_read_timeout() {
    let mut config = test_config();
    config.limits.read_timeout_secs = 1;
    let server = TestServer::start_tls_with(config).await;
    let mut stream = TcpStream::connect(server.running.addr).await.unwrap();
    // The first bytes of a TLS record header, then nothing.
    stream.write_all(&[0x16, 0x03, 0x01]).await.unwrap();
    let (_, took) = until_closed(&mut stream).await;
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");
}

#[tokio::test]
async fn connections_beyond_max_connections_are_closed_at_once() {
    let server = impatient_server(2).await;
    let c = server.client(|_| {}).await;
    // The test client's own pooled connection would take a slot: use fresh ones throughout.
    let _first = TcpStream::connect(server.running.addr).await.unwrap();
    let _second = TcpStream::connect(server.running.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(server.running.addr).await.unwrap();
    let (received, took) = until_closed(&mut third).await;
    assert!(received.is_empty());
    assert!(took < Duration::from_millis(900), "closed after {took:?}");
    // Once the idle ones are timed out, their slots are free again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let resp = fresh
        .post(server.url("/token"))
        .basic_auth(&c.id, Some(&c.secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_busy_keep_alive_connection_outlives_the_read_timeout() {
    let server = impatient_server(100).await;
    let c = server.client(|_| {}).await;
    // Requests on one connection for longer than the timeout, idle less than it between them.
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(2500) {
        assert_eq!(server.token(&c, &[]).await.0, 200);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
