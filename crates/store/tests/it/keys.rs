//! `KeyStore`: listing and the atomic rotation that keeps one current key per algorithm.
use std::sync::Arc;

use tessera_core::keys::{KeyState, SigningAlg};
use tessera_core::store::{FeedPosition, KeyRevocation, RevokedKind, Store};

use crate::support::{Env, key, key_in};

conformance!(
    first_key_becomes_current,
    rotation_retires_the_previous_current_key,
    keys_list_oldest_first,
    concurrent_rotations_leave_one_current_key_per_alg,
    insert_key_only_if_the_alg_has_none_in_that_state,
    concurrent_next_inserts_exactly_one_wins,
    promote_key_is_conditional,
    concurrent_promotions_exactly_one_wins,
    revoke_current_promotes_next_or_installs_replacement,
    revoke_unknown_or_twice_changes_nothing,
    prune_removes_only_expired_retired_and_revoked_keys,
    concurrent_prunes_remove_each_key_once,
    reseal_key_replaces_only_the_blob_it_was_given,
);

async fn reseal_key_replaces_only_the_blob_it_was_given(env: Env) {
    let s = env.store;
    let mut plain = key_in("k1", SigningAlg::ES256, KeyState::Current, 10);
    plain.sealed = false;
    plain.private_key = tessera_proto::Secret::from_bytes(b"plain".to_vec());
    assert!(s.insert_key(plain).await.unwrap());
    // Stale `old` (another node re-sealed first): nothing changes.
    assert!(!s.reseal_key("k1", b"other", b"sealed-1").await.unwrap());
    assert!(!s.reseal_key("nope", b"plain", b"sealed-1").await.unwrap());
    assert!(s.reseal_key("k1", b"plain", b"sealed-1").await.unwrap());
    assert!(!s.reseal_key("k1", b"plain", b"sealed-2").await.unwrap());
    let k = &s.list_keys().await.unwrap()[0];
    assert_eq!(
        (k.private_key.expose_secret(), k.sealed),
        (&b"sealed-1"[..], true)
    );
    assert_eq!(k.state, KeyState::Current);
}

/// `(kid, state)` of every key, oldest first.
async fn states(s: &dyn Store) -> Vec<(String, KeyState)> {
    s.list_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.kid, k.state))
        .collect()
}

fn owned(v: &[(&str, KeyState)]) -> Vec<(String, KeyState)> {
    v.iter().map(|(k, s)| (k.to_string(), *s)).collect()
}

async fn insert_key_only_if_the_alg_has_none_in_that_state(env: Env) {
    use KeyState::*;
    let s = env.store;
    let es = SigningAlg::ES256;
    assert!(s.insert_key(key_in("c1", es, Current, 10)).await.unwrap());
    assert!(!s.insert_key(key_in("c2", es, Current, 11)).await.unwrap());
    assert!(s.insert_key(key_in("n1", es, Next, 12)).await.unwrap());
    assert!(!s.insert_key(key_in("n2", es, Next, 13)).await.unwrap());
    // Other algorithms are independent.
    assert!(
        s.insert_key(key_in("e1", SigningAlg::EdDSA, Next, 14))
            .await
            .unwrap()
    );
    assert_eq!(
        states(s.as_ref()).await,
        owned(&[("c1", Current), ("n1", Next), ("e1", Next)])
    );
    let keys = s.list_keys().await.unwrap();
    assert_eq!(keys[0].activated_at, Some(10));
    assert_eq!(keys[1].activated_at, None, "a next key has not signed yet");
    // Only next or current keys may be inserted.
    assert!(s.insert_key(key_in("r", es, Retired, 15)).await.is_err());
}

async fn concurrent_next_inserts_exactly_one_wins(env: Env) {
    let nodes: Vec<Arc<dyn Store>> = vec![env.store.clone(), env.open_again().await];
    let mut tasks = Vec::new();
    for i in 0..12u64 {
        let s = nodes[i as usize % 2].clone();
        tasks.push(tokio::spawn(async move {
            s.insert_key(key_in(
                &format!("n{i:02}"),
                SigningAlg::ES256,
                KeyState::Next,
                i,
            ))
            .await
            .unwrap()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1);
    assert_eq!(env.store.list_keys().await.unwrap().len(), 1);
}

async fn promote_key_is_conditional(env: Env) {
    use KeyState::*;
    let s = env.store;
    let es = SigningAlg::ES256;
    s.insert_key(key_in("c1", es, Current, 10)).await.unwrap();
    s.insert_key(key_in("n1", es, Next, 20)).await.unwrap();
    let before = s.list_keys().await.unwrap();
    // The current key is not the one the caller saw: refused, nothing changes.
    assert!(!s.promote_key("n1", Some("other"), 30).await.unwrap());
    assert!(!s.promote_key("n1", None, 30).await.unwrap());
    // Not a next key.
    assert!(!s.promote_key("c1", Some("c1"), 30).await.unwrap());
    assert!(!s.promote_key("nobody", Some("c1"), 30).await.unwrap());
    assert_eq!(s.list_keys().await.unwrap(), before);

    assert!(s.promote_key("n1", Some("c1"), 30).await.unwrap());
    let keys = s.list_keys().await.unwrap();
    let got: Vec<_> = keys
        .iter()
        .map(|k| (k.kid.as_str(), k.state, k.activated_at, k.retired_at))
        .collect();
    assert_eq!(
        got,
        [
            ("c1", Retired, Some(10), Some(30)),
            ("n1", Current, Some(30), None)
        ]
    );
    // A second promotion of the same key loses.
    assert!(!s.promote_key("n1", Some("c1"), 31).await.unwrap());
    // No current key at all: promotion with `None` works.
    s.insert_key(key_in("e1", SigningAlg::EdDSA, Next, 40))
        .await
        .unwrap();
    assert!(s.promote_key("e1", None, 41).await.unwrap());
}

async fn concurrent_promotions_exactly_one_wins(env: Env) {
    let nodes: Vec<Arc<dyn Store>> = vec![env.store.clone(), env.open_again().await];
    let es = SigningAlg::ES256;
    env.store
        .insert_key(key_in("c1", es, KeyState::Current, 10))
        .await
        .unwrap();
    env.store
        .insert_key(key_in("n1", es, KeyState::Next, 20))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..10u64 {
        let s = nodes[i as usize % 2].clone();
        tasks.push(tokio::spawn(async move {
            s.promote_key("n1", Some("c1"), 100 + i).await.unwrap()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1);
    assert_eq!(
        states(env.store.as_ref()).await,
        owned(&[("c1", KeyState::Retired), ("n1", KeyState::Current)])
    );
}

async fn revoke_current_promotes_next_or_installs_replacement(env: Env) {
    use KeyState::*;
    let s = env.store;
    let (es, ed) = (SigningAlg::ES256, SigningAlg::EdDSA);
    s.insert_key(key_in("es-c", es, Current, 10)).await.unwrap();
    s.insert_key(key_in("es-n", es, Next, 11)).await.unwrap();
    s.insert_key(key_in("ed-c", ed, Current, 12)).await.unwrap();

    // With a next key: it signs at once (already published).
    let out = s
        .revoke_key("es-c", key_in("es-fresh", es, Current, 50), 50)
        .await
        .unwrap();
    assert_eq!(
        out,
        KeyRevocation::Revoked {
            alg: es,
            previous: Current,
            successor: Some("es-n".into())
        }
    );
    // Validators learn of it from the revocation feed.
    let feed = s
        .list_revocations(&FeedPosition::at(0), 50, 100)
        .await
        .unwrap();
    assert!(
        feed.iter()
            .any(|e| e.kind == RevokedKind::Key && e.id == "es-c" && e.revoked_at == 50),
        "{feed:?}"
    );
    // Without one: the replacement.
    let out = s
        .revoke_key("ed-c", key_in("ed-fresh", ed, Current, 60), 60)
        .await
        .unwrap();
    assert_eq!(
        out,
        KeyRevocation::Revoked {
            alg: ed,
            previous: Current,
            successor: Some("ed-fresh".into())
        }
    );
    // A non-current key: just revoked, no successor, the replacement unused.
    s.insert_key(key_in("ed-n", ed, Next, 61)).await.unwrap();
    let out = s
        .revoke_key("ed-n", key_in("unused", ed, Current, 62), 62)
        .await
        .unwrap();
    assert_eq!(
        out,
        KeyRevocation::Revoked {
            alg: ed,
            previous: Next,
            successor: None
        }
    );
    let keys = s.list_keys().await.unwrap();
    let got: Vec<_> = keys
        .iter()
        .map(|k| (k.kid.as_str(), k.state, k.activated_at, k.revoked_at))
        .collect();
    assert_eq!(
        got,
        [
            ("es-c", Revoked, Some(10), Some(50)),
            ("es-n", Current, Some(50), None),
            ("ed-c", Revoked, Some(12), Some(60)),
            ("ed-fresh", Current, Some(60), None),
            ("ed-n", Revoked, None, Some(62)),
        ]
    );
}

async fn revoke_unknown_or_twice_changes_nothing(env: Env) {
    let s = env.store;
    let es = SigningAlg::ES256;
    s.insert_key(key_in("c1", es, KeyState::Current, 10))
        .await
        .unwrap();
    assert_eq!(
        s.revoke_key("nope", key_in("x", es, KeyState::Current, 20), 20)
            .await
            .unwrap(),
        KeyRevocation::NotFound
    );
    assert_eq!(
        states(s.as_ref()).await,
        owned(&[("c1", KeyState::Current)])
    );
    s.revoke_key("c1", key_in("c2", es, KeyState::Current, 30), 30)
        .await
        .unwrap();
    let v = s.change_versions().await.unwrap();
    let before = s.list_keys().await.unwrap();
    assert_eq!(
        s.revoke_key("c1", key_in("c3", es, KeyState::Current, 40), 40)
            .await
            .unwrap(),
        KeyRevocation::AlreadyRevoked { revoked_at: 30 }
    );
    assert_eq!(s.list_keys().await.unwrap(), before);
    assert_eq!(s.change_versions().await.unwrap(), v);
}

async fn prune_removes_only_expired_retired_and_revoked_keys(env: Env) {
    use KeyState::*;
    let s = env.store;
    let es = SigningAlg::ES256;
    s.insert_key(key_in("a", es, Current, 10)).await.unwrap();
    s.insert_key(key_in("b", es, Next, 11)).await.unwrap();
    s.promote_key("b", Some("a"), 100).await.unwrap(); // a retired at 100
    s.insert_key(key_in("c", es, Next, 101)).await.unwrap();
    s.promote_key("c", Some("b"), 200).await.unwrap(); // b retired at 200
    s.revoke_key("c", key_in("d", es, Current, 150), 150)
        .await
        .unwrap(); // c revoked at 150, d current
    assert_eq!(s.prune_keys(99).await.unwrap(), Vec::<String>::new());
    assert_eq!(s.prune_keys(100).await.unwrap(), ["a"]);
    let mut removed = s.prune_keys(1_000).await.unwrap();
    removed.sort();
    assert_eq!(removed, ["b", "c"]);
    assert_eq!(states(s.as_ref()).await, owned(&[("d", Current)]));
}

async fn concurrent_prunes_remove_each_key_once(env: Env) {
    let nodes: Vec<Arc<dyn Store>> = vec![env.store.clone(), env.open_again().await];
    for i in 0..6u64 {
        env.store
            .rotate_in_key(key(&format!("k{i}"), SigningAlg::ES256, i), i)
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for i in 0..6usize {
        let s = nodes[i % 2].clone();
        tasks.push(tokio::spawn(
            async move { s.prune_keys(1_000).await.unwrap() },
        ));
    }
    let mut removed = Vec::new();
    for t in tasks {
        removed.extend(t.await.unwrap());
    }
    removed.sort();
    assert_eq!(removed, ["k0", "k1", "k2", "k3", "k4"]);
}

async fn first_key_becomes_current(env: Env) {
    let s = env.store;
    assert!(s.list_keys().await.unwrap().is_empty());
    let k = key("k1", SigningAlg::ES256, 100);
    s.rotate_in_key(k.clone(), 150).await.unwrap();
    let mut expected = k;
    expected.activated_at = Some(150);
    expected.revoked_at = None;
    assert_eq!(s.list_keys().await.unwrap(), vec![expected]);
}

async fn rotation_retires_the_previous_current_key(env: Env) {
    let s = env.store;
    s.rotate_in_key(key("es-1", SigningAlg::ES256, 100), 100)
        .await
        .unwrap();
    s.rotate_in_key(key("ed-1", SigningAlg::EdDSA, 101), 101)
        .await
        .unwrap();
    s.rotate_in_key(key("es-2", SigningAlg::ES256, 200), 200)
        .await
        .unwrap();
    let keys = s.list_keys().await.unwrap();
    let states: Vec<(&str, KeyState, Option<u64>, Option<u64>)> = keys
        .iter()
        .map(|k| (k.kid.as_str(), k.state, k.activated_at, k.retired_at))
        .collect();
    assert_eq!(
        states,
        [
            ("es-1", KeyState::Retired, Some(100), Some(200)),
            ("ed-1", KeyState::Current, Some(101), None),
            ("es-2", KeyState::Current, Some(200), None),
        ]
    );
    // Key material round-trips untouched.
    let es2 = keys.iter().find(|k| k.kid == "es-2").unwrap();
    assert_eq!(
        es2.private_key,
        key("es-2", SigningAlg::ES256, 200).private_key
    );
    assert_eq!(
        es2.public_jwk,
        key("es-2", SigningAlg::ES256, 200).public_jwk
    );
    assert_eq!(es2.sealed, key("es-2", SigningAlg::ES256, 200).sealed);
}

async fn keys_list_oldest_first(env: Env) {
    let s = env.store;
    s.rotate_in_key(key("b", SigningAlg::RS256, 300), 300)
        .await
        .unwrap();
    s.rotate_in_key(key("c", SigningAlg::EdDSA, 100), 300)
        .await
        .unwrap();
    s.rotate_in_key(key("a", SigningAlg::ES256, 300), 300)
        .await
        .unwrap();
    let kids: Vec<String> = s
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(kids, ["c", "a", "b"], "by creation time, then kid");
}

async fn concurrent_rotations_leave_one_current_key_per_alg(env: Env) {
    let nodes: Vec<Arc<dyn Store>> = vec![env.store.clone(), env.open_again().await];
    let mut tasks = Vec::new();
    for i in 0..24u64 {
        let s = nodes[i as usize % 2].clone();
        let alg = [SigningAlg::ES256, SigningAlg::EdDSA, SigningAlg::RS256][i as usize % 3];
        tasks.push(tokio::spawn(async move {
            s.rotate_in_key(key(&format!("k{i:02}"), alg, 1_000 + i), 2_000 + i)
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let keys = env.store.list_keys().await.unwrap();
    assert_eq!(keys.len(), 24);
    for alg in SigningAlg::ALL {
        let current = keys
            .iter()
            .filter(|k| k.alg == alg && k.state == KeyState::Current)
            .count();
        let retired = keys
            .iter()
            .filter(|k| k.alg == alg && k.state == KeyState::Retired)
            .count();
        assert_eq!((current, retired), (1, 7), "{alg:?}");
    }
}
