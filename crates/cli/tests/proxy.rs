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
            "--insecure-no-revocation",
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

/// Starts `tessera serve` on a fresh SQLite file; returns it, the issuer URL, the database URL
/// and the directory holding it.
fn issuer() -> (Proc, String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("t.db").display());
    let (server, as_addr) = spawn(
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
    (server, format!("http://{as_addr}"), db, dir)
}

async fn token(issuer: &str, id: &str, secret: &str, scope: &str) -> String {
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("{issuer}/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .unwrap()
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

/// An upstream that records the path and forwarding headers of each request it receives.
async fn recording_upstream() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
) {
    use axum::extract::State;
    use axum::http::Uri;
    type Seen = std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>;
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

/// The route-scope bypass: with `--require-scope /admin=admin`, no spelling of `/admin` reaches
/// the upstream with a token lacking `admin`; the upstream receives the path in normal form,
/// the one the scope was checked on; what cannot be normalised safely is refused with 400.
#[tokio::test]
async fn no_spelling_of_a_protected_path_bypasses_its_scope() {
    let (_server, issuer, db, _dir) = issuer();
    let (id, secret) = create_client(&db, "ci", "read admin");
    let (rs_id, rs_secret) = create_client(&db, "proxy", "tessera:revocations");
    let (upstream, seen) = recording_upstream().await;
    let (_proxy, proxy_addr) = spawn(
        &[
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &upstream,
            "--issuer",
            &issuer,
            "--audience",
            API,
            "--require-scope",
            "/admin=admin",
            "--client-id",
            &rs_id,
            "--client-secret",
            &rs_secret,
        ],
        "tessera proxy listening on ",
    );
    let reader = token(&issuer, &id, &secret, "read").await;
    let admin = token(&issuer, &id, &secret, "read admin").await;

    let bypasses = [
        "/admin",
        "/x/../admin",
        "/./admin",
        "/%61dmin",
        "//admin",
        "/admin/../admin/users",
        "/%2e/admin",
        "/x/%2E%2E/admin",
        "/admin;jsessionid=1",
        "/ADMIN/..//admin",
    ];
    for path in bypasses {
        let (status, _) = raw_get(&proxy_addr, path, &reader, "").await;
        assert_eq!(status, 403, "GET {path} without the admin scope");
    }
    for path in [
        "/%2Fadmin",
        "/x%2F..%2Fadmin",
        "/%5Cadmin",
        "/x\\..\\admin",
        "/../admin",
        "/x/..;/admin",
        "/a%00",
    ] {
        let (status, _) = raw_get(&proxy_addr, path, &admin, "").await;
        assert_eq!(status, 400, "GET {path}");
    }
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );

    // With the scope, each spelling reaches the upstream as the path that was checked.
    for (path, forwarded) in [
        ("/x/../admin", "/admin"),
        ("/./admin", "/admin"),
        ("/%61dmin", "/admin"),
        ("//admin", "/admin"),
        ("/admin/%7e/a%2fb", ""),
        ("/other/./x//y/", "/other/x/y/"),
    ] {
        let (status, body) = raw_get(&proxy_addr, path, &admin, "").await;
        if forwarded.is_empty() {
            assert_eq!(status, 400, "GET {path}");
            continue;
        }
        assert_eq!(status, 200, "GET {path}: {body}");
        let echoed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(echoed["path"], forwarded, "GET {path}");
    }
    // Without it, other routes still pass, in normal form.
    let (status, body) = raw_get(&proxy_addr, "/x/../other/%7euser", &reader, "").await;
    assert_eq!(status, 200, "{body}");
    let echoed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(echoed["path"], "/other/~user");
}

/// Who the client is comes from the proxy, never from the client's own `Forwarded` and
/// `X-Forwarded-*` headers.
#[tokio::test]
async fn forwarding_headers_are_the_proxys_own() {
    let (_server, issuer, db, _dir) = issuer();
    let (id, secret) = create_client(&db, "ci", "read");
    let (rs_id, rs_secret) = create_client(&db, "proxy", "tessera:revocations");
    let (upstream, _seen) = recording_upstream().await;
    let (_proxy, proxy_addr) = spawn(
        &[
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &upstream,
            "--issuer",
            &issuer,
            "--audience",
            API,
            "--client-id",
            &rs_id,
            "--client-secret",
            &rs_secret,
            "--external-origin",
            "https://api.example.com",
        ],
        "tessera proxy listening on ",
    );
    let token = token(&issuer, &id, &secret, "read").await;
    let forged = "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Host: evil.example\r\n\
        X-Forwarded-Proto: gopher\r\nX-Forwarded-Port: 1\r\nX-Real-IP: 10.0.0.2\r\n\
        Forwarded: for=10.0.0.3;host=evil.example\r\nX-Forwarded-Prefix: /evil\r\n";
    let (status, body) = raw_get(&proxy_addr, "/x", &token, forged).await;
    assert_eq!(status, 200, "{body}");
    let echoed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        echoed,
        serde_json::json!({
            "path": "/x",
            "x-forwarded-for": "127.0.0.1",
            "x-forwarded-host": "api.example.com",
            "x-forwarded-proto": "https",
            "x-forwarded-port": null,
            "x-real-ip": null,
            "forwarded": "for=127.0.0.1;proto=https",
        })
    );
}

/// Without client credentials there is no revocation feed, so the proxy refuses to start
/// unless told to accept that; started, it says which checks are on.
#[tokio::test]
async fn the_proxy_needs_credentials_or_an_explicit_insecure_flag() {
    let (_server, issuer, db, _dir) = issuer();
    let base = [
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        "http://127.0.0.1:9",
        "--issuer",
        &issuer,
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
    // The whole line after the prefix (`spawn` keeps only its first word).
    let line = |args: &[&str]| -> String {
        let mut child = Command::new(BIN)
            .args(args)
            .env("RUST_LOG", "warn")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let found = loop {
            let l = lines.next().expect("process exited").unwrap();
            if let Some(rest) = l.strip_prefix("tessera proxy checks: ") {
                break rest.to_string();
            }
        };
        let _ = child.kill();
        let _ = child.wait();
        found
    };
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
