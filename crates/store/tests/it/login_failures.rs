//! `UserStore`'s failed-login counters: windows, locks, clearing, concurrent failures all
//! counted, and the janitor sweeping counters that can no longer matter.
use std::sync::Arc;

use tessera_core::store::{Expiring, FailureRule};

use crate::support::Env;

conformance!(
    failures_lock_a_key_at_the_limit_within_a_window,
    a_new_window_starts_after_the_last_one,
    concurrent_failures_are_all_counted,
    the_janitor_sweeps_counters_whose_window_and_lock_are_over,
);

const NOW: u64 = 1_700_000_000;
const RULE: FailureRule = FailureRule {
    max_failures: 3,
    window: 600,
    lockout: 300,
};

async fn failures_lock_a_key_at_the_limit_within_a_window(env: Env) {
    let s = env.store;
    assert_eq!(s.login_locked_until("user:alice").await.unwrap(), 0);
    assert_eq!(
        s.record_login_failure("user:alice", NOW, &RULE)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.record_login_failure("user:alice", NOW + 10, &RULE)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.record_login_failure("user:alice", NOW + 20, &RULE)
            .await
            .unwrap(),
        NOW + 20 + 300,
        "the third failure in the window locks"
    );
    assert_eq!(s.login_locked_until("user:alice").await.unwrap(), NOW + 320);
    assert_eq!(
        s.login_locked_until("user:bob").await.unwrap(),
        0,
        "keys are apart"
    );
    // A further failure in the same window locks again, from its own time.
    assert_eq!(
        s.record_login_failure("user:alice", NOW + 400, &RULE)
            .await
            .unwrap(),
        NOW + 700
    );
    s.clear_login_failures("user:alice").await.unwrap();
    assert_eq!(s.login_locked_until("user:alice").await.unwrap(), 0);
    assert_eq!(
        s.record_login_failure("user:alice", NOW + 401, &RULE)
            .await
            .unwrap(),
        0
    );
    // A limit of one locks at the first failure.
    let strict = FailureRule {
        max_failures: 1,
        ..RULE
    };
    assert_eq!(
        s.record_login_failure("ip:10.0.0.1", NOW, &strict)
            .await
            .unwrap(),
        NOW + 300
    );
}

async fn a_new_window_starts_after_the_last_one(env: Env) {
    let s = env.store;
    s.record_login_failure("user:alice", NOW, &RULE)
        .await
        .unwrap();
    s.record_login_failure("user:alice", NOW + 1, &RULE)
        .await
        .unwrap();
    // The window (600 s from the first failure) is over: this one starts a new count.
    assert_eq!(
        s.record_login_failure("user:alice", NOW + 600, &RULE)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.record_login_failure("user:alice", NOW + 601, &RULE)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.record_login_failure("user:alice", NOW + 602, &RULE)
            .await
            .unwrap(),
        NOW + 902
    );
}

async fn concurrent_failures_are_all_counted(env: Env) {
    let s = env.store;
    let rule = FailureRule {
        max_failures: 20,
        ..RULE
    };
    let tasks: Vec<_> = (0..19)
        .map(|_| {
            let s = Arc::clone(&s);
            tokio::spawn(async move { s.record_login_failure("user:alice", NOW, &rule).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 0);
    }
    assert_eq!(
        s.record_login_failure("user:alice", NOW, &rule)
            .await
            .unwrap(),
        NOW + 300,
        "the twentieth failure locks: none of the nineteen concurrent ones was lost"
    );
}

async fn the_janitor_sweeps_counters_whose_window_and_lock_are_over(env: Env) {
    let s = env.store;
    s.record_login_failure("user:old", NOW, &RULE)
        .await
        .unwrap();
    s.record_login_failure("user:new", NOW + 100, &RULE)
        .await
        .unwrap();
    // user:old can matter until NOW + 600 + 300 at most.
    assert_eq!(
        s.delete_expired(Expiring::LoginFailures, NOW + 900, 10)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.record_login_failure("user:new", NOW + 101, &RULE)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.record_login_failure("user:new", NOW + 102, &RULE)
            .await
            .unwrap(),
        NOW + 402,
        "user:new kept its count"
    );
}
