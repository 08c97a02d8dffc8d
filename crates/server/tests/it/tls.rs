//! `--tls-cert/--tls-key`: HTTPS with rustls; plain HTTP off loopback is refused.
use std::sync::Arc;

use tessera_core::clock::SystemClock;

use crate::support::{TestServer, test_config};

#[tokio::test]
async fn serves_https_with_the_configured_certificate() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let mut config = test_config();
    config.tls_cert = Some(cert_path);
    config.tls_key = Some(key_path);
    config.issuer = Some("https://localhost".into());
    let server = TestServer::start_with(config, Arc::new(SystemClock)).await;
    let c = server.client(|_| {}).await;
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .resolve("localhost", server.running.addr)
        .build()
        .unwrap();
    let url = format!("https://localhost:{}/token", server.running.addr.port());
    let resp = http
        .post(&url)
        .basic_auth(&c.id, Some(&c.secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // Plain HTTP to the TLS port fails.
    assert!(
        server
            .http
            .post(format!("http://{}/token", server.running.addr))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn plain_http_off_loopback_is_refused_unless_insecure_http() {
    let mut config = test_config();
    config.listen = "0.0.0.0:0".parse().unwrap();
    config.issuer = Some("https://auth.example.com".into());
    let err = config.check().unwrap_err().to_string();
    assert!(err.contains("refusing plain HTTP"), "{err}");
    config.insecure_http = true;
    assert!(config.check().is_ok());
    let mut config = test_config();
    config.issuer = Some("http://auth.example.com".into());
    assert!(
        config
            .check()
            .unwrap_err()
            .to_string()
            .contains("must be an https URL")
    );
}
