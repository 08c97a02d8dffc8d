//! `LoginThrottleStore`'s login-attempt counters: attempts reserved before the password check,
//! windows, locks, refunds, clearing, concurrent reservations never passing the limit, and the
//! janitor sweeping counters that can no longer matter.
use std::sync::Arc;

use tessera_core::store::{Expiring, FailureRule, LoginAttempt, Reservation, Store};

use crate::support::Env;

conformance!(
    reservations_lock_a_key_at_the_limit_within_a_window,
    a_new_window_starts_after_the_last_one,
    concurrent_reservations_never_pass_the_limit,
    a_refund_hands_back_one_attempt_and_lifts_the_lock_it_set,
    the_janitor_sweeps_counters_whose_window_and_lock_are_over,
);

const NOW: u64 = 1_700_000_000;
const RULE: FailureRule = FailureRule {
    max_failures: 3,
    window: 600,
    lockout: 300,
};

/// Reserves an attempt that must be let through; returns its reservation.
async fn reserve(s: &Arc<dyn Store>, key: &str, now: u64, rule: &FailureRule) -> Reservation {
    match s.reserve_login_attempt(key, now, rule).await.unwrap() {
        LoginAttempt::Reserved(r) => r,
        LoginAttempt::Locked => panic!("{key} is locked at {now}"),
    }
}

async fn locked(s: &Arc<dyn Store>, key: &str, now: u64) -> bool {
    s.reserve_login_attempt(key, now, &RULE).await.unwrap() == LoginAttempt::Locked
}

async fn reservations_lock_a_key_at_the_limit_within_a_window(env: Env) {
    let s = env.store;
    assert_eq!(s.login_locked_until("user:alice").await.unwrap(), 0);
    assert_eq!(reserve(&s, "user:alice", NOW, &RULE).await.locked_until, 0);
    assert_eq!(
        reserve(&s, "user:alice", NOW + 10, &RULE).await,
        Reservation {
            window_start: NOW,
            failures: 2,
            locked_until: 0
        }
    );
    assert_eq!(
        reserve(&s, "user:alice", NOW + 20, &RULE)
            .await
            .locked_until,
        NOW + 20 + 300,
        "the third attempt in the window is let through and locks the key behind it"
    );
    assert_eq!(s.login_locked_until("user:alice").await.unwrap(), NOW + 320);
    assert!(
        locked(&s, "user:alice", NOW + 30).await,
        "the fourth is refused"
    );
    assert_eq!(
        s.login_locked_until("user:alice").await.unwrap(),
        NOW + 320,
        "a refused attempt changes nothing"
    );
    assert_eq!(
        reserve(&s, "user:bob", NOW + 30, &RULE).await.locked_until,
        0,
        "keys are apart"
    );
    // After the lock, a further attempt in the same window locks again, from its own time.
    assert_eq!(
        reserve(&s, "user:alice", NOW + 400, &RULE)
            .await
            .locked_until,
        NOW + 700
    );
    s.clear_login_failures("user:alice").await.unwrap();
    assert_eq!(s.login_locked_until("user:alice").await.unwrap(), 0);
    assert_eq!(
        reserve(&s, "user:alice", NOW + 401, &RULE)
            .await
            .locked_until,
        0
    );
    // A limit of one locks at the first attempt.
    let strict = FailureRule {
        max_failures: 1,
        ..RULE
    };
    assert_eq!(
        reserve(&s, "ip:10.0.0.1", NOW, &strict).await.locked_until,
        NOW + 300
    );
    assert!(locked(&s, "ip:10.0.0.1", NOW + 1).await);
}

async fn a_new_window_starts_after_the_last_one(env: Env) {
    let s = env.store;
    reserve(&s, "user:alice", NOW, &RULE).await;
    reserve(&s, "user:alice", NOW + 1, &RULE).await;
    // The window (600 s from the first attempt) is over: this one starts a new count.
    let r = reserve(&s, "user:alice", NOW + 600, &RULE).await;
    assert_eq!(
        (r.window_start, r.failures, r.locked_until),
        (NOW + 600, 1, 0)
    );
    assert_eq!(
        reserve(&s, "user:alice", NOW + 601, &RULE)
            .await
            .locked_until,
        0
    );
    assert_eq!(
        reserve(&s, "user:alice", NOW + 602, &RULE)
            .await
            .locked_until,
        NOW + 902
    );
}

/// The concurrency hole of check-then-count: forty attempts at once, none of them counted
/// before all are checked. Reserving first lets exactly the limit through.
async fn concurrent_reservations_never_pass_the_limit(env: Env) {
    let s = env.store;
    let rule = FailureRule {
        max_failures: 5,
        ..RULE
    };
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let s = Arc::clone(&s);
            tokio::spawn(async move { s.reserve_login_attempt("user:alice", NOW, &rule).await })
        })
        .collect();
    let mut through = 0;
    for t in tasks {
        if let LoginAttempt::Reserved(_) = t.await.unwrap().unwrap() {
            through += 1;
        }
    }
    assert_eq!(through, 5, "exactly max_failures of 40 concurrent attempts");
    assert_eq!(s.login_locked_until("user:alice").await.unwrap(), NOW + 300);
}

async fn a_refund_hands_back_one_attempt_and_lifts_the_lock_it_set(env: Env) {
    let s = env.store;
    let first = reserve(&s, "ip:10.0.0.1", NOW, &RULE).await;
    reserve(&s, "ip:10.0.0.1", NOW, &RULE).await;
    let third = reserve(&s, "ip:10.0.0.1", NOW + 1, &RULE).await;
    assert_eq!(third.locked_until, NOW + 301);
    // The third was a good password: its attempt and its lock are handed back.
    s.refund_login_attempt("ip:10.0.0.1", &third).await.unwrap();
    assert_eq!(s.login_locked_until("ip:10.0.0.1").await.unwrap(), 0);
    // Two failures stand: the next attempt is the third, and locks.
    assert_eq!(
        reserve(&s, "ip:10.0.0.1", NOW + 2, &RULE)
            .await
            .locked_until,
        NOW + 302
    );
    // A refund of an attempt that set no lock leaves the lock alone, and lowers the count.
    s.refund_login_attempt("ip:10.0.0.1", &first).await.unwrap();
    assert!(locked(&s, "ip:10.0.0.1", NOW + 3).await);
    assert_eq!(
        reserve(&s, "ip:10.0.0.1", NOW + 302, &RULE).await,
        Reservation {
            window_start: NOW,
            failures: 3,
            locked_until: NOW + 602
        },
        "2 left after the refund, this one is the third"
    );
    // A refund from an earlier window does not touch a later one.
    let r = reserve(&s, "ip:10.0.0.2", NOW, &RULE).await;
    let later = reserve(&s, "ip:10.0.0.2", NOW + 700, &RULE).await;
    assert_eq!(later.window_start, NOW + 700);
    s.refund_login_attempt("ip:10.0.0.2", &r).await.unwrap();
    assert_eq!(
        reserve(&s, "ip:10.0.0.2", NOW + 701, &RULE).await.failures,
        2
    );
}

async fn the_janitor_sweeps_counters_whose_window_and_lock_are_over(env: Env) {
    let s = env.store;
    reserve(&s, "user:old", NOW, &RULE).await;
    reserve(&s, "user:new", NOW + 100, &RULE).await;
    // user:old can matter until NOW + 600 + 300 at most.
    assert_eq!(
        s.delete_expired(Expiring::LoginFailures, NOW + 900, 10)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        reserve(&s, "user:new", NOW + 101, &RULE).await.locked_until,
        0
    );
    assert_eq!(
        reserve(&s, "user:new", NOW + 102, &RULE).await.locked_until,
        NOW + 402,
        "user:new kept its count"
    );
}
