//! `tessera proxy` as the binary, in front of an upstream, with `tessera serve` as issuer: what
//! it forwards (`forwarding`), which spellings of a path it checks (`paths`), and how it holds
//! up against slow clients and a missing revocation feed (`hardening`).
use std::process::Command;

use axum::Json;
use axum::http::HeaderMap;

use crate::support::{BIN, Server, client_credentials, serve, spawn, sqlite};

mod exchange;
mod forwarding;
mod hardening;
mod paths;

const API: &str = "https://api.example.com";

/// `tessera serve` on a fresh SQLite file; returns it, the database URL and its directory.
fn issuer() -> (Server, String, tempfile::TempDir) {
    let (dir, db) = sqlite();
    (serve(&db, &[]), db, dir)
}

/// `tessera proxy` on a loopback port for `API`, issued by `issuer`, in front of `upstream`,
/// with `flags` (credentials, scopes, …).
fn proxy(issuer: &str, upstream: &str, flags: &[&str]) -> Server {
    let mut args = vec![
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        upstream,
        "--issuer",
        issuer,
        "--audience",
        API,
    ];
    args.extend_from_slice(flags);
    spawn(&args, "tessera proxy listening on ")
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

/// A client_credentials access token for `scope`.
async fn token(issuer: &str, id: &str, secret: &str, scope: &str) -> String {
    let body: serde_json::Value = client_credentials(issuer, id, secret, &[("scope", scope)])
        .await
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

/// Sends `GET path` exactly as written (reqwest would resolve dot segments itself) with a
/// bearer token and extra header lines; returns the status and the body.
async fn raw_get(addr: &str, path: &str, token: &str, extra: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n{extra}Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).to_string();
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

type Seen = std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>;

/// An upstream that records the path and forwarding headers of each request it receives.
async fn recording_upstream() -> (String, Seen) {
    use axum::extract::State;
    use axum::http::Uri;
    async fn record(
        State(seen): State<Seen>,
        uri: Uri,
        headers: HeaderMap,
    ) -> Json<serde_json::Value> {
        let get = |n: &str| headers.get(n).map(|v| v.to_str().unwrap().to_string());
        let r = serde_json::json!({
            "path": uri.path(),
            "x-forwarded-for": get("x-forwarded-for"),
            "x-forwarded-host": get("x-forwarded-host"),
            "x-forwarded-proto": get("x-forwarded-proto"),
            "x-forwarded-port": get("x-forwarded-port"),
            "x-real-ip": get("x-real-ip"),
            "forwarded": get("forwarded"),
        });
        seen.lock().unwrap().push(r.clone());
        Json(r)
    }
    let seen: Seen = Default::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .fallback(record)
        .with_state(seen.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}
