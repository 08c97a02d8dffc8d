//! Multi-IP: one token used from more distinct networks within a short window than its client's
//! tokens normally are (a phone hops between Wi-Fi and cellular; a stolen token is shared out).
//!
//! Addresses are grouped into networks (/24 and /48 by default; /32 and /128 count single
//! addresses). Each client learns a decaying peak of distinct networks per token per window from
//! non-alerting observations; a token alerts above `max(min_networks, norm_factor × peak)`.
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::audit::EventKind;

use super::{Detector, Observation, decay, restore_map, snapshot_map};
use crate::alert::{Alert, Severity};
use crate::bounded::BoundedMap;

/// The detector's name.
pub const NAME: &str = "multi_ip";

/// Networks remembered per token: more than any threshold needs.
const MAX_TRACKED: usize = 32;

/// Thresholds of the multi-IP detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MultiIpConfig {
    /// Run this detector.
    pub enabled: bool,
    /// The sliding window, seconds.
    pub window_secs: u64,
    /// IPv4 prefix length that makes one network (32: every address counts).
    pub ipv4_prefix: u8,
    /// IPv6 prefix length that makes one network (128: every address counts).
    pub ipv6_prefix: u8,
    /// Never alert at or below this many networks in a window.
    pub min_networks: u32,
    /// Alert above this multiple of the client's learned peak.
    pub norm_factor: f64,
    /// Half-life of the client's learned peak, hours.
    pub norm_half_life_hours: u64,
}

impl Default for MultiIpConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            window_secs: 300,
            ipv4_prefix: 24,
            ipv6_prefix: 48,
            min_networks: 3,
            norm_factor: 2.0,
            norm_half_life_hours: 168,
        }
    }
}

/// The networks one token was seen from, with when each was last seen.
#[derive(Debug, Default)]
struct Seen {
    networks: Vec<(u128, u64)>,
    alerted: bool,
    /// The most networks seen in one window, taught to the client's norm only once a whole
    /// window has passed without an alert: a spreading attack must not raise its own bar.
    pending: u32,
    pending_since: u64,
}

/// A client's learned peak of networks per token per window.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct Norm {
    peak: f64,
    at_ms: u64,
}

/// The multi-IP detector.
pub struct MultiIp {
    config: MultiIpConfig,
    tokens: BoundedMap<String, Seen>,
    clients: BoundedMap<String, Norm>,
}

impl MultiIp {
    /// A detector holding at most `max_tokens` tokens and `max_clients` clients.
    pub fn new(config: MultiIpConfig, max_tokens: usize, max_clients: usize) -> Self {
        Self {
            config,
            tokens: BoundedMap::new(max_tokens),
            clients: BoundedMap::new(max_clients),
        }
    }

    /// The network `ip` belongs to, tagged so IPv4 and IPv6 never collide.
    fn network(&self, ip: IpAddr) -> u128 {
        match ip {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4);
                let p = u32::from(self.config.ipv4_prefix.min(32));
                let masked = if p == 0 {
                    0
                } else {
                    bits & (u32::MAX << (32 - p))
                };
                (1u128 << 127) | u128::from(masked)
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                let p = u32::from(self.config.ipv6_prefix.min(128));
                if p == 0 {
                    0
                } else {
                    bits & (u128::MAX << (128 - p))
                }
            }
        }
    }
}

impl Detector for MultiIp {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, obs: &Observation<'_>, out: &mut Vec<Alert>) {
        let event = obs.event;
        if !matches!(event.kind, EventKind::TokenUsed | EventKind::TokenIssued) {
            return;
        }
        let (Some(ip), Some(token_id)) = (event.ip, event.token_id.as_deref()) else {
            return;
        };
        let net = self.network(ip);
        let now = event.time_ms;
        let window_ms = self.config.window_secs * 1000;
        let half_life = self.config.norm_half_life_hours * 3_600_000;
        let seen = self.tokens.get_or_insert_with(token_id, Seen::default);
        seen.networks
            .retain(|&(_, last)| now.saturating_sub(last) <= window_ms);
        if let Some(entry) = seen.networks.iter_mut().find(|(n, _)| *n == net) {
            entry.1 = entry.1.max(now);
        } else if seen.networks.len() < MAX_TRACKED {
            seen.networks.push((net, now));
        }
        let distinct = seen.networks.len() as u32;
        let Some(client_id) = event.client_id.as_deref() else {
            return;
        };
        let norm = self.clients.get_or_insert_with(client_id, Norm::default);
        if seen.pending > 0 && now.saturating_sub(seen.pending_since) > window_ms && !seen.alerted {
            let peak = decay(norm.peak, now.saturating_sub(norm.at_ms), half_life);
            if f64::from(seen.pending) >= peak {
                *norm = Norm {
                    peak: f64::from(seen.pending),
                    at_ms: now,
                };
            }
            seen.pending = 0;
        }
        let peak = decay(norm.peak, now.saturating_sub(norm.at_ms), half_life);
        let limit = f64::from(self.config.min_networks).max(self.config.norm_factor * peak);
        if f64::from(distinct) <= limit {
            if obs.tainted {
                return;
            }
            if seen.pending == 0 {
                seen.pending_since = now;
            }
            seen.pending = seen.pending.max(distinct);
            return;
        }
        if seen.alerted {
            return;
        }
        seen.alerted = true;
        let alert = Alert::from_event(
            NAME,
            Severity::Medium,
            event,
            format!(
                "token used from {distinct} networks within {} s (limit {limit:.1})",
                self.config.window_secs
            ),
        )
        .with("networks", distinct)
        .with("window_secs", self.config.window_secs)
        .with("limit", (limit * 100.0).round() / 100.0)
        .with("client_peak", (peak * 100.0).round() / 100.0);
        out.push(alert);
    }

    fn state_len(&self) -> usize {
        self.tokens.len() + self.clients.len()
    }

    fn snapshot(&self) -> Option<Value> {
        Some(snapshot_map(&self.clients))
    }

    fn restore(&mut self, state: Value) -> Result<(), String> {
        restore_map(&mut self.clients, state)
    }
}
