//! `private_key_jwt` client authentication (RFC 7523 §2.2): assertions signed with a JOSE library
//! by keys generated in the test; every rule has a negative case with its audit reason.
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tessera_core::audit::EventKind;
use tessera_core::client::{ClientKeys, Credential};
use tessera_core::clock::{Clock, SystemClock};
use tessera_core::keys::{KeyState, SigningAlg, StoredKey, generate_key};

use crate::support::{TestServer, error};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn sign(key: &StoredKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_ec_der(key.private_key.expose_secret()),
    )
    .unwrap()
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
            c.credential = Credential::PrivateKeyJwt(ClientKeys::Jwks(jwks.clone()));
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

    let mut other_signed = Header::new(Algorithm::ES256);
    other_signed.kid = Some(key.kid.clone());
    let forged = jsonwebtoken::encode(
        &other_signed,
        &claims(json!({})),
        &EncodingKey::from_ec_der(other.private_key.expose_secret()),
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
    assert_eq!(server.events_of(EventKind::TokenIssued).await.len(), 1);

    // A secret-based client cannot switch to assertions.
    let secret_client = server.client(|_| {}).await;
    let mut forged_claims = claims(json!({}));
    forged_claims["iss"] = json!(secret_client.id);
    forged_claims["sub"] = json!(secret_client.id);
    assert_eq!(present(&server, &sign(&key, &forged_claims)).await.0, 401);
}

/// A private_key_jwt client registered with `key` on `server`.
async fn assertion_client(server: &TestServer, key: &StoredKey) -> String {
    let jwks =
        json!({"keys": [serde_json::from_str::<Value>(&key.public_jwk).unwrap()]}).to_string();
    server
        .client(|c| {
            c.credential = Credential::PrivateKeyJwt(ClientKeys::Jwks(jwks.clone()));
        })
        .await
        .id
}

fn claims_with(id: &str, aud: Value, lifetime: u64) -> Value {
    let now = SystemClock.now();
    json!({"iss": id, "sub": id, "aud": aud, "exp": now + lifetime, "iat": now, "jti": jti()})
}

#[tokio::test]
async fn assertion_audience_is_the_issuer_alone() {
    // RFC 7523bis / the 2025 OpenID audience-injection advisory.
    let server = TestServer::start().await;
    let key = generate_key(SigningAlg::ES256, KeyState::Current, None, 0).unwrap();
    let id = assertion_client(&server, &key).await;
    let issuer = server.base.clone();
    let endpoint = server.url("/token");
    let refused = (
        401,
        error(
            "invalid_client",
            &format!("the client assertion's aud must be the issuer identifier {issuer:?}, alone"),
        ),
    );
    for aud in [json!(issuer), json!([issuer])] {
        let assertion = sign(&key, &claims_with(&id, aud.clone(), 60));
        assert_eq!(present(&server, &assertion).await.0, 200, "{aud}");
    }
    for aud in [
        json!(endpoint),
        json!([endpoint]),
        json!([issuer, "https://attacker.example"]),
        json!([issuer, endpoint]),
        json!("https://other.example"),
        json!([]),
    ] {
        let assertion = sign(&key, &claims_with(&id, aud.clone(), 60));
        assert_eq!(present(&server, &assertion).await, refused, "{aud}");
        let failed = server
            .events_of(EventKind::ClientAuthenticationFailed)
            .await;
        assert_eq!(
            failed.last().unwrap().reason.as_deref(),
            Some("assertion_audience_mismatch")
        );
    }

    // The per-server switch for old client libraries: the token endpoint URL too, but never
    // next to a third party.
    let mut config = crate::support::test_config();
    config.client_auth.insecure_accept_endpoint_audience = true;
    let server = TestServer::start_with(config, std::sync::Arc::new(SystemClock)).await;
    let id = assertion_client(&server, &key).await;
    let (issuer, endpoint) = (server.base.clone(), server.url("/token"));
    for aud in [
        json!(issuer),
        json!(endpoint),
        json!([endpoint]),
        json!([issuer, endpoint]),
    ] {
        let assertion = sign(&key, &claims_with(&id, aud.clone(), 60));
        assert_eq!(present(&server, &assertion).await.0, 200, "{aud}");
    }
    for aud in [
        json!([endpoint, "https://attacker.example"]),
        json!("https://other.example"),
    ] {
        let assertion = sign(&key, &claims_with(&id, aud.clone(), 60));
        assert_eq!(present(&server, &assertion).await.0, 401, "{aud}");
    }
}

#[tokio::test]
async fn assertions_valid_for_an_hour_are_accepted_and_the_limit_is_configurable() {
    // Authlib signs client assertions valid for 3600 s.
    let server = TestServer::start().await;
    let key = generate_key(SigningAlg::ES256, KeyState::Current, None, 0).unwrap();
    let id = assertion_client(&server, &key).await;
    let hour = sign(&key, &claims_with(&id, json!(server.base), 3600));
    assert_eq!(present(&server, &hour).await.0, 200);
    // The jti is kept until exp: the hour-long assertion cannot be replayed within it.
    assert_eq!(present(&server, &hour).await.0, 401);
    let longer = sign(&key, &claims_with(&id, json!(server.base), 3600 + 60));
    assert_eq!(present(&server, &longer).await.0, 401);
    let failed = server
        .events_of(EventKind::ClientAuthenticationFailed)
        .await;
    let reasons: Vec<_> = failed.iter().filter_map(|e| e.reason.as_deref()).collect();
    assert_eq!(
        reasons,
        ["assertion_replayed", "assertion_lifetime_too_long"]
    );

    let mut config = crate::support::test_config();
    config.client_auth.max_assertion_lifetime_secs = 600;
    let server = TestServer::start_with(config, std::sync::Arc::new(SystemClock)).await;
    let id = assertion_client(&server, &key).await;
    let ten_minutes = sign(&key, &claims_with(&id, json!(server.base), 600));
    assert_eq!(present(&server, &ten_minutes).await.0, 200);
    let hour = sign(&key, &claims_with(&id, json!(server.base), 3600));
    assert_eq!(present(&server, &hour).await.0, 401);
    // A far-future exp is refused, not an overflow.
    let mut forever = claims_with(&id, json!(server.base), 0);
    forever["exp"] = json!(u64::MAX);
    let forever = sign(&key, &forever);
    assert_eq!(present(&server, &forever).await.0, 401);
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

/// A client's JWK Set host: serves `body` at `/jwks` (a redirect at `/moved`, 404 elsewhere)
/// and counts the fetches.
pub(crate) struct JwksHost {
    pub(crate) base: String,
    body: std::sync::Arc<std::sync::Mutex<String>>,
    pub(crate) fetches: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    _task: tokio::task::JoinHandle<()>,
}

impl JwksHost {
    pub(crate) async fn start(body: String) -> Self {
        use axum::routing::get;
        let body = std::sync::Arc::new(std::sync::Mutex::new(body));
        let fetches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (b, f) = (body.clone(), fetches.clone());
        let app = axum::Router::new()
            .route(
                "/jwks",
                get(move || async move {
                    f.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    b.lock().unwrap().clone()
                }),
            )
            .route(
                "/moved",
                get(|| async { axum::response::Redirect::temporary("/jwks") }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base,
            body,
            fetches,
            _task: task,
        }
    }

    fn serve(&self, body: String) {
        *self.body.lock().unwrap() = body;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn jwks_of(keys: &[&StoredKey]) -> String {
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| serde_json::from_str(&k.public_jwk).unwrap())
        .collect();
    json!({ "keys": keys }).to_string()
}

/// A raw HTTP/1.1 answer on a plain socket, for what axum will not send: a body without
/// `Content-Length` (read until close), or no answer at all for `hold`.
fn raw_host(response: Vec<u8>, hold: std::time::Duration) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let response = response.clone();
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                std::thread::sleep(hold);
                let _ = stream.write_all(&response);
            });
        }
    });
    base
}

fn assertion_for(key: &StoredKey, client_id: &str, aud: &str, now: u64) -> String {
    sign(
        key,
        &json!({"iss": client_id, "sub": client_id, "aud": aud, "exp": now + 60, "iat": now, "jti": jti()}),
    )
}

async fn last_failure(server: &TestServer) -> Option<String> {
    server
        .events_of(EventKind::ClientAuthenticationFailed)
        .await
        .last()
        .and_then(|e| e.reason.clone())
}

#[tokio::test]
async fn jwks_uri_keys_verify_and_a_new_kid_is_fetched_once_per_interval() {
    use tessera_core::client_auth::jwks_uri::{CACHE_TTL_SECS, MIN_REFETCH_SECS};
    let clock = crate::support::fixed_clock();
    let server = TestServer::start_with(crate::support::test_config(), clock.clone()).await;
    let old = generate_key(SigningAlg::ES256, KeyState::Current, None, 0).unwrap();
    let new = generate_key(SigningAlg::ES256, KeyState::Current, None, 0).unwrap();
    let host = JwksHost::start(jwks_of(&[&old])).await;
    let c = server
        .client(|c| {
            c.credential =
                Credential::PrivateKeyJwt(ClientKeys::JwksUri(format!("{}/jwks", host.base)));
        })
        .await;
    let rejected = (401, error("invalid_client", "client authentication failed"));
    let assertion = |key: &StoredKey| assertion_for(key, &c.id, &server.base, clock.now());

    assert_eq!(present(&server, &assertion(&old)).await.0, 200);
    assert_eq!(present(&server, &assertion(&old)).await.0, 200);
    assert_eq!(host.fetches(), 1, "the set is cached");

    // The client rotates: its URI now publishes only the new key.
    host.serve(jwks_of(&[&new]));
    clock.advance(1);
    // Just fetched: the unknown kid does not make us fetch again yet.
    assert_eq!(present(&server, &assertion(&new)).await, rejected);
    assert_eq!(
        last_failure(&server).await.as_deref(),
        Some("unknown_assertion_key")
    );
    assert_eq!(host.fetches(), 1);
    clock.advance(MIN_REFETCH_SECS);
    assert_eq!(present(&server, &assertion(&new)).await.0, 200);
    assert_eq!(host.fetches(), 2, "one refetch for the unknown kid");
    // The retired key is gone at once (the set is replaced, not merged), and made-up kids
    // within the interval cost no fetch.
    assert_eq!(present(&server, &assertion(&old)).await, rejected);
    for _ in 0..5 {
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some(jti());
        let made_up = jsonwebtoken::encode(
            &h,
            &json!({"iss": c.id, "sub": c.id, "aud": server.base, "exp": clock.now() + 60, "jti": jti()}),
            &EncodingKey::from_ec_der(new.private_key.expose_secret()),
        )
        .unwrap();
        assert_eq!(present(&server, &made_up).await, rejected);
    }
    assert_eq!(host.fetches(), 2);
    // After the cache lifetime the set is fetched again even for a known kid.
    clock.advance(CACHE_TTL_SECS);
    assert_eq!(present(&server, &assertion(&new)).await.0, 200);
    assert_eq!(host.fetches(), 3);
    assert_eq!(server.events_of(EventKind::TokenIssued).await.len(), 4);
}

#[tokio::test]
async fn jwks_uri_that_cannot_serve_a_public_set_is_invalid_client() {
    let clock = crate::support::fixed_clock();
    let server = TestServer::start_with(crate::support::test_config(), clock.clone()).await;
    let key = generate_key(SigningAlg::ES256, KeyState::Current, None, 0).unwrap();
    let mut private = serde_json::from_str::<Value>(&key.public_jwk).unwrap();
    private["d"] = json!("c2VjcmV0");
    let host = JwksHost::start(json!({ "keys": [private] }).to_string()).await;
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/jwks", l.local_addr().unwrap())
    };
    let big_doc = format!(
        "{{\"keys\":[{}],\"padding\":\"{}\"}}",
        key.public_jwk,
        "x".repeat(70 * 1024)
    );
    let oversized = JwksHost::start(big_doc.clone()).await;
    let unannounced = raw_host(
        format!("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{big_doc}").into_bytes(),
        std::time::Duration::ZERO,
    );
    let silent = raw_host(Vec::new(), std::time::Duration::from_secs(5));
    let cases = [
        (down, "jwks_uri_unreachable"),
        (format!("{}/moved", host.base), "jwks_uri_unreachable"),
        (format!("{}/missing", host.base), "jwks_uri_unreachable"),
        (format!("{silent}/jwks"), "jwks_uri_unreachable"),
        (format!("{}/jwks", oversized.base), "jwks_uri_too_large"),
        (format!("{unannounced}/jwks"), "jwks_uri_too_large"),
        (format!("{}/jwks", host.base), "jwks_uri_private_key"),
    ];
    for (uri, reason) in cases {
        let c = server
            .client(|c| {
                c.credential = Credential::PrivateKeyJwt(ClientKeys::JwksUri(uri.clone()));
            })
            .await;
        let started = std::time::Instant::now();
        let assertion = assertion_for(&key, &c.id, &server.base, clock.now());
        assert_eq!(
            present(&server, &assertion).await,
            (401, error("invalid_client", "client authentication failed")),
            "{uri}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(4),
            "{uri}"
        );
        assert_eq!(
            last_failure(&server).await.as_deref(),
            Some(reason),
            "{uri}"
        );
    }
    // The redirect was not followed: the target was never fetched.
    assert_eq!(host.fetches(), 1);
    assert!(server.events_of(EventKind::TokenIssued).await.is_empty());
}

#[tokio::test]
async fn jwks_uri_fetches_reach_only_public_addresses_unless_allowed() {
    let key = generate_key(SigningAlg::ES256, KeyState::Current, None, 0).unwrap();
    let host = JwksHost::start(jwks_of(&[&key])).await;
    let port = host.base.rsplit(':').next().unwrap().to_string();
    // A server whose issuer is not on loopback: its clients' key servers are not either.
    let issuer = "https://as.example";
    let mut config = crate::support::test_config();
    config.issuer = Some(issuer.into());
    let strict = TestServer::start_with(config.clone(), crate::support::fixed_clock()).await;
    config.client_auth.insecure_jwks_uri_private_addresses = true;
    let internal = TestServer::start_with(config, crate::support::fixed_clock()).await;
    let cases = [
        format!("http://127.0.0.1:{port}/jwks"),
        format!("http://localhost:{port}/jwks"),
        format!("https://[::ffff:127.0.0.1]:{port}/jwks"),
        "https://169.254.169.254/latest/meta-data".to_string(),
        "https://10.0.0.1/jwks".to_string(),
        "https://192.168.1.1/jwks".to_string(),
        "https://[fd00::1]/jwks".to_string(),
    ];
    for uri in &cases {
        let c = strict
            .client(|c| {
                c.credential = Credential::PrivateKeyJwt(ClientKeys::JwksUri(uri.clone()));
            })
            .await;
        let now = SystemClock.now();
        let assertion = assertion_for(&key, &c.id, issuer, now);
        assert_eq!(present(&strict, &assertion).await.0, 401, "{uri}");
        assert_eq!(
            last_failure(&strict).await.as_deref(),
            Some("jwks_uri_address_not_allowed"),
            "{uri}"
        );
    }
    assert_eq!(host.fetches(), 0, "nothing was fetched");
    // With the switch, the loopback key server is reached (link-local never is).
    for (uri, status) in [
        (format!("http://127.0.0.1:{port}/jwks"), 200),
        (format!("http://localhost:{port}/jwks"), 200),
        ("https://169.254.169.254/latest/meta-data".to_string(), 401),
    ] {
        let c = internal
            .client(|c| {
                c.credential = Credential::PrivateKeyJwt(ClientKeys::JwksUri(uri.clone()));
            })
            .await;
        let now = SystemClock.now();
        let assertion = assertion_for(&key, &c.id, issuer, now);
        assert_eq!(present(&internal, &assertion).await.0, status, "{uri}");
    }
    assert_eq!(
        last_failure(&internal).await.as_deref(),
        Some("jwks_uri_address_not_allowed")
    );
    assert!(host.fetches() >= 1);
}
