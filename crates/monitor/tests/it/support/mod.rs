//! The test harness: the test GeoIP database, the trace generator, and helpers that run events
//! through an engine and compare alerts with labelled attacks.
#![allow(dead_code, unused_imports)]

pub mod mmdb;
pub mod places;
pub mod trace;
pub mod world;

use std::net::IpAddr;

use tessera_core::audit::{AuditEvent, EventKind};
use tessera_monitor::{Alert, Engine, GeoIp, MonitorConfig};

pub use places::*;
pub use trace::{Attack, DAY, HOUR, MIN, START_MS};

/// An engine with the default configuration and the test database.
pub fn engine() -> Engine {
    engine_with(&MonitorConfig::default())
}

/// An engine with `config` and the test database.
pub fn engine_with(config: &MonitorConfig) -> Engine {
    Engine::new(config, Some(GeoIp::from_bytes(database()).unwrap()))
}

/// Every alert `events` raise.
pub fn run(engine: &mut Engine, events: &[AuditEvent]) -> Vec<Alert> {
    let mut out = Vec::new();
    for e in events {
        engine.observe(e, &mut out);
    }
    out
}

/// Great-circle distance in km.
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let a = ((p2 - p1) / 2.0).sin().powi(2)
        + p1.cos() * p2.cos() * ((lon2 - lon1).to_radians() / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().asin()
}

/// An event built field by field.
pub struct Ev(pub AuditEvent);

impl Ev {
    pub fn new(kind: EventKind, t_ms: u64) -> Self {
        Self(AuditEvent::new(kind, t_ms))
    }
    pub fn used(t_ms: u64, client: &str, token: &str, ip: IpAddr) -> Self {
        Self::new(EventKind::TokenUsed, t_ms)
            .client(client)
            .token(token)
            .ip(ip)
    }
    pub fn issued(t_ms: u64, client: &str, token: &str, ip: IpAddr) -> Self {
        Self::new(EventKind::TokenIssued, t_ms)
            .client(client)
            .token(token)
            .ip(ip)
    }
    pub fn client(mut self, c: &str) -> Self {
        self.0.client_id = Some(c.into());
        self
    }
    pub fn caller(mut self, c: &str) -> Self {
        self.0.caller_id = Some(c.into());
        self
    }
    pub fn token(mut self, t: &str) -> Self {
        self.0.token_id = Some(t.into());
        self
    }
    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.0.ip = Some(ip);
        self
    }
    pub fn resource(mut self, r: &str) -> Self {
        self.0.resource = Some(r.into());
        self
    }
    pub fn done(self) -> AuditEvent {
        self.0
    }
}

/// `(detector, token_id, client_id, time_ms)` of each alert: what the tests compare exactly.
pub fn summary(alerts: &[Alert]) -> Vec<(String, Option<String>, Option<String>, u64)> {
    alerts
        .iter()
        .map(|a| {
            (
                a.detector.clone(),
                a.token_id.clone(),
                a.client_id.clone(),
                a.time_ms,
            )
        })
        .collect()
}

/// Whether `alert` is about `attack`: the attack's token, raised between its start and six
/// hours after its end (a client seen back home later shows the excursion was impossible); or
/// the same client (or address, for alerts about neither) within ten minutes of its end.
pub fn matches(alert: &Alert, attack: &Attack) -> bool {
    if alert.time_ms < attack.start_ms || alert.time_ms > attack.end_ms + 6 * HOUR {
        return false;
    }
    let token = attack.token_id.is_some() && alert.token_id == attack.token_id;
    let soon = alert.time_ms <= attack.end_ms + 10 * MIN;
    let client = soon && attack.client_id.is_some() && alert.client_id == attack.client_id;
    let ip = soon
        && attack.ip.is_some()
        && alert.ip == attack.ip
        && alert.client_id.is_none()
        && alert.token_id.is_none();
    token || client || ip
}

/// Per-detector quality on a labelled trace.
#[derive(Debug, Default, Clone)]
pub struct Quality {
    pub detector: &'static str,
    pub attacks: usize,
    pub caught: usize,
    pub alerts: usize,
    pub false_alerts: usize,
    /// False alerts of high severity (the ones the default policy acts on).
    pub false_high: usize,
    /// Alerts of high severity.
    pub high: usize,
    /// Per caught attack: seconds from its start to this detector's first alert about it.
    pub delays_s: Vec<f64>,
}

impl Quality {
    pub fn recall(&self) -> f64 {
        if self.attacks == 0 {
            1.0
        } else {
            self.caught as f64 / self.attacks as f64
        }
    }
    pub fn false_rate(&self) -> f64 {
        if self.alerts == 0 {
            0.0
        } else {
            self.false_alerts as f64 / self.alerts as f64
        }
    }
    pub fn precision(&self) -> f64 {
        1.0 - self.false_rate()
    }
    /// Median and largest alert delay, seconds.
    pub fn delay(&self) -> (f64, f64) {
        let mut d = self.delays_s.clone();
        d.sort_by(f64::total_cmp);
        if d.is_empty() {
            return (0.0, 0.0);
        }
        (d[d.len() / 2], d[d.len() - 1])
    }
}

pub const DETECTORS: [&str; 7] = [
    "impossible_travel",
    "burst",
    "multi_ip",
    "multi_client",
    "off_hours",
    "refresh_token_reuse",
    "auth_failures",
];

/// Recall, false alerts and alert delay of each detector on `attacks`.
pub fn quality(alerts: &[Alert], attacks: &[Attack]) -> Vec<Quality> {
    DETECTORS
        .iter()
        .map(|&d| {
            let mine: Vec<&Alert> = alerts.iter().filter(|a| a.detector == d).collect();
            let labelled: Vec<&Attack> = attacks.iter().filter(|a| a.detector == d).collect();
            let delays_s: Vec<f64> = labelled
                .iter()
                .filter_map(|atk| {
                    mine.iter()
                        .filter(|a| matches(a, atk))
                        .map(|a| a.time_ms.saturating_sub(atk.start_ms) as f64 / 1000.0)
                        .reduce(f64::min)
                })
                .collect();
            let is_false = |a: &&&Alert| !attacks.iter().any(|atk| matches(a, atk));
            let high = |a: &&&Alert| a.severity == tessera_monitor::Severity::High;
            Quality {
                detector: d,
                attacks: labelled.len(),
                caught: delays_s.len(),
                alerts: mine.len(),
                false_alerts: mine.iter().filter(is_false).count(),
                false_high: mine.iter().filter(is_false).filter(high).count(),
                high: mine.iter().filter(high).count(),
                delays_s,
            }
        })
        .collect()
}
