//! The revocation feed: a revoked JWT is refused within the default bound (≤ 5 s) without an
//! introspection call per request; a revoked opaque token leaves the introspection cache.
use std::time::{Duration, Instant};

use tessera_core::client::TokenFormat;

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
    let rs_client = a.client(|c| c.scopes = vec![]).await;
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
    let rs_client = a.client(|c| c.scopes = vec![]).await;
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

#[tokio::test]
async fn the_feed_needs_client_authentication() {
    let a = As::start().await;
    let resp = a
        .http
        .get(format!("{}/revocations?after=0", a.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let c = a.client(|_| {}).await;
    let resp = a
        .http
        .get(format!("{}/revocations?after=x", a.base))
        .basic_auth(&c.id, Some(&c.secret))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = a
        .http
        .get(format!("{}/revocations?after=0", a.base))
        .basic_auth(&c.id, Some(&c.secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body, serde_json::json!({"revocations": [], "next": 0}));
}
