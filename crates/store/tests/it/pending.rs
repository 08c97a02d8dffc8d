//! `PendingAuthorizationStore`: pending login requests are single-use, and capped even when
//! inserted concurrently.
use tessera_proto::SecretHash;

use crate::support::Env;

conformance!(
    pending_authorizations_are_single_use,
    pending_authorizations_are_capped_even_when_inserted_concurrently,
);

const NOW: u64 = 1_700_000_000;

async fn pending_authorizations_are_single_use(env: Env) {
    let s = env.store;
    let id = SecretHash::of(b"req");
    assert!(
        s.insert_pending_authorization(id, "{\"a\":1}".into(), NOW + 600, NOW, 10)
            .await
            .unwrap()
    );
    assert_eq!(
        s.get_pending_authorization(id, NOW)
            .await
            .unwrap()
            .as_deref(),
        Some("{\"a\":1}")
    );
    assert_eq!(
        s.get_pending_authorization(id, NOW + 600).await.unwrap(),
        None
    );
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.consume_pending_authorization(id, NOW).await.unwrap() })
        })
        .collect();
    let mut winners = 0;
    for t in tasks {
        winners += usize::from(t.await.unwrap());
    }
    assert_eq!(winners, 1);
    assert_eq!(s.get_pending_authorization(id, NOW).await.unwrap(), None);
    assert!(
        !s.consume_pending_authorization(SecretHash::of(b"x"), NOW)
            .await
            .unwrap()
    );
}

async fn pending_authorizations_are_capped_even_when_inserted_concurrently(env: Env) {
    let s = env.store;
    let tasks: Vec<_> = (0..40u32)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                s.insert_pending_authorization(
                    SecretHash::of(&i.to_be_bytes()),
                    "{}".into(),
                    NOW + 600,
                    NOW,
                    5,
                )
                .await
                .unwrap()
            })
        })
        .collect();
    let mut stored = 0;
    for t in tasks {
        stored += usize::from(t.await.unwrap());
    }
    assert_eq!(stored, 5, "the cap holds under concurrency");
    let extra = SecretHash::of(b"extra");
    assert!(
        !s.insert_pending_authorization(extra, "{}".into(), NOW + 600, NOW + 1, 5)
            .await
            .unwrap()
    );
    assert_eq!(s.get_pending_authorization(extra, NOW).await.unwrap(), None);
    // Used ones still count until they expire; expired ones do not.
    assert!(
        s.insert_pending_authorization(extra, "{}".into(), NOW + 1200, NOW + 600, 5)
            .await
            .unwrap(),
        "the five expired at NOW + 600: room again"
    );
}
