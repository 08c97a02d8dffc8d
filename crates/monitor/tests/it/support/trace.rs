//! The labelled trace generator, written from issue 15's list of what real traffic does (not from
//! the detectors): two weeks (21 Oct – 4 Nov 2024, across the EU and US daylight-saving ends) of
//! ~200 clients — office workers behind two egresses 5–40 km apart who work from home, use VPN
//! exits in their country for a few hours and fly abroad (new tokens there after the flight);
//! evening, night and weekend workers; two mobile apps whose users' carrier NAT changes address
//! every few minutes across their country, often to records that resolve only to the country;
//! CI pipelines fanning one token out to 8–25 runners of a cloud region (records a few km apart
//! with large radii); 24/7 services behind one NAT address; agents whose normal work is bursts
//! of up to 100 calls a minute; low-rate services calling every 20–40 minutes; local-time crons
//! (two in the hour repeated when clocks go back) and UTC crons. Attacks are injected from day
//! 7 on by `attacks.rs`, each labelled with the detector expected to catch it. Deterministic per
//! seed; attacks draw from their own random stream, so normal traffic is the same without them.
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

    /// Office workers: one client each, office hours in their city's civil time (which changes
    /// with daylight saving), two egresses 5–40 km apart alternating per request, home days,
    /// VPN exits elsewhere in the country for a few hours, and some fly abroad for a few days.
    fn office_workers(&mut self) {
        let offices = [
            (C_PARIS, 0usize, 15u64),
            (C_NEW_YORK, 1, 12),
            (C_TOKYO, 2, 10),
            (C_LONDON, 3, 10),
            (C_BERLIN, 4, 8),
            (C_CHICAGO, 5, 5),
        ];
        let mut w = 0u64;
        for (home, suburb, count) in offices {
            for _ in 0..count {
                w += 1;
                let client = format!("office-{w}");
                let egress = [city_ip(home, 1, w as u8), suburb_ip(suburb, 1, w as u8)];
                let home_ip = city_ip(home, 100 + (w % 100) as u8, 7);
                let domestic: Vec<usize> = cities_in(CITIES[home].country)
                    .into_iter()
                    .filter(|&c| c != home)
                    .collect();
                let vpn_city = if domestic.is_empty() {
                    home
                } else {
                    self.rng.pick(&domestic)
                };
                let first = 8 * 60 + self.rng.range(0, 90);
                let last = 17 * 60 + self.rng.range(0, 90);
                // Every fifth worker flies abroad once, for two to four days.
                let trip = if w % 5 == 3 {
                    let far: Vec<usize> = (0..CITIES.len())
                        .filter(|&c| CITIES[c].continent != CITIES[home].continent)
                        .collect();
                    let dest = self.rng.pick(&far);
                    let leave = self.rng.range(1, self.days.saturating_sub(5).max(2));
                    Some((dest, leave, leave + self.rng.range(2, 5)))
                } else {
                    None
                };
                let mut away = Vec::new();
                // (leave at, land abroad at, leave abroad at, land home at)
                let flights = trip.map(|(dest, leave, back)| {
                    let flight = (city_distance(home, dest) / 800.0 * HOUR as f64) as u64;
                    let out = at_local(home, leave, 20 * 60);
                    let ret = at_local(dest, back, 20 * 60);
                    (out, out + flight, ret, ret + flight)
                });
                for day in 0..self.days {
                    let (city, abroad) = match trip {
                        Some((dest, leave, back)) if day > leave && day < back => (dest, true),
                        _ => (home, false),
                    };
                    // No night-token attack around a trip: the worker may be jet-lagged.
                    if let Some((_, leave, back)) = trip
                        && day >= leave
                        && day <= back + 1
                    {
                        away.push(day);
                    }
                    if day % 7 >= 5 && !abroad {
                        continue;
                    }
                    let mode = self.rng.range(0, 100);
                    let vpn_window = (mode >= 90).then(|| {
                        let s = first + self.rng.range(0, 300);
                        (s, s + self.rng.range(120, 300))
                    });
                    let overtime = self.rng.chance(0.1);
                    let end = if overtime { 19 * 60 + 30 } else { last };
                    let n = self.rng.range(3, 8);
                    for _ in 0..n {
                        let minute = first + self.rng.range(0, end - first);
                        let start = at_local(city, day, minute);
                        // Nobody works from the plane, nor abroad before landing.
                        if let Some((out, land, ret, home_again)) = flights {
                            let ok = if abroad {
                                start >= land + HOUR && start < ret
                            } else {
                                start < out || start >= home_again
                            };
                            if !ok {
                                continue;
                            }
                        }
                        let uses = self.rng.range(8, 40);
                        let span = self.rng.range(15 * MIN, 60 * MIN);
                        let vpn = vpn_window.is_some_and(|(a, b)| minute >= a && minute < b);
                        let ts = self.times(start, uses, span);
                        let list: Vec<(u64, IpAddr)> = ts
                            .into_iter()
                            .map(|t| {
                                let ip = if abroad {
                                    city_ip(city, 60, w as u8)
                                } else if vpn {
                                    city_ip(vpn_city, 240, w as u8)
                                } else if mode < 20 {
                                    home_ip
                                } else {
                                    self.rng.pick(&egress)
                                };
                                (t, ip)
                            })
                            .collect();
                        let first_ip = list[0].1;
                        self.session(
                            Kind::Office,
                            &client,
                            WORK_API,
                            (start, first_ip),
                            list,
                            Some(city),
                            true,
                            None,
                        );
                    }
                    // The flight out leaves at 20:00 and the worker checks mail an hour after
                    // landing: a new token abroad, after a plausible flight.
                    if let Some((dest, leave, back)) = trip
                        && (day == leave || day == back)
                    {
                        let (from, to) = if day == leave {
                            (home, dest)
                        } else {
                            (dest, home)
                        };
                        let depart = at_local(from, day, 20 * 60);
                        let flight = (city_distance(from, to) / 800.0 * HOUR as f64) as u64;
                        let t = depart + flight + HOUR;
                        let ip = if to == home {
                            home_ip
                        } else {
                            city_ip(to, 60, w as u8)
                        };
                        let ts = self.times(t, 6, 20 * MIN);
                        let list = ts.into_iter().map(|t| (t, ip)).collect();
                        self.session(
                            Kind::Office,
                            &client,
                            WORK_API,
                            (t, ip),
                            list,
                            Some(to),
                            false,
                            None,
                        );
                    }
                }
                self.workers.push(Worker {
                    client,
                    city: home,
                    home_ip,
                    office_ip: egress[0],
                    vpn_city,
                    away,
                });
            }
        }
    }

    /// People who work evenings, nights or weekends, each with a steady routine.
    fn shift_workers(&mut self) {
        let cities = [
            C_PARIS, C_NEW_YORK, 21, 10, C_TOKYO, 39, 35, C_LONDON, 31, 6,
        ];
        for s in 0..15u64 {
            let client = format!("shift-{s}");
            let city = cities[(s % 10) as usize];
            let home_ip = city_ip(city, 120 + s as u8, 9);
            // (first minute, last minute, weekdays, weekends)
            let (from, to, weekdays, weekends) = match s % 3 {
                0 => (17 * 60, 24 * 60 - 10, true, false),
                1 => (22 * 60, 30 * 60, true, false),
                _ => (9 * 60, 20 * 60, false, true),
            };
            for day in 0..self.days {
                let weekend = day % 7 >= 5;
                let working = (weekend && weekends) || (!weekend && weekdays);
                // Weekend workers also pick up the odd weekday evening.
                let (from, to) = if !working && s % 3 == 2 && self.rng.chance(0.3) {
                    (19 * 60, 23 * 60)
                } else if working {
                    (from, to)
                } else {
                    continue;
                };
                for _ in 0..self.rng.range(2, 6) {
                    let minute = from + self.rng.range(0, to - from);
                    let (d, m) = (day + minute / (24 * 60), minute % (24 * 60));
                    let start = at_local(city, d, m);
                    let (n, span) = (self.rng.range(5, 30), self.rng.range(10, 50) * MIN);
                    let ts = self.times(start, n, span);
                    let list: Vec<(u64, IpAddr)> = ts
                        .into_iter()
                        .map(|t| {
                            let ip = if self.rng.chance(0.2) {
                                self.carrier_ip(city)
                            } else {
                                home_ip
                            };
                            (t, ip)
                        })
                        .collect();
                    let first = list[0];
                    self.session(
                        Kind::Shift,
                        &client,
                        WORK_API,
                        first,
                        list,
                        Some(city),
                        false,
                        None,
                    );
                }
            }
        }
    }

    /// Two mobile apps; each user lives in a city and opens the app one to four times a day.
    /// Carrier NAT changes the address every few minutes across the country (often a record
    /// located only to the country); at home, Wi-Fi. A few users fly abroad and carry on there.
    fn mobile_apps(&mut self) {
        let homes = [
            C_PARIS, 1, 3, C_BERLIN, 6, C_LONDON, 9, 10, 12, C_NEW_YORK, 18, 21, 24, 25, C_TOKYO,
            27, 31, 33, 35, 39, 29,
        ];
        for u in 0..200u64 {
            let client = if u % 2 == 0 { "app-ios" } else { "app-android" };
            let mut city = homes[(u % homes.len() as u64) as usize];
            let wifi = city_ip(city, 150 + (u % 50) as u8, 1 + (u / 50) as u8);
            let owl = u % 10 == 7;
            let moves_on = (u % 40 == 5).then(|| self.rng.range(3, self.days.max(4) - 1));
            for day in 0..self.days {
                if moves_on == Some(day) {
                    let far: Vec<usize> = (0..CITIES.len())
                        .filter(|&c| CITIES[c].continent != CITIES[city].continent)
                        .collect();
                    city = self.rng.pick(&far);
                }
                let abroad = moves_on.is_some_and(|d| day >= d);
                for _ in 0..self.rng.range(1, 5) {
                    let minute = if owl {
                        20 * 60 + self.rng.range(0, 7 * 60)
                    } else {
                        7 * 60 + self.rng.range(0, 17 * 60)
                    };
                    let (d, m) = (day + minute / (24 * 60), minute % (24 * 60));
                    // A traveller's first day abroad starts after the flight has landed.
                    if moves_on == Some(day) && m < 22 * 60 {
                        continue;
                    }
                    let start = at_local(city, d, m);
                    let mut t = start;
                    let mut ip = if abroad {
                        city_ip(city, 70, u as u8)
                    } else if self.rng.chance(0.5) {
                        wifi
                    } else {
                        self.carrier_ip(city)
                    };
                    let on_carrier = !abroad && ip != wifi;
                    let mut list = Vec::new();
                    let end = start + self.rng.range(5, 45) * MIN;
                    while t < end {
                        t += self.rng.range(20_000, 180_000);
                        if on_carrier && self.rng.chance(0.3) {
                            ip = self.carrier_ip(city);
                        }
                        list.push((t, ip));
                    }
                    self.session(
                        Kind::Mobile,
                        client,
                        APP_API,
                        (start, list[0].1),
                        list,
                        Some(city),
                        false,
                        Some(("rs-api", 0.3)),
                    );
                }
            }
        }
    }

    /// CI pipelines: each run's token fans out to 8–25 runners of one cloud region within a
    /// couple of minutes; runs every two to four hours, and a nightly fan-out of 20–25 runners.
    fn ci_pipelines(&mut self) {
        for c in 0..12u64 {
            let client = format!("ci-{c}");
            let region: &[usize] = if c < 8 { &REGION_EU } else { &REGION_US };
            let mut t = T0 + self.rng.range(0, 2 * HOUR);
            let mut nightly = T0 + 2 * HOUR + c * 5 * MIN;
            while t < T0 + self.days * DAY {
                let night = nightly <= t;
                let start = if night { nightly } else { t };
                let runners = if night {
                    self.rng.range(20, 26)
                } else {
                    self.rng.range(8, 26)
                };
                let mut list = Vec::new();
                for _ in 0..runners {
                    let rec = self.rng.pick(region);
                    let ip = cloud_ip(
                        rec,
                        self.rng.range(1, 250) as u8,
                        self.rng.range(1, 250) as u8,
                    );
                    let mut u = start + self.rng.range(5_000, 120_000);
                    for _ in 0..self.rng.range(2, 7) {
                        list.push((u, ip));
                        u += self.rng.range(5_000, 60_000);
                    }
                }
                list.sort_by_key(|x| x.0);
                let issuer = list[0].1;
                self.session(
                    Kind::Ci,
                    &client,
                    DEPLOY_API,
                    (start, issuer),
                    list,
                    None,
                    false,
                    Some(("rs-deploy", 0.5)),
                );
                if night {
                    nightly += DAY;
                } else {
                    t += self.rng.range(2 * HOUR, 4 * HOUR);
                }
            }
        }
    }

    /// 24/7 services, four behind each of two NAT addresses, a new token every hour.
    fn services(&mut self) {
        for s in 0..8u64 {
            let client = format!("svc-{s}");
            let nat = if s < 4 {
                cloud_ip(0, 9, 9)
            } else {
                cloud_ip(4, 9, 9)
            };
            for hour in 0..self.days * 24 {
                let start = T0 + hour * HOUR + s * 17_000;
                let mut t = start;
                let mut list = Vec::new();
                while t < start + HOUR {
                    t += self.rng.range(MIN, 5 * MIN);
                    list.push((t, nat));
                }
                self.session(
                    Kind::Service,
                    &client,
                    DATA_API,
                    (start, nat),
                    list,
                    None,
                    false,
                    Some(("rs-data", 0.2)),
                );
            }
        }
    }

    /// Agents: a call every few minutes and, a few times a day, bursts of 50–100 calls a
    /// minute for one to two minutes — their normal work.
    fn agents(&mut self) {
        for a in 0..6u64 {
            let client = format!("agent-{a}");
            let egress = [cloud_ip(2, 20 + a as u8, 1), cloud_ip(2, 20 + a as u8, 2)];
            for hour in 0..self.days * 24 {
                let start = T0 + hour * HOUR + a * MIN;
                let mut list = Vec::new();
                let mut t = start;
                while t < start + HOUR {
                    t += self.rng.range(2 * MIN, 8 * MIN);
                    list.push((t, self.rng.pick(&egress)));
                }
                if self.rng.chance(3.5 / 24.0) {
                    let b = start + self.rng.range(0, 55 * MIN);
                    let rate = self.rng.range(50, 101);
                    let minutes = self.rng.range(1, 3);
                    for i in 0..rate * minutes {
                        list.push((b + i * MIN / rate, egress[0]));
                    }
                }
                list.sort_by_key(|x| x.0);
                self.session(
                    Kind::Agent,
                    &client,
                    DATA_API,
                    (start, egress[0]),
                    list,
                    None,
                    false,
                    Some(("rs-data", 0.1)),
                );
            }
        }
        // rs-data calls the billing API with its own tokens: a resource server that is a client.
        for hour in 0..self.days * 24 {
            let t = T0 + hour * HOUR + 30 * MIN;
            let ip = cloud_ip(4, 250, 1);
            let list = vec![(t + MIN, ip), (t + 4 * MIN, ip), (t + 9 * MIN, ip)];
            self.session(
                Kind::Service,
                "rs-data",
                BILLING_API,
                (t, ip),
                list,
                None,
                false,
                None,
            );
        }
    }

    /// Low-rate services: a call every 20–40 minutes, all day; a new token every day.
    fn low_rate(&mut self) {
        for s in 0..10u64 {
            let client = format!("lowrate-{s}");
            let ip = if s % 2 == 0 {
                cloud_ip(1, 30 + s as u8, 3)
            } else {
                city_ip(
                    [C_PARIS, C_NEW_YORK, C_TOKYO, 12, 29][(s / 2) as usize],
                    30,
                    3,
                )
            };
            let city =
                (s % 2 == 1).then(|| [C_PARIS, C_NEW_YORK, C_TOKYO, 12, 29][(s / 2) as usize]);
            let mut t = T0 + self.rng.range(0, 30 * MIN);
            for day in 0..self.days {
                let start = t;
                let mut list = Vec::new();
                while t < T0 + (day + 1) * DAY {
                    t += self.rng.range(20 * MIN, 40 * MIN);
                    list.push((t, ip));
                }
                self.session(
                    Kind::LowRate,
                    &client,
                    DATA_API,
                    (start, ip),
                    list,
                    city,
                    false,
                    None,
                );
            }
        }
    }

    /// Crons: local-time jobs (two of them in the hour repeated when clocks go back, so they
    /// run twice that night) and UTC jobs. Each run: a new token and a few calls.
    fn crons(&mut self) {
        // (city, local minute) — 02:30 Paris and 01:30 New York and London are in the
        // repeated hour of their autumn change.
        let local = [
            (C_PARIS, 150u64),
            (C_NEW_YORK, 90),
            (C_LONDON, 90),
            (C_TOKYO, 180),
            (C_PARIS, 360),
            (C_NEW_YORK, 1410),
            (C_BERLIN, 255),
            (C_CHICAGO, 300),
        ];
        for (k, &(city, minute)) in local.iter().enumerate() {
            let client = format!("cron-local-{k}");
            let ip = city_ip(city, 90, k as u8 + 1);
            for day in 0..self.days {
                for t in local_instants(city, day, minute) {
                    self.cron_run(&client, t, ip, Some(city));
                }
            }
        }
        let utc = [15u64, 180, 720, 360, 1080, 1425];
        for (k, &minute) in utc.iter().enumerate() {
            let client = format!("cron-utc-{k}");
            let ip = cloud_ip(k % 4, 91, k as u8 + 1);
            for day in 0..self.days {
                self.cron_run(&client, T0 + day * DAY + minute * MIN, ip, None);
            }
        }
    }

    fn cron_run(&mut self, client: &str, t: u64, ip: IpAddr, city: Option<usize>) {
        let n = self.rng.range(3, 16);
        let ts = self.times(t, n, 3 * MIN);
        let list = ts.into_iter().map(|u| (u, ip)).collect();
        self.session(
            Kind::Cron,
            client,
            DEPLOY_API,
            (t, ip),
            list,
            city,
            false,
            None,
        );
    }

    /// Mistyped secrets and a deploy with a stale one: a few failures, never an attack.
    fn stray_failures(&mut self) {
        for day in 0..self.days {
            for _ in 0..3 {
                let t = T0 + day * DAY + self.rng.range(0, DAY);
                let w = self.rng.range(0, self.workers.len() as u64) as usize;
                let (client, src) = (self.workers[w].client.clone(), self.workers[w].office_ip);
                for i in 0..self.rng.range(1, 4) {
                    let mut e = event(
                        EventKind::ClientAuthenticationFailed,
                        t + i * 5_000,
                        &client,
                        None,
                        Some(src),
                    );
                    e.reason = Some("invalid_client_secret".into());
                    self.events.push(e);
                }
            }
        }
        // Two services behind one NAT each fail a couple of times after a secret rotation.
        for (i, s) in ["svc-0", "svc-1"].iter().enumerate() {
            for k in 0..3u64 {
                let mut e = event(
                    EventKind::ClientAuthenticationFailed,
                    T0 + 3 * DAY + i as u64 * MIN + k * 20_000,
                    s,
                    None,
                    Some(cloud_ip(0, 9, 9)),
                );
                e.reason = Some("invalid_client_secret".into());
                self.events.push(e);
            }
        }
    }
}

#[path = "attacks.rs"]
mod attacks;
