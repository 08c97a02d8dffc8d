//! The token endpoint with a real OAuth client, and the JWT checked with an independent JOSE
//! library against the served JWKS.
use jwt_simple::prelude::*;
use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use tessera_core::audit::EventKind;
use tessera_core::client::{Credential, SecretMethod, TokenFormat};
use tessera_core::keys::SigningAlg;

use crate::support::{API, TestServer};

pub type TokenClient = oauth2::basic::BasicClient<
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

pub fn oauth_client(server: &TestServer, id: &str, secret: &str) -> TokenClient {
    BasicClient::new(ClientId::new(id.into()))
        .set_client_secret(ClientSecret::new(secret.into()))
        .set_token_uri(TokenUrl::new(server.url("/token")).unwrap())
}

async fn jwks(server: &TestServer) -> serde_json::Value {
    server
        .http
        .get(server.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn oauth2_crate_gets_an_es256_jwt_that_verifies_against_the_jwks() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    let http = oauth2::reqwest::Client::new();
    let token = oauth_client(&server, &c.id, &c.secret)
        .exchange_client_credentials()
        .add_scope(Scope::new("deploy:read".into()))
        .add_extra_param("resource", API)
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(token.expires_in().unwrap().as_secs(), 300);
    assert_eq!(
        token.scopes().unwrap(),
        &vec![Scope::new("deploy:read".into())]
    );
    let jwt = token.access_token().secret();

    // Independent verification (jwt-simple, pure Rust) against the served JWKS.
    let metadata = Token::decode_metadata(jwt).unwrap();
    assert_eq!(metadata.algorithm(), "ES256");
    assert_eq!(metadata.signature_type(), Some("at+jwt"));
    let keys = jwks(&server).await;
    let jwk = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == metadata.key_id().unwrap())
        .unwrap();
    let x = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        jwk["x"].as_str().unwrap(),
    )
    .unwrap();
    let y = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        jwk["y"].as_str().unwrap(),
    )
    .unwrap();
    let mut sec1 = vec![4u8];
    sec1.extend(x);
    sec1.extend(y);
    let key = ES256PublicKey::from_bytes(&sec1).unwrap();
    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from_strings(std::slice::from_ref(&server.base))),
        allowed_audiences: Some(HashSet::from_strings(&[API])),
        ..Default::default()
    };
    let claims = key
        .verify_token::<serde_json::Value>(jwt, Some(options))
        .unwrap();
    assert_eq!(claims.subject.as_deref(), Some(c.id.as_str()));
    assert_eq!(claims.custom["client_id"], c.id.as_str());
    assert_eq!(claims.custom["scope"], "deploy:read");
    assert!(claims.jwt_id.is_some());
    let exp = claims.expires_at.unwrap().as_secs();
    let iat = claims.issued_at.unwrap().as_secs();
    assert_eq!(exp - iat, 300);

    let issued = server.events_of(EventKind::TokenIssued).await;
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].client_id.as_deref(), Some(c.id.as_str()));
    assert_eq!(issued[0].token_id.as_deref(), claims.jwt_id.as_deref());
    assert_eq!(issued[0].resource.as_deref(), Some(API));
    assert_eq!(
        issued[0].ip.map(|i| i.to_string()).as_deref(),
        Some("127.0.0.1")
    );
    assert!(!issued[0].to_json().contains(jwt.as_str()));
}

#[tokio::test]
async fn eddsa_and_rs256_clients_get_tokens_signed_with_their_algorithm() {
    let server = TestServer::start().await;
    for alg in [SigningAlg::EdDSA, SigningAlg::RS256] {
        let c = server.client(|c| c.jwt_alg = alg).await;
        let jwt = server.access_token(&c).await;
        let metadata = Token::decode_metadata(&jwt).unwrap();
        assert_eq!(metadata.algorithm(), alg.as_str());
        let keys = jwks(&server).await;
        let jwk = keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == metadata.key_id().unwrap())
            .unwrap();
        let b64 = |v: &serde_json::Value| {
            base64::Engine::decode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                v.as_str().unwrap(),
            )
            .unwrap()
        };
        let claims = match alg {
            SigningAlg::EdDSA => Ed25519PublicKey::from_bytes(&b64(&jwk["x"]))
                .unwrap()
                .verify_token::<NoCustomClaims>(&jwt, None),
            _ => RS256PublicKey::from_components(&b64(&jwk["n"]), &b64(&jwk["e"]))
                .unwrap()
                .verify_token::<NoCustomClaims>(&jwt, None),
        }
        .unwrap();
        assert_eq!(claims.subject.as_deref(), Some(c.id.as_str()));
    }
}

#[tokio::test]
async fn opaque_tokens_are_prefixed_checksummed_and_stored_as_hashes() {
    let server = TestServer::start().await;
    let c = server
        .client(|c| c.token_format = TokenFormat::Opaque)
        .await;
    let (status, body) = server.token(&c, &[("scope", "deploy:write")]).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "deploy:write");
    let token = body["access_token"].as_str().unwrap();
    let parsed = tessera_proto::TokenString::parse(token).unwrap();
    assert_eq!(parsed.kind, tessera_proto::TokenKind::AccessToken);
    let row = server
        .store
        .get_access_token(parsed.selector)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.hash, parsed.hash);
    assert_eq!(row.scope, "deploy:write");
    assert_eq!(row.audience.as_deref(), Some(API));
}

#[tokio::test]
async fn a_post_client_may_also_use_basic_but_a_basic_client_may_not_post_its_secret() {
    let server = TestServer::start().await;
    let post = server
        .client(|c| {
            c.credential = Credential::Secret {
                method: SecretMethod::Post,
                secrets: c.credential.secrets().unwrap().clone(),
            }
        })
        .await;
    let (status, _, body) = server
        .post(
            "/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &post.id),
                ("client_secret", &post.secret),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // RFC 6749 §2.3.1: the server MUST support Basic for every client issued a password (OAuth
    // libraries revoke and introspect with Basic whatever the token endpoint used).
    let (status, body) = server.token(&post, &[]).await;
    assert_eq!(status, 200, "{body}");
    // The converse is not allowed: a secret in the body only for clients registered for it.
    let basic = server.client(|_| {}).await;
    let (status, _, body) = server
        .post(
            "/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &basic.id),
                ("client_secret", &basic.secret),
            ],
        )
        .await;
    assert_eq!(status, 401, "{body}");
    let failed = server
        .events_of(EventKind::ClientAuthenticationFailed)
        .await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].reason.as_deref(), Some("auth_method_not_allowed"));
    assert_eq!(failed[0].client_id.as_deref(), Some(basic.id.as_str()));
}

#[tokio::test]
async fn lifetime_is_the_clients_own_capped_by_the_server_maximum() {
    let server = TestServer::start().await;
    let short = server.client(|c| c.access_token_ttl = Some(60)).await;
    let long = server.client(|c| c.access_token_ttl = Some(86_400)).await;
    assert_eq!(server.token(&short, &[]).await.1["expires_in"], 60);
    assert_eq!(server.token(&long, &[]).await.1["expires_in"], 3600);
}

#[tokio::test]
async fn token_responses_forbid_caching() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    let (status, headers, _) = server
        .post(
            "/token",
            Some((&c.id, &c.secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["pragma"], "no-cache");
}
