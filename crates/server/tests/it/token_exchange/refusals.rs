//! Token exchange refusals: who asks, with which subject token and which other parameters, and
//! the exact RFC error each gets; nothing is issued.
use super::*;

/// A refused exchange: who asks, with which subject token, which other parameters, and the
/// exact error body.
type Case<'a> = (&'a TestClient, String, Vec<(&'a str, &'a str)>, Value);

#[tokio::test]
async fn every_refusal_has_its_rfc_error_and_issues_nothing() {
    for format in [TokenFormat::Jwt, TokenFormat::Opaque] {
        let mut config = test_config();
        config.tokens.exchange_max_depth = 2;
        let clock = fixed_clock();
        let server = TestServer::start_with(config, clock.clone()).await;
        let Chain {
            service,
            agent,
            sub_agent,
        } = chain(&server, format).await;
        let t0 = server.access_token(&service).await;
        let t1 = exchanged(&server, &agent, &t0, &[]).await;
        let cases: Vec<Case> = vec![
            // Widening: a scope the subject token does not hold.
            (
                &agent,
                t0.clone(),
                vec![("scope", "mail:read calendar")],
                error(
                    "invalid_scope",
                    "the requested scope exceeds the subject token's scope or this client's",
                ),
            ),
            // A resource that is not one of the agent's audiences.
            (
                &agent,
                t0.clone(),
                vec![("resource", MAIL_URI)],
                error(
                    "invalid_target",
                    "the requested resource is not allowed for this client",
                ),
            ),
            (
                &agent,
                t0.clone(),
                vec![("audience", "urn:example:payments")],
                error(
                    "invalid_target",
                    "the requested audience is not allowed for this client",
                ),
            ),
            // The service token was addressed to the agent, not to the sub-agent.
            (
                &sub_agent,
                t0.clone(),
                vec![],
                error(
                    "unauthorized_client",
                    "the subject_token is not addressed to this client",
                ),
            ),
            // Forged: a JWT-shaped string and an opaque-shaped one of no row.
            (
                &agent,
                "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln".into(),
                vec![],
                error(
                    "invalid_grant",
                    "the subject_token is invalid, expired or revoked",
                ),
            ),
            (
                &agent,
                tampered(&t0),
                vec![],
                error(
                    "invalid_grant",
                    "the subject_token is invalid, expired or revoked",
                ),
            ),
            (
                &agent,
                t0.clone(),
                vec![(
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:id_token",
                )],
                error(
                    "invalid_request",
                    "subject_token_type must be urn:ietf:params:oauth:token-type:access_token",
                ),
            ),
            (
                &agent,
                t0.clone(),
                vec![("actor_token", "x")],
                error(
                    "invalid_request",
                    "actor_token_type is required with actor_token",
                ),
            ),
        ];
        for (client, subject, extra, expected) in cases {
            let mut form = vec![
                ("grant_type", EXCHANGE),
                ("subject_token", subject.as_str()),
            ];
            if !extra.iter().any(|(k, _)| *k == "subject_token_type") {
                form.push(("subject_token_type", ACCESS_TOKEN));
            }
            form.extend(extra.iter().copied());
            let (status, _, body) = server
                .post("/token", Some((&client.id, &client.secret)), &form)
                .await;
            assert_eq!((status, &body), (400, &expected), "{format:?} {extra:?}");
        }
        // A client without the grant, a resource server for the token.
        let plain = server
            .client(|c| c.resource_uris = vec![AGENT_URI.into()])
            .await;
        assert_eq!(
            exchange(&server, &plain, &t0, &[]).await,
            (
                400,
                error(
                    "unauthorized_client",
                    "this client may not use this grant type"
                )
            )
        );
        // Depth: the limit is 2 here; t1 is 1 deep, the sub-agent's token 2.
        let t2 = exchanged(&server, &sub_agent, &t1, &[]).await;
        let loop_back = server
            .client(|c| {
                c.grant_types = vec![GrantType::TokenExchange];
                c.resource_uris = vec![MAIL_URI.into()];
                c.scopes = vec!["mail:read".into()];
                c.audiences = vec![TOOL_URI.into()];
            })
            .await;
        assert_eq!(
            exchange(&server, &loop_back, &t2, &[]).await,
            (
                400,
                error(
                    "invalid_request",
                    "the subject_token's delegation chain is too deep to exchange again"
                )
            )
        );
        // Revoked, then expired.
        let fresh = server.access_token(&service).await;
        let (status, _, _) = server
            .post(
                "/revoke",
                Some((&service.id, &service.secret)),
                &[("token", &fresh)],
            )
            .await;
        assert_eq!(status, 200);
        let expired = server.access_token(&service).await;
        clock.advance(301);
        for dead in [&fresh, &expired] {
            assert_eq!(
                exchange(&server, &agent, dead, &[]).await,
                (
                    400,
                    error(
                        "invalid_grant",
                        "the subject_token is invalid, expired or revoked"
                    )
                )
            );
        }
        assert_eq!(
            server.events_of(EventKind::TokenExchanged).await.len(),
            2,
            "only the two exchanges that succeeded are recorded"
        );
    }
}
