//! JWT access tokens: the accepted case, each refusal with its exact RFC 6750 challenge, key
//! rotation mid-run.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use tessera_core::keys::SigningAlg;

use crate::support::{API, As, Rs, invalid_token, raw_request, rs_config};

#[tokio::test]
async fn a_valid_jwt_reaches_the_handler_with_its_claims() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    let rs = Rs::start(rs_config(&a)).await;
    let token = a.token(&c).await;
    let (status, challenge, body) = rs.get("/whoami", Some(&token)).await;
    assert_eq!((status, challenge.as_str()), (200, ""), "{body}");
    assert_eq!(body["subject"], c.id.as_str());
    assert_eq!(body["client_id"], c.id.as_str());
    assert_eq!(body["scopes"], serde_json::json!(["deploy:read"]));
    assert_eq!(body["format"], "jwt");
}

#[tokio::test]
async fn missing_token_gets_a_bare_challenge() {
    let a = As::start().await;
    let rs = Rs::start(rs_config(&a)).await;
    assert_eq!(rs.get("/whoami", None).await.0, 401);
    assert_eq!(rs.get("/whoami", None).await.1, "Bearer");
    // Another scheme is no token either.
    let resp = rs
        .http
        .get(rs.url("/whoami"))
        .basic_auth("a", Some("b"))
        .send()
        .await
        .unwrap();
    assert_eq!(crate::support::read(resp).await.1, "Bearer");
}

#[tokio::test]
async fn a_token_in_the_query_string_is_refused() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    let rs = Rs::start(rs_config(&a)).await;
    let token = a.token(&c).await;
    let (status, challenge, _) = rs.get(&format!("/whoami?access_token={token}"), None).await;
    assert_eq!(status, 400);
    assert_eq!(
        challenge,
        "Bearer error=\"invalid_request\", error_description=\"access tokens are not accepted in the query string\""
    );
    // Even alongside a valid header.
    let (status, _, _) = rs
        .get(&format!("/whoami?access_token={token}"), Some(&token))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn expired_wrong_audience_and_wrong_issuer_are_invalid_tokens() {
    let a = As::start().await;
    let rs = Rs::start(rs_config(&a)).await;
    let mut claims = a.claims();
    let ok = a.sign(&claims).await;
    assert_eq!(rs.get("/whoami", Some(&ok)).await.0, 200);

    let now = claims["iat"].as_u64().unwrap();
    claims["exp"] = (now - 60).into();
    let expired = a.sign(&claims).await;
    assert_eq!(
        rs.get("/whoami", Some(&expired)).await.1,
        invalid_token("the access token expired")
    );
    // Within the leeway it still passes.
    claims["exp"] = (now - 2).into();
    assert_eq!(rs.get("/whoami", Some(&a.sign(&claims).await)).await.0, 200);

    let mut claims = a.claims();
    claims["nbf"] = (now + 600).into();
    assert_eq!(
        rs.get("/whoami", Some(&a.sign(&claims).await)).await.1,
        invalid_token("the access token is not yet valid")
    );

    let mut claims = a.claims();
    claims["aud"] = "https://other.example.com".into();
    let (status, challenge, _) = rs.get("/whoami", Some(&a.sign(&claims).await)).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge,
        invalid_token("the access token is not for this resource server")
    );
    claims["aud"] = serde_json::json!(["https://other.example.com", API]);
    assert_eq!(rs.get("/whoami", Some(&a.sign(&claims).await)).await.0, 200);

    let mut claims = a.claims();
    claims["iss"] = format!("{}/", a.base).into();
    assert_eq!(
        rs.get("/whoami", Some(&a.sign(&claims).await)).await.1,
        invalid_token("the access token has the wrong issuer")
    );

    let mut claims = a.claims();
    claims.as_object_mut().unwrap().remove("jti");
    assert_eq!(
        rs.get("/whoami", Some(&a.sign(&claims).await)).await.1,
        invalid_token("the access token lacks required claims")
    );
}

#[tokio::test]
async fn a_token_issued_for_another_audience_is_refused() {
    let a = As::start().await;
    let c = a
        .client(|c| c.audiences = vec!["https://other.example.com".into()])
        .await;
    let rs = Rs::start(rs_config(&a)).await;
    let token = a.token(&c).await;
    assert_eq!(
        rs.get("/whoami", Some(&token)).await.1,
        invalid_token("the access token is not for this resource server")
    );
}

#[tokio::test]
async fn alg_none_hs256_with_the_public_key_tampering_and_unknown_kid_are_refused() {
    let a = As::start().await;
    let rs = Rs::start(rs_config(&a)).await;
    let claims = a.claims();
    let good = a.sign(&claims).await;
    let (head, _) = good.split_once('.').unwrap();
    let header: serde_json::Value = serde_json::from_slice(&B64.decode(head).unwrap()).unwrap();
    let kid = header["kid"].as_str().unwrap().to_string();
    let payload = B64.encode(claims.to_string());

    // alg none, no signature.
    let none_head =
        B64.encode(serde_json::json!({"alg":"none","typ":"at+jwt","kid":kid}).to_string());
    let none = format!("{none_head}.{payload}.");
    assert_eq!(
        rs.get("/whoami", Some(&none)).await.1,
        invalid_token("the access token is malformed")
    );

    // HS256 keyed with the public JWK as published (alg confusion).
    let jwks: serde_json::Value = reqwest::get(format!("{}/jwks", a.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let public = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap()
        .to_string();
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.typ = Some("at+jwt".into());
    h.kid = Some(kid.clone());
    let hs = jsonwebtoken::encode(
        &h,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(public.as_bytes()),
    )
    .unwrap();
    assert_eq!(
        rs.get("/whoami", Some(&hs)).await.1,
        invalid_token("the access token's algorithm is not accepted")
    );

    // A changed payload under the original signature.
    let mut other = claims.clone();
    other["sub"] = "mallory".into();
    let sig = good.rsplit('.').next().unwrap();
    let tampered = format!("{head}.{}.{sig}", B64.encode(other.to_string()));
    assert_eq!(
        rs.get("/whoami", Some(&tampered)).await.1,
        invalid_token("the access token's signature is invalid")
    );

    // Signed by a key the issuer never published.
    let stranger = tessera_core::keys::generate_key(
        SigningAlg::ES256,
        tessera_core::keys::KeyState::Current,
        None,
        0,
    )
    .unwrap();
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.typ = Some("at+jwt".into());
    h.kid = Some(stranger.kid.clone());
    let forged = jsonwebtoken::encode(
        &h,
        &claims,
        &jsonwebtoken::EncodingKey::from_ec_der(stranger.private_key.expose_secret()),
    )
    .unwrap();
    assert_eq!(
        rs.get("/whoami", Some(&forged)).await.1,
        invalid_token("the access token's key is unknown")
    );

    // The wrong typ: any other JWT of the issuer.
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.kid = Some(kid);
    let keys = a.store.list_keys().await.unwrap();
    let k = keys
        .iter()
        .find(|k| k.kid == h.kid.clone().unwrap())
        .unwrap();
    let plain = jsonwebtoken::encode(
        &h,
        &claims,
        &jsonwebtoken::EncodingKey::from_ec_der(k.private_key.expose_secret()),
    )
    .unwrap();
    assert_eq!(
        rs.get("/whoami", Some(&plain)).await.1,
        invalid_token("the access token is not an at+jwt")
    );
}

#[tokio::test]
async fn insufficient_scope_names_the_scope() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    let rs = Rs::start(rs_config(&a)).await;
    let read_only = a.token(&c).await;
    let resp = rs
        .http
        .post(rs.url("/deploys"))
        .bearer_auth(&read_only)
        .send()
        .await
        .unwrap();
    let (status, challenge, _) = crate::support::read(resp).await;
    assert_eq!(status, 403);
    assert_eq!(
        challenge,
        "Bearer error=\"insufficient_scope\", error_description=\"the access token lacks a required scope\", scope=\"deploy:write\""
    );
    let writer = a
        .token_with(&c, &[("scope", "deploy:read deploy:write")], None)
        .await;
    let resp = rs
        .http
        .post(rs.url("/deploys"))
        .bearer_auth(&writer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn key_rotation_does_not_break_validation() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    let rs = Rs::start(rs_config(&a)).await;
    let before = a.token(&c).await;
    assert_eq!(rs.get("/whoami", Some(&before)).await.0, 200);
    let now = tessera_core::clock::Clock::now(&tessera_core::clock::SystemClock);
    let kid = tessera_core::authority::rotate_key(a.store.as_ref(), SigningAlg::ES256, None, now)
        .await
        .unwrap();
    // The server picks the new key up within its change poll.
    let mut after = String::new();
    for _ in 0..100 {
        after = a.token(&c).await;
        if after.split('.').next().is_some_and(|h| {
            String::from_utf8(B64.decode(h).unwrap())
                .unwrap()
                .contains(&kid)
        }) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (status, challenge, _) = rs.get("/whoami", Some(&after)).await;
    assert_eq!((status, challenge.as_str()), (200, ""));
    // Tokens of the retired key stay valid while it is published.
    assert_eq!(rs.get("/whoami", Some(&before)).await.0, 200);
}

#[tokio::test]
async fn a_revoked_signing_key_is_refused_after_the_next_jwks_refresh() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    let mut config = rs_config(&a);
    config.jwks_max_age = std::time::Duration::from_millis(200);
    config.jwks_refetch_interval = std::time::Duration::from_millis(50);
    let rs = Rs::start(config).await;
    let token = a.token(&c).await;
    assert_eq!(rs.get("/whoami", Some(&token)).await.0, 200);
    let header: serde_json::Value =
        serde_json::from_slice(&B64.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
    let kid = header["kid"].as_str().unwrap();
    let now = tessera_core::clock::Clock::now(&tessera_core::clock::SystemClock);
    tessera_core::keys::lifecycle::revoke_key(a.store.as_ref(), kid, None, None, now)
        .await
        .unwrap();
    // The issuer drops it within its change poll; the validator once its cached set is stale.
    let mut last = (0, String::new());
    for _ in 0..100 {
        let (status, challenge, _) = rs.get("/whoami", Some(&token)).await;
        last = (status, challenge);
        if status == 401 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        (last.0, last.1.as_str()),
        (
            401,
            invalid_token("the access token's key is unknown").as_str()
        )
    );
    // Tokens of the replacement key are accepted.
    let mut fresh = a.token(&c).await;
    for _ in 0..100 {
        if !fresh.starts_with(token.split('.').next().unwrap()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        fresh = a.token(&c).await;
    }
    assert_eq!(rs.get("/whoami", Some(&fresh)).await.0, 200);
}

/// Route scopes are matched on the normal form of the path, and the app routes on that same
/// path: no spelling of `/deploys` reaches it without `deploy:write`.
#[tokio::test]
async fn route_scopes_hold_for_every_spelling_of_the_path() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    let rs = Rs::start(rs_config(&a)).await;
    let token = a.token(&c).await;
    for path in [
        "/deploys",
        "/x/../deploys",
        "/./deploys",
        "/%64eploys",
        "//deploys",
        "/deploys;x=1",
    ] {
        let (status, _) = raw_request(rs.addr, "POST", path, &token).await;
        assert_eq!(status, 403, "POST {path}");
    }
    // What has no safe normal form is refused before anything else.
    for path in [
        "/%2Fdeploys",
        "/x%5C..%5Cdeploys",
        "/../deploys",
        "/x/..;/deploys",
        "/a%00",
    ] {
        let (status, _) = raw_request(rs.addr, "POST", path, &token).await;
        assert_eq!(status, 400, "POST {path}");
    }
    // `Router::layer` runs the layer after axum routed on the path as sent: a detour matches
    // no route (axum matches literally) and is never served; the layer checked it regardless.
    let (status, body) = raw_request(rs.addr, "GET", "/x/..//%77hoami", &token).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = raw_request(rs.addr, "POST", "/x/..//%64eploys", &token).await;
    assert_eq!(status, 403);
}

/// RFC 8693 §4.1: a resource server sees who acts on the subject's behalf — the chain of an
/// exchanged token, current actor outermost — and nothing for an ordinary token.
#[tokio::test]
async fn the_actor_chain_of_an_exchanged_token_reaches_the_handler() {
    let a = As::start().await;
    let rs = Rs::start(rs_config(&a)).await;
    let plain = a.sign(&a.claims()).await;
    let (status, _, body) = rs.get("/whoami", Some(&plain)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("act").is_none(), "{body}");
    let mut claims = a.claims();
    claims["act"] = serde_json::json!({"sub": "sub-agent", "act": {"sub": "agent"}});
    let (status, _, body) = rs.get("/whoami", Some(&a.sign(&claims).await)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["act"],
        serde_json::json!({"sub": "sub-agent", "act": {"sub": "agent"}})
    );
    assert_eq!(body["subject"], "alice");
}
