//! `GrantStore::rotate_refresh` with the reuse grace window (`refresh.reuse_grace_secs`): a
//! retry within the window gets the rotation's own successor, and concurrent presentations all
//! get that one successor; after the window, or once the successor was rotated, it is reuse;
//! the sealed successor is wiped when it can no longer be handed out.
use std::sync::Arc;

use tessera_core::clock::FixedClock;
use tessera_core::config::RetentionConfig;
use tessera_core::ops::janitor::Janitor;
use tessera_core::store::{Expiring, RefreshTokenRecord, RotateOutcome, SealedSuccessor, Store};
use tessera_proto::SecretHash;

use crate::grants::{code, refresh};
use crate::support::Env;

conformance!(
    a_retry_within_the_window_gets_the_same_successor,
    after_the_window_a_retry_is_reuse_and_the_sealed_successor_is_wiped,
    a_successor_rotated_since_is_not_handed_out,
    without_a_window_a_retry_is_reuse,
    concurrent_presentations_all_get_one_successor,
    the_janitor_wipes_a_sealed_successor_as_soon_as_its_window_ends,
);

const NOW: u64 = 1_700_000_000;
const WINDOW: u64 = 5;

/// A stand-in for the grant's sealed token string (the store never looks inside).
fn sealed(name: &str, at: u64) -> SealedSuccessor {
    SealedSuccessor {
        sealed: tessera_proto::Secret::from_bytes(format!("sealed {name}").into_bytes()),
        until: at + WINDOW,
    }
}

/// A family with its first refresh token, `name`.
async fn family(s: &Arc<dyn Store>, family: &str, name: &str) -> RefreshTokenRecord {
    s.insert_authorization_code(code(&format!("code {family}"), family))
        .await
        .unwrap();
    let first = refresh(name, family);
    s.insert_refresh_token(first.clone()).await.unwrap();
    first
}

/// Rotates `old` at `at` to the token `name`, opening a grace window.
async fn rotate_with_window(
    s: &Arc<dyn Store>,
    old: &RefreshTokenRecord,
    name: &str,
    at: u64,
) -> RotateOutcome {
    s.rotate_refresh(
        old.hash,
        refresh(name, &old.family),
        Some(sealed(name, at)),
        at,
    )
    .await
    .unwrap()
}

fn used(t: &RefreshTokenRecord, at: u64) -> RefreshTokenRecord {
    RefreshTokenRecord {
        used_at: Some(at),
        ..t.clone()
    }
}

async fn a_retry_within_the_window_gets_the_same_successor(env: Env) {
    let s = env.store;
    let first = family(&s, "f", "rt0").await;
    let next = refresh("rt1", "f");
    assert_eq!(
        rotate_with_window(&s, &first, "rt1", NOW).await,
        RotateOutcome::Rotated(first.clone())
    );
    for at in [NOW, NOW + 1, NOW + WINDOW - 1] {
        let other = refresh(&format!("other-{at}"), "f");
        assert_eq!(
            s.rotate_refresh(first.hash, other.clone(), Some(sealed("x", at)), at)
                .await
                .unwrap(),
            RotateOutcome::WithinGrace {
                token: used(&first, NOW),
                successor: next.hash,
                sealed: sealed("rt1", NOW),
            },
            "at +{}",
            at - NOW
        );
        assert_eq!(s.get_refresh_token(other.hash).await.unwrap(), None);
    }
    // Nothing was revoked: the successor still rotates.
    assert!(matches!(
        s.rotate_refresh(next.hash, refresh("rt2", "f"), None, NOW + 2)
            .await
            .unwrap(),
        RotateOutcome::Rotated(_)
    ));
}

async fn after_the_window_a_retry_is_reuse_and_the_sealed_successor_is_wiped(env: Env) {
    let s = env.store;
    let first = family(&s, "f", "rt0").await;
    let next = refresh("rt1", "f");
    rotate_with_window(&s, &first, "rt1", NOW).await;
    assert_eq!(
        s.rotate_refresh(first.hash, refresh("late", "f"), None, NOW + WINDOW)
            .await
            .unwrap(),
        RotateOutcome::Reused {
            token: used(&first, NOW),
            revoked: true
        }
    );
    let next = s.get_refresh_token(next.hash).await.unwrap().unwrap();
    assert_eq!(next.revoked_at, Some(NOW + WINDOW), "the family is revoked");
    // The reuse wiped the sealed successor: nothing is left for the janitor.
    assert_eq!(
        s.delete_expired(Expiring::RefreshSuccessors, u64::MAX / 2, 10)
            .await
            .unwrap(),
        0
    );
}

async fn a_successor_rotated_since_is_not_handed_out(env: Env) {
    let s = env.store;
    let first = family(&s, "f", "rt0").await;
    let next = refresh("rt1", "f");
    rotate_with_window(&s, &first, "rt1", NOW).await;
    rotate_with_window(&s, &next, "rt2", NOW + 1).await;
    // Within rt0's window, but its successor is spent: reuse, and the family dies.
    assert_eq!(
        s.rotate_refresh(first.hash, refresh("x", "f"), None, NOW + 2)
            .await
            .unwrap(),
        RotateOutcome::Reused {
            token: used(&first, NOW),
            revoked: true
        }
    );
    // rt1 is within its own window, but revoked now: inactive, not its successor.
    assert_eq!(
        s.rotate_refresh(next.hash, refresh("y", "f"), None, NOW + 3)
            .await
            .unwrap(),
        RotateOutcome::Inactive
    );
}

async fn without_a_window_a_retry_is_reuse(env: Env) {
    let s = env.store;
    let first = family(&s, "f", "rt0").await;
    s.rotate_refresh(first.hash, refresh("rt1", "f"), None, NOW)
        .await
        .unwrap();
    assert!(matches!(
        s.rotate_refresh(first.hash, refresh("rt1b", "f"), None, NOW)
            .await
            .unwrap(),
        RotateOutcome::Reused { revoked: true, .. }
    ));
}

async fn concurrent_presentations_all_get_one_successor(env: Env) {
    let nodes: Vec<Arc<dyn Store>> = vec![env.store.clone(), env.open_again().await];
    for round in 0..5 {
        let fam = format!("fam-{round}");
        let first = family(&nodes[0], &fam, &format!("old-{round}")).await;
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let s = nodes[i % 2].clone();
                let name = format!("new-{round}-{i}");
                let new = refresh(&name, &fam);
                tokio::spawn(async move {
                    let outcome = s
                        .rotate_refresh(first.hash, new, Some(sealed(&name, NOW)), NOW)
                        .await
                        .unwrap();
                    (outcome, name)
                })
            })
            .collect();
        let mut winner = None;
        let mut handed_out = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                (RotateOutcome::Rotated(_), name) => {
                    assert!(winner.replace(name).is_none(), "two winners, round {round}");
                }
                (
                    RotateOutcome::WithinGrace {
                        successor, sealed, ..
                    },
                    _,
                ) => {
                    handed_out.push((successor, sealed.sealed));
                }
                (other, _) => panic!("round {round}: unexpected {other:?}"),
            }
        }
        let winner = winner.expect("one winner");
        let expected = (
            SecretHash::of(winner.as_bytes()),
            sealed(&winner, NOW).sealed,
        );
        assert_eq!(handed_out.len(), 9, "round {round}");
        assert!(
            handed_out.iter().all(|h| *h == expected),
            "round {round}: every retry gets the winner's successor"
        );
        let successor = nodes[1]
            .get_refresh_token(expected.0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(successor.revoked_at, None, "the family is alive");
    }
}

async fn the_janitor_wipes_a_sealed_successor_as_soon_as_its_window_ends(env: Env) {
    let s = env.store;
    let (a, b) = (family(&s, "f", "a0").await, family(&s, "g", "b0").await);
    rotate_with_window(&s, &a, "a1", NOW).await;
    rotate_with_window(&s, &b, "b1", NOW + 3).await;
    // An hour of slack for expired tokens, none for sealed successors.
    let config = RetentionConfig {
        expired_token_grace_secs: 3_600,
        ..RetentionConfig::default()
    };
    let clock = Arc::new(FixedClock::at(NOW + WINDOW));
    let sweep = Janitor::new(s.clone(), clock, config).tick().await.unwrap();
    assert_eq!(
        sweep.deleted.get("refresh_successors"),
        Some(&1),
        "{sweep:?}"
    );
    // b0's window is still open: its retry still gets b1; a0's is reuse.
    assert!(matches!(
        s.rotate_refresh(b.hash, refresh("b1x", "g"), None, NOW + WINDOW)
            .await
            .unwrap(),
        RotateOutcome::WithinGrace { .. }
    ));
    assert!(matches!(
        s.rotate_refresh(a.hash, refresh("a1x", "f"), None, NOW + WINDOW)
            .await
            .unwrap(),
        RotateOutcome::Reused { .. }
    ));
}
