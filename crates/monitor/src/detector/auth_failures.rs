//! Repeated client-authentication failures: `threshold` failures within `window_secs` against one
//! client id (guessing its secret) or from one address (spraying many client ids).
//!
//! A few failures after a secret rotation are normal and stay below the threshold. Each key keeps
//! only the times of its last `threshold` failures, so memory per key is fixed, and keys are
//! bounded because attackers choose the client ids they fail with.
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use tessera_core::audit::EventKind;

use super::{Detector, Observation};
use crate::alert::{Alert, Severity};
use crate::bounded::BoundedMap;

/// The detector's name.
pub const NAME: &str = "auth_failures";

/// Thresholds of the authentication-failure detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthFailuresConfig {
    /// Run this detector.
    pub enabled: bool,
    /// Failures within the window that raise an alert.
    pub threshold: u32,
    /// The window, seconds.
    pub window_secs: u64,
    /// Also count failures per source address (spraying across client ids).
    pub per_ip: bool,
    /// At this many times the threshold within the window, the alert is high severity.
    pub high_multiple: u32,
}

impl Default for AuthFailuresConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            threshold: 10,
            window_secs: 300,
            per_ip: true,
            high_multiple: 10,
        }
    }
}

/// The last failure times of one key, oldest first, and whether this episode alerted.
#[derive(Debug, Default)]
struct Failures {
    times: std::collections::VecDeque<u64>,
    total_in_window: u32,
    alerted: bool,
    escalated: bool,
    /// Up to two distinct client ids seen failing (an address spraying many ids).
    clients: Vec<String>,
}

impl Failures {
    /// Records a failure; returns the number of failures now inside the window.
    fn record(&mut self, now: u64, window_ms: u64, keep: usize) -> u32 {
        while self
            .times
            .front()
            .is_some_and(|&t| now.saturating_sub(t) > window_ms)
        {
            self.times.pop_front();
        }
        if self.times.is_empty() {
            self.total_in_window = 0;
            self.alerted = false;
            self.escalated = false;
            self.clients.clear();
        }
        if self.times.len() >= keep {
            self.times.pop_front();
        }
        self.times.push_back(now);
        self.total_in_window = self.total_in_window.saturating_add(1);
        self.times.len() as u32
    }
}

/// The authentication-failure detector.
pub struct AuthFailures {
    config: AuthFailuresConfig,
    clients: BoundedMap<String, Failures>,
    ips: BoundedMap<IpAddr, Failures>,
}

impl AuthFailures {
    /// A detector holding at most `max_keys` client ids and as many addresses.
    pub fn new(config: AuthFailuresConfig, max_keys: usize) -> Self {
        Self {
            config,
            clients: BoundedMap::new(max_keys),
            ips: BoundedMap::new(max_keys),
        }
    }

    /// Whether `f` (just updated, `recent` failures in the window) should alert now, and how.
    fn judge(c: &AuthFailuresConfig, f: &mut Failures, recent: u32) -> Option<Severity> {
        if recent < c.threshold {
            return None;
        }
        let high = f.total_in_window >= c.threshold.saturating_mul(c.high_multiple);
        if !f.alerted {
            f.alerted = true;
            f.escalated = high;
            return Some(if high {
                Severity::High
            } else {
                Severity::Medium
            });
        }
        if high && !f.escalated {
            f.escalated = true;
            return Some(Severity::High);
        }
        None
    }
}

impl Detector for AuthFailures {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, obs: &Observation<'_>, out: &mut Vec<Alert>) {
        let event = obs.event;
        if event.kind != EventKind::ClientAuthenticationFailed {
            return;
        }
        let c = &self.config;
        let window_ms = c.window_secs * 1000;
        let keep = c.threshold.max(1) as usize;
        let mut client_alerted = false;
        if let Some(client) = event.client_id.as_deref() {
            let f = self.clients.get_or_insert_with(client, Failures::default);
            let recent = f.record(event.time_ms, window_ms, keep);
            if let Some(severity) = Self::judge(c, f, recent) {
                client_alerted = true;
                let alert = Alert::from_event(
                    NAME,
                    severity,
                    event,
                    format!(
                        "{} failed authentications for this client within {} s",
                        f.total_in_window, c.window_secs
                    ),
                )
                .with("scope", "client")
                .with("failures", f.total_in_window)
                .with("window_secs", c.window_secs)
                .with("threshold", c.threshold);
                out.push(alert);
            }
        }
        let (true, Some(ip)) = (c.per_ip, event.ip) else {
            return;
        };
        let f = self.ips.get_or_insert_with(&ip, Failures::default);
        let recent = f.record(event.time_ms, window_ms, keep);
        let client = event.client_id.clone().unwrap_or_default();
        if f.clients.len() < 2 && !f.clients.contains(&client) {
            f.clients.push(client);
        }
        // One client guessed from one address is the per-client alert's business; an address
        // is flagged on its own only when it fails across several client ids.
        if client_alerted || f.clients.len() < 2 {
            return;
        }
        if let Some(severity) = Self::judge(c, f, recent) {
            let mut alert = Alert::from_event(
                NAME,
                severity,
                event,
                format!(
                    "{} failed authentications from {ip} within {} s, across client ids",
                    f.total_in_window, c.window_secs
                ),
            )
            .with("scope", "ip")
            .with("failures", f.total_in_window)
            .with("window_secs", c.window_secs)
            .with("threshold", c.threshold);
            alert.client_id = None;
            alert.token_id = None;
            out.push(alert);
        }
    }

    fn state_len(&self) -> usize {
        self.clients.len() + self.ips.len()
    }
}
