//! Offline replay: the same detectors over an event log (one JSON object per line), writing one
//! alert per line. Runs on event time only, so the same log gives the same alerts on every run.
//!
//! Logs are taken as they come: a log may begin mid-stream, carry fields or event types the
//! monitor does not know, or hold a damaged line; such lines are skipped and counted, never fatal.
use std::io::{self, BufRead, Write};

use tessera_core::audit::AuditEvent;

use crate::engine::Engine;

/// What a replay read and wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Non-empty lines read.
    pub lines: u64,
    /// Lines that were events the monitor understands.
    pub events: u64,
    /// Lines skipped (not JSON, or an unknown event type).
    pub skipped: u64,
    /// The first skipped line's number and reason, for the summary.
    pub first_skip: Option<(u64, String)>,
    /// Alerts written.
    pub alerts: u64,
}

/// Replays `input` through `engine`, writing alerts to `output` as JSON lines.
pub fn replay(
    mut input: impl BufRead,
    output: impl Write,
    engine: &mut Engine,
) -> io::Result<ReplayStats> {
    let mut out = io::BufWriter::new(output);
    let mut stats = ReplayStats::default();
    let mut line = String::new();
    let mut alerts = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            break;
        }
        number += 1;
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        stats.lines += 1;
        let event: AuditEvent = match serde_json::from_str(text) {
            Ok(e) => e,
            Err(e) => {
                stats.skipped += 1;
                stats.first_skip.get_or_insert((number, e.to_string()));
                continue;
            }
        };
        stats.events += 1;
        engine.observe(&event, &mut alerts);
        for alert in alerts.drain(..) {
            serde_json::to_writer(&mut out, &alert)?;
            out.write_all(b"\n")?;
            stats.alerts += 1;
        }
    }
    out.flush()?;
    Ok(stats)
}
