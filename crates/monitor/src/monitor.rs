//! [`Monitor`]: the live entry point inside `tessera serve`. It runs the same [`Engine`] as
//! replay, then handles each alert: sinks, an `alert.raised` audit event, and the policy's
//! automatic actions, each recorded as an audit event of its own.
//!
//! The server should not await the monitor on its request path: [`Monitor::spawn`] returns a
//! [`MonitorFeed`] whose `submit` only enqueues (never blocks, drops and counts when full), so
//! the token endpoint pays one channel send per event.
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tessera_core::audit::{AuditEvent, EventKind};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::action::{Action, ActionOutcome, ActionPolicy, ActionSink};
use crate::alert::Alert;
use crate::config::MonitorConfig;
use crate::engine::{Engine, EngineStats};
use crate::geo::GeoIp;
use crate::sink::AlertSink;
use crate::state::MonitorState;

/// The live monitor.
pub struct Monitor {
    engine: Mutex<Engine>,
    policy: ActionPolicy,
    sinks: Vec<Arc<dyn AlertSink>>,
    actions: Option<Arc<dyn ActionSink>>,
}

impl Monitor {
    /// A monitor with the configured detectors and policy, no sinks and no action sink yet.
    pub fn new(config: &MonitorConfig, geo: Option<GeoIp>) -> Self {
        Self {
            engine: Mutex::new(Engine::new(config, geo)),
            policy: config.actions.clone(),
            sinks: Vec::new(),
            actions: None,
        }
    }

    /// Adds alert sinks (see [`crate::sink::SinksConfig::build`]).
    pub fn with_sinks(mut self, sinks: Vec<Arc<dyn AlertSink>>) -> Self {
        self.sinks.extend(sinks);
        self
    }

    /// Sets where actions and audit events go (the server passes
    /// [`crate::store_actions::StoreActions`] over its store).
    pub fn with_actions(mut self, actions: Arc<dyn ActionSink>) -> Self {
        self.actions = Some(actions);
        self
    }

    /// Runs the detectors on one event without handling the alerts.
    pub fn detect(&self, event: &AuditEvent) -> Vec<Alert> {
        let mut out = Vec::new();
        self.engine
            .lock()
            .expect("monitor engine lock poisoned")
            .observe(event, &mut out);
        out
    }

    /// Observes one event and handles every alert it raises; returns those alerts.
    pub async fn observe(&self, event: &AuditEvent) -> Vec<Alert> {
        let alerts = self.detect(event);
        for alert in &alerts {
            self.handle(alert).await;
        }
        alerts
    }

    /// Handles one alert: sinks, `alert.raised`, then the policy's actions (each `Done` action
    /// recorded as `token.revoked` or `client.updated` with reason `monitor:<detector>`), then
    /// the alert itself with what was done about it, stored for `tessera alerts`.
    pub async fn handle(&self, alert: &Alert) -> Vec<(Action, ActionOutcome)> {
        for sink in &self.sinks {
            sink.send(alert);
        }
        let Some(actions) = &self.actions else {
            return Vec::new();
        };
        actions.record(alert.to_event()).await;
        let mut done = Vec::new();
        let mut taken = Vec::new();
        for action in self.policy.actions_for(alert) {
            let (token, client) = (alert.token_id.as_deref(), alert.client_id.as_deref());
            let result = match (action, token, client) {
                (Action::RevokeToken, Some(t), c) => {
                    actions.revoke_token(t, c, alert.time_ms).await
                }
                (Action::RevokeGrantFamily, Some(t), c) => {
                    actions.revoke_grant_family(t, c, alert.time_ms).await
                }
                (Action::DisableClient, _, Some(c)) => {
                    actions.disable_client(c, alert.time_ms).await
                }
                _ => continue,
            };
            match result {
                Ok(outcome) => {
                    if outcome == ActionOutcome::Done {
                        actions.record(action_event(action, alert)).await;
                    }
                    taken.push(format!("{}:{}", action.as_str(), outcome.as_str()));
                    done.push((action, outcome));
                }
                Err(e) => {
                    taken.push(format!("{}:failed", action.as_str()));
                    tracing::error!(
                        target: "tessera::monitor",
                        action = action.as_str(),
                        detector = %alert.detector,
                        error = %e,
                        "automatic action failed"
                    )
                }
            }
        }
        if let Err(e) = actions.store_alert(alert, &taken).await {
            tracing::error!(
                target: "tessera::monitor",
                detector = %alert.detector,
                error = %e,
                "storing the alert failed"
            );
        }
        done
    }

    /// Counters so far.
    pub fn stats(&self) -> EngineStats {
        self.engine
            .lock()
            .expect("monitor engine lock poisoned")
            .stats()
    }

    /// Saves the learned baselines to `path` (call at shutdown, and now and then).
    pub fn save_state(&self, path: &Path) -> Result<(), String> {
        let state = self
            .engine
            .lock()
            .expect("monitor engine lock poisoned")
            .snapshot();
        state.save(path)
    }

    /// Loads baselines saved by [`Monitor::save_state`]; a missing file is a fresh start.
    pub fn load_state(&self, path: &Path) -> Result<(), String> {
        let Some(state) = MonitorState::load(path)? else {
            return Ok(());
        };
        self.engine
            .lock()
            .expect("monitor engine lock poisoned")
            .restore(state)
    }

    /// Starts a background task that observes every event submitted to the returned feed.
    pub fn spawn(self: Arc<Self>, queue: usize) -> MonitorFeed {
        let (tx, mut rx) = mpsc::channel::<AuditEvent>(queue.max(1));
        let task = tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                self.observe(&event).await;
            }
        });
        MonitorFeed {
            tx,
            dropped: AtomicU64::new(0),
            task,
        }
    }
}

/// The audit event recording an action the monitor took.
fn action_event(action: Action, alert: &Alert) -> AuditEvent {
    let kind = match action {
        Action::RevokeToken | Action::RevokeGrantFamily => EventKind::TokenRevoked,
        Action::DisableClient => EventKind::ClientUpdated,
    };
    let mut e = AuditEvent::new(kind, alert.time_ms);
    e.client_id = alert.client_id.clone();
    if action != Action::DisableClient {
        e.token_id = alert.token_id.clone();
    }
    e.reason = Some(format!("monitor:{}:{}", alert.detector, action.as_str()));
    e
}

/// The non-blocking way in to a spawned [`Monitor`].
pub struct MonitorFeed {
    tx: mpsc::Sender<AuditEvent>,
    dropped: AtomicU64,
    task: JoinHandle<()>,
}

impl MonitorFeed {
    /// Enqueues an event; `false` (and counted) when the queue is full. Never waits.
    pub fn submit(&self, event: &AuditEvent) -> bool {
        if matches!(event.kind, EventKind::AlertRaised) {
            return true; // the monitor's own output is not its input
        }
        let sent = self.tx.try_send(event.clone()).is_ok();
        if !sent {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// Events dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Closes the feed and waits until every queued event has been observed and handled.
    pub async fn shutdown(self) {
        drop(self.tx);
        let _ = self.task.await;
    }
}
