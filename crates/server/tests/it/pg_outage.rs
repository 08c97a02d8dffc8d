//! PostgreSQL restarted under load (issue 6): a node on a private PostgreSQL
//! ([`PgCluster`], a real server this test stops and starts — not the shared one at 5432).
//! While it is down, `/token` (opaque and JWT) and `/introspect` answer
//! `503 {"error":"temporarily_unavailable"}` — never 500, never a hang — and the admin `/healthz`
//! answers 503; once it is back the same node serves 200 again without a restart, and nothing is
//! half-written: the opaque-token rows are exactly the tokens that were answered 200.
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tessera_core::client::TokenFormat;
use tessera_proto::{TokenKind, TokenString};

use crate::support::pg_cluster::PgCluster;
use crate::support::{TestServer, error, test_config};

/// Every request gets an answer within this long (the pool gives up after 5 s).
const ANSWER_WITHIN: Duration = Duration::from_secs(8);

fn unavailable() -> Value {
    error(
        "temporarily_unavailable",
        "the server is temporarily unavailable",
    )
}

async fn healthz(server: &TestServer) -> u16 {
    let url = format!("http://{}/healthz", server.running.admin_addr);
    server.http.get(url).send().await.unwrap().status().as_u16()
}

/// POSTs with a deadline: a request left hanging during the outage fails the test.
async fn post(
    server: &TestServer,
    path: &str,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let (status, _, body) =
        tokio::time::timeout(ANSWER_WITHIN, server.post(path, Some((id, secret)), form))
            .await
            .unwrap_or_else(|_| panic!("{path} answered within {ANSWER_WITHIN:?}"));
    (status, body)
}

fn selector(token: &str) -> u64 {
    TokenString::parse_kind(token, TokenKind::AccessToken)
        .expect("an opaque access token")
        .selector
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_under_load_fails_cleanly_and_recovers() {
    let pg = Arc::new(tokio::task::spawn_blocking(PgCluster::start).await.unwrap());
    let server = Arc::new(TestServer::start_on(test_config(), &pg.url()).await);
    let opaque = Arc::new(
        server
            .client(|c| c.token_format = TokenFormat::Opaque)
            .await,
    );
    let jwt = server.client(|c| c.token_format = TokenFormat::Jwt).await;
    // Let the change watcher see both registrations (it drops the client cache when it does),
    // so the clients cached below stay cached.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let first = server.access_token(&opaque).await;
    assert_eq!(server.introspect(&opaque, &first).await["active"], true);
    server.access_token(&jwt).await;
    assert_eq!(healthz(&server).await, 200);

    // Load through the whole outage: issue opaque tokens and introspect one, four at a time.
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (server, opaque, stop, first) =
            (server.clone(), opaque.clone(), stop.clone(), first.clone());
        workers.push(tokio::spawn(async move {
            let (mut issued, mut answers) = (Vec::new(), Vec::new());
            while !stop.load(Ordering::Relaxed) {
                let (status, body) = post(
                    &server,
                    "/token",
                    &opaque.id,
                    &opaque.secret,
                    &[("grant_type", "client_credentials")],
                )
                .await;
                if status == 200 {
                    issued.push(body["access_token"].as_str().unwrap().to_string());
                }
                answers.push(("/token", status, body));
                let (status, body) = post(
                    &server,
                    "/introspect",
                    &opaque.id,
                    &opaque.secret,
                    &[("token", &first)],
                )
                .await;
                answers.push(("/introspect", status, body));
            }
            (issued, answers)
        }));
    }

    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::task::spawn_blocking({
        let pg = pg.clone();
        move || pg.pg_stop()
    })
    .await
    .unwrap();

    // Down: the exact error, promptly, on both endpoints; the health check says so.
    let started = Instant::now();
    let form = [("grant_type", "client_credentials")];
    assert_eq!(
        post(&server, "/token", &opaque.id, &opaque.secret, &form).await,
        (503, unavailable())
    );
    assert_eq!(
        post(
            &server,
            "/introspect",
            &opaque.id,
            &opaque.secret,
            &[("token", &first)]
        )
        .await,
        (503, unavailable())
    );
    assert_eq!(healthz(&server).await, 503);
    assert!(started.elapsed() < Duration::from_secs(5), "failed fast");
    // A JWT for a client this node has cached needs no row, but its `token.issued` event is its
    // only record and must be committed before the answer (issue 13): refused the same way.
    assert_eq!(
        post(&server, "/token", &jwt.id, &jwt.secret, &form).await,
        (503, unavailable())
    );
    tokio::time::sleep(Duration::from_millis(300)).await;

    tokio::task::spawn_blocking({
        let pg = pg.clone();
        move || pg.pg_start()
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while healthz(&server).await != 200 {
        assert!(
            Instant::now() < deadline,
            "/healthz recovered without a restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);

    let (mut issued, mut answers) = (vec![first.clone()], Vec::new());
    for w in workers {
        let (i, a) = w.await.unwrap();
        issued.extend(i);
        answers.extend(a);
    }
    let mut refused = 0;
    for (path, status, body) in &answers {
        match status {
            200 => {}
            503 => {
                assert_eq!(body, &unavailable(), "{path}");
                refused += 1;
            }
            other => panic!("{path} answered {other}: {body}"),
        }
    }
    assert!(refused > 0, "the outage was seen under load");
    assert!(answers.len() > refused, "work was done around it");

    // Recovered: the same node issues and introspects again.
    let after = server.access_token(&opaque).await;
    issued.push(after.clone());
    assert_eq!(server.introspect(&opaque, &after).await["active"], true);

    // Nothing half-written: every token answered 200 is stored (and active), and no other row
    // exists among the selectors this node handed out.
    let answered: BTreeSet<u64> = issued.iter().map(|t| selector(t)).collect();
    let highest = *answered.last().unwrap();
    let mut stored = BTreeSet::new();
    for id in 1..=highest + 64 {
        if server.store.get_access_token(id).await.unwrap().is_some() {
            stored.insert(id);
        }
    }
    assert_eq!(stored, answered);
    for token in issued.iter().step_by(17) {
        assert_eq!(server.introspect(&opaque, token).await["active"], true);
    }
}
