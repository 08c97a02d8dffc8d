//! Replay throughput on one core: the labelled two-week trace from the tests (≈540k events),
//! as JSON lines through `replay` (parse + detect + write alerts), and pre-parsed through the
//! engine alone. Run with `cargo bench -p tessera-monitor --bench replay`; prints events/s.
use std::hint::black_box;
use std::time::Instant;

use tessera_monitor::replay::replay;

#[path = "../tests/it/support/mod.rs"]
mod support;

fn main() {
    let trace = support::trace::generate(0x7E55_E4A0, 14, true);
    let mut jsonl = Vec::new();
    for e in &trace.events {
        jsonl.extend_from_slice(e.to_json().as_bytes());
        jsonl.push(b'\n');
    }
    let n = trace.events.len() as f64;
    let rounds = 5;

    let mut best_replay = f64::MAX;
    let mut best_engine = f64::MAX;
    for _ in 0..rounds {
        let mut engine = support::engine();
        let mut out = Vec::with_capacity(1 << 16);
        let start = Instant::now();
        let stats = replay(&jsonl[..], &mut out, &mut engine).unwrap();
        best_replay = best_replay.min(start.elapsed().as_secs_f64());
        black_box((stats, out));

        let mut engine = support::engine();
        let mut alerts = Vec::new();
        let start = Instant::now();
        for e in &trace.events {
            engine.observe(e, &mut alerts);
        }
        best_engine = best_engine.min(start.elapsed().as_secs_f64());
        black_box(alerts);
    }
    println!(
        "replay (JSON lines → alerts): {:.0} events/s ({} events, {} bytes, best of {rounds})",
        n / best_replay,
        trace.events.len(),
        jsonl.len()
    );
    println!(
        "engine only (parsed events):  {:.0} events/s",
        n / best_engine
    );
}
