//! `PendingAuthorizationStore`: pending login requests are single-use, and capped even when
//! inserted concurrently; pushed requests (RFC 9126) are single-use, bound to their client,
//! capped per client, and never mistaken for login forms.
use tessera_proto::SecretHash;

use crate::support::Env;

conformance!(
    pending_authorizations_are_single_use,
    pending_authorizations_are_capped_even_when_inserted_concurrently,
    pushed_requests_are_single_use_and_bound_to_their_client,
    pushed_requests_are_capped_per_client_even_when_inserted_concurrently,
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

async fn pushed_requests_are_single_use_and_bound_to_their_client(env: Env) {
    let s = env.store;
    let id = SecretHash::of(b"urn:ietf:params:oauth:request_uri:abc");
    assert!(
        s.insert_pushed_authorization(id, "client-a", "{\"p\":1}".into(), NOW + 60, NOW, 10)
            .await
            .unwrap()
    );
    // Not a login form: the login form's lookups do not see it, nor use it up.
    assert_eq!(s.get_pending_authorization(id, NOW).await.unwrap(), None);
    assert!(!s.consume_pending_authorization(id, NOW).await.unwrap());
    // Another client cannot take it, and trying does not use it up.
    assert_eq!(
        s.take_pushed_authorization(id, "client-b", NOW)
            .await
            .unwrap(),
        None
    );
    // Expired at NOW + 60.
    assert_eq!(
        s.take_pushed_authorization(id, "client-a", NOW + 60)
            .await
            .unwrap(),
        None
    );
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                s.take_pushed_authorization(id, "client-a", NOW + 59)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut bodies = Vec::new();
    for t in tasks {
        bodies.extend(t.await.unwrap());
    }
    assert_eq!(bodies, ["{\"p\":1}"], "exactly one caller takes it");
    // A login form is not a pushed request either.
    let form = SecretHash::of(b"form");
    assert!(
        s.insert_pending_authorization(form, "{}".into(), NOW + 600, NOW, 10)
            .await
            .unwrap()
    );
    assert_eq!(
        s.take_pushed_authorization(form, "client-a", NOW)
            .await
            .unwrap(),
        None
    );
    assert!(s.consume_pending_authorization(form, NOW).await.unwrap());
}

async fn pushed_requests_are_capped_per_client_even_when_inserted_concurrently(env: Env) {
    let s = env.store;
    let tasks: Vec<_> = (0..40u32)
        .map(|i| {
            let s = s.clone();
            let client = if i % 2 == 0 { "client-a" } else { "client-b" };
            tokio::spawn(async move {
                let ok = s
                    .insert_pushed_authorization(
                        SecretHash::of(&i.to_be_bytes()),
                        client,
                        "{}".into(),
                        NOW + 60,
                        NOW,
                        3,
                    )
                    .await
                    .unwrap();
                (client, ok)
            })
        })
        .collect();
    let (mut a, mut b) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            ("client-a", true) => a += 1,
            ("client-b", true) => b += 1,
            _ => {}
        }
    }
    assert_eq!((a, b), (3, 3), "each client's cap holds under concurrency");
    // Pushed requests do not take the login forms' global cap.
    assert!(
        s.insert_pending_authorization(SecretHash::of(b"form"), "{}".into(), NOW + 600, NOW, 1)
            .await
            .unwrap()
    );
    // Expired ones free their slots.
    assert!(
        s.insert_pushed_authorization(
            SecretHash::of(b"later"),
            "client-a",
            "{}".into(),
            NOW + 120,
            NOW + 60,
            3
        )
        .await
        .unwrap()
    );
}
