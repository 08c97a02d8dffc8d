//! Multi-IP (by place): one token used from more distinct *places* within a short window than
//! its client's tokens normally are — shared out, or replayed by a botnet.
//!
//! Addresses are not counted: a CI job fans one token out to 8–25 runners of one cloud region,
//! and carrier NAT changes a phone's address every few minutes. Each precise location (a city
//! or region record, [`crate::geo::Location::is_precise`]) joins the first place already seen
//! within both accuracy radii plus `metro_km` (an office's two egresses, cloud records a few km
//! apart), else it is a new place; country-level records and unknown addresses are not counted.
//! Each client learns a decaying peak of places per token per window from non-alerting windows;
//! a token alerts above `max(min_places, norm_factor × peak)`, and at `high_places` whatever the
//! norm (`high`: tens of cities in minutes is never one holder).
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::audit::EventKind;

use super::{Detector, Observation, decay, restore_map, snapshot_map};
use crate::alert::{Alert, Severity};
use crate::bounded::BoundedMap;
use crate::geo::Location;

/// The detector's name.
pub const NAME: &str = "multi_ip";

/// Places remembered per token: more than any threshold needs.
const MAX_TRACKED: usize = 32;

/// Thresholds of the multi-IP (by place) detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MultiIpConfig {
    /// Run this detector.
    pub enabled: bool,
    /// The sliding window, seconds.
    pub window_secs: u64,
    /// Two locations closer than both accuracy radii plus this many km are one place (a metro
    /// area, a cloud region).
    pub metro_km: f64,
    /// Records at least this imprecise (country-level) are not places.
    pub coarse_radius_km: f64,
    /// Never alert at or below this many places in a window.
    pub min_places: u32,
    /// Alert above this multiple of the client's learned peak.
    pub norm_factor: f64,
    /// Half-life of the client's learned peak, hours.
    pub norm_half_life_hours: u64,
    /// At this many places in a window, alert (`high`) whatever the client's norm.
    pub high_places: u32,
}

impl Default for MultiIpConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            window_secs: 300,
            metro_km: 50.0,
            coarse_radius_km: 500.0,
            min_places: 5,
            norm_factor: 2.0,
            norm_half_life_hours: 168,
            high_places: 10,
        }
    }
}

/// The places one token was seen at, with when each was last seen.
#[derive(Debug, Default)]
struct Seen {
    places: Vec<(Location, u64)>,
    /// The highest severity alerted so far (a medium alert escalates once to high).
    alerted: Option<Severity>,
    /// The most places seen in one window, taught to the client's norm only once a whole
    /// window has passed without an alert: a spreading attack must not raise its own bar.
    pending: u32,
    pending_since: u64,
}

/// A client's learned peak of places per token per window.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct Norm {
    peak: f64,
    at_ms: u64,
}

/// The multi-IP (by place) detector.
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
        let c = &self.config;
        let (Some(location), Some(token_id)) = (
            obs.location.filter(|l| l.is_precise(c.coarse_radius_km)),
            event.token_id.as_deref(),
        ) else {
            return;
        };
        let now = event.time_ms;
        let window_ms = c.window_secs * 1000;
        let half_life = c.norm_half_life_hours * 3_600_000;
        let seen = self.tokens.get_or_insert_with(token_id, Seen::default);
        seen.places
            .retain(|&(_, last)| now.saturating_sub(last) <= window_ms);
        if let Some(entry) = seen
            .places
            .iter_mut()
            .find(|(p, _)| p.same_area(&location, c.metro_km))
        {
            entry.1 = entry.1.max(now);
        } else if seen.places.len() < MAX_TRACKED {
            seen.places.push((location, now));
        }
        let distinct = seen.places.len() as u32;
        let Some(client_id) = event.client_id.as_deref() else {
            return;
        };
        let norm = self.clients.get_or_insert_with(client_id, Norm::default);
        if seen.pending > 0
            && now.saturating_sub(seen.pending_since) > window_ms
            && seen.alerted.is_none()
        {
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
        let limit = f64::from(c.min_places).max(c.norm_factor * peak);
        let high = distinct >= c.high_places;
        if f64::from(distinct) <= limit && !high {
            if obs.tainted {
                return;
            }
            if seen.pending == 0 {
                seen.pending_since = now;
            }
            seen.pending = seen.pending.max(distinct);
            return;
        }
        let severity = if high {
            Severity::High
        } else {
            Severity::Medium
        };
        if seen.alerted.is_some_and(|s| s >= severity) {
            return;
        }
        seen.alerted = Some(severity);
        let countries: Vec<&str> = {
            let mut v: Vec<&str> = seen
                .places
                .iter()
                .filter_map(|(p, _)| p.country_code())
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let alert = Alert::from_event(
            NAME,
            severity,
            event,
            format!(
                "token used from {distinct} places within {} s (limit {limit:.1})",
                c.window_secs
            ),
        )
        .with("places", distinct)
        .with("countries", countries)
        .with("window_secs", c.window_secs)
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
