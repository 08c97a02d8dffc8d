//! `EventStore`: queued without waiting, written in order, listed by id.
use std::collections::HashSet;

use tessera_core::audit::{AuditEvent, EventKind};

use crate::support::{Env, event};

conformance!(
    events_list_in_recorded_order,
    events_page_by_id,
    every_field_round_trips,
    flush_with_nothing_queued,
    concurrent_recorders_lose_nothing,
    durable_events_are_committed_on_return,
);

async fn events_list_in_recorded_order(env: Env) {
    let s = env.store;
    assert!(s.list_events(0, 10).await.unwrap().is_empty());
    for n in 0..300 {
        s.record_event(event(n)).await;
    }
    s.flush_events().await.unwrap();
    let listed = s.list_events(0, 1_000).await.unwrap();
    let events: Vec<AuditEvent> = listed.iter().map(|(_, e)| e.clone()).collect();
    assert_eq!(events, (0..300).map(event).collect::<Vec<_>>());
    assert!(listed.windows(2).all(|w| w[0].0 < w[1].0), "ids increase");
}

async fn events_page_by_id(env: Env) {
    let s = env.store;
    for n in 0..25 {
        s.record_event(event(n)).await;
    }
    s.flush_events().await.unwrap();
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let page = s.list_events(after, 10).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 10);
        after = page.last().unwrap().0;
        seen.extend(page.into_iter().map(|(_, e)| e));
    }
    assert_eq!(seen, (0..25).map(event).collect::<Vec<_>>());
    assert!(s.list_events(after, 10).await.unwrap().is_empty());
    assert!(s.list_events(0, 0).await.unwrap().is_empty());
}

async fn every_field_round_trips(env: Env) {
    let s = env.store;
    let mut e = AuditEvent::new(EventKind::TokenUsed, 1_700_000_000_123);
    e.client_id = Some("c1".into());
    e.caller_id = Some("rs".into());
    e.token_id = Some("jti-1".into());
    e.scope = Some("read write".into());
    e.resource = Some("https://api.example.com".into());
    e.ip = Some("2001:db8::1".parse().unwrap());
    e.user_agent = Some("curl/8 \"quoted\" ünïcode".into());
    e.reason = Some("active".into());
    e.format = Some("jwt".into());
    e.method = Some("GET".into());
    e.path = Some("/v1/things/{id}".into());
    s.record_event(e.clone()).await;
    let bare = AuditEvent::new(EventKind::KeyRotated, 5);
    s.record_event(bare.clone()).await;
    s.flush_events().await.unwrap();
    let listed: Vec<AuditEvent> = s
        .list_events(0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    assert_eq!(listed, vec![e, bare]);
}

async fn flush_with_nothing_queued(env: Env) {
    env.store.flush_events().await.unwrap();
    env.store.flush_events().await.unwrap();
}

async fn concurrent_recorders_lose_nothing(env: Env) {
    let s = env.store;
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                s.record_event(event(t * 1_000 + i)).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    s.flush_events().await.unwrap();
    let listed = s.list_events(0, 10_000).await.unwrap();
    assert_eq!(listed.len(), 400);
    let numbers: HashSet<String> = listed
        .iter()
        .filter_map(|(_, e)| e.token_id.clone())
        .collect();
    assert_eq!(numbers.len(), 400);
    // Each recorder's own events keep their order.
    for t in 0..8u64 {
        let mine: Vec<u64> = listed
            .iter()
            .filter_map(|(_, e)| e.token_id.as_ref()?.parse::<u64>().ok())
            .filter(|n| n / 1_000 == t)
            .collect();
        assert_eq!(mine, (0..50).map(|i| t * 1_000 + i).collect::<Vec<_>>());
    }
}

/// Issue 13: a durable event is committed when `record_event_durable` returns (the response that
/// reports it waits for that), from many concurrent recorders sharing group commits.
async fn durable_events_are_committed_on_return(env: Env) {
    let s = env.store;
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let e = event(t * 1_000 + i);
                s.record_event_durable(e.clone()).await.unwrap();
                let listed = s.list_events(0, 10_000).await.unwrap();
                assert!(
                    listed.iter().any(|(_, l)| *l == e),
                    "event {} not committed on return",
                    t * 1_000 + i
                );
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(s.list_events(0, 10_000).await.unwrap().len(), 200);
}
