//! [`Engine`]: the synchronous heart shared by the live monitor and replay. It locates each
//! event once, hands it to every detector in order, and suppresses repeats of the same alert
//! within the cooldown, all on event time.
use tessera_core::audit::AuditEvent;

use crate::alert::{Alert, Severity};
use crate::bounded::BoundedMap;
use crate::config::MonitorConfig;
use crate::detector::{self, Detector, Observation};
use crate::geo::GeoIp;
use crate::state::MonitorState;

/// Counters of what the engine has seen and done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Events observed.
    pub events: u64,
    /// Alerts emitted.
    pub alerts: u64,
    /// Alerts suppressed as repeats within the cooldown.
    pub suppressed: u64,
}

/// Runs the detectors over events.
pub struct Engine {
    detectors: Vec<Box<dyn Detector>>,
    geo: Option<GeoIp>,
    cooldown_ms: u64,
    /// Per suppression key: when it last alerted, and how severely.
    recent: BoundedMap<String, (u64, Severity)>,
    tainted: BoundedMap<String, ()>,
    scratch: Vec<Alert>,
    stats: EngineStats,
}

impl Engine {
    /// The configured detectors; `geo` locates addresses (without it, impossible travel is
    /// silent and off-hours uses UTC).
    pub fn new(config: &MonitorConfig, geo: Option<GeoIp>) -> Self {
        Self {
            detectors: detector::build(config),
            geo,
            cooldown_ms: config.alert_cooldown_secs * 1000,
            recent: BoundedMap::new(config.max_tokens),
            tainted: BoundedMap::new(config.max_tokens),
            scratch: Vec::new(),
            stats: EngineStats::default(),
        }
    }

    /// Observes one event; appends the alerts it raises (after cooldown suppression) to `out`.
    pub fn observe(&mut self, event: &AuditEvent, out: &mut Vec<Alert>) {
        self.stats.events += 1;
        let location = match (detector::presenter_ip(event), self.geo.as_mut()) {
            (Some(ip), Some(geo)) => geo.locate(ip),
            _ => None,
        };
        let token = event.token_id.as_deref();
        let mut obs = Observation {
            event,
            location,
            tainted: token.is_some_and(|t| self.tainted.peek(t).is_some()),
        };
        self.scratch.clear();
        for d in &mut self.detectors {
            obs.tainted |= !self.scratch.is_empty();
            d.observe(&obs, &mut self.scratch);
        }
        if let (false, Some(t)) = (self.scratch.is_empty(), token) {
            self.tainted.insert(t.to_string(), ());
        }
        for alert in self.scratch.drain(..) {
            let key = suppression_key(&alert);
            let last = self
                .recent
                .get_or_insert_with(key.as_str(), || (u64::MAX, Severity::Low));
            // An escalation (a medium alert becoming high evidence) is never a repeat: it is
            // what the action policy acts on.
            let repeat = last.0 != u64::MAX
                && alert.time_ms.saturating_sub(last.0) < self.cooldown_ms
                && alert.severity <= last.1;
            if repeat {
                self.stats.suppressed += 1;
                continue;
            }
            *last = (alert.time_ms, alert.severity);
            self.stats.alerts += 1;
            out.push(alert);
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// Keys of state held across all detectors (bounded by `max_tokens` / `max_clients`).
    pub fn state_len(&self) -> usize {
        self.detectors.iter().map(|d| d.state_len()).sum::<usize>()
            + self.recent.len()
            + self.tainted.len()
    }

    /// The learned baselines worth keeping across a restart.
    pub fn snapshot(&self) -> MonitorState {
        let mut state = MonitorState::default();
        for d in &self.detectors {
            if let Some(v) = d.snapshot() {
                state.detectors.insert(d.name().to_string(), v);
            }
        }
        state
    }

    /// Restores baselines saved by [`Engine::snapshot`]; detectors absent from `state` start
    /// fresh, and state of detectors no longer configured is ignored.
    pub fn restore(&mut self, mut state: MonitorState) -> Result<(), String> {
        for d in &mut self.detectors {
            if let Some(v) = state.detectors.remove(d.name()) {
                d.restore(v).map_err(|e| format!("{}: {e}", d.name()))?;
            }
        }
        Ok(())
    }
}

/// Alerts with the same detector and subject (token, else client, else address) are repeats.
fn suppression_key(alert: &Alert) -> String {
    let subject = match (&alert.token_id, &alert.client_id, &alert.ip) {
        (Some(t), _, _) => format!("t:{t}"),
        (None, Some(c), _) => format!("c:{c}"),
        (None, None, Some(ip)) => format!("i:{ip}"),
        (None, None, None) => String::new(),
    };
    format!("{}|{}", alert.detector, subject)
}
