//! `trusted_proxies`: behind a trusted reverse proxy the caller is the address it forwards in
//! `X-Forwarded-For` (audit events, the login lockout); from anyone else the header is ignored.
use std::sync::Arc;

use tessera_core::audit::EventKind;
use tessera_core::clock::SystemClock;

use crate::support::flow::{
    PASSWORD, USER, authorize, browser, code_client, pkce, request, request_field,
};
use crate::support::{TestServer, test_config};

async fn server(trusted: &[&str]) -> TestServer {
    let mut config = test_config();
    config.trusted_proxies = trusted.iter().map(|s| s.to_string()).collect();
    config.login.max_failures_per_user = 100;
    config.login.max_failures_per_ip = 2;
    TestServer::start_with(config, Arc::new(SystemClock)).await
}

async fn token_from(server: &TestServer, id: &str, secret: &str, forwarded: &str) -> u16 {
    server
        .http
        .post(server.url("/token"))
        .basic_auth(id, Some(secret))
        .header("x-forwarded-for", forwarded)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_trusted_proxy_forwards_the_callers_address_into_audit_events() {
    // The tests connect from 127.0.0.1: here that is the trusted proxy.
    let server = server(&["127.0.0.0/8"]).await;
    let c = server.client(|_| {}).await;
    assert_eq!(
        token_from(&server, &c.id, &c.secret, "198.51.100.1, 203.0.113.9").await,
        200
    );
    let issued = server.events_of(EventKind::TokenIssued).await;
    assert_eq!(issued[0].ip, Some("203.0.113.9".parse().unwrap()));
}

#[tokio::test]
async fn without_trusted_proxies_the_header_is_ignored() {
    let server = server(&[]).await;
    let c = server.client(|_| {}).await;
    assert_eq!(
        token_from(&server, &c.id, &c.secret, "203.0.113.9").await,
        200
    );
    let issued = server.events_of(EventKind::TokenIssued).await;
    assert_eq!(issued[0].ip, Some("127.0.0.1".parse().unwrap()));
}

#[tokio::test]
async fn the_login_lockout_counts_each_forwarded_address_apart() {
    let server = server(&["127.0.0.1"]).await;
    let c = code_client(&server, true, |_| {}).await;
    let attempt = async |from: &str, password: &str| {
        let (_, challenge) = pkce();
        let html = authorize(&server, &request(&c, &challenge, &[]))
            .await
            .text()
            .await
            .unwrap();
        let id = request_field(&html);
        let resp = browser()
            .post(server.url("/login"))
            .header("x-forwarded-for", from)
            .form(&[
                ("request", id.as_str()),
                ("username", USER),
                ("password", password),
                ("action", "allow"),
            ])
            .send()
            .await
            .unwrap();
        (
            resp.status().as_u16(),
            resp.text().await.unwrap_or_default(),
        )
    };
    attempt("203.0.113.1", "wrong").await;
    attempt("203.0.113.1", "wrong").await;
    let (status, page) = attempt("203.0.113.1", PASSWORD).await;
    assert_eq!(status, 200);
    assert!(page.contains("Too many failed sign-in attempts"), "{page}");
    // Another caller behind the same proxy is not locked out.
    assert_eq!(attempt("203.0.113.2", PASSWORD).await.0, 303);
}
