//! Issue 13 (`cargo test -p tessera-cli --test it crash`): `kill -9` under load loses no audit event of an acknowledged issuance. A real
//! `tessera serve` on a SQLite file is loaded with concurrent token requests (JWT and opaque
//! clients) and killed mid-load, several times over; every token a client received with a 200 must
//! then have its `token.issued` event in the database — for a JWT, the only record it has. The
//! same on PostgreSQL.
use std::collections::HashSet;
use std::process::Command;
use std::time::Duration;

use crate::support::{BIN, serve_with_env};
use serde_json::Value;
use tessera_proto::TokenString;

/// Kill-and-restart rounds: the window between an answer and an unsynced event is a few
/// milliseconds, so one kill might miss it; several make a lost event all but certain to show.
const ROUNDS: u64 = 6;
/// Concurrent clients, half JWT and half opaque.
const TASKS: usize = 8;
/// The key-encryption key PostgreSQL nodes must be given (docs/keys.md).
const KEK: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Registers a client issuing `format` tokens; returns its id and secret.
fn create_client(db: &str, env: &[(&str, &str)], format: &str) -> (String, String) {
    let out = Command::new(BIN)
        .args(["client", "create", "--database", db, "--name", format])
        .args(["--scope", "read", "--audience", "https://api.example.com"])
        .args(["--token-format", format, "--json"])
        .env_remove("TESSERA_CONFIG")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        created["client_id"].as_str().unwrap().to_string(),
        created["client_secret"].as_str().unwrap().to_string(),
    )
}

/// The id `token.issued` names a token by: a JWT's `jti`, an opaque token's public id.
fn token_id(access_token: &str) -> String {
    match TokenString::parse(access_token) {
        Ok(t) => tessera_core::token_id::opaque(t.selector, &t.hash),
        Err(_) => {
            let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(access_token)
                .expect("a JWT")
                .claims;
            claims["jti"].as_str().unwrap().to_string()
        }
    }
}

/// Requests tokens until the server goes away; returns the ids of the tokens it received with a
/// 200. It stops only on a failed request, so every answer that reached the client before the
/// kill — even one read from the socket after it — is counted as acknowledged.
async fn load(base: String, id: String, secret: String) -> Vec<String> {
    let http = reqwest::Client::new();
    let mut received = Vec::new();
    loop {
        let answer = http
            .post(format!("{base}/token"))
            .basic_auth(&id, Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await;
        let body = match answer {
            Ok(r) if r.status() == 200 => r.json::<Value>().await,
            Ok(r) => panic!("token request answered {}", r.status()),
            Err(_) => return received,
        };
        match body {
            Ok(body) => received.push(token_id(body["access_token"].as_str().unwrap())),
            Err(_) => return received,
        }
    }
}

/// Loads and kills a server on `db` [`ROUNDS`] times; returns (round, token id) of every token a
/// client received with a 200.
async fn kill_under_load(db: &str, env: &[(&str, &str)]) -> Vec<(u64, String)> {
    let jwt = create_client(db, env, "jwt");
    let opaque = create_client(db, env, "opaque");
    let mut acknowledged = Vec::new();
    for round in 0..ROUNDS {
        let mut server = serve_with_env(db, &["--no-monitor"], env);
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                let (id, secret) = if i % 2 == 0 { &jwt } else { &opaque };
                tokio::spawn(load(server.base.clone(), id.clone(), secret.clone()))
            })
            .collect();
        // Let the load build up (a different moment in each round), then SIGKILL: no shutdown
        // path runs, whatever the server had not committed is gone.
        tokio::time::sleep(Duration::from_millis(250 + 40 * round)).await;
        server.process.0.kill().unwrap();
        server.process.0.wait().unwrap();
        let mut in_round = 0;
        for task in tasks {
            let received = task.await.unwrap();
            in_round += received.len();
            acknowledged.extend(received.into_iter().map(|t| (round, t)));
        }
        // Every task ran until a request failed on the dead server: the load lasted to the kill.
        assert!(
            in_round > 0,
            "round {round}: no token was issued before the kill"
        );
    }
    assert!(
        acknowledged.len() > 100,
        "too little load to mean anything: {}",
        acknowledged.len()
    );
    acknowledged
}

/// Fails unless every acknowledged token is among the `recorded` `token.issued` ids.
fn assert_all_recorded(acknowledged: &[(u64, String)], recorded: &HashSet<String>) {
    let missing: Vec<&(u64, String)> = acknowledged
        .iter()
        .filter(|(_, t)| !recorded.contains(t))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged issuances have no token.issued event (round, token id): {missing:?}",
        missing.len(),
        acknowledged.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_no_acknowledged_issuance_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let acknowledged = kill_under_load(&format!("sqlite:{}", path.display()), &[]).await;
    let conn = rusqlite::Connection::open(&path).unwrap();
    let recorded: HashSet<String> = conn
        .prepare("SELECT token_id FROM events WHERE type = 'token.issued'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_all_recorded(&acknowledged, &recorded);
}

/// The same on PostgreSQL (`TESSERA_TEST_POSTGRES`, default the local server), in a schema made
/// for the run and dropped after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_no_acknowledged_issuance_event_on_postgres() {
    let base = std::env::var("TESSERA_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let (admin, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .expect("the test PostgreSQL is reachable");
    tokio::spawn(connection);
    let schema = format!("crash_{}", std::process::id());
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let db = format!("{base}{sep}options=-c%20search_path%3D{schema}&application_name={schema}");
    let env = [("TESSERA_KEY_ENCRYPTION_KEY", KEK)];
    let outcome = tokio::spawn(async move { kill_under_load(&db, &env).await }).await;
    let recorded = admin
        .query(
            &format!("SELECT token_id FROM {schema}.events WHERE type = 'token.issued'"),
            &[],
        )
        .await
        .map(|rows| rows.iter().map(|r| r.get::<_, String>(0)).collect());
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
    let acknowledged = outcome.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    assert_all_recorded(&acknowledged, &recorded.unwrap());
}
