//! The revocation feed: a revoked JWT is refused within the default bound (≤ 5 s) without an
//! introspection call per request; a revoked opaque token leaves the introspection cache.
use std::time::{Duration, Instant};

use tessera_core::client::TokenFormat;
use tessera_core::clock::{Clock, SystemClock};
use tessera_validate::ValidateTokenLayer;

use crate::support::{As, Rs, invalid_token, rs_config};

async fn revoke(a: &As, c: &crate::support::TestClient, token: &str) {
    let status = a
        .http
        .post(format!("{}/revoke", a.base))
        .basic_auth(&c.id, Some(&c.secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_revoked_jwt_is_refused_within_five_seconds() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    let rs_client = a.rs_client().await;
    let rs = Rs::start(rs_config(&a).with_client(&rs_client.id, &rs_client.secret)).await;
    let token = a.token(&c).await;
    let other = a.token(&c).await;
    assert_eq!(rs.get("/whoami", Some(&token)).await.0, 200);
    revoke(&a, &c, &token).await;
    let revoked_at = Instant::now();
    loop {
        let (status, challenge, _) = rs.get("/whoami", Some(&token)).await;
        if status == 401 {
            assert_eq!(challenge, invalid_token("the access token was revoked"));
            break;
        }
        assert!(
            revoked_at.elapsed() < Duration::from_secs(5),
            "still accepted 5 s after revocation"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Other tokens are unaffected.
    assert_eq!(rs.get("/whoami", Some(&other)).await.0, 200);

    // A resource server starting after the revocation knows it from its first poll.
    let late = Rs::start(rs_config(&a).with_client(&rs_client.id, &rs_client.secret)).await;
    assert_eq!(late.get("/whoami", Some(&token)).await.0, 401);
}

#[tokio::test]
async fn a_revoked_opaque_token_leaves_the_introspection_cache() {
    let a = As::start().await;
    let c = a.client(|c| c.token_format = TokenFormat::Opaque).await;
    let rs_client = a.rs_client().await;
    let rs = Rs::start(rs_config(&a).with_client(&rs_client.id, &rs_client.secret)).await;
    let token = a.token(&c).await;
    assert_eq!(rs.get("/whoami", Some(&token)).await.0, 200);
    revoke(&a, &c, &token).await;
    let revoked_at = Instant::now();
    while rs.get("/whoami", Some(&token)).await.0 == 200 {
        assert!(revoked_at.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        rs.get("/whoami", Some(&token)).await.1,
        invalid_token("the access token is not active")
    );
}

/// Polls `rs` with `token` until it is refused (or 5 s pass) and returns the challenge.
async fn refused_within_five_seconds(rs: &Rs, token: &str) -> String {
    let started = Instant::now();
    loop {
        let (status, challenge, _) = rs.get("/whoami", Some(token)).await;
        if status == 401 {
            return challenge;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still accepted 5 s later"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn jwts_of_a_disabled_or_deleted_client_are_refused_within_five_seconds() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    let rs_client = a.rs_client().await;
    let rs = Rs::start(rs_config(&a).with_client(&rs_client.id, &rs_client.secret)).await;
    let token = a.token(&c).await;
    assert_eq!(rs.get("/whoami", Some(&token)).await.0, 200);

    let mut stored = a.store.get_client(&c.id).await.unwrap().unwrap();
    stored.disabled = true;
    stored.updated_at = SystemClock.now();
    a.store.update_client(&stored).await.unwrap();
    assert_eq!(
        refused_within_five_seconds(&rs, &token).await,
        invalid_token("the access token's client is disabled")
    );
    // Enabled again: its unexpired tokens are valid again, as at the issuer's introspection.
    stored.disabled = false;
    stored.updated_at = SystemClock.now();
    a.store.update_client(&stored).await.unwrap();
    let started = Instant::now();
    while rs.get("/whoami", Some(&token)).await.0 != 200 {
        assert!(started.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        a.store
            .delete_client(&c.id, SystemClock.now())
            .await
            .unwrap()
    );
    assert_eq!(
        refused_within_five_seconds(&rs, &token).await,
        invalid_token("the access token's client is disabled")
    );
    // A resource server starting later knows it from its first read of the feed.
    let late = Rs::start(rs_config(&a).with_client(&rs_client.id, &rs_client.secret)).await;
    assert_eq!(late.get("/whoami", Some(&token)).await.0, 401);
}

#[tokio::test]
async fn jwts_issued_before_tokens_not_before_are_refused_and_later_ones_accepted() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    let rs_client = a.rs_client().await;
    let rs = Rs::start(rs_config(&a).with_client(&rs_client.id, &rs_client.secret)).await;
    let old = a.token(&c).await;
    // As when the client's secret leaked (`tessera scan --revoke`, POST /admin/leaks).
    let now = SystemClock.now();
    let mut stored = a.store.get_client(&c.id).await.unwrap().unwrap();
    stored.tokens_not_before = Some(now + 1);
    stored.updated_at = now;
    a.store.update_client(&stored).await.unwrap();
    assert_eq!(
        refused_within_five_seconds(&rs, &old).await,
        invalid_token("the access token was revoked")
    );
    while SystemClock.now() < now + 1 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fresh = a.token(&c).await;
    assert_eq!(rs.get("/whoami", Some(&fresh)).await.0, 200);
}

#[tokio::test]
async fn a_resource_server_without_the_feed_scope_does_not_start() {
    let a = As::start().await;
    let plain = a.client(|_| {}).await;
    let Err(e) = ValidateTokenLayer::new(rs_config(&a).with_client(&plain.id, &plain.secret)).await
    else {
        panic!("started without the tessera:revocations scope");
    };
    assert_eq!(
        e,
        "revocation feed poll refused (400 Bad Request): unauthorized_client \
         this client lacks the tessera:admin or tessera:revocations scope"
    );
}
