//! `GET /revocations`: only clients holding `tessera:revocations` (or `tessera:admin`) read the
//! feed; its entries (JWTs, opaque tokens, clients) and its exact cursor, page after page.
use serde_json::{Value, json};
use tessera_core::clock::{Clock, FixedClock};

use crate::support::{TestClient, TestServer, error, test_config};

async fn feed(server: &TestServer, auth: Option<&TestClient>, query: &str) -> (u16, Value) {
    let mut req = server.http.get(server.url(&format!("/revocations{query}")));
    if let Some(c) = auth {
        req = req.basic_auth(&c.id, Some(&c.secret));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    (status, resp.json().await.unwrap())
}

async fn reader(server: &TestServer) -> TestClient {
    server
        .client(|c| c.scopes = vec!["tessera:revocations".into()])
        .await
}

#[tokio::test]
async fn only_clients_with_the_revocations_or_admin_scope_read_the_feed() {
    let server = TestServer::start().await;
    let plain = server.client(|_| {}).await;
    let events_only = server
        .client(|c| c.scopes = vec!["tessera:events".into()])
        .await;
    let wrong = TestClient {
        id: plain.id.clone(),
        secret: "tsr_cs_wrong".into(),
    };
    let no_client = error("invalid_client", "client authentication failed");
    let no_scope = error(
        "unauthorized_client",
        "this client lacks the tessera:admin or tessera:revocations scope",
    );
    assert_eq!(
        feed(&server, None, "?after=0").await,
        (401, no_client.clone())
    );
    assert_eq!(
        feed(&server, Some(&wrong), "?after=0").await,
        (401, no_client.clone())
    );
    // Nothing unauthenticated is interpreted: a bad cursor from nobody is still a 401.
    assert_eq!(feed(&server, None, "?after=x").await, (401, no_client));
    assert_eq!(
        feed(&server, Some(&plain), "?after=0").await,
        (400, no_scope.clone())
    );
    assert_eq!(feed(&server, Some(&events_only), "").await, (400, no_scope));

    let rs = reader(&server).await;
    let admin = server
        .client(|c| c.scopes = vec!["tessera:admin".into()])
        .await;
    assert_eq!(feed(&server, Some(&rs), "?after=0").await.0, 200);
    assert_eq!(feed(&server, Some(&admin), "").await.0, 200);
    let bad_cursor = error("invalid_request", "after is not a revocation feed cursor");
    for q in [
        "?after=x",
        "?after=-1",
        "?after=1.j",
        "?after=1.q.YQ",
        "?after=1.j.%21",
    ] {
        assert_eq!(
            feed(&server, Some(&rs), q).await,
            (400, bad_cursor.clone()),
            "{q}"
        );
    }
    // Far in the future: nothing yet, and the cursor comes back to the overlap window.
    let (status, body) = feed(&server, Some(&rs), "?after=99999999999").await;
    assert_eq!(status, 200);
    assert_eq!(body["revocations"], json!([]));
    assert!(body["next"].as_u64().unwrap() < 99999999999);
}

#[tokio::test]
async fn revoked_tokens_and_clients_are_listed_with_an_exact_cursor() {
    let now = 1_800_000_000;
    let clock = std::sync::Arc::new(FixedClock::at(now));
    let server = TestServer::start_with(test_config(), clock.clone()).await;
    let rs = reader(&server).await;
    let c = server.client(|_| {}).await;
    let (_, body) = server.token(&c, &[]).await;
    let token = body["access_token"].as_str().unwrap().to_string();
    let claims: Value = {
        use base64::Engine;
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap()
    };
    let (status, _, _) = server
        .post("/revoke", Some((&c.id, &c.secret)), &[("token", &token)])
        .await;
    assert_eq!(status, 200);
    // A leaked secret: the client's tokens issued before not_before die.
    let mut stored = server.store.get_client(&c.id).await.unwrap().unwrap();
    stored.tokens_not_before = Some(now + 1);
    stored.updated_at = now;
    server.store.update_client(&stored).await.unwrap();
    let max_ttl = 3600;
    let (status, body) = feed(&server, Some(&rs), "?after=0").await;
    assert_eq!(status, 200);
    let jti = claims["jti"].as_str().unwrap();
    assert_eq!(
        body,
        json!({
            "revocations": [
                {"type": "client", "id": c.id, "expires_at": now + 1 + max_ttl, "revoked_at": now,
                 "not_before": now + 1},
                {"type": "jwt", "id": jti, "expires_at": claims["exp"], "revoked_at": now},
            ],
            "next": now - 2,
            "cursor": (now - 2).to_string(),
            "more": false,
        })
    );
    // Deleted: every token refused.
    clock.advance(10);
    assert!(server.store.delete_client(&c.id, now + 10).await.unwrap());
    let (_, body) = feed(&server, Some(&rs), &format!("?after={}", now + 5)).await;
    assert_eq!(
        body["revocations"],
        json!([{"type": "client", "id": c.id, "expires_at": now + 10 + max_ttl,
                "revoked_at": now + 10, "disabled": true}])
    );
    // Entries expire with the longest token lifetime.
    clock.advance(max_ttl);
    let (_, body) = feed(&server, Some(&rs), "?after=0").await;
    assert_eq!(body["revocations"], json!([]));
}

/// The first feed's cursor was a second, with pages of 1000: more revocations than that in one
/// second stalled it. The cursor is now exact and `more` says to ask again at once.
#[tokio::test]
async fn more_than_a_page_in_one_second_is_read_exactly_once() {
    let now = 1_800_000_000;
    let clock = std::sync::Arc::new(FixedClock::at(now));
    let server = TestServer::start_with(test_config(), clock.clone()).await;
    let rs = reader(&server).await;
    for i in 0..1001 {
        server
            .store
            .revoke_jti(&format!("j{i:04}"), "c", now + 300, now)
            .await
            .unwrap();
    }
    let (_, first) = feed(&server, Some(&rs), "?after=0").await;
    assert_eq!(first["revocations"].as_array().unwrap().len(), 1000);
    assert_eq!(first["more"], true);
    assert_eq!(first["next"], now);
    let cursor = first["cursor"].as_str().unwrap();
    let (_, second) = feed(&server, Some(&rs), &format!("?after={cursor}")).await;
    assert_eq!(
        second["revocations"],
        json!([{"type": "jwt", "id": "j1000", "expires_at": now + 300, "revoked_at": now}])
    );
    assert_eq!(second["more"], false);
    assert_eq!(clock.now(), now);
}
