//! The refresh token grant (RFC 6749 §6): rotation, reuse detection revoking the family
//! (RFC 9700 §4.14.2), DPoP-bound refresh tokens of public clients (RFC 9449 §5), narrowing
//! scope, and RFC 7009 revocation of a refresh token cascading to its access tokens.
use serde_json::json;
use tessera_core::audit::EventKind;
use tessera_core::client::TokenFormat;
use tessera_core::keys::SigningAlg;

use crate::dpop::DpopKey;
use crate::support::flow::*;
use crate::support::{TestClient, TestServer, error};

const SPENT: (&str, &str) = (
    "invalid_grant",
    "the refresh token is invalid, expired or revoked",
);

async fn tokens(server: &TestServer, c: &TestClient, dpop: Option<&DpopKey>) -> serde_json::Value {
    let (verifier, challenge) = pkce();
    let code = get_code(server, c, &challenge, &[]).await;
    let proof = dpop.map(|k| k.proof(server));
    let (status, body) = exchange(server, c, &code, &verifier, proof.as_deref()).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn s(v: &serde_json::Value, k: &str) -> String {
    v[k].as_str().unwrap().to_string()
}

#[tokio::test]
async fn reuse_of_a_rotated_token_revokes_the_whole_family() {
    let server = TestServer::start().await;
    let c = code_client(&server, false, |c| c.token_format = TokenFormat::Opaque).await;
    let first = tokens(&server, &c, None).await;
    let (status, second) = refresh(&server, &c, &s(&first, "refresh_token"), None).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(
        server.introspect(&c, &s(&second, "access_token")).await["active"],
        true
    );
    // The spent token again: refused, and the family dies.
    assert_eq!(
        refresh(&server, &c, &s(&first, "refresh_token"), None).await,
        (400, error(SPENT.0, SPENT.1))
    );
    for access in [s(&first, "access_token"), s(&second, "access_token")] {
        assert_eq!(
            server.introspect(&c, &access).await,
            json!({"active": false})
        );
    }
    assert_eq!(
        refresh(&server, &c, &s(&second, "refresh_token"), None).await,
        (400, error(SPENT.0, SPENT.1))
    );
    let reused = server.events_of(EventKind::RefreshTokenReused).await;
    assert_eq!(reused.len(), 1);
    assert_eq!(reused[0].client_id.as_deref(), Some(c.id.as_str()));
    assert_eq!(reused[0].subject.as_deref(), Some(USER));
    // Another client's refresh token is not usable either, and changes nothing.
    let other = code_client(&server, false, |_| {}).await;
    let fresh = tokens(&server, &c, None).await;
    assert_eq!(
        refresh(&server, &other, &s(&fresh, "refresh_token"), None).await,
        (400, error(SPENT.0, SPENT.1))
    );
    assert_eq!(
        refresh(&server, &c, &s(&fresh, "refresh_token"), None)
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn scope_may_narrow_but_never_widen() {
    let server = TestServer::start().await;
    let c = code_client(&server, false, |_| {}).await;
    let first = tokens(&server, &c, None).await;
    assert_eq!(first["scope"], "deploy:read");
    let rt = s(&first, "refresh_token");
    let (status, body) = token_request(
        &server,
        &c,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("scope", "deploy:read deploy:write"),
        ],
        None,
    )
    .await;
    assert_eq!(
        (status, body),
        (
            400,
            error(
                "invalid_scope",
                "the requested scope exceeds the scope originally granted"
            )
        )
    );
    // Nothing changed: the token still works.
    assert_eq!(refresh(&server, &c, &rt, None).await.0, 200);
}

#[tokio::test]
async fn a_public_clients_refresh_token_is_bound_to_its_dpop_key() {
    let server = TestServer::start().await;
    let c = code_client(&server, true, |_| {}).await;
    let key = DpopKey::new(SigningAlg::ES256);
    let other = DpopKey::new(SigningAlg::EdDSA);
    let first = tokens(&server, &c, Some(&key)).await;
    assert_eq!(first["token_type"], "DPoP");
    let rt = s(&first, "refresh_token");
    assert_eq!(
        refresh(&server, &c, &rt, None).await,
        (
            400,
            error(
                "invalid_grant",
                "this refresh token is DPoP-bound: present a DPoP proof made with its key"
            )
        )
    );
    assert_eq!(
        refresh(&server, &c, &rt, Some(&other.proof(&server))).await,
        (
            400,
            error(
                "invalid_grant",
                "the DPoP proof key does not match the key the refresh token is bound to"
            )
        )
    );
    // Nothing changed: with the right key it rotates, and the new one is bound too.
    let (status, second) = refresh(&server, &c, &rt, Some(&key.proof(&server))).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["token_type"], "DPoP");
    assert_eq!(
        refresh(&server, &c, &s(&second, "refresh_token"), None)
            .await
            .0,
        400
    );
    assert!(
        server
            .events_of(EventKind::RefreshTokenReused)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_confidential_clients_refresh_token_is_bound_to_its_authentication_not_a_key() {
    let server = TestServer::start().await;
    let c = code_client(&server, false, |_| {}).await;
    let key = DpopKey::new(SigningAlg::ES256);
    let first = tokens(&server, &c, Some(&key)).await;
    // RFC 9449 §5: no key binding for confidential clients' refresh tokens.
    let (status, body) = refresh(&server, &c, &s(&first, "refresh_token"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    // The client must authenticate.
    let (status, _, body) = server
        .post(
            "/token",
            Some((&c.id, "tsr_cs_wrong")),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &s(&body, "refresh_token")),
            ],
        )
        .await;
    assert_eq!(
        (status, body),
        (401, error("invalid_client", "client authentication failed"))
    );
}

#[tokio::test]
async fn revoking_a_refresh_token_cascades_and_introspection_answers_only_its_client() {
    let server = TestServer::start().await;
    let c = code_client(&server, false, |_| {}).await;
    let other = code_client(&server, false, |_| {}).await;
    let first = tokens(&server, &c, None).await;
    let rt = s(&first, "refresh_token");
    let info = server.introspect(&c, &rt).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["token_type"], "refresh_token");
    assert_eq!(info["client_id"], c.id.as_str());
    assert_eq!(info["scope"], "deploy:read");
    assert_eq!(info["sub"], USER);
    assert_eq!(
        server.introspect(&other, &rt).await,
        json!({"active": false})
    );

    let (status, _, body) = server
        .post(
            "/revoke",
            Some((&c.id, &c.secret)),
            &[("token", &rt), ("token_type_hint", "refresh_token")],
        )
        .await;
    assert_eq!((status, body), (200, serde_json::Value::Null));
    assert_eq!(server.introspect(&c, &rt).await, json!({"active": false}));
    assert_eq!(
        server.introspect(&c, &s(&first, "access_token")).await,
        json!({"active": false})
    );
    assert_eq!(
        refresh(&server, &c, &rt, None).await,
        (400, error(SPENT.0, SPENT.1))
    );
    let revoked = server.events_of(EventKind::TokenRevoked).await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].format.as_deref(), Some("refresh_token"));
}

#[tokio::test]
async fn a_public_client_may_revoke_its_own_refresh_token() {
    let server = TestServer::start().await;
    let c = code_client(&server, true, |_| {}).await;
    let first = tokens(&server, &c, None).await;
    let rt = s(&first, "refresh_token");
    let (status, _, _) = server
        .post("/revoke", None, &[("token", &rt), ("client_id", &c.id)])
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        refresh(&server, &c, &rt, None).await,
        (400, error(SPENT.0, SPENT.1))
    );
}
