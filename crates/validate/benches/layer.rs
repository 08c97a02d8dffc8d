//! The per-request cost of `ValidateTokenLayer` for an ES256 JWT with the JWKS cached (the whole
//! layer: header parsing, JOSE checks, signature, claims, revocation and scope checks, the
//! boxed future, an empty inner service), next to the raw ES256 verification of the same token
//! by the crypto library (aws-lc-rs) and by jsonwebtoken. `layer` sends the same token every
//! time, so after the first request it is answered from the cache of verified JWTs;
//! `layer_uncached` has that cache off and verifies the signature every time. The issue's
//! target: the uncached layer at ≥ 80 % of the raw verify rate on one core. The machine is shared: compare the ratio of one
//! run, not absolutes (`bench/layer.sh` prints it).
use std::convert::Infallible;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use axum::body::Body;
use axum::http::{Request, Response, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use tessera_validate::{ValidateConfig, ValidateTokenLayer};
use tower::{Layer, Service, ServiceExt};

const API: &str = "https://api.example.com";

/// A minimal issuer: metadata and a JWK Set with one ES256 key, on 127.0.0.1:0.
async fn issuer(jwk: serde_json::Value) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let metadata = serde_json::json!({"issuer": base, "jwks_uri": format!("{base}/jwks")});
    let jwks = serde_json::json!({"keys": [jwk]});
    let app = axum::Router::new()
        .route(
            "/.well-known/oauth-authorization-server",
            axum::routing::get(move || async move { axum::Json(metadata) }),
        )
        .route(
            "/jwks",
            axum::routing::get(move || async move { axum::Json(jwks) }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    let point = pair.public_key().as_ref().to_vec(); // 0x04 || x || y
    let jwk = serde_json::json!({
        "kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
        "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..65]),
    });
    let base = rt.block_on(issuer(jwk.clone()));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut head = Header::new(Algorithm::ES256);
    head.typ = Some("at+jwt".into());
    head.kid = Some("k1".into());
    // A token as Tessera mints it (RFC 9068 claims), valid for the whole run.
    let claims = serde_json::json!({
        "iss": base, "sub": "client-7f3a9c", "aud": API, "exp": now + 3600, "iat": now,
        "nbf": now, "jti": "01JD6ZK4Q8W3V2C5N7B9X1M0PR", "client_id": "client-7f3a9c",
        "scope": "deploy:read deploy:write",
    });
    let token =
        jsonwebtoken::encode(&head, &claims, &EncodingKey::from_ec_der(pkcs8.as_ref())).unwrap();
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let signature_bytes = B64.decode(signature).unwrap();

    let mut config = ValidateConfig::new(base, API);
    config.required_scopes.push("deploy:read".into());
    let layer = rt
        .block_on(ValidateTokenLayer::new(config.clone()))
        .unwrap();
    let uncached = rt
        .block_on(ValidateTokenLayer::new(config.with_jwt_cache(0)))
        .unwrap();
    let inner = tower::service_fn(|_req: Request<Body>| async {
        Ok::<_, Infallible>(Response::new(Body::empty()))
    });
    let mut service = layer.layer(inner);
    let mut uncached_service = uncached.layer(inner);
    let bearer = header::HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    let request = || {
        Request::builder()
            .uri("/deploys/42")
            .header(header::AUTHORIZATION, bearer.clone())
            .header(header::HOST, "api.example.com")
            .body(Body::empty())
            .unwrap()
    };
    // Sanity: both layers accept the token.
    let status = rt.block_on(async {
        let svc = service.ready().await.unwrap();
        svc.call(request()).await.unwrap().status()
    });
    assert_eq!(status, 200, "the bench token must be accepted");
    let status = rt.block_on(async {
        let svc = uncached_service.ready().await.unwrap();
        svc.call(request()).await.unwrap().status()
    });
    assert_eq!(status, 200, "the bench token must be accepted");

    let mut group = c.benchmark_group("es256");
    group.bench_function("aws_lc_rs_verify", |b| {
        let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point.clone());
        b.iter(|| {
            key.verify(
                std::hint::black_box(signing_input.as_bytes()),
                &signature_bytes,
            )
            .unwrap()
        })
    });
    group.bench_function("jsonwebtoken_verify", |b| {
        let key = DecodingKey::from_jwk(&serde_json::from_value(jwk.clone()).unwrap()).unwrap();
        b.iter(|| {
            assert!(
                jsonwebtoken::crypto::verify(
                    signature,
                    std::hint::black_box(signing_input.as_bytes()),
                    &key,
                    Algorithm::ES256,
                )
                .unwrap()
            )
        })
    });
    group.bench_function("layer", |b| {
        b.iter_batched(
            request,
            |req| {
                rt.block_on(async {
                    let svc = service.ready().await.unwrap();
                    let resp = svc.call(req).await.unwrap();
                    debug_assert_eq!(resp.status(), 200);
                    resp
                })
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("layer_uncached", |b| {
        b.iter_batched(
            request,
            |req| {
                rt.block_on(async {
                    let svc = uncached_service.ready().await.unwrap();
                    let resp = svc.call(req).await.unwrap();
                    debug_assert_eq!(resp.status(), 200);
                    resp
                })
            },
            BatchSize::SmallInput,
        )
    });
    assert_eq!(uncached.validator().jwt_cache_stats().hits, 0);
    assert!(layer.validator().jwt_cache_stats().hits > 0);
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
