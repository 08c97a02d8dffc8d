//! Two real `tessera serve` processes on one PostgreSQL schema, as a scaled-out deployment runs
//! them behind a load balancer: what one node issues, revokes or rotates, the other sees.
//! Needs the local PostgreSQL (`TESSERA_TEST_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432/test`); the schema is made for the run and dropped after.
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{BIN, jwks_kids};
/// Both nodes announce one issuer, as they would behind one load balancer.
const ISSUER: &str = "http://127.0.0.1";

fn postgres_base() -> String {
    std::env::var("TESSERA_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn unique_schema() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    format!("t_{:016x}", h.finish())
}

async fn admin() -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(&postgres_base(), tokio_postgres::NoTls)
        .await
        .expect("the test PostgreSQL is reachable");
    tokio::spawn(conn);
    client
}

/// The key-encryption key every node shares: with PostgreSQL it must be given (docs/keys.md).
const KEK: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A `tessera` command on the shared database; returns its stdout, failing on a non-zero exit.
fn tessera(database: &str, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .args(["--database", database])
        .env_remove("TESSERA_CONFIG")
        .env("TESSERA_KEY_ENCRYPTION_KEY", KEK)
        .output()
        .expect("running tessera");
    assert!(
        out.status.success(),
        "tessera {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// One `tessera serve` process; killed when dropped.
struct Node {
    child: Child,
    base: String,
}

impl Node {
    /// Starts a node on free ports and waits for its "tessera listening on ADDR" line.
    fn start(database: &str) -> Self {
        let mut child = Command::new(BIN)
            .args(["serve", "--database", database, "--issuer", ISSUER])
            .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .env_remove("TESSERA_CONFIG")
            .env("TESSERA_KEY_ENCRYPTION_KEY", KEK)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning tessera serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Keeps draining stderr for the node's life so it never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        let addr: SocketAddr = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("tessera listening on ") {
                        break rest.split_whitespace().next().unwrap().parse().unwrap();
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("tessera serve did not start: {seen:#?}");
                }
            }
        };
        Node {
            child,
            base: format!("http://{addr}"),
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Api {
    http: reqwest::Client,
    id: String,
    secret: String,
}

impl Api {
    async fn post(&self, node: &Node, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}{path}", node.base))
            .basic_auth(&self.id, Some(&self.secret))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn token(&self, node: &Node) -> String {
        let (status, body) = self
            .post(node, "/token", &[("grant_type", "client_credentials")])
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    async fn active(&self, node: &Node, token: &str) -> bool {
        let (status, body) = self.post(node, "/introspect", &[("token", token)]).await;
        assert_eq!(status, 200, "{body}");
        body["active"].as_bool().unwrap()
    }

    async fn kids(&self, node: &Node) -> HashSet<String> {
        jwks_kids(&node.base).await.into_iter().collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_postgres() {
    let schema = unique_schema();
    admin()
        .await
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let base = postgres_base();
    let sep = if base.contains('?') { '&' } else { '?' };
    let database =
        format!("{base}{sep}options=-c%20search_path%3D{schema}&application_name={schema}");
    let outcome = tokio::spawn(scenario(database)).await;
    let admin = admin().await;
    let _ = admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&schema],
        )
        .await;
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn scenario(database: String) {
    let created: Value = serde_json::from_str(&tessera(
        &database,
        &[
            "client",
            "create",
            "--name",
            "svc",
            "--scope",
            "read",
            "--audience",
            "https://api.example.com",
            "--token-format",
            "opaque",
            "--json",
        ],
    ))
    .unwrap();
    let api = Api {
        http: reqwest::Client::new(),
        id: created["client_id"].as_str().unwrap().into(),
        secret: created["client_secret"].as_str().unwrap().into(),
    };
    // Started together: both migrate and make sure keys exist at the same moment.
    let (a, b) = {
        let (d1, d2) = (database.clone(), database.clone());
        let a = std::thread::spawn(move || Node::start(&d1));
        let b = std::thread::spawn(move || Node::start(&d2));
        (a.join().unwrap(), b.join().unwrap())
    };

    // Issued by A, active on B; revoked on B, inactive on A at once.
    let token = api.token(&a).await;
    assert!(token.starts_with("tsr_at_"), "opaque token: {token}");
    assert!(api.active(&b, &token).await, "A's token introspects on B");
    let (status, body) = api.post(&b, "/revoke", &[("token", &token)]).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        !api.active(&a, &token).await,
        "revoked on B → inactive on A immediately"
    );
    assert!(!api.active(&b, &token).await);

    // Both nodes issue from disjoint selector blocks: no token collides, each works on the other.
    let mut seen = HashSet::new();
    for i in 0..10 {
        let (issuer, checker) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let t = api.token(issuer).await;
        assert!(api.active(checker, &t).await);
        assert!(seen.insert(t));
    }

    // A key rotated from the command line is published by both nodes within 1 s.
    // Nodes that start together each try to create the first keys; the store keeps exactly one
    // per algorithm, and both converge on the same JWK Set within the change-poll interval.
    let started = Instant::now();
    let before = loop {
        let (ka, kb) = (api.kids(&a).await, api.kids(&b).await);
        if ka == kb {
            break ka;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "JWKS differ: A {ka:?}, B {kb:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let rotated: Value =
        serde_json::from_str(&tessera(&database, &["keys", "rotate", "--json"])).unwrap();
    let new_kids: HashSet<String> = rotated
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kid"].as_str().unwrap().to_string())
        .collect();
    assert!(!new_kids.is_empty() && new_kids.is_disjoint(&before));
    let started = Instant::now();
    loop {
        let (ka, kb) = (api.kids(&a).await, api.kids(&b).await);
        if new_kids.is_subset(&ka) && new_kids.is_subset(&kb) {
            assert!(
                before.is_subset(&ka) && before.is_subset(&kb),
                "retired keys stay published"
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "rotated keys not on both /jwks within 1 s: new {new_kids:?}, A {ka:?}, B {kb:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    // A key revoked from the command line leaves both nodes' /jwks within 1 s.
    let victim = before.iter().next().unwrap().clone();
    tessera(&database, &["keys", "revoke", &victim, "--reason", "test"]);
    let started = Instant::now();
    loop {
        let (ka, kb) = (api.kids(&a).await, api.kids(&b).await);
        if !ka.contains(&victim) && !kb.contains(&victim) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "revoked key {victim} still published: A {ka:?}, B {kb:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    refresh_race(&database, &a, &b).await;
    drop((a, b));
}

/// A public code-flow client and a user made with the CLI; a code obtained on A, redeemed on B;
/// then the same refresh token sent to both nodes at once: exactly one 200, one invalid_grant,
/// and the reuse revokes the family, so the winner's new refresh token is dead too.
async fn refresh_race(database: &str, a: &Node, b: &Node) {
    const REDIRECT: &str = "http://127.0.0.1:9/cb";
    let created: Value = serde_json::from_str(&tessera(
        database,
        &[
            "client",
            "create",
            "--name",
            "app",
            "--scope",
            "read",
            "--audience",
            "https://api.example.com",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
            "--redirect-uri",
            REDIRECT,
            "--auth-method",
            "none",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(
        created["client_secret"],
        Value::Null,
        "a public client has no secret"
    );
    let client_id = created["client_id"].as_str().unwrap().to_string();
    let mut user = Command::new(BIN)
        .args([
            "user",
            "create",
            "--username",
            "alice",
            "--password-stdin",
            "--database",
            database,
        ])
        .env_remove("TESSERA_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        user.stdin
            .take()
            .unwrap()
            .write_all(b"s3cret pass\n")
            .unwrap();
    }
    assert!(user.wait().unwrap().success());

    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // RFC 7636 appendix B's pair.
    let (verifier, challenge) = (
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
    let page = browser
        .get(format!("{}/authorize", a.base))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"request\" value=\"";
    let start = page.find(marker).expect("a login form") + marker.len();
    let request = &page[start..start + page[start..].find('"').unwrap()];
    // The form is posted to the other node: the pending request lives in the shared store.
    let resp = browser
        .post(format!("{}/login", b.base))
        .form(&[
            ("request", request),
            ("username", "alice"),
            ("password", "s3cret pass"),
            ("action", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let code = location
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .expect("a code")
        .to_string();
    let post = |node: &Node, form: Vec<(&'static str, String)>| {
        let url = format!("{}/token", node.base);
        let http = reqwest::Client::new();
        async move {
            let res = http.post(url).form(&form).send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    let (status, tokens) = post(
        a,
        vec![
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("redirect_uri", REDIRECT.into()),
            ("code_verifier", verifier.into()),
            ("client_id", client_id.clone()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", client_id.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect::<Vec<_>>();
    let (ra, rb) = tokio::join!(post(a, form.clone()), post(b, form));
    let mut statuses = [ra.0, rb.0];
    statuses.sort();
    assert_eq!(statuses, [200, 400], "A: {:?}, B: {:?}", ra, rb);
    let (winner, loser) = if ra.0 == 200 {
        (ra.1, rb.1)
    } else {
        (rb.1, ra.1)
    };
    assert_eq!(loser["error"], "invalid_grant");
    // The loser's attempt was a reuse: the family is revoked, the winner's new token with it.
    let (status, body) = post(
        b,
        vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", winner["refresh_token"].as_str().unwrap()),
            ("client_id", client_id.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}
