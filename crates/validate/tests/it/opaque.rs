//! Opaque `tsr_at_` tokens: introspection with the resource server's credentials, and refusal
//! without them.
use tessera_core::client::TokenFormat;

use crate::support::{As, Rs, invalid_token, rs_config};

#[tokio::test]
async fn an_opaque_token_is_introspected_and_cached() {
    let a = As::start().await;
    let c = a.client(|c| c.token_format = TokenFormat::Opaque).await;
    let rs_client = a.rs_client().await;
    let mut config = rs_config(&a).with_client(&rs_client.id, &rs_client.secret);
    config.revocation_poll = None;
    let rs = Rs::start(config).await;
    let token = a.token(&c).await;
    assert!(token.starts_with("tsr_at_"));
    let (status, _, body) = rs.get("/whoami", Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["format"], "opaque");
    assert_eq!(body["client_id"], c.id.as_str());
    assert_eq!(body["scopes"], serde_json::json!(["deploy:read"]));
    // A second use is answered from the cache.
    assert_eq!(rs.get("/whoami", Some(&token)).await.0, 200);

    // A broken checksum never reaches the issuer; an unknown token is inactive.
    let mut broken = token.clone();
    broken.pop();
    broken.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(
        rs.get("/whoami", Some(&broken)).await.1,
        invalid_token("the access token is malformed")
    );
    let unknown =
        tessera_proto::TokenString::generate(tessera_proto::TokenKind::AccessToken, 999_999);
    assert_eq!(
        rs.get("/whoami", Some(unknown.expose_secret())).await.1,
        invalid_token("the access token is not active")
    );
}

#[tokio::test]
async fn without_credentials_opaque_tokens_are_refused() {
    let a = As::start().await;
    let c = a.client(|c| c.token_format = TokenFormat::Opaque).await;
    let rs = Rs::start(rs_config(&a)).await;
    let token = a.token(&c).await;
    assert_eq!(
        rs.get("/whoami", Some(&token)).await.1,
        invalid_token("opaque access tokens are not accepted here")
    );
}
