//! DPoP-bound tokens at the resource server (RFC 9449 §7): refused as bearer tokens, without a
//! proof, with a wrong or replayed proof; accepted with a valid one.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tessera_core::clock::{Clock, SystemClock};
use tessera_core::keys::{KeyState, SigningAlg, generate_key};

use crate::support::{As, Rs, read, rs_config};

pub(crate) struct DpopKey {
    key: EncodingKey,
    jwk: Jwk,
}

impl DpopKey {
    pub(crate) fn new() -> Self {
        let k = generate_key(SigningAlg::ES256, KeyState::Current, None, 0).unwrap();
        Self {
            key: EncodingKey::from_ec_der(k.private_key.expose_secret()),
            jwk: serde_json::from_str(&k.public_jwk).unwrap(),
        }
    }

    pub(crate) fn proof(&self, claims: Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(self.jwk.clone());
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }
}

pub(crate) fn jti() -> String {
    let r = tessera_proto::TokenString::generate_random(tessera_proto::TokenKind::AccessToken);
    r.hash().to_hex()[..22].to_string()
}

pub(crate) fn ath(token: &str) -> String {
    B64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref())
}

const ALGS: &str = "algs=\"ES256 ES384 EdDSA RS256 PS256 PS384\"";

#[tokio::test]
async fn dpop_bound_tokens_need_a_valid_fresh_proof() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    let rs = Rs::start(rs_config(&a)).await;
    let key = DpopKey::new();
    assert!(
        !key.jwk
            .thumbprint(ThumbprintHash::SHA256)
            .unwrap()
            .is_empty()
    );
    let token_proof = key.proof(json!({
        "jti": jti(), "htm": "POST", "htu": format!("{}/token", a.base), "iat": SystemClock.now()
    }));
    let token = a.token_with(&c, &[], Some(&token_proof)).await;
    let url = rs.url("/whoami");
    let good = |jti: String| json!({"jti": jti, "htm": "GET", "htu": url, "iat": SystemClock.now(), "ath": ath(&token)});
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

    // As a bearer token.
    let (status, challenge, _) = send("Bearer", None).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge,
        format!(
            "DPoP error=\"invalid_token\", error_description=\"the access token is bound to a DPoP key\", {ALGS}"
        )
    );
    // Without a proof.
    let (status, challenge, _) = send("DPoP", None).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge,
        format!(
            "DPoP error=\"invalid_dpop_proof\", error_description=\"exactly one DPoP proof is required\", {ALGS}"
        )
    );
    let refused = |claims: Value, key: &DpopKey, description: &str| {
        let proof = key.proof(claims);
        let expected = format!(
            "DPoP error=\"invalid_dpop_proof\", error_description=\"{description}\", {ALGS}"
        );
        let fut = send("DPoP", Some(proof));
        async move {
            let (status, challenge, _) = fut.await;
            assert_eq!((status, challenge), (401, expected));
        }
    };
    // Another key.
    refused(
        good(jti()),
        &DpopKey::new(),
        "the DPoP proof's key is not the token's key",
    )
    .await;
    // Wrong method, wrong URI, wrong ath, stale.
    let mut wrong = good(jti());
    wrong["htm"] = "POST".into();
    refused(
        wrong,
        &key,
        "the DPoP proof's htm does not match the request method",
    )
    .await;
    let mut wrong = good(jti());
    wrong["htu"] = rs.url("/deploys").into();
    refused(
        wrong,
        &key,
        "the DPoP proof's htu does not match the request URI",
    )
    .await;
    let mut wrong = good(jti());
    wrong["ath"] = ath("another token").into();
    refused(
        wrong,
        &key,
        "the DPoP proof's ath does not match the access token",
    )
    .await;
    let mut wrong = good(jti());
    wrong["iat"] = (SystemClock.now() - 600).into();
    refused(
        wrong,
        &key,
        "the DPoP proof's iat is outside the acceptable window",
    )
    .await;

    // A valid proof, then its replay.
    let proof = key.proof(good(jti()));
    let (status, _, body) = send("DPoP", Some(proof.clone())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["cnf"]["jkt"],
        key.jwk.thumbprint(ThumbprintHash::SHA256).unwrap()
    );
    let (status, challenge, _) = send("DPoP", Some(proof)).await;
    assert_eq!(status, 401);
    assert!(
        challenge.contains("the DPoP proof was already used"),
        "{challenge}"
    );
}

#[tokio::test]
async fn a_bearer_token_sent_with_the_dpop_scheme_is_refused() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    let rs = Rs::start(rs_config(&a)).await;
    let token = a.token(&c).await;
    let resp = rs
        .http
        .get(rs.url("/whoami"))
        .header("Authorization", format!("DPoP {token}"))
        .send()
        .await
        .unwrap();
    let (status, challenge, _) = read(resp).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge,
        format!(
            "DPoP error=\"invalid_token\", error_description=\"the access token is not DPoP-bound\", {ALGS}"
        )
    );
}

/// RFC 9449 §4.3 (9): `htu` is checked against the origin the resource server is configured
/// with — never the request's `Host`, which the client chooses: a proof made for another server
/// is refused even when the `Host` header names that server.
#[tokio::test]
async fn htu_is_checked_against_the_configured_origin_not_the_host_header() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    let key = DpopKey::new();
    let token_proof = key.proof(json!({
        "jti": jti(), "htm": "POST", "htu": format!("{}/token", a.base), "iat": SystemClock.now()
    }));
    let token = a.token_with(&c, &[], Some(&token_proof)).await;
    let proof_for = |origin: &str| {
        key.proof(
            json!({"jti": jti(), "htm": "GET", "htu": format!("{origin}/whoami"),
            "iat": SystemClock.now(), "ath": ath(&token)}),
        )
    };
    let send = |rs: &Rs, host: &'static str, proof: String| {
        let req = rs
            .http
            .get(rs.url("/whoami"))
            .header("Host", host)
            .header("Authorization", format!("DPoP {token}"))
            .header("DPoP", proof);
        async move { read(req.send().await.unwrap()).await }
    };

    let rs = Rs::start(rs_config(&a).with_external_origin("https://api.example.com")).await;
    // A proof for another server, with the Host header naming that server: refused.
    let (status, challenge, _) =
        send(&rs, "other.example", proof_for("http://other.example")).await;
    assert_eq!(status, 401);
    assert!(
        challenge.contains("the DPoP proof's htu does not match the request URI"),
        "{challenge}"
    );
    // A proof for the configured origin: accepted whatever the Host header says.
    let (status, _, body) = send(&rs, "other.example", proof_for("https://api.example.com")).await;
    assert_eq!(status, 200, "{body}");
    // The path is compared in normal form on both sides.
    let proof = key.proof(json!({"jti": jti(), "htm": "GET",
        "htu": "https://api.example.com/x/../%77hoami?q=1", "iat": SystemClock.now(), "ath": ath(&token)}));
    let (status, _, body) = send(&rs, "other.example", proof).await;
    assert_eq!(status, 200, "{body}");

    // Without a configured origin there is nothing trustworthy to check htu against: refused.
    let bare = Rs::start_as_configured(rs_config(&a)).await;
    let host: &'static str = Box::leak(bare.addr.to_string().into_boxed_str());
    let (status, challenge, _) = send(&bare, host, proof_for(&bare.url(""))).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge,
        format!(
            "DPoP error=\"invalid_token\", error_description=\"DPoP-bound tokens need the resource server's external origin configured\", {ALGS}"
        )
    );
}
