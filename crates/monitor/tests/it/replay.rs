//! `tessera monitor replay`: the CLI arguments, the alert file, determinism, and tolerance of
//! logs that begin mid-stream or carry lines the monitor does not know.
use std::io::Write;

use clap::Parser;
use serde_json::Value;
use tessera_monitor::cli::{MonitorArgs, MonitorCommand, ReplayArgs, replay_main};

use crate::support::{self, trace};

#[derive(Parser)]
struct Tessera {
    #[command(subcommand)]
    command: Top,
}

#[derive(clap::Subcommand)]
enum Top {
    Monitor(MonitorArgs),
}

fn args(dir: &std::path::Path, extra: &[&str]) -> ReplayArgs {
    let mut argv = vec!["tessera", "monitor", "replay"];
    let input = dir.join("events.jsonl");
    let output = dir.join("alerts.jsonl");
    let geoip = dir.join("city.mmdb");
    let (i, o, g) = (
        input.to_str().unwrap(),
        output.to_str().unwrap(),
        geoip.to_str().unwrap(),
    );
    argv.extend(["--input", i, "--output", o, "--geoip", g]);
    argv.extend(extra);
    let Top::Monitor(MonitorArgs {
        command: MonitorCommand::Replay(a),
    }) = Tessera::parse_from(argv).command;
    a
}

#[test]
fn replay_writes_one_alert_per_line_the_same_on_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let t = trace::generate(0x7E55_E4A0, 14, true);
    std::fs::write(dir.path().join("city.mmdb"), support::database()).unwrap();
    let mut f = std::fs::File::create(dir.path().join("events.jsonl")).unwrap();
    // A log from another version: an unknown event type, an unknown field, a damaged line.
    writeln!(
        f,
        r#"{{"type":"session.started","time":"2024-03-04T00:00:00Z"}}"#
    )
    .unwrap();
    writeln!(f, "not json").unwrap();
    for (i, e) in t.events.iter().enumerate() {
        let mut line = e.to_json();
        if i % 1000 == 0 {
            line.insert_str(1, r#""region":"eu-west-1","#);
        }
        writeln!(f, "{line}").unwrap();
    }
    drop(f);
    std::fs::write(
        dir.path().join("monitor.toml"),
        "alert_cooldown_secs = 1800\n[burst]\nfactor = 0.0\n",
    )
    .unwrap();

    let stats = replay_main(&args(
        dir.path(),
        &[
            "--config",
            dir.path().join("monitor.toml").to_str().unwrap(),
        ],
    ))
    .unwrap();
    assert_eq!(stats.events, t.events.len() as u64);
    assert_eq!(stats.skipped, 2);
    assert_eq!(stats.first_skip.as_ref().unwrap().0, 1);
    let first = std::fs::read_to_string(dir.path().join("alerts.jsonl")).unwrap();

    // The file holds exactly what the engine raises in-process, one JSON object per line.
    let expected = support::run(&mut support::engine(), &t.events);
    assert_eq!(stats.alerts, expected.len() as u64);
    let lines: Vec<&str> = first.lines().collect();
    assert_eq!(lines.len(), expected.len());
    for (line, alert) in lines.iter().zip(&expected) {
        let v: Value = serde_json::from_str(line).unwrap();
        for key in [
            "detector",
            "token_id",
            "client_id",
            "time",
            "severity",
            "evidence",
        ] {
            assert!(v.get(key).is_some(), "{key} missing in {line}");
        }
        assert_eq!(*line, alert.to_json());
    }
    let q = support::quality(&expected, &t.attacks);
    assert!(q.iter().all(|d| d.recall() >= 0.95));

    // Event time, never the wall clock: a second run writes the same bytes.
    replay_main(&args(dir.path(), &[])).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("alerts.jsonl")).unwrap(),
        first
    );
}

#[test]
fn a_log_that_begins_mid_stream_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("city.mmdb"), support::database()).unwrap();
    let lines = [
        r#"{"type":"token.used","time":"2024-03-04T10:00:00Z","client_id":"app","token_id":"t1","ip":"81.10.1.1","method":"GET"}"#,
        r#"{"type":"token.used","time":"2024-03-04T10:01:00.5Z","client_id":"app","token_id":"t1","ip":"126.10.1.1","audience":"https://api.example.com"}"#,
    ];
    std::fs::write(dir.path().join("events.jsonl"), lines.join("\n")).unwrap();
    let stats = replay_main(&args(dir.path(), &[])).unwrap();
    assert_eq!((stats.events, stats.skipped, stats.alerts), (2, 0, 1));
    let out = std::fs::read_to_string(dir.path().join("alerts.jsonl")).unwrap();
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["detector"], "impossible_travel");
    assert_eq!(v["token_id"], "t1");
    assert_eq!(v["client_id"], "app");
    assert_eq!(v["time"], "2024-03-04T10:01:00.5Z");
}

#[test]
fn a_bad_config_or_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("events.jsonl"), "").unwrap();
    std::fs::write(dir.path().join("city.mmdb"), b"not a database").unwrap();
    let err = replay_main(&args(dir.path(), &[])).unwrap_err();
    assert!(err.contains("city.mmdb"), "{err}");
    std::fs::write(dir.path().join("city.mmdb"), support::database()).unwrap();
    std::fs::write(dir.path().join("bad.toml"), "[burst]\nfactr = 1\n").unwrap();
    let err = replay_main(&args(
        dir.path(),
        &["--config", dir.path().join("bad.toml").to_str().unwrap()],
    ))
    .unwrap_err();
    assert!(err.contains("factr"), "{err}");
}
