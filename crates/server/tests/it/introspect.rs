//! Introspection (RFC 7662) of JWT and opaque tokens, with the `oauth2` crate's client.
use oauth2::basic::BasicClient;
use oauth2::{AccessToken, ClientId, ClientSecret, IntrospectionUrl, TokenIntrospectionResponse};
use tessera_core::audit::EventKind;
use tessera_core::client::TokenFormat;

use crate::support::{API, TestServer, error, fixed_clock, test_config};

#[tokio::test]
async fn oauth2_crate_introspects_jwt_and_opaque_tokens() {
    let server = TestServer::start().await;
    for format in [TokenFormat::Jwt, TokenFormat::Opaque] {
        let c = server.client(|c| c.token_format = format).await;
        let token = server.access_token(&c).await;
        let client = BasicClient::new(ClientId::new(c.id.clone()))
            .set_client_secret(ClientSecret::new(c.secret.clone()))
            .set_introspection_url(IntrospectionUrl::new(server.url("/introspect")).unwrap());
        let http = oauth2::reqwest::Client::new();
        let resp = client
            .introspect(&AccessToken::new(token.clone()))
            .request_async(&http)
            .await
            .unwrap();
        assert!(resp.active(), "{format:?}");
        assert_eq!(resp.client_id().map(|c| c.as_str()), Some(c.id.as_str()));
        assert_eq!(resp.sub(), Some(c.id.as_str()));
        assert_eq!(resp.iss(), Some(server.base.as_str()));
        assert!(
            resp.exp().is_some()
                && resp.iat().is_some()
                && resp.nbf().is_some()
                && resp.jti().is_some()
        );

        let body = server.introspect(&c, &token).await;
        assert_eq!(body["aud"], API);
        assert_eq!(body["scope"], "deploy:read");
        assert_eq!(body["token_type"], "Bearer");
    }
    let events = server.events_of(EventKind::TokenIntrospected).await;
    assert_eq!(events.len(), 4);
    assert!(events.iter().all(|e| e.reason.as_deref() == Some("active")));
}

#[tokio::test]
async fn unknown_forged_and_expired_tokens_are_inactive() {
    let clock = fixed_clock();
    let server = TestServer::start_with(test_config(), clock.clone()).await;
    let c = server.client(|_| {}).await;
    let o = server
        .client(|c| c.token_format = TokenFormat::Opaque)
        .await;
    let jwt = server.access_token(&c).await;
    let opaque = server.access_token(&o).await;

    let inactive = serde_json::json!({"active": false});
    assert_eq!(server.introspect(&c, "nonsense").await, inactive);
    assert_eq!(server.introspect(&c, "a.b.c").await, inactive);
    // A forged signature: flip the last character of the JWT.
    let mut forged = jwt.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(server.introspect(&c, &forged).await, inactive);
    // A well-formed opaque token that was never issued, and a typo of a real one.
    let never = tessera_proto::TokenString::generate(tessera_proto::TokenKind::AccessToken, 1);
    assert_eq!(server.introspect(&o, never.expose_secret()).await, inactive);
    let mut typo = opaque.clone().into_bytes();
    typo[12] = if typo[12] == b'x' { b'y' } else { b'x' };
    let typo = String::from_utf8(typo).unwrap();
    assert_eq!(server.introspect(&o, &typo).await, inactive);

    clock.advance(301);
    assert_eq!(server.introspect(&c, &jwt).await, inactive);
    assert_eq!(server.introspect(&o, &opaque).await, inactive);
}

#[tokio::test]
async fn introspection_requires_client_authentication() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    let token = server.access_token(&c).await;
    let (status, headers, body) = server.post("/introspect", None, &[("token", &token)]).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        error("invalid_client", "client authentication failed")
    );
    assert!(headers.get("www-authenticate").is_none());
    let (status, headers, _) = server
        .post("/introspect", Some((&c.id, "bad")), &[("token", &token)])
        .await;
    assert_eq!(status, 401);
    assert!(headers.get("www-authenticate").is_some());
    let (status, _, body) = server
        .post("/introspect", Some((&c.id, &c.secret)), &[])
        .await;
    assert_eq!(status, 400);
    assert_eq!(body, error("invalid_request", "parameter token is missing"));
    assert!(
        server
            .events_of(EventKind::TokenIntrospected)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_resource_server_client_introspects_and_the_event_names_both() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    let rs = server
        .client(|c| {
            c.audiences = vec![];
            c.resource_uris = vec![API.into()];
        })
        .await;
    let token = server.access_token(&c).await;
    assert_eq!(server.introspect(&rs, &token).await["active"], true);
    let event = server
        .events_of(EventKind::TokenIntrospected)
        .await
        .pop()
        .unwrap();
    assert_eq!(event.client_id.as_deref(), Some(c.id.as_str()));
    assert_eq!(event.caller_id.as_deref(), Some(rs.id.as_str()));
}

/// RFC 7662 §2.2 / §4: only callers allowed to know learn about a token — its own client, a
/// resource server it is addressed to, a `tessera:introspect` (or `tessera:admin`) caller; any
/// other client gets exactly what an unknown token gets.
#[tokio::test]
async fn only_callers_allowed_to_know_learn_about_a_token() {
    let server = TestServer::start().await;
    let inactive = serde_json::json!({"active": false});
    for format in [TokenFormat::Jwt, TokenFormat::Opaque] {
        let owner = server.client(|c| c.token_format = format).await;
        let token = server.access_token(&owner).await;
        let peer = server.client(|_| {}).await;
        let rs = server
            .client(|c| {
                c.audiences = vec![];
                c.resource_uris = vec!["https://other.example.com".into(), API.into()];
            })
            .await;
        let other_rs = server
            .client(|c| {
                c.audiences = vec![];
                c.resource_uris = vec!["https://other.example.com".into()];
            })
            .await;
        let auditor = server
            .client(|c| c.scopes = vec!["tessera:introspect".into()])
            .await;
        let admin = server
            .client(|c| c.scopes = vec!["tessera:admin".into()])
            .await;
        for allowed in [&owner, &rs, &auditor, &admin] {
            let body = server.introspect(allowed, &token).await;
            assert_eq!(body["active"], true, "{format:?} {}", allowed.id);
            assert_eq!(body["client_id"], owner.id.as_str());
        }
        // A fellow client of the same API, and a resource server for another API.
        for refused in [&peer, &other_rs] {
            assert_eq!(
                server.introspect(refused, &token).await,
                inactive,
                "{format:?}"
            );
        }
        // Indistinguishable from a token that does not exist.
        assert_eq!(server.introspect(&peer, "tsr_at_nonsense").await, inactive);
    }
    let events = server.events_of(EventKind::TokenIntrospected).await;
    let refused: Vec<_> = events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("caller_not_allowed"))
        .collect();
    assert_eq!(refused.len(), 4, "two refused callers, two formats");
    assert!(
        refused
            .iter()
            .all(|e| e.client_id.is_some() && e.caller_id.is_some())
    );
}
