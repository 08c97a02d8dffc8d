//! PostgreSQL-only behaviour: failing cleanly when the server is away, recovering after it drops
//! every connection, migrations that concurrent nodes do not race, and the URL's own options.
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tessera_core::error::StoreError;

use crate::support::proxy::Proxy;
use crate::support::{
    InsertToken, admin, by_token, client, create_schema, drop_schema, event, issued, postgres_base,
    schema_url, stored_events, token,
};

#[tokio::test]
async fn unreachable_server_fails_open_cleanly() {
    let started = Instant::now();
    let err = tessera_store::open("postgres://postgres:hunter2@127.0.0.1:1/test")
        .await
        .err()
        .expect("nothing listens on port 1");
    assert!(err.contains("connecting to PostgreSQL"), "{err}");
    assert!(
        !err.contains("hunter2"),
        "the password never reaches a message: {err}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let err = tessera_store::postgres::migrate("postgresql://postgres@127.0.0.1:1/test")
        .await
        .unwrap_err();
    assert!(err.contains("connecting to PostgreSQL"), "{err}");
}

#[tokio::test]
async fn url_options_are_checked() {
    for (url, why) in [
        (
            "postgres://u:hunter2@127.0.0.1/test?pool_size=0",
            "pool_size",
        ),
        (
            "postgres://u:hunter2@127.0.0.1/test?sslmode=require",
            "sslrootcert",
        ),
        (
            "postgres://u:hunter2@127.0.0.1/test?no_such_option=1",
            "invalid PostgreSQL URL",
        ),
    ] {
        let err = tessera_store::open(url).await.err().expect(url);
        assert!(err.contains(why), "{url}: {err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_nodes_migrate_once() {
    let schema = create_schema().await;
    let url = schema_url(&postgres_base(), &schema);
    let mut opens = Vec::new();
    for _ in 0..4 {
        let url = url.clone();
        opens.push(tokio::spawn(async move {
            tessera_store::open(&url).await.map(drop)
        }));
    }
    let migrated = tokio::spawn({
        let url = url.clone();
        async move { tessera_store::postgres::migrate(&url).await }
    });
    let mut failures = Vec::new();
    for open in opens {
        if let Err(e) = open.await.unwrap() {
            failures.push(e);
        }
    }
    if let Err(e) = migrated.await.unwrap() {
        failures.push(e);
    }
    let versions = admin()
        .await
        .query(
            &format!("SELECT version FROM {schema}.tessera_migrations ORDER BY version"),
            &[],
        )
        .await
        .map(|rows| rows.iter().map(|r| r.get::<_, i32>(0)).collect::<Vec<_>>());
    // Migrating again is a no-op.
    let again = tessera_store::postgres::migrate(&url).await;
    drop_schema(&schema).await;
    assert!(failures.is_empty(), "{failures:?}");
    let versions = versions.unwrap();
    assert!(versions.len() >= 3, "{versions:?}");
    assert!(
        versions.iter().enumerate().all(|(i, v)| *v == i as i32 + 1),
        "each migration applied exactly once, in order: {versions:?}"
    );
    again.unwrap();
}

/// The server ends every connection of the node (`pg_terminate_backend`, as a restart or an
/// administrator does): the pool notices and reconnects; no call fails as a server error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_connections_are_replaced() {
    let schema = create_schema().await;
    let url = schema_url(&postgres_base(), &schema);
    let store = tessera_store::open(&url).await.unwrap();
    let outcome = tokio::spawn({
        let (store, schema) = (store.clone(), schema.clone());
        async move {
            store.create_client(&client("c", 1)).await.unwrap();
            let warm: Vec<_> = (0..8).map(|_| store.get_client("c")).collect();
            for w in warm {
                w.await.unwrap();
            }
            let admin = admin().await;
            let killed = admin
                .query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                    &[&schema],
                )
                .await
                .unwrap();
            assert!(!killed.is_empty(), "the store had connections open");
            store.record_event(event(1)).await;
            let mut results = Vec::new();
            for i in 0..20u64 {
                results.push(store.get_client("c").await.map(|c| c.is_some()));
                results.push(store.insert_token(token(100 + i)).await.map(|()| true));
            }
            for r in &results {
                if let Err(e) = r {
                    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
                }
            }
            // Recovered: the last calls all succeeded, without reopening the store.
            assert!(results[results.len() - 10..].iter().all(Result::is_ok), "{results:?}");
            store.flush_events().await.unwrap();
            let events = store.list_events(0, 100).await.unwrap();
            assert_eq!(
                events.iter().filter(|(_, e)| *e == event(1)).count(),
                1,
                "the queued event survived"
            );
        }
    })
    .await;
    drop(store);
    drop_schema(&schema).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[tokio::test]
async fn postgresql_scheme_and_pool_size_are_accepted() {
    let schema = create_schema().await;
    let base = postgres_base().replacen("postgres://", "postgresql://", 1);
    let url = schema_url(&base, &schema).replace("pool_size=8", "pool_size=2");
    let pinged = match tessera_store::open(&url).await {
        Ok(store) => store.ping().await.map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    drop_schema(&schema).await;
    pinged.unwrap();
}

/// PostgreSQL restarted: while it is down every call fails promptly as `Unavailable`
/// (503 temporarily_unavailable), never as a server error and never half-written; once it is
/// back the same store serves again, and audit events queued meanwhile are written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_fails_as_unavailable_then_recovers() {
    let schema = create_schema().await;
    let (mut proxy, url) = Proxy::in_front_of_test_postgres(&schema).await;
    let store = tessera_store::open(&url).await.unwrap();
    let outcome = tokio::spawn({
        let store = store.clone();
        async move {
            store.create_client(&client("c", 1)).await.unwrap();
            store.insert_token(token(1)).await.unwrap();
            proxy.stop().await;
            store.record_event(event(1)).await;
            for i in 0..5u64 {
                let started = Instant::now();
                let read = store.get_client("c").await;
                assert!(matches!(read, Err(StoreError::Unavailable(_))), "{read:?}");
                let write = store.insert_token(token(10 + i)).await;
                assert!(
                    matches!(write, Err(StoreError::Unavailable(_))),
                    "{write:?}"
                );
                let revoke = store.revoke_access_token(1, 5).await;
                assert!(
                    matches!(revoke, Err(StoreError::Unavailable(_))),
                    "{revoke:?}"
                );
                assert!(
                    started.elapsed() < Duration::from_secs(6),
                    "failed promptly"
                );
            }
            assert!(matches!(
                store.ping().await,
                Err(StoreError::Unavailable(_))
            ));
            proxy.restart().await;
            let mut recovered = false;
            for _ in 0..50 {
                if store.ping().await.is_ok() {
                    recovered = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(recovered, "the pool reconnects without reopening the store");
            assert!(store.get_client("c").await.unwrap().is_some());
            for i in 0..5u64 {
                assert_eq!(
                    store.get_access_token(10 + i).await.unwrap(),
                    None,
                    "nothing half-written"
                );
            }
            assert_eq!(
                store.get_access_token(1).await.unwrap().unwrap().revoked_at,
                None
            );
            assert!(store.revoke_access_token(1, 6).await.unwrap());
            store.insert_token(token(20)).await.unwrap();
            store.flush_events().await.unwrap();
            // The event queued during the outage was written (its retries may commit it after
            // token 20's); the refused inserts left none.
            assert_eq!(
                by_token(stored_events(store.as_ref()).await),
                by_token(vec![issued(&token(1)), event(1), issued(&token(20))])
            );
        }
    })
    .await;
    drop(store);
    drop_schema(&schema).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// PostgreSQL restarted under load: concurrent callers see successes and `Unavailable` only; every
/// token whose insert was acknowledged is there afterwards, and the store serves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_under_load_loses_no_acknowledged_write() {
    let schema = create_schema().await;
    let (mut proxy, url) = Proxy::in_front_of_test_postgres(&schema).await;
    let store = tessera_store::open(&url).await.unwrap();
    let outcome = tokio::spawn({
        let store = store.clone();
        async move {
            store.create_client(&client("c", 1)).await.unwrap();
            let stop = Arc::new(AtomicBool::new(false));
            let mut workers = Vec::new();
            for w in 0..8u64 {
                let (store, stop) = (store.clone(), stop.clone());
                workers.push(tokio::spawn(async move {
                    let (mut acked, mut unavailable) = (Vec::new(), 0u32);
                    let mut id = 1_000_000 * (w + 1);
                    while !stop.load(Ordering::Relaxed) {
                        id += 1;
                        match store.insert_token(token(id)).await {
                            Ok(()) => acked.push(id),
                            Err(StoreError::Unavailable(_)) => unavailable += 1,
                            Err(e) => panic!("insert: {e:?}"),
                        }
                        match store.get_client("c").await {
                            Ok(c) => assert!(c.is_some()),
                            Err(StoreError::Unavailable(_)) => unavailable += 1,
                            Err(e) => panic!("read: {e:?}"),
                        }
                        store.record_event(event(id)).await;
                    }
                    (acked, unavailable)
                }));
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            proxy.stop().await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            proxy.restart().await;
            tokio::time::sleep(Duration::from_millis(700)).await;
            stop.store(true, Ordering::Relaxed);
            let (mut acked, mut unavailable) = (Vec::new(), 0);
            for w in workers {
                let (a, u) = w.await.unwrap();
                acked.extend(a);
                unavailable += u;
            }
            assert!(unavailable > 0, "the outage was seen");
            assert!(acked.len() > 50, "work was done around it: {}", acked.len());
            // Issue 13: and every acknowledged token has its `token.issued` event.
            let events: HashSet<Option<String>> = stored_events(store.as_ref())
                .await
                .into_iter()
                .map(|e| e.token_id)
                .collect();
            for id in acked {
                assert_eq!(store.get_access_token(id).await.unwrap(), Some(token(id)));
                assert!(
                    events.contains(&issued(&token(id)).token_id),
                    "token {id} has no event"
                );
            }
            store.ping().await.unwrap();
        }
    })
    .await;
    drop(store);
    drop_schema(&schema).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
