//! The cache of verified JWTs: a second request with the same token skips the signature check,
//! and everything that is not a property of the signed bytes is still checked on every request —
//! revocation by the feed, a withdrawn signing key, expiry, the DPoP proof, the scopes.
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::json;
use tessera_core::clock::{Clock, FixedClock, SystemClock};
use tessera_validate::JwtCacheStats;

use crate::dpop::{DpopKey, ath, jti};
use crate::support::{As, Rs, TestClient, invalid_token, read, rs_config};

fn stats(rs: &Rs) -> JwtCacheStats {
    rs.layer.validator().jwt_cache_stats()
}

/// A resource server reading the revocation feed.
async fn rs_with_feed(a: &As) -> Rs {
    let rs_client = a.rs_client().await;
    Rs::start(rs_config(a).with_client(&rs_client.id, &rs_client.secret)).await
}

/// Polls `rs` with `token` until it is refused (or 5 s pass); returns the challenge.
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

/// Two requests with `token`: the first verifies it, the second is answered from the cache.
async fn accepted_then_cached(rs: &Rs, token: &str) {
    let before = stats(rs);
    assert_eq!(rs.get("/whoami", Some(token)).await.0, 200);
    let (status, _, body) = rs.get("/whoami", Some(token)).await;
    assert_eq!(status, 200, "{body}");
    let after = stats(rs);
    assert_eq!(after.verifications, before.verifications + 1);
    assert_eq!(after.hits, before.hits + 1);
}

#[tokio::test]
async fn a_second_request_with_the_same_token_is_answered_from_the_cache() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    let rs = Rs::start(rs_config(&a)).await;
    let token = a.token(&c).await;
    let (status, _, first) = rs.get("/whoami", Some(&token)).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        stats(&rs),
        JwtCacheStats {
            hits: 0,
            verifications: 1,
            entries: 1
        }
    );
    let (status, _, second) = rs.get("/whoami", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(second, first, "the cached claims are the verified ones");
    assert_eq!(
        stats(&rs),
        JwtCacheStats {
            hits: 1,
            verifications: 1,
            entries: 1
        }
    );
    // Scopes are per route, checked on a hit too.
    let resp = rs
        .http
        .post(rs.url("/deploys"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, challenge, _) = read(resp).await;
    assert_eq!(status, 403, "{challenge}");
    assert_eq!(stats(&rs).hits, 2);
    // Another token is verified on its own.
    let other = a.token(&c).await;
    assert_eq!(rs.get("/whoami", Some(&other)).await.0, 200);
    assert_eq!(stats(&rs).verifications, 2);
    assert_eq!(stats(&rs).entries, 2);
    // A tampered copy of a cached token is a different key: verified, and refused.
    let (head, rest) = token.split_once('.').unwrap();
    let (payload, sig) = rest.split_once('.').unwrap();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap();
    claims["scope"] = "deploy:read deploy:write".into();
    let tampered = format!("{head}.{}.{sig}", B64.encode(claims.to_string()));
    assert_eq!(
        rs.get("/whoami", Some(&tampered)).await.1,
        invalid_token("the access token's signature is invalid")
    );
    assert_eq!(stats(&rs).verifications, 3);
    assert_eq!(stats(&rs).entries, 2, "a failed verification is not cached");
}

#[tokio::test]
async fn the_cache_can_be_turned_off() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    let rs = Rs::start(rs_config(&a).with_jwt_cache(0)).await;
    let token = a.token(&c).await;
    assert_eq!(rs.get("/whoami", Some(&token)).await.0, 200);
    assert_eq!(rs.get("/whoami", Some(&token)).await.0, 200);
    assert_eq!(
        stats(&rs),
        JwtCacheStats {
            hits: 0,
            verifications: 2,
            entries: 0
        }
    );
}

#[tokio::test]
async fn a_cached_token_revoked_at_the_issuer_is_refused() {
    let a = As::start().await;
    let c: TestClient = a.client(|_| {}).await;
    let rs = rs_with_feed(&a).await;
    let token = a.token(&c).await;
    let other = a.token(&c).await;
    accepted_then_cached(&rs, &token).await;
    accepted_then_cached(&rs, &other).await;
    let status = a
        .http
        .post(format!("{}/revoke", a.base))
        .basic_auth(&c.id, Some(&c.secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    assert_eq!(
        refused_within_five_seconds(&rs, &token).await,
        invalid_token("the access token was revoked")
    );
    // The other token is still answered from the cache.
    let hits = stats(&rs).hits;
    assert_eq!(rs.get("/whoami", Some(&other)).await.0, 200);
    assert_eq!(stats(&rs).hits, hits + 1);
}

#[tokio::test]
async fn a_cached_token_of_a_disabled_client_is_refused() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    let rs = rs_with_feed(&a).await;
    let token = a.token(&c).await;
    accepted_then_cached(&rs, &token).await;
    let mut stored = a.store.get_client(&c.id).await.unwrap().unwrap();
    stored.disabled = true;
    stored.updated_at = SystemClock.now();
    a.store.update_client(&stored).await.unwrap();
    assert_eq!(
        refused_within_five_seconds(&rs, &token).await,
        invalid_token("the access token's client is disabled")
    );
}

#[tokio::test]
async fn a_cached_token_whose_signing_key_is_revoked_is_refused() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    // The feed, not the JWKS refresh (60 s by default), withdraws the key.
    let rs = rs_with_feed(&a).await;
    let token = a.token(&c).await;
    accepted_then_cached(&rs, &token).await;
    let header: serde_json::Value =
        serde_json::from_slice(&B64.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
    let kid = header["kid"].as_str().unwrap();
    tessera_core::keys::lifecycle::revoke_key(a.store.as_ref(), kid, None, None, SystemClock.now())
        .await
        .unwrap();
    assert_eq!(
        refused_within_five_seconds(&rs, &token).await,
        invalid_token("the access token's signing key was revoked")
    );
    // Its entry is gone with its first refusal.
    assert_eq!(stats(&rs).entries, 0);
}

/// The layer's clock is pinned: the token expires when the clock says, with no sleeping.
#[tokio::test]
async fn a_cached_token_is_refused_once_it_expires() {
    let a = As::start().await;
    let mut config = rs_config(&a);
    config.leeway = Duration::ZERO;
    let clock = Arc::new(FixedClock::at(SystemClock.now()));
    let rs = Rs::start_with_clock(config, clock.clone()).await;
    let mut claims = a.claims();
    claims["exp"] = (clock.now() + 2).into();
    let token = a.sign(&claims).await;
    accepted_then_cached(&rs, &token).await;
    clock.advance(1);
    assert_eq!(
        rs.get("/whoami", Some(&token)).await.0,
        200,
        "a second before exp"
    );
    // RFC 7519 §4.1.4: not accepted "on or after" exp.
    clock.advance(1);
    assert_eq!(
        rs.get("/whoami", Some(&token)).await.1,
        invalid_token("the access token expired")
    );
}

#[tokio::test]
async fn a_cached_dpop_bound_token_still_needs_a_valid_proof() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    let rs = Rs::start(rs_config(&a)).await;
    let key = DpopKey::new();
    let token_proof = key.proof(json!({
        "jti": jti(), "htm": "POST", "htu": format!("{}/token", a.base), "iat": SystemClock.now()
    }));
    let token = a.token_with(&c, &[], Some(&token_proof)).await;
    let url = rs.url("/whoami");
    let good = || json!({"jti": jti(), "htm": "GET", "htu": url, "iat": SystemClock.now(), "ath": ath(&token)});
    let send = |scheme: &'static str, proof: Option<String>| {
        let mut req = rs
            .http
            .get(rs.url("/whoami"))
            .header("Authorization", format!("{scheme} {token}"));
        if let Some(p) = proof {
            req = req.header("DPoP", p);
        }
        async move { read(req.send().await.unwrap()).await }
    };
    let first = key.proof(good());
    assert_eq!(send("DPoP", Some(first.clone())).await.0, 200);
    let (status, _, body) = send("DPoP", Some(key.proof(good()))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(stats(&rs).hits, 1);
    assert_eq!(stats(&rs).verifications, 1);

    const ALGS: &str = "algs=\"ES256 ES384 EdDSA RS256 PS256 PS384\"";
    let dpop_error = |error: &str, description: &str| {
        format!("DPoP error=\"{error}\", error_description=\"{description}\", {ALGS}")
    };
    // No proof.
    assert_eq!(
        send("DPoP", None).await,
        (
            401,
            dpop_error("invalid_dpop_proof", "exactly one DPoP proof is required"),
            serde_json::Value::Null
        )
    );
    // A proof by another key.
    let (status, challenge, _) = send("DPoP", Some(DpopKey::new().proof(good()))).await;
    assert_eq!(
        (status, challenge),
        (
            401,
            dpop_error(
                "invalid_dpop_proof",
                "the DPoP proof's key is not the token's key"
            )
        )
    );
    // The first proof again.
    let (status, challenge, _) = send("DPoP", Some(first)).await;
    assert_eq!(status, 401);
    assert!(
        challenge.contains("the DPoP proof was already used"),
        "{challenge}"
    );
    // As a bearer token.
    let (status, challenge, _) = send("Bearer", None).await;
    assert_eq!(
        (status, challenge),
        (
            401,
            dpop_error("invalid_token", "the access token is bound to a DPoP key")
        )
    );
    // Every refusal came from the cache: the signature was verified once.
    assert_eq!(stats(&rs).verifications, 1);
    assert_eq!(stats(&rs).hits, 5);
}
