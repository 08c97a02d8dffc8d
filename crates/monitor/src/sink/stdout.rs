//! The stdout sink: one JSON alert per line, for piping into another tool.
use std::io::Write;

use super::AlertSink;
use crate::alert::Alert;

/// Prints alerts as JSON lines on standard output.
#[derive(Clone, Copy, Debug, Default)]
pub struct StdoutSink;

impl AlertSink for StdoutSink {
    fn send(&self, alert: &Alert) {
        let mut out = std::io::stdout().lock();
        // A closed pipe must not take the server down: the alert is also recorded as an event.
        let _ = writeln!(out, "{}", alert.to_json());
    }
}
