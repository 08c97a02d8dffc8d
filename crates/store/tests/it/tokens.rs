//! `TokenStore`: selectors, opaque tokens and their revocation, revoked JWT `jti`s.
use std::collections::HashSet;
use std::sync::Arc;

use tessera_core::error::StoreError;
use tessera_core::store::Store;

use crate::support::{Env, InsertToken, by_token, issued, stored_events, token};

conformance!(
    selectors_come_in_fresh_blocks,
    concurrent_selector_reservations_never_overlap,
    token_round_trip,
    duplicate_selector_conflicts_alone,
    the_issued_event_commits_with_its_row,
    concurrent_inserts_are_all_durable,
    revoke_access_token_once,
    concurrent_revocation_has_one_winner,
    revoke_jti_is_idempotent,
    concurrent_jti_revocation_has_one_winner,
    replay_guard_refuses_a_second_use_until_expiry,
    concurrent_replay_guards_have_one_winner,
);

async fn selectors_come_in_fresh_blocks(env: Env) {
    let s = env.store.clone();
    let a = s.reserve_selectors(10).await.unwrap();
    let b = s.reserve_selectors(1).await.unwrap();
    let c = s.reserve_selectors(4096).await.unwrap();
    assert_eq!(
        (a.end - a.start, b.end - b.start, c.end - c.start),
        (10, 1, 4096)
    );
    assert!(a.start >= 1, "selector 0 is never handed out");
    assert!(a.end <= b.start && b.end <= c.start, "{a:?} {b:?} {c:?}");
    // A second node on the same database continues after them.
    let other = env.open_again().await;
    let d = other.reserve_selectors(5).await.unwrap();
    assert!(d.start >= c.end);
}

async fn concurrent_selector_reservations_never_overlap(env: Env) {
    let nodes: Vec<Arc<dyn Store>> = vec![env.store.clone(), env.open_again().await];
    let mut tasks = Vec::new();
    for t in 0..16u64 {
        let s = nodes[t as usize % 2].clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..10u64 {
                got.push(s.reserve_selectors(1 + (t * 7 + i) % 50).await.unwrap());
            }
            got
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for task in tasks {
        for range in task.await.unwrap() {
            total += range.end - range.start;
            for id in range {
                assert!(seen.insert(id), "selector {id} handed out twice");
            }
        }
    }
    assert_eq!(seen.len() as u64, total);
}

async fn token_round_trip(env: Env) {
    let s = env.store;
    let (odd, even) = (token(41), token(42));
    assert!(
        token(42).cnf_jkt.is_some() && token(41).cnf_jkt.is_none(),
        "both shapes covered"
    );
    s.insert_token(odd.clone()).await.unwrap();
    s.insert_token(even.clone()).await.unwrap();
    assert_eq!(s.get_access_token(41).await.unwrap(), Some(odd));
    assert_eq!(s.get_access_token(42).await.unwrap(), Some(even));
    assert_eq!(s.get_access_token(43).await.unwrap(), None);
    assert_eq!(
        s.get_access_token(u64::MAX).await.unwrap(),
        None,
        "beyond the column's range"
    );
    // Large selectors (up to i64::MAX) are stored as they are.
    let big = token(i64::MAX as u64);
    s.insert_token(big.clone()).await.unwrap();
    assert_eq!(s.get_access_token(big.id).await.unwrap(), Some(big));
}

async fn duplicate_selector_conflicts_alone(env: Env) {
    let s = env.store;
    s.insert_token(token(7)).await.unwrap();
    // The duplicate is likely to share a group-commit batch with the others: it fails alone.
    let mut tasks = Vec::new();
    for id in [100, 101, 7, 102, 103] {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            (id, s.insert_token(token(id)).await)
        }));
    }
    for task in tasks {
        match task.await.unwrap() {
            (7, Err(StoreError::Conflict(_))) => {}
            (7, other) => panic!("duplicate selector: expected Conflict, got {other:?}"),
            (id, r) => {
                r.unwrap();
                assert_eq!(s.get_access_token(id).await.unwrap(), Some(token(id)));
            }
        }
    }
    assert_eq!(s.get_access_token(7).await.unwrap(), Some(token(7)));
    // The refused duplicate left no `token.issued` event, though its batch committed.
    s.flush_events().await.unwrap();
    let expected = [7, 100, 101, 102, 103].map(|id| issued(&token(id)));
    assert_eq!(
        by_token(stored_events(s.as_ref()).await),
        by_token(expected.to_vec())
    );
}

/// Issue 13: the response waits for `insert_access_token`, so its event must be committed when it
/// returns — listed at once, with no flush — and never stored for a row that was refused.
async fn the_issued_event_commits_with_its_row(env: Env) {
    let s = env.store;
    let t = token(9);
    s.insert_token(t.clone()).await.unwrap();
    assert_eq!(stored_events(s.as_ref()).await, vec![issued(&t)]);
    let mut refused = issued(&t);
    refused.scope = Some("refused".into());
    let err = s.insert_access_token(token(9), refused).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    s.flush_events().await.unwrap();
    assert_eq!(
        s.list_events(0, 10).await.unwrap().len(),
        1,
        "no event for the refused row"
    );
}

async fn concurrent_inserts_are_all_durable(env: Env) {
    let s = env.store.clone();
    let mut tasks = Vec::new();
    for id in 1..=400u64 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move { s.insert_token(token(id)).await }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    // Returned means committed: another node sees every row.
    let other = env.open_again().await;
    for id in 1..=400u64 {
        assert_eq!(
            other.get_access_token(id).await.unwrap(),
            Some(token(id)),
            "token {id}"
        );
    }
}

async fn revoke_access_token_once(env: Env) {
    let s = env.store;
    s.insert_token(token(5)).await.unwrap();
    s.insert_token(token(6)).await.unwrap();
    assert!(s.revoke_access_token(5, 1_700_000_100).await.unwrap());
    assert!(!s.revoke_access_token(5, 1_700_000_200).await.unwrap());
    let got = s.get_access_token(5).await.unwrap().unwrap();
    assert_eq!(
        got.revoked_at,
        Some(1_700_000_100),
        "the first revocation's time stays"
    );
    assert_eq!(
        s.get_access_token(6).await.unwrap().unwrap().revoked_at,
        None
    );
    assert!(
        !s.revoke_access_token(999, 1).await.unwrap(),
        "unknown selector"
    );
    assert!(!s.revoke_access_token(u64::MAX, 1).await.unwrap());
}

async fn concurrent_revocation_has_one_winner(env: Env) {
    let nodes: Vec<Arc<dyn Store>> = vec![env.store.clone(), env.open_again().await];
    for round in 0..5u64 {
        let id = 1_000 + round;
        nodes[0].insert_token(token(id)).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..12u64 {
            let s = nodes[i as usize % 2].clone();
            tasks.push(tokio::spawn(async move {
                s.revoke_access_token(id, 10 + i).await
            }));
        }
        let mut wins = 0;
        for task in tasks {
            wins += task.await.unwrap().unwrap() as u32;
        }
        assert_eq!(wins, 1, "round {round}: exactly one revocation succeeds");
    }
}

async fn revoke_jti_is_idempotent(env: Env) {
    let s = env.store;
    assert!(!s.is_jti_revoked("j1").await.unwrap());
    assert!(
        s.revoke_jti("j1", "c1", 1_700_000_600, 1_700_000_000)
            .await
            .unwrap()
    );
    assert!(
        !s.revoke_jti("j1", "c1", 1_700_000_900, 1_700_000_100)
            .await
            .unwrap()
    );
    assert!(s.is_jti_revoked("j1").await.unwrap());
    assert!(!s.is_jti_revoked("j2").await.unwrap());
    assert!(!s.is_jti_revoked("").await.unwrap());
}

async fn concurrent_jti_revocation_has_one_winner(env: Env) {
    let nodes: Vec<Arc<dyn Store>> = vec![env.store.clone(), env.open_again().await];
    let mut tasks = Vec::new();
    for i in 0..12u64 {
        let s = nodes[i as usize % 2].clone();
        tasks.push(tokio::spawn(async move {
            s.revoke_jti("shared", "c1", 100, i).await
        }));
    }
    let mut wins = 0;
    for task in tasks {
        wins += task.await.unwrap().unwrap() as u32;
    }
    assert_eq!(wins, 1);
    assert!(nodes[1].is_jti_revoked("shared").await.unwrap());
}

async fn replay_guard_refuses_a_second_use_until_expiry(env: Env) {
    let s = env.store.clone();
    assert!(s.insert_replay_guard("proof-1", 160, 100).await.unwrap());
    assert!(
        !s.insert_replay_guard("proof-1", 170, 110).await.unwrap(),
        "a replay"
    );
    assert!(
        !s.insert_replay_guard("proof-1", 200, 159).await.unwrap(),
        "still inside its window"
    );
    assert!(
        s.insert_replay_guard("proof-2", 160, 100).await.unwrap(),
        "keys are independent"
    );
    // Expired: the key may be used again, and then guards its new window.
    assert!(s.insert_replay_guard("proof-1", 260, 160).await.unwrap());
    assert!(!s.insert_replay_guard("proof-1", 300, 200).await.unwrap());
    // Another node sees the same guards.
    let other = env.open_again().await;
    assert!(
        !other
            .insert_replay_guard("proof-2", 300, 150)
            .await
            .unwrap()
    );
}

async fn concurrent_replay_guards_have_one_winner(env: Env) {
    let nodes: Vec<Arc<dyn Store>> = vec![env.store.clone(), env.open_again().await];
    for round in 0..5u64 {
        let key = format!("jti-{round}");
        let mut tasks = Vec::new();
        for i in 0..12u64 {
            let (s, key) = (nodes[i as usize % 2].clone(), key.clone());
            tasks.push(tokio::spawn(async move {
                s.insert_replay_guard(&key, 1_000, 10 + i).await
            }));
        }
        let mut wins = 0;
        for task in tasks {
            wins += task.await.unwrap().unwrap() as u32;
        }
        assert_eq!(wins, 1, "round {round}: exactly one use is accepted");
    }
}
