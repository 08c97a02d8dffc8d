//! Where alerts go: the [`AlertSink`] trait and its configuration. Sinks never block the caller:
//! the log and stdout sinks write at once, the webhook sink queues for a background task.
use std::sync::Arc;

use serde::Deserialize;
use tessera_core::clock::Clock;

use crate::alert::Alert;

pub mod log;
pub mod stdout;
pub mod webhook;

pub use webhook::{WebhookConfig, WebhookSink};

/// A destination for alerts.
pub trait AlertSink: Send + Sync {
    /// Delivers (or queues) one alert; must not block on the network.
    fn send(&self, alert: &Alert);
}

/// Which sinks are on.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SinksConfig {
    /// Log each alert through `tracing` (target `tessera::monitor`, level WARN).
    pub log: bool,
    /// Print each alert as one JSON line on standard output.
    pub stdout: bool,
    /// POST each alert as JSON to these URLs, signed with HMAC-SHA256.
    pub webhooks: Vec<WebhookConfig>,
}

impl Default for SinksConfig {
    fn default() -> Self {
        Self {
            log: true,
            stdout: false,
            webhooks: Vec::new(),
        }
    }
}

impl SinksConfig {
    /// Builds the configured sinks. Webhook sinks spawn their delivery task, so this must run
    /// inside a Tokio runtime when any webhook is configured; `clock` stamps the signatures.
    pub fn build(&self, clock: Arc<dyn Clock>) -> Result<Vec<Arc<dyn AlertSink>>, String> {
        let mut sinks: Vec<Arc<dyn AlertSink>> = Vec::new();
        if self.log {
            sinks.push(Arc::new(log::LogSink));
        }
        if self.stdout {
            sinks.push(Arc::new(stdout::StdoutSink));
        }
        for hook in &self.webhooks {
            sinks.push(Arc::new(WebhookSink::spawn(hook.clone(), clock.clone())?));
        }
        Ok(sinks)
    }
}
