//! `AlertStore`: alerts round-trip every field, list newest first under filters, and an
//! acknowledgement is atomic — the first one stands, a second reports `AlreadyAcked`.
use serde_json::json;
use tessera_core::store::{AckOutcome, AlertFilter, AlertRecord, AlertStatus};

use crate::support::Env;

conformance!(
    an_alert_round_trips_every_field,
    unknown_alert_ids_are_none,
    alerts_list_newest_first_with_filters,
    an_ack_records_who_and_when_once,
    concurrent_acks_have_one_winner,
);

/// An alert of `detector` at event time `time_ms`.
fn alert(detector: &str, time_ms: u64) -> AlertRecord {
    AlertRecord {
        id: 0,
        detector: detector.into(),
        severity: "high".into(),
        token_id: Some(format!("tok-{time_ms}")),
        client_id: Some("c1".into()),
        time_ms,
        summary: format!("{detector} at {time_ms}"),
        evidence: json!({ "distance_km": 9712.5, "ips": ["192.0.2.1", "198.51.100.7"] }),
        actions: vec!["revoke_token:done".into()],
        status: AlertStatus::Open,
        acked_at: None,
        acked_by: None,
    }
}

async fn an_alert_round_trips_every_field(env: Env) {
    let s = env.store;
    let a = alert("impossible_travel", 1_700_000_000_123);
    let id = s.insert_alert(&a).await.unwrap();
    let got = s.get_alert(id).await.unwrap().expect("the inserted alert");
    assert_eq!(got, AlertRecord { id, ..a.clone() });
    // Optional fields empty, no actions: still the same record back.
    let bare = AlertRecord {
        token_id: None,
        client_id: None,
        actions: vec![],
        evidence: json!({}),
        ..alert("auth_failures", 5)
    };
    let id2 = s.insert_alert(&bare).await.unwrap();
    assert_ne!(id, id2);
    assert_eq!(
        s.get_alert(id2).await.unwrap(),
        Some(AlertRecord { id: id2, ..bare })
    );
}

async fn unknown_alert_ids_are_none(env: Env) {
    let s = env.store;
    assert_eq!(s.get_alert(1).await.unwrap(), None);
    assert_eq!(s.get_alert(-5).await.unwrap(), None);
    assert_eq!(
        s.ack_alert(1, "ops", 10).await.unwrap(),
        AckOutcome::NotFound
    );
    assert!(
        s.list_alerts(&AlertFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
}

async fn alerts_list_newest_first_with_filters(env: Env) {
    let s = env.store;
    let mut ids = Vec::new();
    for (detector, t) in [
        ("burst", 30),
        ("multi_ip", 10),
        ("burst", 20),
        ("multi_ip", 40),
    ] {
        ids.push(s.insert_alert(&alert(detector, t)).await.unwrap());
    }
    let times = |v: Vec<AlertRecord>| v.iter().map(|a| a.time_ms).collect::<Vec<_>>();
    let all = s.list_alerts(&AlertFilter::default()).await.unwrap();
    assert_eq!(
        times(all),
        [40, 30, 20, 10],
        "by event time, not insert order"
    );
    let burst = AlertFilter {
        detector: Some("burst".into()),
        ..AlertFilter::default()
    };
    assert_eq!(times(s.list_alerts(&burst).await.unwrap()), [30, 20]);
    let since = AlertFilter {
        since_ms: Some(20),
        limit: 2,
        ..AlertFilter::default()
    };
    assert_eq!(times(s.list_alerts(&since).await.unwrap()), [40, 30]);
    s.ack_alert(ids[0], "ops", 99).await.unwrap();
    let open = AlertFilter {
        status: Some(AlertStatus::Open),
        ..AlertFilter::default()
    };
    assert_eq!(times(s.list_alerts(&open).await.unwrap()), [40, 20, 10]);
    let acked = AlertFilter {
        status: Some(AlertStatus::Acked),
        ..AlertFilter::default()
    };
    assert_eq!(times(s.list_alerts(&acked).await.unwrap()), [30]);
    let none = AlertFilter {
        detector: Some("off_hours".into()),
        ..AlertFilter::default()
    };
    assert!(s.list_alerts(&none).await.unwrap().is_empty());
}

async fn an_ack_records_who_and_when_once(env: Env) {
    let s = env.store;
    let id = s.insert_alert(&alert("multi_client", 7)).await.unwrap();
    assert_eq!(
        s.ack_alert(id, "alice", 1000).await.unwrap(),
        AckOutcome::Acked
    );
    assert_eq!(
        s.ack_alert(id, "bob", 2000).await.unwrap(),
        AckOutcome::AlreadyAcked
    );
    let got = s.get_alert(id).await.unwrap().unwrap();
    assert_eq!(got.status, AlertStatus::Acked);
    assert_eq!(got.acked_at, Some(1000));
    assert_eq!(
        got.acked_by.as_deref(),
        Some("alice"),
        "the first ack stands"
    );
}

async fn concurrent_acks_have_one_winner(env: Env) {
    let s = env.store;
    let id = s.insert_alert(&alert("burst", 1)).await.unwrap();
    let mut tasks = Vec::new();
    for n in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.ack_alert(id, &format!("op{n}"), 100 + n).await.unwrap()
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let wins = outcomes.iter().filter(|o| **o == AckOutcome::Acked).count();
    assert_eq!(wins, 1, "{outcomes:?}");
    let winner = s.get_alert(id).await.unwrap().unwrap();
    assert_eq!(
        winner.acked_at.map(|t| format!("op{}", t - 100)),
        winner.acked_by,
        "who and when come from the same ack"
    );
}
