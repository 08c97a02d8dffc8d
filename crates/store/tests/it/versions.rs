//! `Store`: change counters (what every node polls to drop its caches) and the health ping.
use tessera_core::keys::SigningAlg;
use tessera_core::store::ChangeVersions;
use tessera_proto::SecretHash;

use crate::support::{Env, InsertToken, client, event, key, token};

conformance!(
    client_changes_bump_clients,
    key_changes_bump_keys,
    other_writes_bump_nothing,
    ping_answers
);

async fn client_changes_bump_clients(env: Env) {
    let s = env.store.clone();
    let other_node = env.open_again().await;
    let v0 = s.change_versions().await.unwrap();
    s.create_client(&client("c", 1)).await.unwrap();
    let v1 = other_node.change_versions().await.unwrap();
    assert!(v1.clients > v0.clients, "create: {v0:?} → {v1:?}");
    let mut c = client("c", 1);
    c.disabled = true;
    s.update_client(&c).await.unwrap();
    let v2 = other_node.change_versions().await.unwrap();
    assert!(v2.clients > v1.clients, "update");
    s.rotate_client_secret("c", SecretHash::of(b"n"), 0, 2)
        .await
        .unwrap();
    let v3 = other_node.change_versions().await.unwrap();
    assert!(v3.clients > v2.clients, "secret rotation");
    s.delete_client("c", 3).await.unwrap();
    let v4 = other_node.change_versions().await.unwrap();
    assert!(v4.clients > v3.clients, "delete");
    assert_eq!(v4.keys, v0.keys, "client changes leave keys alone");
}

async fn key_changes_bump_keys(env: Env) {
    let s = env.store.clone();
    let v0 = s.change_versions().await.unwrap();
    s.rotate_in_key(key("k1", SigningAlg::ES256, 1), 1)
        .await
        .unwrap();
    let v1 = env.open_again().await.change_versions().await.unwrap();
    assert!(v1.keys > v0.keys);
    s.rotate_in_key(key("k2", SigningAlg::ES256, 2), 2)
        .await
        .unwrap();
    let v2 = s.change_versions().await.unwrap();
    assert!(v2.keys > v1.keys);
    assert_eq!(v2.clients, v0.clients);
}

async fn other_writes_bump_nothing(env: Env) {
    let s = env.store;
    let v0: ChangeVersions = s.change_versions().await.unwrap();
    s.reserve_selectors(10).await.unwrap();
    s.insert_token(token(1)).await.unwrap();
    s.revoke_access_token(1, 5).await.unwrap();
    s.revoke_jti("j", "c", 5, 5).await.unwrap();
    s.insert_replay_guard("g", 5, 5).await.unwrap();
    s.record_event(event(1)).await;
    s.flush_events().await.unwrap();
    assert_eq!(s.change_versions().await.unwrap(), v0);
}

async fn ping_answers(env: Env) {
    env.store.ping().await.unwrap();
}
