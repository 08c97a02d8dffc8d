//! The refresh reuse grace window (`refresh.reuse_grace_secs`, issue 13): ten parallel
//! refreshes of one refresh token, as from ten tabs of one app, all get the same successor and
//! the family lives; without a window the same burst revokes the family (RFC 9700 §4.14.2), as
//! does a retry after the window.
use std::sync::Arc;

use base64::Engine;
use serde_json::{Value, json};
use tessera_core::Config;
use tessera_core::audit::EventKind;
use tessera_core::clock::FixedClock;
use tessera_core::store::Store;

use crate::support::flow::*;
use crate::support::{TestClient, TestServer, error, fixed_clock, test_config};

const SPENT: (&str, &str) = (
    "invalid_grant",
    "the refresh token is invalid, expired or revoked",
);

fn with_grace(secs: u64) -> Config {
    let mut config = test_config();
    config.refresh.reuse_grace_secs = secs;
    // Successors are sealed under the key-encryption key (`tessera serve` always has one).
    config.keys.encryption_key = Some(tessera_proto::Secret::new(
        base64::engine::general_purpose::STANDARD.encode([7u8; 32]),
    ));
    config
}

async fn first_tokens(server: &TestServer, c: &TestClient) -> Value {
    let (verifier, challenge) = pkce();
    let code = get_code(server, c, &challenge, &[]).await;
    let (status, body) = exchange(server, c, &code, &verifier, None).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// `n` refreshes of `refresh_token` sent at once, each on its own connection.
async fn parallel_refreshes(
    server: &TestServer,
    c: &TestClient,
    refresh_token: &str,
    n: usize,
) -> Vec<(u16, Value)> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let http = reqwest::Client::new();
        let (url, id, secret) = (server.url("/token"), c.id.clone(), c.secret.clone());
        let rt = refresh_token.to_string();
        tasks.spawn(async move {
            let resp = http
                .post(url)
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", &rt)])
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        });
    }
    tasks.join_all().await
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap().to_string()
}

async fn start(config: Config, clock: &Arc<FixedClock>) -> TestServer {
    TestServer::start_with(config, clock.clone()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_parallel_refreshes_within_the_window_share_one_successor() {
    let clock = fixed_clock();
    let server = start(with_grace(5), &clock).await;
    let c = code_client(&server, false, |_| {}).await;
    let first = first_tokens(&server, &c).await;
    let answers = parallel_refreshes(&server, &c, &s(&first, "refresh_token"), 10).await;
    assert!(answers.iter().all(|(st, _)| *st == 200), "{answers:?}");
    let successor = s(&answers[0].1, "refresh_token");
    assert!(
        answers
            .iter()
            .all(|(_, body)| body["refresh_token"] == successor.as_str()),
        "one successor for all: {answers:?}"
    );
    assert_ne!(successor, s(&first, "refresh_token"));
    // Each answer carries a live access token of its own.
    for (_, body) in &answers {
        assert_eq!(
            server.introspect(&c, &s(body, "access_token")).await["active"],
            true
        );
    }
    // The family lives: the shared successor rotates as usual, and nothing was reused.
    clock.advance(1);
    let (status, next) = refresh(&server, &c, &successor, None).await;
    assert_eq!(status, 200, "{next}");
    assert!(
        server
            .events_of(EventKind::RefreshTokenReused)
            .await
            .is_empty()
    );
    let issued = server.events_of(EventKind::TokenIssued).await;
    let graced = issued
        .iter()
        .filter(|e| e.reason.as_deref() == Some("refresh_grace"))
        .count();
    assert_eq!(graced, 9, "nine answers from the window, one rotation");

    // The successor is spent now: presenting the first token again, still within its window,
    // is reuse, and the family dies.
    assert_eq!(
        refresh(&server, &c, &s(&first, "refresh_token"), None).await,
        (400, error(SPENT.0, SPENT.1))
    );
    assert_eq!(
        server.introspect(&c, &s(&next, "access_token")).await,
        json!({"active": false})
    );
    assert_eq!(
        server.events_of(EventKind::RefreshTokenReused).await.len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_window_a_retry_revokes_the_family() {
    let clock = fixed_clock();
    let server = start(with_grace(5), &clock).await;
    let c = code_client(&server, false, |_| {}).await;
    let first = first_tokens(&server, &c).await;
    let (status, second) = refresh(&server, &c, &s(&first, "refresh_token"), None).await;
    assert_eq!(status, 200, "{second}");
    clock.advance(5);
    assert_eq!(
        refresh(&server, &c, &s(&first, "refresh_token"), None).await,
        (400, error(SPENT.0, SPENT.1))
    );
    assert_eq!(
        refresh(&server, &c, &s(&second, "refresh_token"), None).await,
        (400, error(SPENT.0, SPENT.1))
    );
    assert_eq!(
        server.events_of(EventKind::RefreshTokenReused).await.len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_window_ten_parallel_refreshes_revoke_the_family() {
    let clock = fixed_clock();
    let server = start(test_config(), &clock).await;
    let c = code_client(&server, false, |_| {}).await;
    let first = first_tokens(&server, &c).await;
    let answers = parallel_refreshes(&server, &c, &s(&first, "refresh_token"), 10).await;
    let winners: Vec<&Value> = answers
        .iter()
        .filter(|(st, _)| *st == 200)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .filter(|(st, _)| *st != 200)
            .all(|a| *a == (400, error(SPENT.0, SPENT.1))),
        "{answers:?}"
    );
    // The family is revoked: the winner's tokens too, whichever request finished first.
    assert_eq!(
        refresh(&server, &c, &s(winners[0], "refresh_token"), None).await,
        (400, error(SPENT.0, SPENT.1))
    );
    for access in [s(&first, "access_token"), s(winners[0], "access_token")] {
        assert_eq!(
            server.introspect(&c, &access).await,
            json!({"active": false})
        );
    }
    assert_eq!(
        server.events_of(EventKind::RefreshTokenReused).await.len(),
        1
    );
}

#[tokio::test]
async fn a_window_needs_the_key_encryption_key() {
    let mut config = with_grace(5);
    config.keys.encryption_key = None;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("t.db").display());
    config.database = url.clone();
    let store: Arc<dyn Store> = tessera_store::open(&url).await.unwrap();
    let err = tessera_server::start(config, store)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("refresh.reuse_grace_secs needs keys.encryption_key"),
        "{err}"
    );
}
