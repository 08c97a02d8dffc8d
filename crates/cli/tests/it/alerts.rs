//! `tessera alerts list|show|ack` on a database holding alerts the monitor stored: listing with
//! filters, showing, acknowledging once (`cli:<user>`), and clear failures for unknown ids and
//! bad flags.
use std::process::Command;

use serde_json::{Value, json};
use tessera_core::store::{AlertRecord, AlertStatus};

use crate::support::{BIN, sqlite};

/// Runs `tessera alerts …` on `db`; returns exit code, stdout as JSON (Null if not JSON), stderr.
fn alerts(db: &str, args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(BIN)
        .arg("alerts")
        .args(args)
        .args(["--database", db])
        .env("USER", "alice")
        .output()
        .unwrap();
    let stdout = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap(),
        stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn alert(detector: &str, time_ms: u64) -> AlertRecord {
    AlertRecord {
        id: 0,
        detector: detector.into(),
        severity: "medium".into(),
        token_id: Some("42".into()),
        client_id: Some("mobile".into()),
        time_ms,
        summary: format!("{detector} alert"),
        evidence: json!({"count": 5}),
        actions: vec![],
        status: AlertStatus::Open,
        acked_at: None,
        acked_by: None,
    }
}

#[tokio::test]
async fn list_show_and_ack_stored_alerts() {
    let (_dir, db) = sqlite();
    let store = tessera_store::open(&db).await.unwrap();
    let burst = store
        .insert_alert(&alert("burst", 1_700_000_000_000))
        .await
        .unwrap();
    let multi = store
        .insert_alert(&alert("multi_ip", 1_700_000_001_000))
        .await
        .unwrap();

    let (code, list, _) = alerts(&db, &["list", "--json"]);
    assert_eq!(code, 0);
    let ids: Vec<_> = list["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(ids, [json!(multi), json!(burst)]);
    let (_, only, _) = alerts(&db, &["list", "--detector", "burst", "--json"]);
    assert_eq!(only["alerts"].as_array().unwrap().len(), 1);

    let (code, shown, _) = alerts(&db, &["show", &burst.to_string(), "--json"]);
    assert_eq!(code, 0);
    assert_eq!(shown["summary"], "burst alert");
    assert_eq!(shown["time"], "2023-11-14T22:13:20Z");

    let (code, acked, _) = alerts(&db, &["ack", &burst.to_string(), "--json"]);
    assert_eq!(code, 0);
    assert_eq!(acked["status"], "acked");
    assert_eq!(acked["acked_by"], "cli:alice");
    let (code, again, _) = alerts(&db, &["ack", &burst.to_string(), "--json"]);
    assert_eq!(
        (code, &again),
        (0, &acked),
        "the first acknowledgement stands"
    );

    let (_, open, _) = alerts(&db, &["list", "--json"]);
    assert_eq!(
        open["alerts"].as_array().unwrap().len(),
        1,
        "list shows open alerts by default"
    );
    let (_, all, _) = alerts(&db, &["list", "--status", "all", "--json"]);
    assert_eq!(all["alerts"].as_array().unwrap().len(), 2);
    let (_, text, _) = alerts(&db, &["list", "--status", "acked"]);
    assert_eq!(text, Value::Null, "the table form is not JSON");
}

#[tokio::test]
async fn unknown_ids_and_bad_flags_fail_clearly() {
    let (_dir, db) = sqlite();
    drop(tessera_store::open(&db).await.unwrap());
    for sub in ["show", "ack"] {
        let (code, out, err) = alerts(&db, &[sub, "999"]);
        assert_eq!((code, out), (2, Value::Null));
        assert_eq!(err.trim(), "error: no alert 999", "{sub}");
    }
    let (code, _, err) = alerts(&db, &["list", "--status", "closed"]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        "error: --status must be open, acked or all, not \"closed\""
    );
}
