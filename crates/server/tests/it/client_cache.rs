//! Changes made through another store handle (the CLI, another node) reach a running server
//! within a second; secret rotation with a grace period.
use std::time::{Duration, Instant};

use tessera_core::clock::Clock;
use tessera_proto::{TokenKind, TokenString};

use crate::support::{TestServer, fixed_clock, test_config};

async fn until(deadline: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn a_client_deleted_through_another_handle_stops_working_within_a_second() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    assert_eq!(server.token(&c, &[]).await.0, 200); // now cached
    let path = server.running.authority.config().database.clone();
    let cli = tessera_store::open(&path).await.unwrap();
    assert!(
        cli.delete_client(&c.id, tessera_core::clock::SystemClock.now())
            .await
            .unwrap()
    );
    let refused = until(Duration::from_secs(1), async || {
        server.token(&c, &[]).await.0 == 401
    })
    .await;
    assert!(refused, "deleted client still authenticates");
}

#[tokio::test]
async fn a_client_disabled_through_another_handle_stops_working_and_its_tokens_go_inactive() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    let rs = server
        .client(|c| c.resource_uris = vec![crate::support::API.into()])
        .await;
    let token = server.access_token(&c).await;
    assert_eq!(server.introspect(&rs, &token).await["active"], true);
    let cli = tessera_store::open(&server.running.authority.config().database)
        .await
        .unwrap();
    let mut client = cli.get_client(&c.id).await.unwrap().unwrap();
    client.disabled = true;
    assert!(cli.update_client(&client).await.unwrap());
    assert!(
        until(Duration::from_secs(1), async || server
            .token(&c, &[])
            .await
            .0
            == 401)
        .await
    );
    assert_eq!(
        server.introspect(&rs, &token).await,
        serde_json::json!({"active": false})
    );
}

#[tokio::test]
async fn rotated_secret_keeps_the_old_one_for_the_grace_period_only() {
    let clock = fixed_clock();
    let server = TestServer::start_with(test_config(), clock.clone()).await;
    let old = server.client(|_| {}).await;
    let new_secret = TokenString::generate_random(TokenKind::ClientSecret);
    let now = clock.now();
    assert!(
        server
            .store
            .rotate_client_secret(&old.id, new_secret.hash(), now + 60, now)
            .await
            .unwrap()
    );
    server.running.authority.sync_changes().await.unwrap();
    let new = crate::support::TestClient {
        id: old.id.clone(),
        secret: new_secret.expose_secret().to_string(),
    };
    assert_eq!(server.token(&old, &[]).await.0, 200);
    assert_eq!(server.token(&new, &[]).await.0, 200);
    clock.advance(61);
    assert_eq!(server.token(&old, &[]).await.0, 401);
    assert_eq!(server.token(&new, &[]).await.0, 200);
}

#[tokio::test]
async fn a_key_rotated_through_another_handle_is_published_and_signs() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    let before: serde_json::Value = server
        .http
        .get(server.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let old_jwt = server.access_token(&c).await;
    let cli = tessera_store::open(&server.running.authority.config().database)
        .await
        .unwrap();
    let kid = tessera_core::authority::rotate_key(
        cli.as_ref(),
        tessera_core::keys::SigningAlg::ES256,
        None,
        clock_now(),
    )
    .await
    .unwrap();
    let published = until(Duration::from_secs(1), async || {
        let jwks: serde_json::Value = server
            .http
            .get(server.url("/jwks"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid.as_str())
    })
    .await;
    assert!(published);
    let after: serde_json::Value = server
        .http
        .get(server.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        after["keys"].as_array().unwrap().len(),
        before["keys"].as_array().unwrap().len() + 1
    );
    // The retired key's tokens still introspect active; new tokens carry the new kid.
    assert_eq!(server.introspect(&c, &old_jwt).await["active"], true);
    let new_jwt = server.access_token(&c).await;
    assert_eq!(
        jsonwebtoken::decode_header(&new_jwt)
            .unwrap()
            .kid
            .as_deref(),
        Some(kid.as_str())
    );
}

fn clock_now() -> u64 {
    tessera_core::clock::SystemClock.now()
}
