//! `KeyStore`: listing and the atomic rotation that keeps one current key per algorithm.
use std::sync::Arc;

use tessera_core::keys::{KeyState, SigningAlg};
use tessera_core::store::Store;

use crate::support::{Env, key};

conformance!(
    first_key_becomes_current,
    rotation_retires_the_previous_current_key,
    keys_list_oldest_first,
    concurrent_rotations_leave_one_current_key_per_alg,
);

async fn first_key_becomes_current(env: Env) {
    let s = env.store;
    assert!(s.list_keys().await.unwrap().is_empty());
    let k = key("k1", SigningAlg::ES256, 100);
    s.rotate_in_key(k.clone(), 150).await.unwrap();
    let mut expected = k;
    expected.activated_at = Some(150);
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
