//! The [`Detector`] trait and [`build`], the one list of detectors: adding a detector is one file
//! here, one line in `build`, one config field and one test module.
use std::net::IpAddr;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tessera_core::audit::{AuditEvent, EventKind};

use crate::alert::Alert;
use crate::bounded::BoundedMap;
use crate::config::MonitorConfig;
use crate::geo::Location;

pub mod auth_failures;
pub mod burst;
pub mod impossible_travel;
pub mod multi_client;
pub mod multi_ip;
pub mod off_hours;
pub mod refresh_reuse;

/// One event as the detectors see it: the event and, when the database knows it, where the party
/// holding the token was.
#[derive(Clone, Copy, Debug)]
pub struct Observation<'a> {
    /// The event.
    pub event: &'a AuditEvent,
    /// Location of [`presenter_ip`], when a GeoIP database is loaded and knows the address.
    pub location: Option<Location>,
    /// The event's token has raised an alert before, or a detector earlier in the list alerted
    /// on this very event: detectors still judge it but must not learn from it, so an attack
    /// never becomes part of a baseline.
    pub tainted: bool,
}

/// A detector: reads every event in order, keeps bounded per-key state, pushes alerts.
///
/// Detectors run on event time only (never the wall clock), so replaying a log gives the same
/// alerts on every run, and must tolerate events slightly out of order (several server nodes).
pub trait Detector: Send {
    /// The name alerts carry and configuration uses (`impossible_travel`, …).
    fn name(&self) -> &'static str;

    /// Reads one event; pushes any alert it raises onto `out`.
    fn observe(&mut self, obs: &Observation<'_>, out: &mut Vec<Alert>);

    /// Number of keys (tokens, clients, addresses) whose state is held: bounded by configuration.
    fn state_len(&self) -> usize;

    /// The learned state worth keeping across a restart (baselines that took days to learn), or
    /// `None` when everything the detector holds is short-lived.
    fn snapshot(&self) -> Option<Value> {
        None
    }

    /// Restores what [`Detector::snapshot`] saved.
    fn restore(&mut self, state: Value) -> Result<(), String> {
        let _ = state;
        Ok(())
    }
}

/// Every enabled detector, in a fixed order (the order alerts for one event are emitted in).
pub fn build(config: &MonitorConfig) -> Vec<Box<dyn Detector>> {
    let mut list: Vec<Box<dyn Detector>> = Vec::new();
    let (tokens, clients) = (config.max_tokens, config.max_clients);
    if config.impossible_travel.enabled {
        let c = config.impossible_travel.clone();
        list.push(Box::new(impossible_travel::ImpossibleTravel::new(
            c, tokens, clients,
        )));
    }
    if config.burst.enabled {
        let c = config.burst.clone();
        list.push(Box::new(burst::Burst::new(c, tokens, clients)));
    }
    if config.multi_ip.enabled {
        let c = config.multi_ip.clone();
        list.push(Box::new(multi_ip::MultiIp::new(c, tokens, clients)));
    }
    if config.multi_client.enabled {
        let c = config.multi_client.clone();
        list.push(Box::new(multi_client::MultiClient::new(c, tokens, clients)));
    }
    if config.off_hours.enabled {
        let c = config.off_hours.clone();
        list.push(Box::new(off_hours::OffHours::new(c, clients)));
    }
    if config.refresh_token_reuse.enabled {
        list.push(Box::new(refresh_reuse::RefreshReuse));
    }
    if config.auth_failures.enabled {
        let c = config.auth_failures.clone();
        list.push(Box::new(auth_failures::AuthFailures::new(c, clients)));
    }
    list
}

/// The address of whoever held the token in this event, when the event has one: the caller of a
/// `token.used` (reported by the resource server) or of a `token.issued`. An introspection's
/// address is the resource server's, not the token holder's, so it is never used for location.
pub fn presenter_ip(event: &AuditEvent) -> Option<IpAddr> {
    match event.kind {
        EventKind::TokenUsed | EventKind::TokenIssued => event.ip,
        _ => None,
    }
}

/// `value` after `elapsed_ms` of exponential decay with the given half-life.
pub(crate) fn decay(value: f64, elapsed_ms: u64, half_life_ms: u64) -> f64 {
    if elapsed_ms == 0 || half_life_ms == 0 {
        return value;
    }
    value * 0.5f64.powf(elapsed_ms as f64 / half_life_ms as f64)
}

/// Serialises every entry of a state map (for [`Detector::snapshot`]).
pub(crate) fn snapshot_map<V: Serialize>(map: &BoundedMap<String, V>) -> Value {
    let entries: Vec<(&String, &V)> = map.iter().collect();
    serde_json::to_value(entries).unwrap_or(Value::Null)
}

/// Loads entries saved by [`snapshot_map`] into `map`.
pub(crate) fn restore_map<V: DeserializeOwned>(
    map: &mut BoundedMap<String, V>,
    state: Value,
) -> Result<(), String> {
    let entries: Vec<(String, V)> = serde_json::from_value(state).map_err(|e| e.to_string())?;
    for (k, v) in entries {
        map.insert(k, v);
    }
    Ok(())
}
