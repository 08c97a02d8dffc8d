//! The proof check on real signed proofs: each RFC 9449 §4.3 rule refuses with its own
//! description, and a good proof yields what the callers' replay guards and policies need.
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

use super::{Limits, ath, check, normalize_htu};

const NOW: u64 = 1_700_000_000;
const URL: &str = "https://as.example.com/token";
const LIMITS: Limits = Limits {
    max_age: 60,
    max_skew: 5,
};

fn key() -> Ed25519KeyPair {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new()).unwrap();
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

fn jwk(key: &Ed25519KeyPair) -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode(key.public_key().as_ref())})
}

/// A compact JWS of `header` and `claims`, signed by `key` whatever the header says.
fn signed(header: &Value, claims: &Value, key: &Ed25519KeyPair) -> String {
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", B64.encode(sig.as_ref()))
}

fn header(key: &Ed25519KeyPair) -> Value {
    json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": jwk(key)})
}

fn claims() -> Value {
    json!({"jti": "j1", "htm": "POST", "htu": URL, "iat": NOW, "ath": ath("tok"), "nonce": "n"})
}

fn refusal(proof: &str) -> String {
    let e = check(proof, "POST", URL, NOW, LIMITS).unwrap_err();
    assert_eq!(e.code.as_str(), "invalid_dpop_proof");
    e.description.into_owned()
}

#[test]
fn a_good_proof_yields_its_key_jti_and_replay_window() {
    let k = key();
    let proof = check(
        &signed(&header(&k), &claims(), &k),
        "POST",
        URL,
        NOW,
        LIMITS,
    )
    .unwrap();
    let want: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk(&k)).unwrap();
    let jkt = want
        .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
        .unwrap();
    assert_eq!(proof.jkt, jkt);
    assert_eq!((proof.jti.as_str(), proof.iat), ("j1", NOW));
    assert_eq!(proof.replay_key(), format!("{jkt}:j1"));
    assert_eq!(proof.ath.as_deref(), Some(ath("tok").as_str()));
    assert_eq!(proof.nonce.as_deref(), Some("n"));
    assert_eq!(proof.replay_until, NOW + 60 + 5);
    // The htu in another spelling of the same URI; a proof from the edge of the window.
    let mut c = claims();
    c["htu"] = "HTTPS://AS.example.com:443/x/../%74oken?q=1#f".into();
    c["iat"] = (NOW - 60).into();
    assert!(check(&signed(&header(&k), &c, &k), "POST", URL, NOW, LIMITS).is_ok());
}

#[test]
fn every_rule_refuses_with_its_own_description() {
    let k = key();
    let with = |patch: Value| {
        let mut c = claims();
        for (name, v) in patch.as_object().unwrap() {
            c[name] = v.clone();
        }
        signed(&header(&k), &c, &k)
    };
    let mut private = header(&k);
    private["jwk"]["d"] = "AAAA".into();
    let mut typ = header(&k);
    typ["typ"] = "JWT".into();
    let mut hs = header(&k);
    hs["alg"] = "HS256".into();
    let mut no_jwk = header(&k);
    no_jwk.as_object_mut().unwrap().remove("jwk");
    let cases = [
        ("not-a-jwt".to_string(), "the DPoP proof is not a valid JWT"),
        (
            signed(&typ, &claims(), &k),
            "the DPoP proof's typ must be dpop+jwt",
        ),
        (
            signed(&hs, &claims(), &k),
            "the DPoP proof's alg is not supported",
        ),
        (signed(&no_jwk, &claims(), &k), "the DPoP proof has no jwk"),
        (
            signed(&private, &claims(), &k),
            "the DPoP proof's jwk contains a private key",
        ),
        (
            signed(&header(&k), &claims(), &key()),
            "the DPoP proof's signature or claims are invalid",
        ),
        (
            with(json!({"htm": "GET"})),
            "the DPoP proof's htm does not match the request method",
        ),
        (
            with(json!({"htu": "https://evil.example/token"})),
            "the DPoP proof's htu does not match the request URI",
        ),
        (
            with(json!({"htu": "ftp://as.example.com/token"})),
            "the DPoP proof's htu does not match the request URI",
        ),
        (
            with(json!({"iat": "soon"})),
            "the DPoP proof's signature or claims are invalid",
        ),
        (
            with(json!({"iat": -1})),
            "the DPoP proof's iat is not a number",
        ),
        (
            with(json!({"iat": NOW - 61})),
            "the DPoP proof's iat is outside the acceptable window",
        ),
        (
            with(json!({"iat": NOW + 6})),
            "the DPoP proof's iat is outside the acceptable window",
        ),
        (
            with(json!({"iat": 1e300})),
            "the DPoP proof's iat is outside the acceptable window",
        ),
        (
            with(json!({"jti": ""})),
            "the DPoP proof's jti is missing or too long",
        ),
        (
            with(json!({"jti": "j".repeat(257)})),
            "the DPoP proof's jti is missing or too long",
        ),
    ];
    for (proof, description) in cases {
        assert_eq!(refusal(&proof), description);
    }
}

#[test]
fn htu_normalisation_ignores_query_fragment_case_and_default_port() {
    let a = normalize_htu("HTTPS://AS.Example.com:443/token?x=1#f");
    assert_eq!(a.as_deref(), Some("https://as.example.com/token"));
    assert_eq!(normalize_htu("https://as.example.com/a/../token"), a);
    assert_eq!(normalize_htu("https://as.example.com/%74oken"), a);
    assert_ne!(normalize_htu("https://as.example.com/token2"), a);
    assert_ne!(normalize_htu("https://as.example.com:8443/token"), a);
    assert!(normalize_htu("not a url").is_none());
    assert!(normalize_htu("urn:example:token").is_none());
    assert!(normalize_htu("https://as.example.com/a%2Ftoken").is_none());
}

#[test]
fn ath_is_the_base64url_sha256_of_the_token() {
    // SHA-256("abc") = ba7816bf…15ad.
    assert_eq!(ath("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
}
