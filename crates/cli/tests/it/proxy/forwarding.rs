//! What the proxy forwards: valid requests with trusted `X-Tessera-*` headers and its own
//! forwarding headers; the rest refused (RFC 6750), each use reported as a `token.used` event.
use axum::Json;
use axum::http::HeaderMap;

use super::{
    API, create_client, create_client_with, issuer, proxy, raw_get, recording_upstream, token,
};

async fn echo(headers: HeaderMap) -> Json<serde_json::Value> {
    let get = |n: &str| headers.get(n).map(|v| v.to_str().unwrap().to_string());
    Json(serde_json::json!({
        "subject": get("x-tessera-subject"),
        "client_id": get("x-tessera-client-id"),
        "scope": get("x-tessera-scope"),
        "authorization": get("authorization"),
    }))
}

#[tokio::test]
async fn the_proxy_forwards_valid_requests_and_refuses_the_rest() {
    let (server, db, _dir) = issuer();
    let issuer = &server.base;
    let (id, secret) = create_client(&db, "ci", "deploy:read deploy:write");
    // The proxy's own client: the resource server of API (reads the revocation feed, reports
    // uses of the tokens addressed to it).
    let (rs_id, rs_secret) =
        create_client_with(&db, "proxy", "tessera:events", &["--resource-uri", API]);

    let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_addr = upstream.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(upstream, axum::Router::new().fallback(echo))
            .await
            .unwrap();
    });
    let proxy = proxy(
        issuer,
        &format!("http://{upstream_addr}"),
        &[
            "--require-scope",
            "POST /deploys=deploy:write",
            "--client-id",
            &rs_id,
            "--client-secret",
            &rs_secret,
            "--usage-events",
            "--jwt-cache",
            "1000",
        ],
    );
    let http = reqwest::Client::new();
    let token = token(issuer, &id, &secret, "deploy:read").await;
    let url = |p: &str| format!("{}{p}", proxy.base);

    let resp = http
        .get(url("/anything?x=1"))
        .bearer_auth(&token)
        .header("X-Tessera-Subject", "forged")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let echoed: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        echoed,
        serde_json::json!({"subject": id, "client_id": id, "scope": "deploy:read", "authorization": null})
    );

    let resp = http.get(url("/anything")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    let resp = http
        .get(url(&format!("/anything?access_token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = http
        .get(url("/anything"))
        .bearer_auth("not.a.jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\", error_description=\"the access token is malformed\""
    );
    let resp = http
        .post(url("/deploys/7"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Bearer error=\"insufficient_scope\", error_description=\"the access token lacks a required scope\", scope=\"deploy:write\""
    );

    // Usage events name the --require-scope route that matched, else the path (no query).
    let store = tessera_store::open(&db).await.unwrap();
    let started = std::time::Instant::now();
    let used = loop {
        let used: Vec<_> = store
            .list_events(0, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, e)| e)
            .filter(|e| e.kind == tessera_core::audit::EventKind::TokenUsed)
            .collect();
        if used.len() >= 4 {
            break used;
        }
        assert!(started.elapsed().as_secs() < 5, "{used:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    // The caller's address reaches the events through the proxy's listener.
    assert!(
        used.iter()
            .all(|e| e.ip == Some("127.0.0.1".parse().unwrap())),
        "{used:?}"
    );
    let mut seen: Vec<_> = used
        .iter()
        .map(|e| (e.path.clone().unwrap(), e.reason.clone().unwrap()))
        .collect();
    seen.sort();
    let pair = |p: &str, r: &str| (p.to_string(), r.to_string());
    assert_eq!(
        seen,
        vec![
            pair("/anything", "accepted"),
            pair("/anything", "invalid_request"),
            // "not.a.jwt" is no token of ours: the issuer drops its use (a reporter reports only
            // uses of tokens addressed to it); the token-less refusals keep their request facts.
            pair("/anything", "missing_token"),
            pair("/deploys/*", "insufficient_scope"),
        ]
    );
}

/// Who the client is comes from the proxy, never from the client's own `Forwarded` and
/// `X-Forwarded-*` headers.
#[tokio::test]
async fn forwarding_headers_are_the_proxys_own() {
    let (server, db, _dir) = issuer();
    let issuer = &server.base;
    let (id, secret) = create_client(&db, "ci", "read");
    let (rs_id, rs_secret) = create_client(&db, "proxy", "tessera:revocations");
    let (upstream, _seen) = recording_upstream().await;
    let proxy = proxy(
        issuer,
        &upstream,
        &[
            "--client-id",
            &rs_id,
            "--client-secret",
            &rs_secret,
            "--external-origin",
            "https://api.example.com",
        ],
    );
    let token = token(issuer, &id, &secret, "read").await;
    let forged = "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Host: evil.example\r\n\
        X-Forwarded-Proto: gopher\r\nX-Forwarded-Port: 1\r\nX-Real-IP: 10.0.0.2\r\n\
        Forwarded: for=10.0.0.3;host=evil.example\r\nX-Forwarded-Prefix: /evil\r\n";
    let (status, body) = raw_get(proxy.addr(), "/x", &token, forged).await;
    assert_eq!(status, 200, "{body}");
    let echoed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        echoed,
        serde_json::json!({
            "path": "/x",
            "x-forwarded-for": "127.0.0.1",
            "x-forwarded-host": "api.example.com",
            "x-forwarded-proto": "https",
            "x-forwarded-port": null,
            "x-real-ip": null,
            "forwarded": "for=127.0.0.1;proto=https",
        })
    );
}
