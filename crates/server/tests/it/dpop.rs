//! DPoP (RFC 9449) at the token endpoint: proofs built with a JOSE library from keys generated in
//! the test; every rule of §4.3 has a negative case asserting the exact error and no issuance.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tessera_core::audit::EventKind;
use tessera_core::client::TokenFormat;
use tessera_core::clock::{Clock, SystemClock};
use tessera_core::keys::{KeyState, SigningAlg, generate_key};

use crate::support::{TestClient, TestServer, error, test_config};

/// A client-side DPoP key.
pub struct DpopKey {
    alg: Algorithm,
    key: EncodingKey,
    jwk: Jwk,
}

impl DpopKey {
    pub fn new(alg: SigningAlg) -> Self {
        let k = generate_key(alg, KeyState::Current, None, 0).unwrap();
        let key = match alg {
            SigningAlg::ES256 => EncodingKey::from_ec_der(k.private_key.expose_secret()),
            SigningAlg::EdDSA => EncodingKey::from_ed_der(k.private_key.expose_secret()),
            SigningAlg::RS256 => EncodingKey::from_rsa_der(k.private_key.expose_secret()),
        };
        let alg = match alg {
            SigningAlg::ES256 => Algorithm::ES256,
            SigningAlg::EdDSA => Algorithm::EdDSA,
            SigningAlg::RS256 => Algorithm::RS256,
        };
        Self {
            alg,
            key,
            jwk: serde_json::from_str(&k.public_jwk).unwrap(),
        }
    }

    pub fn thumbprint(&self) -> String {
        self.jwk.thumbprint(ThumbprintHash::SHA256).unwrap()
    }

    fn proof_with(&self, claims: Value) -> String {
        let mut header = Header::new(self.alg);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(self.jwk.clone());
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }

    pub fn proof(&self, server: &TestServer) -> String {
        self.proof_with(claims(server))
    }
}

fn jti() -> String {
    let random = tessera_proto::TokenString::generate_random(tessera_proto::TokenKind::AccessToken);
    random.hash().to_hex()[..22].to_string()
}

fn claims(server: &TestServer) -> Value {
    json!({"jti": jti(), "htm": "POST", "htu": server.url("/token"), "iat": SystemClock.now()})
}

async fn token_with_proof(
    server: &TestServer,
    c: &TestClient,
    proofs: &[&str],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = server
        .http
        .post(server.url("/token"))
        .basic_auth(&c.id, Some(&c.secret))
        .form(&[("grant_type", "client_credentials")]);
    for p in proofs {
        req = req.header("DPoP", *p);
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    (status, headers, resp.json().await.unwrap())
}

#[tokio::test]
async fn proofs_of_every_algorithm_bind_jwt_and_opaque_tokens() {
    let server = TestServer::start().await;
    for (format, alg) in [
        (TokenFormat::Jwt, SigningAlg::ES256),
        (TokenFormat::Opaque, SigningAlg::EdDSA),
        (TokenFormat::Jwt, SigningAlg::RS256),
    ] {
        let c = server.client(|c| c.token_format = format).await;
        let key = DpopKey::new(alg);
        let (status, _, body) = token_with_proof(&server, &c, &[&key.proof(&server)]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "DPoP");
        let token = body["access_token"].as_str().unwrap();
        if format == TokenFormat::Jwt {
            let payload: Value =
                serde_json::from_slice(&B64.decode(token.split('.').nth(1).unwrap()).unwrap())
                    .unwrap();
            assert_eq!(payload["cnf"]["jkt"], key.thumbprint().as_str());
        }
        let introspected = server.introspect(&c, token).await;
        assert_eq!(introspected["cnf"]["jkt"], key.thumbprint().as_str());
        assert_eq!(introspected["token_type"], "DPoP");
    }
    // A bearer token (no proof) has no cnf.
    let c = server.client(|_| {}).await;
    let bearer = server.access_token(&c).await;
    assert!(server.introspect(&c, &bearer).await.get("cnf").is_none());
}

#[tokio::test]
async fn every_broken_proof_is_invalid_dpop_proof_and_issues_nothing() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    let key = DpopKey::new(SigningAlg::ES256);
    let other = DpopKey::new(SigningAlg::ES256);
    let now = SystemClock.now();
    let with = |patch: Value| {
        let mut c = claims(&server);
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let replayed = key.proof(&server);
    assert_eq!(token_with_proof(&server, &c, &[&replayed]).await.0, 200);
    let issued_before = server.events_of(EventKind::TokenIssued).await.len();

    // Header-level attacks assembled from parts and signed by the library.
    let signed = |header: Value, claims: Value, k: &DpopKey| {
        let msg = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let sig = jsonwebtoken::crypto::sign(msg.as_bytes(), &k.key, k.alg).unwrap();
        format!("{msg}.{sig}")
    };
    let mut private_jwk = serde_json::to_value(&key.jwk).unwrap();
    private_jwk["d"] = json!("AAAA");
    let cases: Vec<(String, &str)> = vec![
        (replayed, "the DPoP proof was already used"),
        (
            key.proof_with(with(json!({"htm": "GET"}))),
            "the DPoP proof's htm does not match the request method",
        ),
        (
            key.proof_with(with(json!({"htu": "https://evil.example/token"}))),
            "the DPoP proof's htu does not match the request URI",
        ),
        (
            key.proof_with(with(json!({"iat": now - 600}))),
            "the DPoP proof's iat is outside the acceptable window",
        ),
        (
            key.proof_with(with(json!({"iat": now + 600}))),
            "the DPoP proof's iat is outside the acceptable window",
        ),
        (
            key.proof_with(with(json!({"jti": ""}))),
            "the DPoP proof's jti is missing or too long",
        ),
        (
            signed(
                json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": private_jwk}),
                claims(&server),
                &key,
            ),
            "the DPoP proof's jwk contains a private key",
        ),
        (
            signed(
                json!({"typ": "JWT", "alg": "ES256", "jwk": key.jwk}),
                claims(&server),
                &key,
            ),
            "the DPoP proof's typ must be dpop+jwt",
        ),
        (
            signed(
                json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.jwk}),
                claims(&server),
                &other,
            ),
            "the DPoP proof's signature or claims are invalid",
        ),
        (
            signed(
                json!({"typ": "dpop+jwt", "alg": "ES256"}),
                claims(&server),
                &key,
            ),
            "the DPoP proof has no jwk",
        ),
        (
            format!(
                "{}.{}.",
                B64.encode(json!({"typ": "dpop+jwt", "alg": "none", "jwk": key.jwk}).to_string()),
                B64.encode(claims(&server).to_string())
            ),
            "the DPoP proof is not a valid JWT",
        ),
        (
            {
                let hs = EncodingKey::from_secret(b"shared");
                let mut h = Header::new(Algorithm::HS256);
                h.typ = Some("dpop+jwt".into());
                h.jwk = Some(key.jwk.clone());
                jsonwebtoken::encode(&h, &claims(&server), &hs).unwrap()
            },
            "the DPoP proof's alg is not supported",
        ),
        ("not-a-jwt".into(), "the DPoP proof is not a valid JWT"),
    ];
    for (proof, description) in &cases {
        let (status, _, body) = token_with_proof(&server, &c, &[proof]).await;
        assert_eq!(
            (status, body),
            (400, error("invalid_dpop_proof", description)),
            "{description}"
        );
    }
    let (status, _, body) =
        token_with_proof(&server, &c, &[&key.proof(&server), &key.proof(&server)]).await;
    assert_eq!(
        (status, body),
        (
            400,
            error("invalid_dpop_proof", "more than one DPoP header")
        )
    );
    assert_eq!(
        server.events_of(EventKind::TokenIssued).await.len(),
        issued_before
    );
}

#[tokio::test]
async fn a_client_that_requires_dpop_gets_no_bearer_token() {
    let server = TestServer::start().await;
    let c = server.client(|c| c.require_dpop = true).await;
    let (status, body) = server.token(&c, &[]).await;
    assert_eq!(
        (status, body),
        (
            400,
            error(
                "invalid_dpop_proof",
                "this client must present a DPoP proof"
            )
        )
    );
    let key = DpopKey::new(SigningAlg::EdDSA);
    assert_eq!(
        token_with_proof(&server, &c, &[&key.proof(&server)])
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn server_nonces_are_required_when_configured() {
    let mut config = test_config();
    config.dpop.require_nonce = true;
    let server = TestServer::start_with(config, std::sync::Arc::new(SystemClock)).await;
    let c = server.client(|_| {}).await;
    let key = DpopKey::new(SigningAlg::ES256);
    let (status, headers, body) = token_with_proof(&server, &c, &[&key.proof(&server)]).await;
    assert_eq!(
        (status, body),
        (
            400,
            error(
                "use_dpop_nonce",
                "authorization server requires nonce in DPoP proof"
            )
        )
    );
    let nonce = headers["dpop-nonce"].to_str().unwrap().to_string();
    let mut bad = claims(&server);
    bad["nonce"] = json!("0.forged");
    assert_eq!(
        token_with_proof(&server, &c, &[&key.proof_with(bad)])
            .await
            .2["error"],
        "use_dpop_nonce"
    );
    let mut good = claims(&server);
    good["nonce"] = json!(nonce);
    let (status, headers, body) = token_with_proof(&server, &c, &[&key.proof_with(good)]).await;
    assert_eq!(status, 200, "{body}");
    assert!(headers.contains_key("dpop-nonce"));
}

#[tokio::test]
async fn metadata_advertises_dpop_algorithms() {
    let server = TestServer::start().await;
    let m: Value = server
        .http
        .get(server.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let algs = m["dpop_signing_alg_values_supported"].as_array().unwrap();
    assert!(algs.contains(&json!("ES256")) && algs.contains(&json!("EdDSA")));
    assert!(!algs.contains(&json!("HS256")) && !algs.contains(&json!("none")));
}
