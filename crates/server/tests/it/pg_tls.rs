//! TLS to PostgreSQL: `sslmode=require&sslrootcert=CA.pem` connects over TLS, verifying the
//! server's certificate and name; a wrong CA, or no CA, is refused at start with a clear error.
//! The private cluster ([`PgCluster::start_tls`]) rejects plain TCP, so a node that serves on it
//! is proven to speak TLS.
use tessera_core::client::TokenFormat;

use crate::support::pg_cluster::PgCluster;
use crate::support::{TestServer, test_config};

fn pem(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    // Percent-encoded as a URL parameter value (temporary paths hold no '&' or '%', but say so).
    path.display()
        .to_string()
        .replace('%', "%25")
        .replace('&', "%26")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_verified_tls() {
    let server_cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let (cert, key) = (
        server_cert.cert.pem(),
        server_cert.signing_key.serialize_pem(),
    );
    let pg = tokio::task::spawn_blocking(move || PgCluster::start_tls(&cert, &key))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = pem(dir.path(), "ca.pem", &server_cert.cert.pem());
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let wrong_ca = pem(dir.path(), "other.pem", &other.cert.pem());

    let plain = tessera_store::open(&pg.url())
        .await
        .err()
        .expect("plain TCP is rejected");
    assert!(plain.contains("connecting to PostgreSQL"), "{plain}");

    let err = tessera_store::open(&format!("{}?sslmode=require", pg.url()))
        .await
        .err()
        .expect("TLS without a CA to verify against");
    assert!(err.contains("sslrootcert"), "{err}");

    let url = format!("{}?sslmode=require&sslrootcert={wrong_ca}", pg.url());
    let err = tessera_store::open(&url)
        .await
        .err()
        .expect("a certificate from another CA");
    assert!(err.contains("connecting to PostgreSQL"), "{err}");

    let url = format!("{}?sslmode=require&sslrootcert={ca}", pg.url());
    tessera_store::postgres::migrate(&url).await.unwrap();
    let server = TestServer::start_on(test_config(), &url).await;
    let c = server
        .client(|c| c.token_format = TokenFormat::Opaque)
        .await;
    let token = server.access_token(&c).await;
    assert_eq!(server.introspect(&c, &token).await["active"], true);
}
