//! The log sink: one `tracing` WARN event per alert, with the alert's fields as structured fields.
use super::AlertSink;
use crate::alert::Alert;

/// Logs alerts through `tracing` (target `tessera::monitor`).
#[derive(Clone, Copy, Debug, Default)]
pub struct LogSink;

impl AlertSink for LogSink {
    fn send(&self, alert: &Alert) {
        tracing::warn!(
            target: "tessera::monitor",
            detector = %alert.detector,
            severity = %alert.severity,
            token_id = alert.token_id.as_deref().unwrap_or(""),
            client_id = alert.client_id.as_deref().unwrap_or(""),
            time_ms = alert.time_ms,
            evidence = %serde_json::Value::Object(alert.evidence.clone()),
            "{}",
            alert.summary
        );
    }
}
