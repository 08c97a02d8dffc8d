//! Revocation (RFC 7009) of opaque tokens and JWTs, with the `oauth2` crate's client.
use oauth2::basic::BasicClient;
use oauth2::{AccessToken, ClientId, ClientSecret, RevocationUrl, StandardRevocableToken};
use tessera_core::audit::EventKind;
use tessera_core::client::TokenFormat;

use crate::support::{TestServer, error};

#[tokio::test]
async fn oauth2_crate_revokes_jwt_and_opaque_tokens_and_introspection_reports_inactive() {
    // The oauth2 crate refuses a revocation URL that is not https (RFC 7009 §2): serve TLS.
    let server = TestServer::start_tls().await;
    for format in [TokenFormat::Jwt, TokenFormat::Opaque] {
        let c = server.client(|c| c.token_format = format).await;
        let token = server.access_token(&c).await;
        let client = BasicClient::new(ClientId::new(c.id.clone()))
            .set_client_secret(ClientSecret::new(c.secret.clone()))
            .set_revocation_url(RevocationUrl::new(server.url("/revoke")).unwrap());
        let http = server.http.clone();
        client
            .revoke_token(StandardRevocableToken::AccessToken(AccessToken::new(
                token.clone(),
            )))
            .unwrap()
            .request_async(&http)
            .await
            .unwrap();
        assert_eq!(
            server.introspect(&c, &token).await,
            serde_json::json!({"active": false}),
            "{format:?}"
        );
        // Revoking again is still 200 (RFC 7009 §2.2) and records nothing new.
        let (status, _, body) = server
            .post("/revoke", Some((&c.id, &c.secret)), &[("token", &token)])
            .await;
        assert_eq!((status, body), (200, serde_json::Value::Null));
    }
    let revoked = server.events_of(EventKind::TokenRevoked).await;
    assert_eq!(revoked.len(), 2);
}

#[tokio::test]
async fn unknown_tokens_answer_200() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    let (status, _, _) = server
        .post(
            "/revoke",
            Some((&c.id, &c.secret)),
            &[("token", "no-such-token")],
        )
        .await;
    assert_eq!(status, 200);
    assert!(server.events_of(EventKind::TokenRevoked).await.is_empty());
}

#[tokio::test]
async fn only_the_issuing_client_may_revoke_and_a_refusal_changes_nothing() {
    let server = TestServer::start().await;
    let owner = server
        .client(|c| c.token_format = TokenFormat::Opaque)
        .await;
    let other = server.client(|_| {}).await;
    let token = server.access_token(&owner).await;
    let (status, _, body) = server
        .post(
            "/revoke",
            Some((&other.id, &other.secret)),
            &[("token", &token)],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        error(
            "unauthorized_client",
            "the token was not issued to this client"
        )
    );
    assert_eq!(server.introspect(&owner, &token).await["active"], true);
    assert!(server.events_of(EventKind::TokenRevoked).await.is_empty());

    let (status, _, body) = server
        .post("/revoke", Some((&owner.id, "wrong")), &[("token", &token)])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(server.introspect(&owner, &token).await["active"], true);
}
