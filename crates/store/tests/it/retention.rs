//! `RetentionStore` and the janitor on top of it: bounded deletes of what expired, nothing that
//! is still needed, idempotent across nodes; one janitor tick on a pinned clock.
use std::collections::BTreeMap;
use std::sync::Arc;

use tessera_core::audit::EventKind;
use tessera_core::clock::FixedClock;
use tessera_core::config::RetentionConfig;
use tessera_core::ops::janitor::Janitor;
use tessera_core::store::{Expiring, FeedPosition, Store};

use crate::support::{Env, InsertToken, event, opaque_id, token};

conformance!(
    expired_tokens_go_in_bounded_batches,
    revoked_jti_records_live_until_their_token_expires,
    expired_replay_guards_go_and_live_ones_still_refuse,
    old_events_go_in_bounded_batches,
    concurrent_janitors_delete_each_row_once,
    janitor_tick_deletes_what_is_due,
);

/// An opaque-token row with `id` expiring at `expires_at`.
fn expiring(id: u64, expires_at: u64) -> tessera_core::store::AccessTokenRecord {
    let mut t = token(id);
    t.issued_at = expires_at.saturating_sub(300);
    t.expires_at = expires_at;
    t
}

async fn expired_tokens_go_in_bounded_batches(env: Env) {
    let s = env.store;
    for id in 1..=25 {
        s.insert_token(expiring(id, 1_000)).await.unwrap();
    }
    s.insert_token(expiring(26, 1_500)).await.unwrap();
    for id in 27..=30 {
        s.insert_token(expiring(id, 2_000)).await.unwrap();
    }
    // Revoked but not yet expired: the revocation feed still lists it.
    s.insert_token(expiring(31, 3_000)).await.unwrap();
    assert!(s.revoke_access_token(31, 1_200).await.unwrap());

    let mut batches = Vec::new();
    loop {
        let n = s
            .delete_expired(Expiring::AccessTokens, 1_500, 10)
            .await
            .unwrap();
        batches.push(n);
        if n < 10 {
            break;
        }
    }
    // Expiry at the cutoff counts as expired (introspection: active only while now < exp).
    assert_eq!(batches, vec![10, 10, 6]);
    for id in 1..=26 {
        assert_eq!(s.get_access_token(id).await.unwrap(), None, "token {id}");
    }
    for id in 27..=30 {
        assert_eq!(
            s.get_access_token(id).await.unwrap(),
            Some(expiring(id, 2_000))
        );
    }
    assert_eq!(
        s.get_access_token(31).await.unwrap().unwrap().revoked_at,
        Some(1_200)
    );
    let feed = s
        .list_revocations(&FeedPosition::at(0), 1_600, 10)
        .await
        .unwrap();
    assert_eq!(feed.len(), 1);
    assert_eq!(feed[0].id, opaque_id(&s, 31).await);
    assert_eq!(
        s.delete_expired(Expiring::AccessTokens, 1_500, 10)
            .await
            .unwrap(),
        0,
        "nothing left to delete"
    );
    // The other kinds are not touched by a token sweep, and a zero limit deletes nothing.
    assert_eq!(
        s.delete_expired(Expiring::AccessTokens, u64::MAX, 0)
            .await
            .unwrap(),
        0
    );
    assert!(s.get_access_token(27).await.unwrap().is_some());
}

async fn revoked_jti_records_live_until_their_token_expires(env: Env) {
    let s = env.store;
    assert!(s.revoke_jti("gone", "c1", 1_000, 900).await.unwrap());
    assert!(s.revoke_jti("live", "c1", 2_000, 900).await.unwrap());
    assert_eq!(
        s.delete_expired(Expiring::RevokedJtis, 1_500, 100)
            .await
            .unwrap(),
        1
    );
    assert!(!s.is_jti_revoked("gone").await.unwrap());
    assert!(
        s.is_jti_revoked("live").await.unwrap(),
        "its JWT has not expired"
    );
    let feed = s
        .list_revocations(&FeedPosition::at(0), 1_500, 10)
        .await
        .unwrap();
    assert_eq!(
        feed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["live"]
    );
    // Tokens and guards expiring before the cutoff are other kinds: not deleted by this sweep.
    s.insert_token(expiring(1, 1_000)).await.unwrap();
    assert_eq!(
        s.delete_expired(Expiring::RevokedJtis, 1_500, 100)
            .await
            .unwrap(),
        0
    );
    assert!(s.get_access_token(1).await.unwrap().is_some());
}

async fn expired_replay_guards_go_and_live_ones_still_refuse(env: Env) {
    let s = env.store;
    for i in 0..15 {
        assert!(
            s.insert_replay_guard(&format!("old-{i}"), 1_000, 900)
                .await
                .unwrap()
        );
    }
    assert!(s.insert_replay_guard("live", 2_000, 900).await.unwrap());
    assert_eq!(
        s.delete_expired(Expiring::ReplayGuards, 1_500, 10)
            .await
            .unwrap(),
        10
    );
    assert_eq!(
        s.delete_expired(Expiring::ReplayGuards, 1_500, 10)
            .await
            .unwrap(),
        5
    );
    assert!(
        !s.insert_replay_guard("live", 3_000, 1_600).await.unwrap(),
        "a live guard still refuses a replay"
    );
    assert!(s.insert_replay_guard("old-0", 3_000, 1_600).await.unwrap());
}

async fn old_events_go_in_bounded_batches(env: Env) {
    let s = env.store;
    for n in 0..30 {
        s.record_event(event(n)).await;
    }
    s.flush_events().await.unwrap();
    let cutoff = event(20).time_ms;
    let mut batches = Vec::new();
    loop {
        let n = s.delete_events_before(cutoff, 7).await.unwrap();
        batches.push(n);
        if n < 7 {
            break;
        }
    }
    assert_eq!(batches, vec![7, 7, 6], "events before the cutoff only");
    assert_eq!(s.delete_events_before(cutoff, 7).await.unwrap(), 0);
    let left: Vec<_> = s
        .list_events(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    assert_eq!(left, (20..30).map(event).collect::<Vec<_>>());
}

async fn concurrent_janitors_delete_each_row_once(env: Env) {
    let nodes: Vec<Arc<dyn Store>> = vec![env.store.clone(), env.open_again().await];
    for id in 1..=400 {
        nodes[0].insert_token(expiring(id, 1_000)).await.unwrap();
    }
    for id in 401..=420 {
        nodes[1].insert_token(expiring(id, 5_000)).await.unwrap();
    }
    let mut sweepers = Vec::new();
    for w in 0..4 {
        let s = nodes[w % 2].clone();
        sweepers.push(tokio::spawn(async move {
            let mut total = 0;
            loop {
                let n = s
                    .delete_expired(Expiring::AccessTokens, 2_000, 25)
                    .await
                    .expect("a concurrent sweep never fails");
                total += n;
                if n == 0 {
                    return total;
                }
            }
        }));
    }
    let mut total = 0;
    for s in sweepers {
        total += s.await.unwrap();
    }
    assert_eq!(total, 400, "every expired row deleted exactly once");
    for id in (1..=420).step_by(7) {
        assert_eq!(
            nodes[1].get_access_token(id).await.unwrap().is_some(),
            id > 400
        );
    }
}

async fn janitor_tick_deletes_what_is_due(env: Env) {
    const NOW: u64 = 1_800_000_000;
    const DAY: u64 = 86_400;
    let s = env.store;
    let clock = Arc::new(FixedClock::at(NOW));
    let config = RetentionConfig {
        enabled: true,
        janitor_interval_secs: 60,
        batch_size: 2,
        expired_token_grace_secs: 3_600,
        audit_events_days: 90,
    };
    let janitor = Janitor::new(s.clone(), clock.clone(), config);

    // Due: expired more than the grace ago. Kept: inside the grace, or not expired.
    for id in 1..=5 {
        s.insert_token(expiring(id, NOW - 4_000)).await.unwrap();
    }
    s.insert_token(expiring(6, NOW - 100)).await.unwrap();
    s.insert_token(expiring(7, NOW + 100)).await.unwrap();
    assert!(
        s.revoke_jti("old", "c1", NOW - 3_601, NOW - 4_000)
            .await
            .unwrap()
    );
    assert!(s.revoke_jti("new", "c1", NOW + 60, NOW - 10).await.unwrap());
    assert!(
        s.insert_replay_guard("g-old", NOW - 3_700, NOW - 3_800)
            .await
            .unwrap()
    );
    assert!(s.insert_replay_guard("g-new", NOW + 60, NOW).await.unwrap());
    let mut old = event(1);
    old.time_ms = (NOW - 91 * DAY) * 1_000;
    let mut recent = event(2);
    recent.time_ms = (NOW - 89 * DAY) * 1_000;
    s.record_event(old).await;
    s.record_event(recent.clone()).await;
    s.flush_events().await.unwrap();

    let sweep = janitor.tick().await.unwrap();
    let expected: BTreeMap<String, u64> = [
        ("access_tokens", 5),
        ("events", 1),
        ("replay_guards", 1),
        ("revoked_jtis", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(sweep.deleted, expected);
    for id in 1..=5 {
        assert!(s.get_access_token(id).await.unwrap().is_none());
    }
    assert!(
        s.get_access_token(6).await.unwrap().is_some(),
        "inside the grace"
    );
    assert!(s.get_access_token(7).await.unwrap().is_some());
    assert!(!s.is_jti_revoked("old").await.unwrap());
    assert!(s.is_jti_revoked("new").await.unwrap());
    assert!(!s.insert_replay_guard("g-new", NOW + 60, NOW).await.unwrap());

    s.flush_events().await.unwrap();
    let events: Vec<_> = s
        .list_events(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    // The seven tokens' `token.issued` events (stored with their rows) are recent: kept.
    assert_eq!(events.len(), 9, "{events:?}");
    assert!(events[..7].iter().all(|e| e.kind == EventKind::TokenIssued));
    assert_eq!(events[7], recent);
    assert_eq!(events[8].kind, EventKind::JanitorSwept);
    assert_eq!(events[8].time_ms, NOW * 1_000);
    assert_eq!(events[8].deleted.as_ref(), Some(&expected));

    // Nothing due: an empty sweep records no event.
    assert_eq!(janitor.tick().await.unwrap().total(), 0);
    s.flush_events().await.unwrap();
    assert_eq!(s.list_events(0, 100).await.unwrap().len(), 9);

    // An hour later the token that was inside the grace is due.
    clock.advance(3_600);
    let sweep = janitor.tick().await.unwrap();
    assert_eq!(sweep.deleted.get("access_tokens"), Some(&1));
    assert_eq!(sweep.total(), 1);
    assert!(s.get_access_token(6).await.unwrap().is_none());
    assert!(s.get_access_token(7).await.unwrap().is_some());
}
