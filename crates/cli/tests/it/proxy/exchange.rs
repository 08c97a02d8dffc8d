//! Token exchange (RFC 8693) through the binary: clients registered with the CLI's flags, an
//! agent's exchanged token accepted by `tessera proxy`, and refused there within the revocation
//! feed's interval once the user's token it came from is revoked.
use std::time::{Duration, Instant};

use super::{API, create_client_with, issuer, proxy};
use crate::support::{BIN, client_credentials, tessera};

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
const AGENT_URI: &str = "https://agent.example";

#[tokio::test]
async fn an_exchanged_token_dies_at_the_proxy_when_its_subject_is_revoked() {
    let (server, db, _dir) = issuer();
    let issuer = &server.base;
    // The user's app: tokens for the agent (and, unused here, for API).
    let (user_id, user_secret) =
        create_client_with(&db, "user-app", "mail:read", &["--audience", AGENT_URI]);
    // The agent: receives tokens addressed to AGENT_URI and exchanges them for API.
    let (agent_id, agent_secret) = create_client_with(
        &db,
        "agent",
        "mail:read",
        &["--grant-type", EXCHANGE, "--resource-uri", AGENT_URI],
    );
    let shown = tessera(&["client", "show", "--database", &db, &agent_id, "--json"]);
    assert_eq!(
        shown["may_exchange"],
        serde_json::json!({
            "subject_token_audiences": [AGENT_URI],
            "for_audiences": [API],
            "scope_at_most": "mail:read",
            "as": "delegation (act)",
        })
    );
    assert_eq!(shown["allow_impersonation"], false);
    // A public client may not exchange; the CLI says why with its flags.
    let out = std::process::Command::new(BIN)
        .args([
            "client",
            "create",
            "--database",
            &db,
            "--name",
            "spa",
            "--auth-method",
            "none",
            "--grant-type",
            EXCHANGE,
            "--resource-uri",
            AGENT_URI,
            "--audience",
            API,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--auth-method none) cannot exchange tokens"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (rs_id, rs_secret) = create_client_with(
        &db,
        "proxy",
        "tessera:revocations",
        &["--resource-uri", API],
    );

    let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_addr = upstream.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(upstream, axum::Router::new().fallback(|| async { "ok" }))
            .await
            .unwrap();
    });
    let proxy = proxy(
        issuer,
        &format!("http://{upstream_addr}"),
        &["--client-id", &rs_id, "--client-secret", &rs_secret],
    );

    let body: serde_json::Value =
        client_credentials(issuer, &user_id, &user_secret, &[("resource", AGENT_URI)])
            .await
            .json()
            .await
            .unwrap();
    let user_token = body["access_token"].as_str().unwrap().to_string();
    let http = reqwest::Client::new();
    let exchanged: serde_json::Value = http
        .post(format!("{issuer}/token"))
        .basic_auth(&agent_id, Some(&agent_secret))
        .form(&[
            ("grant_type", EXCHANGE),
            ("subject_token", user_token.as_str()),
            ("subject_token_type", ACCESS_TOKEN),
            ("resource", API),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(exchanged["issued_token_type"], ACCESS_TOKEN, "{exchanged}");
    let agent_token = exchanged["access_token"].as_str().unwrap().to_string();
    let get = || {
        http.get(format!("{}/mail", proxy.base))
            .bearer_auth(&agent_token)
            .send()
    };
    assert_eq!(get().await.unwrap().status(), 200);

    // The user's token is revoked; the agent's, exchanged from it, is refused at the proxy
    // within the feed's interval (2 s by default).
    let revoked = http
        .post(format!("{issuer}/revoke"))
        .basic_auth(&user_id, Some(&user_secret))
        .form(&[("token", user_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let since = Instant::now();
    loop {
        let status = get().await.unwrap().status();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            since.elapsed() < Duration::from_secs(6),
            "the exchanged token is still accepted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
