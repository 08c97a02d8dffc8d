//! `tessera proxy` as the binary, in front of an echo upstream, with `tessera serve` as issuer:
//! valid tokens are forwarded with trusted `X-Tessera-*` headers, the rest refused (RFC 6750).
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use axum::Json;
use axum::http::HeaderMap;

const BIN: &str = env!("CARGO_BIN_EXE_tessera");
const API: &str = "https://api.example.com";

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns `tessera args…` and waits for the line starting with `prefix`; returns the address.
fn spawn(args: &[&str], prefix: &str) -> (Proc, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("process exited").unwrap();
        if let Some(rest) = line.strip_prefix(prefix) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (Proc(child), addr)
}

/// `tessera client create` for client_credentials; returns id and secret.
fn create_client(db: &str, name: &str, scope: &str) -> (String, String) {
    create_client_with(db, name, scope, &[])
}

/// The same with `extra` flags.
fn create_client_with(db: &str, name: &str, scope: &str, extra: &[&str]) -> (String, String) {
    let out = Command::new(BIN)
        .args([
            "client",
            "create",
            "--database",
            db,
            "--name",
            name,
            "--grant-type",
            "client_credentials",
            "--scope",
            scope,
            "--audience",
            API,
            "--json",
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        created["client_id"].as_str().unwrap().to_string(),
        created["client_secret"].as_str().unwrap().to_string(),
    )
}

async fn echo(headers: HeaderMap) -> Json<serde_json::Value> {
    let get = |n: &str| headers.get(n).map(|v| v.to_str().unwrap().to_string());
    Json(serde_json::json!({
        "subject": get("x-tessera-subject"),
        "client_id": get("x-tessera-client-id"),
        "scope": get("x-tessera-scope"),
        "authorization": get("authorization"),
    }))
}

#[tokio::test]
async fn the_proxy_forwards_valid_requests_and_refuses_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("t.db").display());
    let (_server, as_addr) = spawn(
        &[
            "serve",
            "--database",
            &db,
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ],
        "tessera listening on ",
    );
    let issuer = format!("http://{as_addr}");
    let (id, secret) = create_client(&db, "ci", "deploy:read deploy:write");
    // The proxy's own client: the resource server of API (reads the revocation feed, reports
    // uses of the tokens addressed to it).
    let (rs_id, rs_secret) =
        create_client_with(&db, "proxy", "tessera:events", &["--resource-uri", API]);

    let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_addr = upstream.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(upstream, axum::Router::new().fallback(echo))
            .await
            .unwrap();
    });
    let (_proxy, proxy_addr) = spawn(
        &[
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &format!("http://{upstream_addr}"),
            "--issuer",
            &issuer,
            "--audience",
            API,
            "--require-scope",
            "POST /deploys=deploy:write",
            "--client-id",
            &rs_id,
            "--client-secret",
            &rs_secret,
            "--usage-events",
            "--jwt-cache",
            "1000",
        ],
        "tessera proxy listening on ",
    );
    let http = reqwest::Client::new();
    let body: serde_json::Value = http
        .post(format!("{issuer}/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "deploy:read"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = body["access_token"].as_str().unwrap().to_string();
    let url = |p: &str| format!("http://{proxy_addr}{p}");

    let resp = http
        .get(url("/anything?x=1"))
        .bearer_auth(&token)
        .header("X-Tessera-Subject", "forged")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let echoed: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        echoed,
        serde_json::json!({"subject": id, "client_id": id, "scope": "deploy:read", "authorization": null})
    );

    let resp = http.get(url("/anything")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    let resp = http
        .get(url(&format!("/anything?access_token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = http
        .get(url("/anything"))
        .bearer_auth("not.a.jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\", error_description=\"the access token is malformed\""
    );
    let resp = http
        .post(url("/deploys/7"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Bearer error=\"insufficient_scope\", error_description=\"the access token lacks a required scope\", scope=\"deploy:write\""
    );

    // Usage events name the --require-scope route that matched, else the path (no query).
    let store = tessera_store::open(&db).await.unwrap();
    let started = std::time::Instant::now();
    let used = loop {
        let used: Vec<_> = store
            .list_events(0, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, e)| e)
            .filter(|e| e.kind == tessera_core::audit::EventKind::TokenUsed)
            .collect();
        if used.len() >= 4 {
            break used;
        }
        assert!(started.elapsed().as_secs() < 5, "{used:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    // The caller's address reaches the events through the proxy's listener.
    assert!(
        used.iter()
            .all(|e| e.ip == Some("127.0.0.1".parse().unwrap())),
        "{used:?}"
    );
    let mut seen: Vec<_> = used
        .iter()
        .map(|e| (e.path.clone().unwrap(), e.reason.clone().unwrap()))
        .collect();
    seen.sort();
    let pair = |p: &str, r: &str| (p.to_string(), r.to_string());
    assert_eq!(
        seen,
        vec![
            pair("/anything", "accepted"),
            pair("/anything", "invalid_request"),
            // "not.a.jwt" is no token of ours: the issuer drops its use (a reporter reports only
            // uses of tokens addressed to it); the token-less refusals keep their request facts.
            pair("/anything", "missing_token"),
            pair("/deploys/*", "insufficient_scope"),
        ]
    );
}

#[tokio::test]
async fn the_proxy_cuts_off_slow_clients_and_bounds_its_connections() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("t.db").display());
    let (_server, as_addr) = spawn(
        &[
            "serve",
            "--database",
            &db,
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ],
        "tessera listening on ",
    );
    let (_proxy, proxy_addr) = spawn(
        &[
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "http://127.0.0.1:9",
            "--issuer",
            &format!("http://{as_addr}"),
            "--audience",
            API,
            "--read-timeout-secs",
            "1",
            "--max-connections",
            "2",
        ],
        "tessera proxy listening on ",
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
    let mut idle = TcpStream::connect(&proxy_addr).await.unwrap();
    let mut slow = TcpStream::connect(&proxy_addr).await.unwrap();
    slow.write_all(b"GET /x HTTP/1.1\r\nHost: a\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(&proxy_addr).await.unwrap();
    assert!(closed_after(&mut third).await < Duration::from_millis(900));
    // The idle one and the one sending its headers too slowly are cut off after a second.
    closed_after(&mut idle).await;
    closed_after(&mut slow).await;
    assert!(opened.elapsed() >= Duration::from_millis(900));
    // Then the slots are free: a request without a token gets the proxy's 401.
    let resp = reqwest::Client::new()
        .get(format!("http://{proxy_addr}/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}
