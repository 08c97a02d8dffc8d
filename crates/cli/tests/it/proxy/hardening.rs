//! The proxy under pressure and misconfiguration: slow clients are cut off and connections
//! bounded; without client credentials (no revocation feed) it refuses to start unless told to,
//! and it says which checks are on.
use std::process::Command;

use super::{API, create_client, issuer, proxy};
use crate::support::{BIN, start};

#[tokio::test]
async fn the_proxy_cuts_off_slow_clients_and_bounds_its_connections() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    let (server, _db, _dir) = issuer();
    let proxy = proxy(
        &server.base,
        "http://127.0.0.1:9",
        &[
            "--insecure-no-revocation",
            "--read-timeout-secs",
            "1",
            "--max-connections",
            "2",
        ],
    );
    /// Reads until the proxy closes the connection; how long that took.
    async fn closed_after(stream: &mut TcpStream) -> Duration {
        let started = Instant::now();
        let mut buf = [0u8; 1024];
        loop {
            match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
                Ok(Ok(_)) => {}
                Err(_) => panic!("the proxy kept the connection open for 10 s"),
            }
        }
    }
    // Two idle connections take both slots; a third is closed at once.
    let opened = Instant::now();
    let mut idle = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut slow = TcpStream::connect(proxy.addr()).await.unwrap();
    slow.write_all(b"GET /x HTTP/1.1\r\nHost: a\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(proxy.addr()).await.unwrap();
    assert!(closed_after(&mut third).await < Duration::from_millis(900));
    // The idle one and the one sending its headers too slowly are cut off after a second.
    closed_after(&mut idle).await;
    closed_after(&mut slow).await;
    assert!(opened.elapsed() >= Duration::from_millis(900));
    // Then the slots are free: a request without a token gets the proxy's 401.
    let resp = reqwest::Client::new()
        .get(format!("{}/x", proxy.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

/// Without client credentials there is no revocation feed, so the proxy refuses to start
/// unless told to accept that; started, it says which checks are on.
#[tokio::test]
async fn the_proxy_needs_credentials_or_an_explicit_insecure_flag() {
    let (server, db, _dir) = issuer();
    let base = [
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        "http://127.0.0.1:9",
        "--issuer",
        &server.base,
        "--audience",
        API,
    ];
    let out = Command::new(BIN)
        .args(base)
        .env_remove("TESSERA_PROXY_CLIENT_ID")
        .env_remove("TESSERA_PROXY_CLIENT_SECRET")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("would accept revoked tokens until they expire")
            && stderr.contains("--insecure-no-revocation"),
        "{stderr}"
    );
    let out = Command::new(BIN)
        .args(base)
        .arg("--usage-events")
        .arg("--insecure-no-revocation")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--usage-events needs --client-id"));

    let mut insecure = base.to_vec();
    insecure.push("--insecure-no-revocation");
    // The whole line the proxy prints about its checks.
    let line = |args: &[&str]| start(args, "tessera proxy checks: ").1;
    let off = line(&insecure);
    assert!(off.contains("revocation feed: OFF"), "{off}");
    assert!(off.contains("DPoP: OFF"), "{off}");
    assert!(off.contains("route scopes: none"), "{off}");
    let (rs_id, rs_secret) = create_client(&db, "proxy", "tessera:revocations");
    let mut secure = base.to_vec();
    secure.extend([
        "--client-id",
        &rs_id,
        "--client-secret",
        &rs_secret,
        "--external-origin",
        "https://api.example.com",
        "--require-scope",
        "POST /deploys=deploy:write",
    ]);
    let on = line(&secure);
    assert!(on.contains("JWT signature: on (ES256"), "{on}");
    assert!(on.contains("revocation feed: on"), "{on}");
    assert!(on.contains("introspection of opaque tokens: on"), "{on}");
    assert!(
        on.contains("DPoP: on (htu origin https://api.example.com)"),
        "{on}"
    );
    assert!(on.contains("mTLS: OFF"), "{on}");
    assert!(
        on.contains("route scopes: POST /deploys=deploy:write"),
        "{on}"
    );
}
