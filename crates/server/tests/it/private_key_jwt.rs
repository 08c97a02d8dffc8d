//! `private_key_jwt` client authentication (RFC 7523 §2.2): assertions signed with a JOSE library
//! by keys generated in the test; every rule has a negative case with its audit reason.
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tessera_core::audit::EventKind;
use tessera_core::client::AuthMethod;
use tessera_core::clock::{Clock, SystemClock};
use tessera_core::keys::{KeyState, SigningAlg, StoredKey, generate_key};

use crate::support::{TestServer, error};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn sign(key: &StoredKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(&key.private_key)).unwrap()
}

fn jti() -> String {
    tessera_proto::TokenString::generate_random(tessera_proto::TokenKind::AccessToken)
        .hash()
        .to_hex()[..24]
        .to_string()
}

async fn present(server: &TestServer, assertion: &str) -> (u16, Value) {
    let (status, _, body) = server
        .post(
            "/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", assertion),
            ],
        )
        .await;
    (status, body)
}

#[tokio::test]
async fn assertions_authenticate_and_every_broken_one_is_invalid_client() {
    let server = TestServer::start().await;
    let key = generate_key(SigningAlg::ES256, KeyState::Current, None, 0).unwrap();
    let other = generate_key(SigningAlg::ES256, KeyState::Current, None, 0).unwrap();
    let jwks =
        json!({"keys": [serde_json::from_str::<Value>(&key.public_jwk).unwrap()]}).to_string();
    let c = server
        .client(|c| {
            c.auth_method = AuthMethod::PrivateKeyJwt;
            c.jwks = Some(jwks.clone());
        })
        .await;
    let now = SystemClock.now();
    let claims = |patch: Value| {
        let mut base = json!({"iss": c.id, "sub": c.id, "aud": server.base, "exp": now + 60, "iat": now, "jti": jti()});
        for (k, v) in patch.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    };
    let good = sign(&key, &claims(json!({})));
    assert_eq!(present(&server, &good).await.0, 200);
    let to_endpoint = sign(&key, &claims(json!({"aud": [server.url("/token")]})));
    assert_eq!(present(&server, &to_endpoint).await.0, 200);

    let mut other_signed = Header::new(Algorithm::ES256);
    other_signed.kid = Some(key.kid.clone());
    let forged = jsonwebtoken::encode(
        &other_signed,
        &claims(json!({})),
        &EncodingKey::from_ec_der(&other.private_key),
    )
    .unwrap();
    let hs = {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(key.kid.clone());
        jsonwebtoken::encode(
            &h,
            &claims(json!({})),
            &EncodingKey::from_secret(key.public_jwk.as_bytes()),
        )
        .unwrap()
    };
    let cases = [
        (good.clone(), "assertion_replayed"),
        (
            sign(&key, &claims(json!({"exp": now - 60}))),
            "assertion_expired",
        ),
        (
            sign(&key, &claims(json!({"exp": now + 86_400}))),
            "assertion_lifetime_too_long",
        ),
        (
            sign(&key, &claims(json!({"aud": "https://other.example"}))),
            "assertion_audience_mismatch",
        ),
        (
            sign(&key, &claims(json!({"sub": "someone-else"}))),
            "assertion_subject_mismatch",
        ),
        (
            sign(&key, &claims(json!({"jti": null}))),
            "assertion_without_jti",
        ),
        (
            sign(&key, &claims(json!({"nbf": now + 3600}))),
            "assertion_not_yet_valid",
        ),
        (forged, "invalid_assertion_signature"),
        (hs, "assertion_alg_not_allowed"),
        (sign(&other, &claims(json!({}))), "unknown_assertion_key"),
    ];
    for (assertion, reason) in &cases {
        let (status, body) = present(&server, assertion).await;
        assert_eq!(
            (status, body),
            (401, error("invalid_client", "client authentication failed")),
            "{reason}"
        );
        let failed = server
            .events_of(EventKind::ClientAuthenticationFailed)
            .await;
        assert_eq!(failed.last().unwrap().reason.as_deref(), Some(*reason));
    }
    assert_eq!(server.events_of(EventKind::TokenIssued).await.len(), 2);

    // A secret-based client cannot switch to assertions.
    let secret_client = server.client(|_| {}).await;
    let mut forged_claims = claims(json!({}));
    forged_claims["iss"] = json!(secret_client.id);
    forged_claims["sub"] = json!(secret_client.id);
    assert_eq!(present(&server, &sign(&key, &forged_claims)).await.0, 401);
}

#[tokio::test]
async fn malformed_assertion_requests_are_invalid_request() {
    let server = TestServer::start().await;
    let (status, _, body) = server
        .post(
            "/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", "urn:other"),
                ("client_assertion", "x.y.z"),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        error(
            "invalid_request",
            "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        )
    );
    let (status, _, body) = server
        .post(
            "/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", JWT_BEARER),
            ],
        )
        .await;
    assert_eq!(
        (status, body),
        (400, error("invalid_request", "client_assertion is missing"))
    );
    let (status, body) = present(&server, "garbage").await;
    assert_eq!(
        (status, body),
        (401, error("invalid_client", "client authentication failed"))
    );
}
