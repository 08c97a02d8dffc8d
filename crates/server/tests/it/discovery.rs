//! RFC 8414 metadata, the JWK Set, health and metrics.
use crate::support::TestServer;

#[tokio::test]
async fn metadata_advertises_every_endpoint() {
    let server = TestServer::start().await;
    let m: serde_json::Value = server
        .http
        .get(server.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(m["issuer"], server.base);
    assert_eq!(m["token_endpoint"], server.url("/token"));
    assert_eq!(m["introspection_endpoint"], server.url("/introspect"));
    assert_eq!(m["revocation_endpoint"], server.url("/revoke"));
    assert_eq!(m["jwks_uri"], server.url("/jwks"));
    assert_eq!(m["authorization_endpoint"], server.url("/authorize"));
    assert_eq!(m["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        m["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(m["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        m["grant_types_supported"],
        serde_json::json!([
            "client_credentials",
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:token-exchange"
        ])
    );
    assert_eq!(
        m["token_endpoint_auth_methods_supported"],
        serde_json::json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "tls_client_auth",
            "self_signed_tls_client_auth",
            "none"
        ])
    );
    assert_eq!(
        m["introspection_endpoint_auth_methods_supported"],
        serde_json::json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "tls_client_auth",
            "self_signed_tls_client_auth"
        ])
    );
    let jwks: serde_json::Value = server
        .http
        .get(server.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3);
    for k in keys {
        assert!(k["kid"].is_string() && k["alg"].is_string());
        assert!(
            k.get("d").is_none() && k.get("p").is_none(),
            "private parts published: {k}"
        );
    }
}

#[tokio::test]
async fn admin_listener_serves_health_and_metrics() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    server.access_token(&c).await;
    let admin = format!("http://{}", server.running.admin_addr);
    let health = server
        .http
        .get(format!("{admin}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let metrics = server
        .http
        .get(format!("{admin}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"tessera_requests_total{endpoint="token",outcome="ok"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(&format!(
        r#"tessera_tokens_issued_total{{client_id="{}",format="jwt"}} 1"#,
        c.id
    )));
    assert!(metrics.contains("tessera_signing_key_age_seconds"));
    assert!(metrics.contains("tessera_request_duration_seconds_bucket"));
    // The protocol listener does not serve them.
    assert_eq!(
        server
            .http
            .get(server.url("/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}
