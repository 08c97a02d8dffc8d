//! Off-hours: use at an hour of the (client's local) day the client has never consistently shown.
//!
//! Each client learns, per local hour, on how many days it was active. Local time comes from
//! the client's own history: UTC plus the solar offset (longitude / 15°) of where it lives, which
//! changes only when the client is seen in another country at least two hours away *after a
//! plausible journey* (an hour per hour of offset since its last event): a person who flies to
//! another continent keeps their hours, while a thief abroad minutes after the owner, a VPN exit
//! or a carrier record elsewhere in the country is judged in the owner's clock. For
//! `travel_grace_hours` after such a journey nothing is judged (arriving at 01:00 after a flight
//! is not an intrusion). Country-level records and unknown addresses are judged in the home
//! offset — unless the client was last seen abroad: then its local hour is unknown and it is
//! not judged at all. UTC until first located. A client is
//! judged only once it has a clear pattern: at least `min_days` active days, its usual hours
//! (widened by `margin_hours`) covering at most `max_active_hours`, and `min_concentration` of its
//! activity inside them. People with irregular hours and 24/7 services never get there, so they
//! never alert. Alerting uses are not learned: an intruder cannot teach the profile his hours.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::audit::EventKind;

use super::{Detector, Observation, restore_map, snapshot_map};
use crate::alert::{Alert, Severity};
use crate::bounded::BoundedMap;

/// The detector's name.
pub const NAME: &str = "off_hours";

/// UTC offsets counted: −12 … +14 hours.
const OFFSETS: usize = 27;

/// Thresholds of the off-hours detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OffHoursConfig {
    /// Run this detector.
    pub enabled: bool,
    /// Active days needed before a client is judged.
    pub min_days: u16,
    /// An hour is usual when active on at least this share of active days (and at least once).
    pub min_share: f64,
    /// Hours before a usual hour that are tolerated (a daylight-saving change, an early start).
    pub margin_hours: u8,
    /// Hours after a usual hour that are tolerated: people stay late more often than they
    /// come in early, and a daylight-saving change moves the evening by another hour.
    pub late_margin_hours: u8,
    /// A client whose tolerated hours exceed this is irregular (or 24/7) and never alerts.
    pub max_active_hours: u32,
    /// Share of activity that must fall in the usual hours for the pattern to count as clear.
    pub min_concentration: f64,
    /// Counts are halved past this many active days, so a changed routine is relearned.
    pub max_days: u16,
    /// Locations less precise than this (country-level records, whose longitude is the
    /// country's centre) do not tell the time zone and count as unknown.
    pub max_radius_km: f64,
    /// Hours after a journey to another time zone during which the client is not judged.
    pub travel_grace_hours: u64,
}

impl Default for OffHoursConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            min_days: 5,
            min_share: 0.05,
            margin_hours: 2,
            late_margin_hours: 3,
            max_active_hours: 20,
            min_concentration: 0.95,
            max_days: 60,
            max_radius_km: 500.0,
            travel_grace_hours: 24,
        }
    }
}

/// What a client's days look like.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Profile {
    /// Per local hour, the number of active days that hour was active.
    hours: [u16; 24],
    /// Active days learned.
    days: u16,
    /// The local day being recorded, and the hours active in it so far.
    day: i64,
    today: u32,
    /// Hours already alerted today (one alert per client per hour).
    alerted: u32,
    /// The UTC offset (hours) of the client's last known location.
    offset: i8,
    /// Located events per UTC offset (index 0 is UTC−12), to find the home offset.
    offsets: Vec<u16>,
    /// Derived at each day's end: whether the pattern is clear, and the tolerated hours.
    regular: bool,
    allowed: u32,
    /// The country the client was last located in (its clock is `offset`).
    #[serde(default)]
    country: Option<[u8; 2]>,
    /// The time of its last event, to tell a journey from a thief.
    #[serde(default)]
    last_ms: u64,
    /// When it last arrived in another time zone.
    #[serde(default)]
    moved_ms: u64,
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            hours: [0; 24],
            days: 0,
            day: i64::MIN,
            today: 0,
            alerted: 0,
            offset: 0,
            offsets: vec![0; OFFSETS],
            regular: false,
            allowed: u32::MAX,
            country: None,
            last_ms: 0,
            moved_ms: 0,
        }
    }
}

impl Profile {
    /// The offset the client is most often located in.
    fn home_offset(&self) -> i8 {
        let mut best = (0u16, 12usize);
        for (i, &n) in self.offsets.iter().enumerate() {
            if n > best.0 {
                best = (n, i);
            }
        }
        best.1 as i8 - 12
    }

    /// Closes the day being recorded and recomputes the pattern.
    fn close_day(&mut self, c: &OffHoursConfig) {
        if self.today != 0 {
            for (h, count) in self.hours.iter_mut().enumerate() {
                if self.today & (1 << h) != 0 {
                    *count = count.saturating_add(1);
                }
            }
            self.days = self.days.saturating_add(1);
            if self.days > c.max_days {
                self.hours.iter_mut().for_each(|n| *n /= 2);
                self.days /= 2;
            }
        }
        let need = (c.min_share * f64::from(self.days)).max(1.0);
        let usual = (0..24).filter(|&h| f64::from(self.hours[h]) >= need);
        let mut usual_mask = 0u32;
        let mut allowed = 0u32;
        let (early, late) = (i32::from(c.margin_hours), i32::from(c.late_margin_hours));
        for h in usual {
            usual_mask |= 1 << h;
            for d in -early..=late {
                allowed |= 1 << (h as i32 + d).rem_euclid(24);
            }
        }
        let total: u32 = self.hours.iter().map(|&n| u32::from(n)).sum();
        let inside: u32 = (0..24)
            .filter(|h| usual_mask & (1 << h) != 0)
            .map(|h| u32::from(self.hours[h]))
            .sum();
        self.regular = self.days >= c.min_days
            && total > 0
            && allowed.count_ones() <= c.max_active_hours
            && f64::from(inside) >= c.min_concentration * f64::from(total);
        self.allowed = if self.regular { allowed } else { u32::MAX };
    }
}

/// The off-hours detector.
pub struct OffHours {
    config: OffHoursConfig,
    clients: BoundedMap<String, Profile>,
}

impl OffHours {
    /// A detector holding at most `max_clients` clients.
    pub fn new(config: OffHoursConfig, max_clients: usize) -> Self {
        Self {
            config,
            clients: BoundedMap::new(max_clients),
        }
    }
}

impl Detector for OffHours {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, obs: &Observation<'_>, out: &mut Vec<Alert>) {
        let event = obs.event;
        if !matches!(
            event.kind,
            EventKind::TokenIssued | EventKind::TokenUsed | EventKind::TokenIntrospected
        ) {
            return;
        }
        let Some(client_id) = event.client_id.as_deref() else {
            return;
        };
        let c = &self.config;
        let p = self.clients.get_or_insert_with(client_id, Profile::default);
        let now = event.time_ms;
        let located = obs.location.filter(|l| l.is_precise(c.max_radius_km));
        let since_last = now.saturating_sub(p.last_ms);
        p.last_ms = p.last_ms.max(now);
        let offset = match located {
            Some(loc) => {
                let here = loc.utc_offset_hours();
                let shift = u64::from(here.abs_diff(p.offset));
                if loc.country != p.country {
                    if shift < 2 {
                        (p.offset, p.country) = (here, loc.country);
                    } else if since_last >= shift * 3_600_000 {
                        // A journey that could really have been made: the client's clock moves.
                        (p.offset, p.country, p.moved_ms) = (here, loc.country, now);
                    }
                }
                let i = (i64::from(p.offset) + 12) as usize;
                if let Some(n) = p.offsets.get_mut(i) {
                    *n = n.saturating_add(1);
                    if *n == u16::MAX {
                        p.offsets.iter_mut().for_each(|n| *n /= 2);
                    }
                }
                p.offset
            }
            None if p.offset == p.home_offset() => p.offset,
            None => return, // away from home, and now somewhere unknown
        };
        if p.moved_ms != 0 && now.saturating_sub(p.moved_ms) < c.travel_grace_hours * 3_600_000 {
            return; // just arrived from another time zone: neither judged nor learned
        }
        let offset = i64::from(offset);
        let local = (event.time_ms / 1000) as i64 + offset * 3600;
        let day = local.div_euclid(86_400);
        let hour = local.rem_euclid(86_400) / 3600;
        if day < p.day {
            return; // late event from a day already closed
        }
        if day > p.day {
            p.close_day(c);
            p.day = day;
            p.today = 0;
            p.alerted = 0;
        }
        let bit = 1u32 << hour;
        if p.allowed & bit != 0 {
            if !obs.tainted {
                p.today |= bit;
            }
            return;
        }
        if p.alerted & bit != 0 {
            return;
        }
        p.alerted |= bit;
        let usual: Vec<u32> = (0..24).filter(|h| p.allowed & (1 << h) != 0).collect();
        let alert = Alert::from_event(
            NAME,
            Severity::Low,
            event,
            format!("client active at {hour:02}:00 local time, outside its usual hours"),
        )
        .with("local_hour", hour)
        .with("utc_offset_hours", offset)
        .with("usual_hours", usual)
        .with("days_learned", p.days);
        out.push(alert);
    }

    fn state_len(&self) -> usize {
        self.clients.len()
    }

    fn snapshot(&self) -> Option<Value> {
        Some(snapshot_map(&self.clients))
    }

    fn restore(&mut self, state: Value) -> Result<(), String> {
        restore_map(&mut self.clients, state)
    }
}
