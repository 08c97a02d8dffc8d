//! Usage events: each decision reaches the issuer's audit trail as `token.used`, naming the
//! route's path template (axum's `MatchedPath`), not the raw path.
use std::time::{Duration, Instant};

use tessera_core::audit::{AuditEvent, EventKind};

use crate::support::{As, Rs, rs_config};

async fn token_used(a: &As, n: usize) -> Vec<AuditEvent> {
    let started = Instant::now();
    loop {
        a.store.flush_events().await.unwrap();
        let used: Vec<AuditEvent> = a
            .store
            .list_events(0, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, e)| e)
            .filter(|e| e.kind == EventKind::TokenUsed)
            .collect();
        if used.len() >= n {
            return used;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{used:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn usage_events_name_the_route_template() {
    let a = As::start().await;
    let c = a.client(|_| {}).await;
    let rs_client = a.rs_client().await;
    let config = rs_config(&a)
        .with_client(&rs_client.id, &rs_client.secret)
        .with_usage_events(true);
    let rs = Rs::start(config).await;
    let token = a.token(&c).await;
    assert_eq!(rs.get("/items/42", Some(&token)).await.0, 200);
    // "not.a.jwt" is no token of ours: the issuer drops its use (a resource server reports
    // only uses of tokens addressed to it); a request without a token keeps its request facts.
    assert_eq!(rs.get("/items/43", Some("not.a.jwt")).await.0, 401);
    assert_eq!(rs.get("/items/44", None).await.0, 401);
    let mut used = token_used(&a, 2).await;
    used.sort_by_key(|e| e.reason.clone());
    let summary: Vec<_> = used
        .iter()
        .map(|e| {
            (
                e.path.as_deref(),
                e.method.as_deref(),
                e.reason.as_deref(),
                e.client_id.as_deref(),
                e.reported_by.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                Some("/items/{id}"),
                Some("GET"),
                Some("accepted"),
                Some(c.id.as_str()),
                Some(rs_client.id.as_str())
            ),
            (
                Some("/items/{id}"),
                Some("GET"),
                Some("missing_token"),
                None,
                Some(rs_client.id.as_str())
            ),
        ]
    );
}
