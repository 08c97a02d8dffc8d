//! Impossible travel: consecutive uses of one token (or one stationary client) from places
//! farther apart than any traveller could cover in the time between them.
//!
//! It reasons in places, not addresses: a record located only to a country (no city or region,
//! or an accuracy radius of `coarse_radius_km` or more) is an unknown position and is skipped —
//! the next precise place is compared with the last precise one. Distances are judged after
//! subtracting both accuracy radii; moves inside one country up to `domestic_tolerance_km` are
//! excused (VPN exits and carrier NAT hop between the country's cities within minutes). Only a
//! token jumping at least `high_distance_km` at twice `max_speed_kmh` is `high` (the evidence
//! the default policy revokes on); a whole client's new token far from its settled home is
//! `medium`, since a traveller's first token after a flight is judged on coarser timing.
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Detector, Observation, restore_map, snapshot_map};
use crate::alert::{Alert, Severity};
use crate::bounded::BoundedMap;
use crate::geo::Location;

/// The detector's name.
pub const NAME: &str = "impossible_travel";

/// Thresholds of the impossible-travel detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImpossibleTravelConfig {
    /// Run this detector.
    pub enabled: bool,
    /// Fastest plausible travel, km/h (an airliner cruises at ~900).
    pub max_speed_kmh: f64,
    /// Jumps shorter than this (after subtracting accuracy radii) never alert, whatever the speed.
    pub min_distance_km: f64,
    /// Jumps inside one country up to this distance (after radii) are excused: VPN exits and
    /// carrier NAT (5,000 km covers a coast-to-coast hop in the United States).
    pub domestic_tolerance_km: f64,
    /// A location with an accuracy radius at least this large (or naming no city or region)
    /// says only "somewhere in this country": an unknown position, never judged.
    pub coarse_radius_km: f64,
    /// A jump at least this long and twice `max_speed_kmh` is `high` severity (auto-revoke).
    pub high_distance_km: f64,
    /// A client is judged as a whole (not just per token) once this many consecutive located
    /// events came from within `client_home_radius_km` of each other…
    pub client_warmup_events: u32,
    /// …spanning at least this many hours (a multi-user client shows its spread within a day).
    pub client_warmup_hours: u64,
    /// Radius of a stationary client's home, km.
    pub client_home_radius_km: f64,
    /// A client that has moved home (or raised a client-wide alert) more than this many times
    /// is a roaming (multi-user or travelling) client and is judged per token only.
    pub client_max_moves: u32,
}

impl Default for ImpossibleTravelConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_speed_kmh: 1000.0,
            min_distance_km: 500.0,
            domestic_tolerance_km: 5000.0,
            coarse_radius_km: 500.0,
            high_distance_km: 2000.0,
            client_warmup_events: 30,
            client_warmup_hours: 24,
            client_home_radius_km: 200.0,
            client_max_moves: 3,
        }
    }
}

/// One located sighting.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Fix {
    time_ms: u64,
    location: Location,
    ip: Option<IpAddr>,
}

/// A client's home: where it has been seen, since when, how often it moved; and a candidate
/// new home, adopted once `CONFIRM` consecutive events over at least `CONFIRM_MS` come from near
/// it (so an outlier, such as a thief's burst of requests, does not move the home).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Home {
    last: Fix,
    since_ms: u64,
    stable: u32,
    moves: u32,
    candidate: Option<Candidate>,
}

/// Where a client was seen away from home, and the token it used there.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Candidate {
    last: Fix,
    since_ms: u64,
    count: u32,
    token_id: Option<String>,
}

/// Consecutive events near a candidate home that make it the home…
const CONFIRM: u32 = 3;
/// …over at least this long.
const CONFIRM_MS: u64 = 3_600_000;

/// A jump that no traveller could make.
struct Jump {
    distance_km: f64,
    min_distance_km: f64,
    elapsed_s: f64,
    speed_kmh: f64,
}

/// The impossible-travel detector.
pub struct ImpossibleTravel {
    config: ImpossibleTravelConfig,
    tokens: BoundedMap<String, Fix>,
    clients: BoundedMap<String, Home>,
}

impl ImpossibleTravel {
    /// A detector holding at most `max_tokens` tokens and `max_clients` clients.
    pub fn new(config: ImpossibleTravelConfig, max_tokens: usize, max_clients: usize) -> Self {
        Self {
            config,
            tokens: BoundedMap::new(max_tokens),
            clients: BoundedMap::new(max_clients),
        }
    }

    fn judge(&self, from: &Fix, to: &Fix) -> Option<Jump> {
        let c = &self.config;
        let min_distance_km = from.location.min_distance_km(&to.location);
        if min_distance_km < c.min_distance_km {
            return None;
        }
        let same_country =
            from.location.country.is_some() && from.location.country == to.location.country;
        if same_country && min_distance_km <= c.domestic_tolerance_km {
            return None;
        }
        let elapsed_s = to.time_ms.saturating_sub(from.time_ms) as f64 / 1000.0;
        let speed_kmh = if elapsed_s > 0.0 {
            min_distance_km / (elapsed_s / 3600.0)
        } else {
            f64::INFINITY
        };
        (speed_kmh > c.max_speed_kmh).then(|| Jump {
            distance_km: from.location.distance_km(&to.location),
            min_distance_km,
            elapsed_s,
            speed_kmh,
        })
    }

    fn alert(
        &self,
        obs: &Observation<'_>,
        from: &Fix,
        to: &Fix,
        jump: &Jump,
        scope: &str,
    ) -> Alert {
        let severity = if scope == "token"
            && jump.min_distance_km >= self.config.high_distance_km
            && jump.speed_kmh >= 2.0 * self.config.max_speed_kmh
        {
            Severity::High
        } else {
            Severity::Medium
        };
        let subject = if scope == "token" { "token" } else { "client" };
        let summary = format!(
            "{subject} used {:.0} km apart within {:.0} s ({} → {})",
            jump.min_distance_km,
            jump.elapsed_s,
            from.location.country_code().unwrap_or("??"),
            to.location.country_code().unwrap_or("??"),
        );
        let speed = if jump.speed_kmh.is_finite() {
            Value::from(jump.speed_kmh.round())
        } else {
            Value::Null
        };
        Alert::from_event(NAME, severity, obs.event, summary)
            .with("scope", scope)
            .with("from", place(from))
            .with("to", place(to))
            .with("distance_km", jump.distance_km.round())
            .with("min_distance_km", jump.min_distance_km.round())
            .with("elapsed_s", jump.elapsed_s)
            .with("speed_kmh", speed)
            .with("max_speed_kmh", self.config.max_speed_kmh)
    }
}

fn place(fix: &Fix) -> Value {
    serde_json::json!({
        "ip": fix.ip,
        "time": crate::alert::rfc3339_ms::format(fix.time_ms),
        "latitude": fix.location.latitude,
        "longitude": fix.location.longitude,
        "radius_km": fix.location.radius_km,
        "country": fix.location.country_code(),
    })
}

/// Whether the client had a settled home (long, steady, rarely moved) before its latest event.
fn settled_before(home: &Home, c: &ImpossibleTravelConfig) -> bool {
    home.stable >= c.client_warmup_events
        && home.last.time_ms.saturating_sub(home.since_ms) >= c.client_warmup_hours * 3_600_000
        && home.moves <= c.client_max_moves
}

impl Detector for ImpossibleTravel {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, obs: &Observation<'_>, out: &mut Vec<Alert>) {
        let Some(location) = obs
            .location
            .filter(|l| l.is_precise(self.config.coarse_radius_km))
        else {
            return; // unknown position: neither judged nor remembered
        };
        let event = obs.event;
        let fix = Fix {
            time_ms: event.time_ms,
            location,
            ip: event.ip,
        };
        let mut raised = false;
        if let Some(token) = event.token_id.as_deref() {
            if let Some(prev) = self.tokens.peek(token).copied()
                && let Some(jump) = self.judge(&prev, &fix)
            {
                out.push(self.alert(obs, &prev, &fix, &jump, "token"));
                raised = true;
            }
            self.tokens.insert(token.to_string(), fix);
        }
        let Some(client) = event.client_id.as_deref() else {
            return;
        };
        let Some(home) = self.clients.peek(client).cloned() else {
            self.clients.insert(
                client.to_string(),
                Home {
                    last: fix,
                    since_ms: fix.time_ms,
                    stable: 1,
                    moves: 0,
                    candidate: None,
                },
            );
            return;
        };
        if raised || obs.tainted {
            return; // judged per token above; a tainted event never moves a client's home
        }
        let c = &self.config;
        let moved = home.last.location.min_distance_km(&location) > c.client_home_radius_km;
        if moved
            && settled_before(&home, c)
            && let Some(jump) = self.judge(&home.last, &fix)
        {
            out.push(self.alert(obs, &home.last, &fix, &jump, "client"));
            // The home stays where it was (the client did not move, someone else is using it),
            // but each such alert counts as a move: a client that keeps "jumping" is used from
            // several places by design and soon stops being judged as a whole.
            if let Some(slot) = self.clients.get_mut(client) {
                slot.moves = slot.moves.saturating_add(1);
            }
            return;
        }
        let mut next = home.clone();
        if !moved {
            // Back home after an excursion: was the excursion itself possible?
            if settled_before(&home, c)
                && let Some(away) = &home.candidate
                && let Some(jump) = self.judge(&away.last, &fix)
            {
                let mut alert = self.alert(obs, &away.last, &fix, &jump, "client");
                alert.token_id = away.token_id.clone();
                alert.ip = away.last.ip;
                alert = alert.with("signal", "returned_home");
                out.push(alert);
                next.moves = home.moves.saturating_add(1);
            }
            next.last = fix;
            next.stable = home.stable.saturating_add(1);
            next.candidate = None;
        } else {
            let radius = c.client_home_radius_km;
            let token_id = event.token_id.clone();
            next.candidate = match home.candidate {
                Some(cand) if cand.last.location.min_distance_km(&location) <= radius => {
                    Some(Candidate {
                        last: fix,
                        count: cand.count + 1,
                        token_id,
                        ..cand
                    })
                }
                _ => {
                    // Every new place counts as a move: a client seen in many places is
                    // roaming (several users, or travelling) and is judged per token only.
                    next.moves = home.moves.saturating_add(1);
                    Some(Candidate {
                        last: fix,
                        since_ms: fix.time_ms,
                        count: 1,
                        token_id,
                    })
                }
            };
            if let Some(cand) = &next.candidate
                && cand.count >= CONFIRM
                && fix.time_ms.saturating_sub(cand.since_ms) >= CONFIRM_MS
            {
                next.last = cand.last;
                next.since_ms = cand.since_ms;
                next.stable = cand.count;
                next.candidate = None;
            }
        }
        if let Some(slot) = self.clients.get_mut(client) {
            *slot = next;
        }
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
