//! Certificate-bound tokens (RFC 8705 §3): the embedding server hands the connection's client
//! certificate to the layer as a `ClientCertificate` extension; here a tiny middleware stands in
//! for the TLS listener, taking the DER from a test header.
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use tessera_validate::{ClientCertificate, TokenClaims, ValidateTokenLayer};

use crate::support::{As, invalid_token, read, rs_config};

async fn fake_tls(mut req: Request, next: Next) -> Response {
    if let Some(der) = req.headers().get("x-test-cert").cloned() {
        req.extensions_mut().insert(ClientCertificate {
            der: Arc::from(der.as_bytes()),
            chain_verified: false,
        });
    }
    next.run(req).await
}

#[tokio::test]
async fn a_certificate_bound_token_needs_the_same_certificate() {
    let a = As::start().await;
    let layer = ValidateTokenLayer::new(rs_config(&a)).await.unwrap();
    let app = Router::new()
        .route("/whoami", get(|c: TokenClaims| async move { c.subject }))
        .layer(layer.clone())
        .layer(axum::middleware::from_fn(fake_tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let cert = ClientCertificate {
        der: Arc::from(&b"certificate-one"[..]),
        chain_verified: false,
    };
    let mut claims = a.claims();
    claims["cnf"] = serde_json::json!({"x5t#S256": cert.x5t_s256()});
    let token = a.sign(&claims).await;
    let http = reqwest::Client::new();
    let send = |cert: Option<&'static str>| {
        let mut req = http
            .get(format!("http://{addr}/whoami"))
            .bearer_auth(&token);
        if let Some(c) = cert {
            req = req.header("x-test-cert", c);
        }
        async move { read(req.send().await.unwrap()).await }
    };
    let refused = invalid_token("the access token is bound to another client certificate");
    assert_eq!(send(None).await.1, refused);
    assert_eq!(send(Some("certificate-two")).await.1, refused);
    let (status, _, _) = send(Some("certificate-one")).await;
    assert_eq!(status, 200);
    // Verified once; the binding is checked again on every request answered from the cache.
    assert_eq!(send(Some("certificate-two")).await.1, refused);
    assert_eq!(send(None).await.1, refused);
    let stats = layer.validator().jwt_cache_stats();
    assert_eq!((stats.verifications, stats.hits), (1, 4));
}
