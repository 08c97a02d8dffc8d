//! Token exchange (RFC 8693) end to end on loopback, with JWT and opaque tokens alike: a service
//! token is exchanged by an agent and again by a sub-agent (nested `act`); every refusal has its
//! exact RFC error; revoking anywhere up the chain makes what was exchanged below inactive at
//! introspection — also when 100 exchanges race the revocation.
use std::sync::Arc;

use base64::Engine;
use serde_json::{Value, json};
use tessera_core::audit::EventKind;
use tessera_core::client::{GrantType, TokenFormat};
use tessera_core::clock::SystemClock;
use tessera_core::keys::SigningAlg;

use crate::dpop::DpopKey;
use crate::support::{TestClient, TestServer, error, fixed_clock, test_config};

mod refusals;

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
const AGENT_URI: &str = "https://agent.example";
const TOOL_URI: &str = "https://tool.example";
const MAIL_URI: &str = "https://mail.example";

/// A user's service client, an AI agent and the agent's sub-agent (a tool server).
struct Chain {
    service: TestClient,
    agent: TestClient,
    sub_agent: TestClient,
}

async fn chain(server: &TestServer, format: TokenFormat) -> Chain {
    let service = server
        .client(|c| {
            c.scopes = vec!["mail:read".into(), "mail:send".into(), "calendar".into()];
            c.default_scopes = c.scopes.clone();
            c.audiences = vec![AGENT_URI.into()];
            c.token_format = format;
        })
        .await;
    let agent = server
        .client(|c| {
            c.grant_types = vec![GrantType::TokenExchange];
            c.scopes = vec!["mail:read".into(), "mail:send".into()];
            c.default_scopes = vec![];
            c.resource_uris = vec![AGENT_URI.into()];
            c.audiences = vec![TOOL_URI.into()];
            c.token_format = format;
            c.jwt_alg = SigningAlg::EdDSA;
        })
        .await;
    let sub_agent = server
        .client(|c| {
            c.grant_types = vec![GrantType::TokenExchange];
            c.scopes = vec!["mail:read".into()];
            c.default_scopes = vec![];
            c.resource_uris = vec![TOOL_URI.into()];
            c.audiences = vec![MAIL_URI.into()];
            c.token_format = format;
        })
        .await;
    Chain {
        service,
        agent,
        sub_agent,
    }
}

async fn exchange(
    server: &TestServer,
    c: &TestClient,
    subject: &str,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", EXCHANGE),
        ("subject_token", subject),
        ("subject_token_type", ACCESS_TOKEN),
    ];
    form.extend_from_slice(extra);
    let (status, _, body) = server.post("/token", Some((&c.id, &c.secret)), &form).await;
    (status, body)
}

async fn exchanged(
    server: &TestServer,
    c: &TestClient,
    subject: &str,
    extra: &[(&str, &str)],
) -> String {
    let (status, body) = exchange(server, c, subject, extra).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["issued_token_type"], ACCESS_TOKEN);
    assert_eq!(body["token_type"], "Bearer");
    body["access_token"].as_str().unwrap().to_string()
}

/// The token with one character near its end changed (a forged signature, or random part
/// and checksum): a whole base64 digit, not the last one's padding bits.
fn tampered(token: &str) -> String {
    let at = token.len() - 10;
    let (head, rest) = token.split_at(at);
    let swapped = if rest.starts_with('A') { "B" } else { "A" };
    format!("{head}{swapped}{}", &rest[1..])
}

fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn a_chain_of_exchanges_nests_act_and_narrows() {
    for format in [TokenFormat::Jwt, TokenFormat::Opaque] {
        let server = TestServer::start().await;
        let Chain {
            service,
            agent,
            sub_agent,
        } = chain(&server, format).await;
        let t0 = server.access_token(&service).await;
        // The agent gets what it and the subject both hold: calendar is the user's, not its.
        let (status, body) = exchange(&server, &agent, &t0, &[]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["scope"], "mail:read mail:send");
        assert_eq!(body["issued_token_type"], ACCESS_TOKEN);
        assert!(body["expires_in"].as_u64().unwrap() <= 300);
        assert!(body.get("refresh_token").is_none());
        let t1 = body["access_token"].as_str().unwrap().to_string();
        let t2 = exchanged(&server, &sub_agent, &t1, &[("resource", MAIL_URI)]).await;

        let seen = server.introspect(&sub_agent, &t2).await;
        assert_eq!(seen["active"], true, "{seen}");
        assert_eq!(seen["sub"], service.id.as_str(), "sub stays the subject's");
        assert_eq!(seen["client_id"], sub_agent.id.as_str());
        assert_eq!(seen["aud"], MAIL_URI);
        assert_eq!(seen["scope"], "mail:read");
        assert_eq!(
            seen["act"],
            json!({"sub": sub_agent.id, "act": {"sub": agent.id}}),
            "{format:?}"
        );
        if format == TokenFormat::Jwt {
            let claims = jwt_claims(&t2);
            assert_eq!(claims["act"], seen["act"]);
            assert_eq!(claims["sub"], service.id.as_str());
        }
        // The mail API (a resource server for MAIL_URI) sees the same chain.
        let mail_api = server
            .client(|c| {
                c.grant_types = vec![];
                c.resource_uris = vec![MAIL_URI.into()];
            })
            .await;
        assert_eq!(server.introspect(&mail_api, &t2).await["act"], seen["act"]);

        let events = server.events_of(EventKind::TokenExchanged).await;
        assert_eq!(events.len(), 2);
        let last = &events[1];
        assert_eq!(last.client_id.as_deref(), Some(sub_agent.id.as_str()));
        assert_eq!(
            last.actor_chain.as_deref(),
            Some(&[sub_agent.id.clone(), agent.id.clone()][..])
        );
        assert_eq!(last.subject_token_id, events[0].token_id);
        assert_eq!(last.scope.as_deref(), Some("mail:read"));
        assert_eq!(last.resource.as_deref(), Some(MAIL_URI));
        assert_eq!(last.reason.as_deref(), Some("delegation"));
        let issued = server.events_of(EventKind::TokenIssued).await;
        assert_eq!(
            issued.len(),
            3,
            "each exchanged token is a token.issued too"
        );
    }
}

async fn revoke(server: &TestServer, c: &TestClient, token: &str) {
    let (status, _, body) = server
        .post("/revoke", Some((&c.id, &c.secret)), &[("token", token)])
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn active(server: &TestServer, c: &TestClient, token: &str) -> bool {
    server.introspect(c, token).await["active"] == true
}

#[tokio::test]
async fn revocation_cascades_down_the_chain_never_up() {
    for format in [TokenFormat::Jwt, TokenFormat::Opaque] {
        let server = TestServer::start().await;
        let Chain {
            service,
            agent,
            sub_agent,
        } = chain(&server, format).await;
        // The agent revokes its own exchanged token: the sub-agent's goes, the user's stays.
        let t0 = server.access_token(&service).await;
        let t1 = exchanged(&server, &agent, &t0, &[]).await;
        let t2 = exchanged(&server, &sub_agent, &t1, &[]).await;
        revoke(&server, &agent, &t1).await;
        assert!(!active(&server, &sub_agent, &t2).await, "{format:?}");
        assert!(!active(&server, &agent, &t1).await);
        assert!(active(&server, &service, &t0).await, "never up the chain");
        // The user's token revoked: everything below goes at once.
        let t1 = exchanged(&server, &agent, &t0, &[]).await;
        let t2 = exchanged(&server, &sub_agent, &t1, &[]).await;
        assert!(active(&server, &sub_agent, &t2).await);
        revoke(&server, &service, &t0).await;
        assert!(!active(&server, &agent, &t1).await);
        assert!(!active(&server, &sub_agent, &t2).await);
        // The agent's client disabled: tokens exchanged from its tokens go too.
        let t0 = server.access_token(&service).await;
        let t1 = exchanged(&server, &agent, &t0, &[]).await;
        let t2 = exchanged(&server, &sub_agent, &t1, &[]).await;
        let mut c = server.store.get_client(&agent.id).await.unwrap().unwrap();
        c.disabled = true;
        c.updated_at = tessera_core::clock::Clock::now(&SystemClock);
        server.store.update_client(&c).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(
            !active(&server, &sub_agent, &t2).await,
            "an ancestor's client was disabled"
        );
        assert!(active(&server, &service, &t0).await);
        assert_eq!(
            exchange(&server, &sub_agent, &t1, &[]).await.1["error"],
            "invalid_grant"
        );
    }
}

#[tokio::test]
async fn a_dpop_bound_chain_is_rebound_to_each_exchangers_key() {
    let server = TestServer::start().await;
    let Chain { service, agent, .. } = chain(&server, TokenFormat::Jwt).await;
    let user_key = DpopKey::new(SigningAlg::ES256);
    let resp = server
        .http
        .post(server.url("/token"))
        .basic_auth(&service.id, Some(&service.secret))
        .header("DPoP", user_key.proof(&server))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP", "{body}");
    let t0 = body["access_token"].as_str().unwrap().to_string();
    // Without a proof of its own the agent gets nothing.
    assert_eq!(
        exchange(&server, &agent, &t0, &[]).await,
        (
            400,
            error(
                "invalid_dpop_proof",
                "a DPoP-bound subject_token is exchanged only with a DPoP proof"
            )
        )
    );
    let agent_key = DpopKey::new(SigningAlg::EdDSA);
    let resp = server
        .http
        .post(server.url("/token"))
        .basic_auth(&agent.id, Some(&agent.secret))
        .header("DPoP", agent_key.proof(&server))
        .form(&[
            ("grant_type", EXCHANGE),
            ("subject_token", t0.as_str()),
            ("subject_token_type", ACCESS_TOKEN),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP", "{body}");
    let t1 = body["access_token"].as_str().unwrap();
    let seen = server.introspect(&agent, t1).await;
    assert_eq!(seen["cnf"]["jkt"], agent_key.thumbprint());
    assert_eq!(jwt_claims(t1)["cnf"]["jkt"], agent_key.thumbprint());
}

#[tokio::test]
async fn impersonation_only_for_a_client_registered_for_it_and_audited() {
    let server = TestServer::start().await;
    let Chain { service, .. } = chain(&server, TokenFormat::Opaque).await;
    let impersonator = server
        .client(|c| {
            c.grant_types = vec![GrantType::TokenExchange];
            c.resource_uris = vec![AGENT_URI.into()];
            c.audiences = vec![TOOL_URI.into()];
            c.scopes = vec!["mail:read".into()];
            c.allow_impersonation = true;
        })
        .await;
    let t0 = server.access_token(&service).await;
    let t1 = exchanged(&server, &impersonator, &t0, &[]).await;
    let seen = server.introspect(&impersonator, &t1).await;
    assert_eq!(seen["active"], true);
    assert_eq!(seen["sub"], service.id.as_str());
    assert!(seen.get("act").is_none(), "{seen}");
    assert_eq!(jwt_claims(&t1).get("act"), None);
    let events = server.events_of(EventKind::TokenExchanged).await;
    assert_eq!(events[0].reason.as_deref(), Some("impersonation"));
    assert_eq!(events[0].actor_chain.as_deref(), Some(&[][..]));
}

/// The race: 100 exchanges of one token racing its revocation. Every token that was
/// issued is inactive once the revocation answered, and every exchange sent after it fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_exchanges_racing_a_revocation_leave_nothing_live() {
    for format in [TokenFormat::Jwt, TokenFormat::Opaque] {
        let server = Arc::new(TestServer::start().await);
        let chain = Arc::new(chain(&server, format).await);
        let t0 = Arc::new(server.access_token(&chain.service).await);
        let revoked = Arc::new(tokio::sync::OnceCell::<std::time::Instant>::new());
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let (server, chain, t0, revoked) =
                (server.clone(), chain.clone(), t0.clone(), revoked.clone());
            tasks.push(tokio::spawn(async move {
                let started_after_revocation = revoked.initialized();
                let (status, body) = exchange(&server, &chain.agent, &t0, &[]).await;
                (started_after_revocation, status, body)
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        revoke(&server, &chain.service, &t0).await;
        revoked.set(std::time::Instant::now()).unwrap();
        let (mut issued, mut refused) = (0, 0);
        for t in tasks {
            let (after, status, body) = t.await.unwrap();
            if status == 200 {
                assert!(
                    !after,
                    "an exchange sent after the revocation answered succeeded"
                );
                let token = body["access_token"].as_str().unwrap();
                let seen = server.introspect(&chain.agent, token).await;
                assert_eq!(
                    seen,
                    json!({"active": false}),
                    "{format:?}: a live token after revocation"
                );
                issued += 1;
            } else {
                assert_eq!(
                    (status, &body),
                    (
                        400,
                        &error(
                            "invalid_grant",
                            "the subject_token is invalid, expired or revoked"
                        )
                    )
                );
                refused += 1;
            }
        }
        eprintln!("{format:?}: {issued} issued before the revocation, {refused} refused");
        assert_eq!(issued + refused, 100);
        // Resource servers following the feed see every issued JWT (or opaque id) revoked too.
        let feed = server
            .store
            .list_revocations(&Default::default(), 0, 1000)
            .await
            .unwrap();
        assert!(
            feed.len() > issued,
            "{} entries for {issued} issued",
            feed.len()
        );
    }
}

/// The monitor sees every exchange: `token.exchanged` reaches the event tap once committed, and
/// only for exchanges whose token was handed out.
#[tokio::test]
async fn the_monitor_sees_each_exchange_once_committed() {
    let server = TestServer::start().await;
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let tap = seen.clone();
    assert!(server.running.authority.set_event_tap(Box::new(move |e| {
        if e.kind == EventKind::TokenExchanged {
            tap.lock().unwrap().push(e.clone());
        }
    })));
    let Chain { service, agent, .. } = chain(&server, TokenFormat::Opaque).await;
    let t0 = server.access_token(&service).await;
    exchanged(&server, &agent, &t0, &[]).await;
    revoke(&server, &service, &t0).await;
    assert_eq!(exchange(&server, &agent, &t0, &[]).await.0, 400);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen, server.events_of(EventKind::TokenExchanged).await);
}

/// RFC 8693 §2.1 `actor_token`: the acting party, here the exchanging client itself — a live
/// token of its own is accepted, another client's is refused.
#[tokio::test]
async fn an_actor_token_must_be_the_exchanging_clients_own() {
    let server = TestServer::start().await;
    let Chain { service, agent, .. } = chain(&server, TokenFormat::Jwt).await;
    let t0 = server.access_token(&service).await;
    // The agent's own token: it may get one by exchange (the only grant it has).
    let own = exchanged(&server, &agent, &t0, &[]).await;
    let with_actor = |actor: &str| {
        let actor = actor.to_string();
        let (server, agent, t0) = (&server, &agent, t0.clone());
        async move {
            exchange(
                server,
                agent,
                &t0,
                &[("actor_token", &actor), ("actor_token_type", ACCESS_TOKEN)],
            )
            .await
        }
    };
    assert_eq!(with_actor(&own).await.0, 200);
    assert_eq!(
        with_actor(&t0).await,
        (
            400,
            error(
                "invalid_request",
                "the actor_token was not issued to this client"
            )
        )
    );
    assert_eq!(
        with_actor("forged").await,
        (
            400,
            error(
                "invalid_grant",
                "the actor_token is invalid, expired or revoked"
            )
        )
    );
}
