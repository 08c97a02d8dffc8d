//! The labelled trace generator, written from issue 15's list of what real traffic does (not from
//! the detectors): two weeks (21 Oct – 4 Nov 2024, across the EU and US daylight-saving ends) of
//! ~200 clients — office workers behind two egresses 5–40 km apart who work from home, use VPN
//! exits in their country for a few hours and fly abroad (new tokens there after the flight);
//! evening, night and weekend workers; two mobile apps whose users' carrier NAT changes address
//! every few minutes across their country, often to records that resolve only to the country;
//! CI pipelines fanning one token out to 8–25 runners of a cloud region (records a few km apart
//! with large radii); 24/7 services behind one NAT address; agents whose normal work is bursts
//! of up to 100 calls a minute; low-rate services calling every 20–40 minutes; local-time crons
//! (two in the hour repeated when clocks go back) and UTC crons (`people.rs`, `machines.rs`).
//! Attacks are injected from day 7 on by `attacks.rs`, each labelled with the detector expected
//! to catch it. Deterministic per seed; attacks draw from their own random stream, so normal
//! traffic is the same without them.
use std::net::IpAddr;

use tessera_core::audit::{AuditEvent, EventKind};

use super::world::*;

/// Monday 2024-03-04 00:00:00 UTC: the epoch of the hand-made tests (not of the trace).
pub const START_MS: u64 = 1_709_510_400_000;
pub const MIN: u64 = 60_000;
pub const HOUR: u64 = 3_600_000;
pub const DAY: u64 = 86_400_000;

const WORK_API: &str = "https://work.example.com";
const APP_API: &str = "https://api.example.com";
const DEPLOY_API: &str = "https://deploy.example.com";
const DATA_API: &str = "https://data.example.com";
const BILLING_API: &str = "https://billing.example.com";

/// SplitMix64: small, fast, deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo).max(1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.range(0, xs.len() as u64) as usize]
    }
}

/// One injected attack and the detector expected to catch it.
#[derive(Clone, Debug)]
pub struct Attack {
    pub detector: &'static str,
    pub token_id: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<IpAddr>,
    pub start_ms: u64,
    pub end_ms: u64,
}

/// A generated trace.
pub struct Trace {
    pub events: Vec<AuditEvent>,
    pub attacks: Vec<Attack>,
    /// Distinct tokens in the trace (for false positives per token).
    pub tokens: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Office,
    Shift,
    Mobile,
    Ci,
    Service,
    Agent,
    LowRate,
    Cron,
}

/// A token's normal life, remembered so attacks can target it.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub kind: Kind,
    pub client: String,
    pub token: String,
    pub resource: &'static str,
    /// Each use: time, address, whether the address is located to a city.
    pub uses: Vec<(u64, IpAddr, bool)>,
    /// The city the holder is in (for travel attacks), when it is one.
    pub city: Option<usize>,
    /// Whether the client keeps office hours only (target of off-hours attacks).
    pub office_hours: bool,
}

impl Session {
    pub fn start(&self) -> u64 {
        self.uses.first().map_or(0, |u| u.0)
    }
    pub fn end(&self) -> u64 {
        self.uses.last().map_or(0, |u| u.0)
    }
    /// Mean calls per minute over the token's use.
    pub fn rate_per_min(&self) -> f64 {
        let span = (self.end() - self.start()).max(MIN) as f64 / MIN as f64;
        self.uses.len() as f64 / span
    }
}

/// An office worker's profile, for off-hours attacks.
#[derive(Clone, Debug)]
pub(crate) struct Worker {
    pub client: String,
    pub city: usize,
    pub home_ip: IpAddr,
    pub office_ip: IpAddr,
    pub vpn_city: usize,
    /// Trace days spent abroad (no attack then).
    pub away: Vec<u64>,
}

pub(crate) struct Gen {
    pub rng: Rng,
    pub events: Vec<AuditEvent>,
    pub sessions: Vec<Session>,
    pub workers: Vec<Worker>,
    pub attacks: Vec<Attack>,
    pub days: u64,
    next_token: u64,
}

/// Generates `days` days of traffic; with `attacks`, injects the labelled attacks from day 7 on.
pub fn generate(seed: u64, days: u64, attacks: bool) -> Trace {
    let mut g = Gen {
        rng: Rng::new(seed),
        events: Vec::new(),
        sessions: Vec::new(),
        workers: Vec::new(),
        attacks: Vec::new(),
        days,
        next_token: 0,
    };
    g.office_workers();
    g.shift_workers();
    g.mobile_apps();
    g.ci_pipelines();
    g.services();
    g.agents();
    g.low_rate();
    g.crons();
    g.stray_failures();
    let tokens = g.next_token as usize;
    if attacks {
        g.rng = Rng::new(seed ^ 0xA77A_C4ED);
        g.inject_attacks();
    }
    g.events.sort_by_key(|e| e.time_ms);
    Trace {
        events: g.events,
        attacks: g.attacks,
        tokens,
    }
}

pub(crate) fn event(
    kind: EventKind,
    t: u64,
    client: &str,
    token: Option<&str>,
    ip: Option<IpAddr>,
) -> AuditEvent {
    let mut e = AuditEvent::new(kind, t);
    e.client_id = Some(client.to_string());
    e.token_id = token.map(str::to_string);
    e.ip = ip;
    e
}

/// Whether an address is located to a city (not a country centroid, not an unknown address).
pub(crate) fn precise(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            o[0] == 150 || o[0] == 151 || (o[0] == 170 && o[1] != 8)
        }
        IpAddr::V6(_) => false,
    }
}

/// An address no database row covers (TEST-NET-3).
pub(crate) fn unknown(host: u8) -> IpAddr {
    IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, host.max(1)))
}

impl Gen {
    pub fn token(&mut self) -> String {
        self.next_token += 1;
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut x = self.rng.next();
        (0..16)
            .map(|_| {
                let c = ALPHABET[(x & 63) as usize] as char;
                x >>= 6;
                c
            })
            .collect::<String>()
            + &format!("{:x}", self.next_token)
    }

    pub fn issue(&mut self, t: u64, client: &str, token: &str, ip: IpAddr, resource: &str) {
        let mut e = event(EventKind::TokenIssued, t, client, Some(token), Some(ip));
        e.resource = Some(resource.to_string());
        e.scope = Some("read".into());
        e.format = Some("jwt".into());
        self.events.push(e);
    }

    pub fn use_token(&mut self, t: u64, client: &str, token: &str, ip: IpAddr, resource: &str) {
        let mut e = event(EventKind::TokenUsed, t, client, Some(token), Some(ip));
        e.resource = Some(resource.to_string());
        e.method = Some("GET".into());
        e.path = Some("/v1/items/{id}".into());
        e.reason = Some("accepted".into());
        self.events.push(e);
    }

    fn introspect(&mut self, t: u64, rs: &str, owner: &str, token: &str, resource: &str) {
        let mut e = event(
            EventKind::TokenIntrospected,
            t,
            owner,
            Some(token),
            Some(cloud_ip(4, 250, 1)),
        );
        e.caller_id = Some(rs.to_string());
        e.resource = Some(resource.to_string());
        e.reason = Some("active".into());
        self.events.push(e);
    }

    /// Issues a token at `uses[0]`'s address and uses it at every `(t, ip)`; remembers it.
    #[allow(clippy::too_many_arguments)]
    fn session(
        &mut self,
        kind: Kind,
        client: &str,
        resource: &'static str,
        issued: (u64, IpAddr),
        uses: Vec<(u64, IpAddr)>,
        city: Option<usize>,
        office_hours: bool,
        rs: Option<(&str, f64)>,
    ) {
        let token = self.token();
        self.issue(issued.0, client, &token, issued.1, resource);
        let mut seen = Vec::with_capacity(uses.len());
        for &(t, ip) in &uses {
            self.use_token(t, client, &token, ip, resource);
            if let Some((rs, p)) = rs
                && self.rng.chance(p)
            {
                self.introspect(t + 40, rs, client, &token, resource);
            }
            seen.push((t, ip, precise(ip)));
        }
        self.sessions.push(Session {
            kind,
            client: client.to_string(),
            token,
            resource,
            uses: seen,
            city,
            office_hours,
        });
    }

    /// `n` times spread over `span` from `start`, each with `gap` jitter.
    fn times(&mut self, start: u64, n: u64, span: u64) -> Vec<u64> {
        let mut ts: Vec<u64> = (0..n)
            .map(|_| start + 1_000 + self.rng.range(0, span.max(1)))
            .collect();
        ts.sort_unstable();
        ts
    }

    /// An address of the carrier of a user in `home` (a city of country `cc`): located to the
    /// country only, or to a city of the country where the carrier's NAT sits.
    fn carrier_ip(&mut self, home: usize) -> IpAddr {
        let cc = CITIES[home].country;
        let sub = self.rng.range(1, 250) as u8;
        let host = self.rng.range(1, 250) as u8;
        if self.rng.chance(0.05) {
            return unknown(host);
        }
        if let Some(k) = country_index(cc)
            && self.rng.chance(0.4)
        {
            return country_ip(k, sub, host);
        }
        let cities = cities_in(cc);
        city_ip(self.rng.pick(&cities), 200 + sub % 50, host)
    }
}

mod attacks;
mod machines;
mod people;
