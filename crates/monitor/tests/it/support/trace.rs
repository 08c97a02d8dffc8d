//! A labelled trace generator: two weeks of realistic traffic from several kinds of client —
//! CI pipelines, office workers in one city (and one who flies to New York), people with
//! irregular hours, a mobile app with users on every continent, agents with normal bursts,
//! resource servers introspecting — plus injected attacks, each labelled with the detector
//! expected to catch it. Hard negatives are part of normal traffic: VPN hops inside France,
//! country-level and carrier locations, unknown addresses, Wi-Fi/cellular switches, agent
//! bursts, a DST change, stray authentication failures, and a log that begins mid-stream.
use std::net::IpAddr;

use tessera_core::audit::{AuditEvent, EventKind};

use super::places::*;

/// Monday 2024-03-04 00:00:00 UTC.
pub const START_MS: u64 = 1_709_510_400_000;
pub const MIN: u64 = 60_000;
pub const HOUR: u64 = 3_600_000;
pub const DAY: u64 = 86_400_000;

const DEPLOY_API: &str = "https://deploy.example.com";
const DATA_API: &str = "https://data.example.com";
const APP_API: &str = "https://api.example.com";
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
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 > 1.0 - p
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
}

/// A session of normal use, remembered so attacks can target it.
#[derive(Clone, Debug)]
struct Session {
    kind: Kind,
    client: String,
    token: String,
    place: usize,
    ip: IpAddr,
    start: u64,
    end: u64,
    resource: &'static str,
}

impl Session {
    /// The last octet of an IPv4 session address (to compare with [`unknown_ip`]).
    fn ip_host(&self) -> u8 {
        match self.ip {
            IpAddr::V4(v4) => v4.octets()[3],
            IpAddr::V6(_) => 0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ci,
    Office,
    Mobile,
    Agent,
}

struct Gen {
    rng: Rng,
    events: Vec<AuditEvent>,
    sessions: Vec<Session>,
    attacks: Vec<Attack>,
    next_selector: u64,
    days: u64,
}

/// Generates `days` days of traffic; with `attacks`, injects the labelled attacks from day 7 on.
pub fn generate(seed: u64, days: u64, attacks: bool) -> Trace {
    let mut g = Gen {
        rng: Rng::new(seed),
        events: Vec::new(),
        sessions: Vec::new(),
        attacks: Vec::new(),
        next_selector: 1_000,
        days,
    };
    g.ci_pipelines();
    g.office_workers();
    g.irregular_people();
    g.mobile_app();
    g.agents();
    g.stray_failures();
    if attacks {
        // Attacks draw from their own stream so normal traffic is identical with and without.
        g.rng = Rng::new(seed ^ 0xA77AC4);
        g.inject_attacks();
    }
    g.events.sort_by_key(|e| e.time_ms);
    Trace {
        events: g.events,
        attacks: g.attacks,
    }
}

fn event(
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

impl Gen {
    fn jti(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut x = self.rng.next();
        let mut y = self.rng.next();
        (0..22)
            .map(|i| {
                let v = if i < 10 { &mut x } else { &mut y };
                let c = ALPHABET[(*v & 63) as usize] as char;
                *v >>= 6;
                c
            })
            .collect()
    }

    fn selector(&mut self) -> String {
        self.next_selector += 1;
        self.next_selector.to_string()
    }

    fn issue(&mut self, t: u64, client: &str, token: &str, ip: IpAddr, resource: &str) {
        let mut e = event(EventKind::TokenIssued, t, client, Some(token), Some(ip));
        e.resource = Some(resource.to_string());
        e.scope = Some("read".into());
        e.format = Some(
            if token.parse::<u64>().is_ok() {
                "opaque"
            } else {
                "jwt"
            }
            .into(),
        );
        e.user_agent = Some("client/1.0".into());
        self.events.push(e);
    }

    fn use_token(&mut self, t: u64, client: &str, token: &str, ip: IpAddr, resource: &str) {
        let mut e = event(EventKind::TokenUsed, t, client, Some(token), Some(ip));
        e.resource = Some(resource.to_string());
        e.method = Some("GET".into());
        e.path = Some("/v1/items/{id}".into());
        e.reason = Some("accepted".into());
        self.events.push(e);
    }

    fn introspect(
        &mut self,
        t: u64,
        rs: &str,
        rs_ip: IpAddr,
        owner: &str,
        token: &str,
        resource: &str,
    ) {
        let mut e = event(
            EventKind::TokenIntrospected,
            t,
            owner,
            Some(token),
            Some(rs_ip),
        );
        e.caller_id = Some(rs.to_string());
        e.resource = Some(resource.to_string());
        e.reason = Some("active".into());
        self.events.push(e);
    }

    /// A token's life: issued at `start` from `ips[0]`, used `uses` times over `span`, switching
    /// to the next address at even intervals; each use introspected by `rs` with probability `p`.
    #[allow(clippy::too_many_arguments)]
    fn session(
        &mut self,
        kind: Kind,
        client: &str,
        token: String,
        place: usize,
        ips: &[IpAddr],
        start: u64,
        uses: u64,
        span: u64,
        resource: &'static str,
        rs: Option<(&str, IpAddr, f64)>,
    ) {
        self.issue(start, client, &token, ips[0], resource);
        let mut t = start;
        for i in 0..uses {
            t = start + 1000 + span * (i + 1) / uses.max(1) - self.rng.range(0, 1000);
            let ip = ips[(i * ips.len() as u64 / uses.max(1)) as usize];
            self.use_token(t, client, &token, ip, resource);
            if let Some((rs, rs_ip, p)) = rs
                && self.rng.chance(p)
            {
                self.introspect(t + 20, rs, rs_ip, client, &token, resource);
            }
        }
        self.sessions.push(Session {
            kind,
            client: client.to_string(),
            token,
            place,
            ip: ips[0],
            start,
            end: t,
            resource,
        });
    }

    fn ci_pipelines(&mut self) {
        let rs_ip = ip(FRANKFURT, 200, 1);
        for c in 0..5u64 {
            let client = format!("ci-{c}");
            // The log begins mid-stream: a token issued before it starts is still in use.
            let token = self.selector();
            for i in 0..10 {
                let t = START_MS + c * MIN + i * 15_000;
                self.use_token(t, &client, &token, ip(FRANKFURT, 1, 10), DEPLOY_API);
                self.introspect(t + 20, "rs-deploy", rs_ip, &client, &token, DEPLOY_API);
            }
            let mut slot = START_MS + 20 * MIN + c * 7 * MIN;
            while slot < START_MS + self.days * DAY {
                let start = slot + self.rng.range(0, 20 * MIN);
                let runner = ip(
                    FRANKFURT,
                    1 + self.rng.range(0, 4) as u8,
                    10 + self.rng.range(0, 20) as u8,
                );
                let token = self.selector();
                let uses = self.rng.range(20, 40);
                let span = self.rng.range(3 * MIN, 6 * MIN);
                self.session(
                    Kind::Ci,
                    &client,
                    token,
                    FRANKFURT,
                    &[runner],
                    start,
                    uses,
                    span,
                    DEPLOY_API,
                    Some(("rs-deploy", rs_ip, 1.0)),
                );
                slot += 3 * HOUR;
            }
        }
    }

    /// UTC offset (hours) of a city's civil time on `day`; New York and San Francisco move to
    /// daylight time on Sunday 10 March 2024 (day 6), a hard negative for off-hours.
    fn civil_offset(place: usize, day: u64) -> i64 {
        let dst = day >= 7;
        match place {
            PARIS | LYON | BERLIN | PARIS_V6 => 1,
            NEW_YORK => {
                if dst {
                    -4
                } else {
                    -5
                }
            }
            SAN_FRANCISCO => {
                if dst {
                    -7
                } else {
                    -8
                }
            }
            TOKYO => 9,
            SAO_PAULO => -3,
            SYDNEY => 11,
            SINGAPORE => 8,
            _ => 0,
        }
    }

    fn at_local(place: usize, day: u64, hour_f: f64) -> u64 {
        let local = (START_MS + day * DAY) as i64 + (hour_f * HOUR as f64) as i64;
        (local - Self::civil_offset(place, day) * HOUR as i64) as u64
    }

    fn office_workers(&mut self) {
        for h in 0..14u64 {
            let client = format!("office-{h}");
            let home = if h < 10 { PARIS } else { NEW_YORK };
            let office_ip = ip(home, 1 + h as u8, 10);
            let home_ip = ip(home, 100 + h as u8, 20);
            for day in 0..self.days {
                if day % 7 >= 5 {
                    continue;
                }
                // office-3 flies to New York on day 9 and works there on days 9 and 10.
                let travelling = h == 3 && (day == 9 || day == 10);
                let place = if travelling { NEW_YORK } else { home };
                let day_ip = if travelling {
                    ip(NEW_YORK, 77, 3)
                } else if self.rng.chance(0.3) {
                    home_ip
                } else {
                    office_ip
                };
                let mut starts: Vec<f64> = (0..self.rng.range(3, 7))
                    .map(|_| 8.5 + self.rng.range(0, 540) as f64 / 60.0)
                    .collect();
                if self.rng.chance(0.15) {
                    starts.push(18.0 + self.rng.range(0, 90) as f64 / 60.0);
                }
                for start_h in starts {
                    let start = Self::at_local(place, day, start_h);
                    let mut ips = vec![day_ip];
                    if home == PARIS && !travelling {
                        if self.rng.chance(0.1) {
                            // VPN exit in another French city, mid-session.
                            ips.push(ip(self.rng.pick(&[MARSEILLE, LYON]), 5, h as u8));
                        } else if self.rng.chance(0.05) {
                            ips = vec![ip(FRANCE, 1, h as u8)];
                        }
                    } else if self.rng.chance(0.1) {
                        ips.push(ip(US_CARRIER, 3, h as u8));
                    }
                    if self.rng.chance(0.05) {
                        ips = vec![unknown_ip(h as u8 + 1)];
                    }
                    let token = self.jti();
                    let uses = self.rng.range(5, 30);
                    let span = self.rng.range(10 * MIN, 50 * MIN);
                    self.session(
                        Kind::Office,
                        &client,
                        token,
                        place,
                        &ips,
                        start,
                        uses,
                        span,
                        DEPLOY_API,
                        None,
                    );
                }
            }
        }
    }

    fn irregular_people(&mut self) {
        for h in 0..6u64 {
            let client = format!("night-{h}");
            let home_ip = ip(PARIS, 150 + h as u8, 7);
            for day in 0..self.days {
                for _ in 0..self.rng.range(2, 5) {
                    let start = START_MS + day * DAY + self.rng.range(0, DAY);
                    let token = self.jti();
                    let uses = self.rng.range(5, 25);
                    let span = self.rng.range(10 * MIN, 40 * MIN);
                    self.session(
                        Kind::Office,
                        &client,
                        token,
                        PARIS,
                        &[home_ip],
                        start,
                        uses,
                        span,
                        DEPLOY_API,
                        None,
                    );
                }
            }
        }
    }

    fn mobile_app(&mut self) {
        let cities = [
            PARIS,
            LYON,
            NEW_YORK,
            SAN_FRANCISCO,
            TOKYO,
            SAO_PAULO,
            SYDNEY,
            LONDON,
            BERLIN,
            SINGAPORE,
        ];
        let rs_ip = ip(ASHBURN, 201, 1);
        for u in 0..80u64 {
            let mut city = cities[(u % 10) as usize];
            for day in 0..self.days {
                // User 7 (London) flies to Tokyo on day 5.
                if u == 7 && day >= 5 {
                    city = TOKYO;
                }
                for _ in 0..self.rng.range(1, 4) {
                    let start =
                        Self::at_local(city, day, 7.0 + self.rng.range(0, 16 * 60) as f64 / 60.0);
                    let wifi = if city == PARIS && u % 3 == 0 {
                        ip(PARIS_V6, u as u8, 1)
                    } else {
                        ip(city, 50 + u as u8, 1 + u as u8)
                    };
                    let cell = if matches!(city, NEW_YORK | SAN_FRANCISCO) {
                        ip(
                            US_CARRIER,
                            150 + self.rng.range(0, 50) as u8,
                            self.rng.range(1, 250) as u8,
                        )
                    } else {
                        ip(
                            city,
                            150 + self.rng.range(0, 50) as u8,
                            self.rng.range(1, 250) as u8,
                        )
                    };
                    let ips = if self.rng.chance(0.5) {
                        vec![wifi, cell]
                    } else {
                        vec![cell, wifi]
                    };
                    let token = self.jti();
                    let uses = self.rng.range(10, 30);
                    let span = self.rng.range(20 * MIN, 60 * MIN);
                    self.session(
                        Kind::Mobile,
                        "mobile-app",
                        token,
                        city,
                        &ips,
                        start,
                        uses,
                        span,
                        APP_API,
                        Some(("rs-api", rs_ip, 0.5)),
                    );
                }
            }
        }
    }

    fn agents(&mut self) {
        let rs_ip = ip(ASHBURN, 200, 1);
        for a in 0..3u64 {
            let client = format!("agent-{a}");
            let egress = [ip(ASHBURN, 1 + a as u8, 10), ip(ASHBURN, 1 + a as u8, 11)];
            let mut next_burst = START_MS + self.rng.range(2 * HOUR, 6 * HOUR);
            for hour in 0..self.days * 24 {
                let start = START_MS + hour * HOUR + a * MIN;
                let token = self.jti();
                self.issue(start, &client, &token, egress[0], DATA_API);
                let mut t = start + self.rng.range(10_000, 60_000);
                while t < start + HOUR {
                    let ip = self.rng.pick(&egress);
                    self.use_token(t, &client, &token, ip, DATA_API);
                    if self.rng.chance(0.3) {
                        self.introspect(t + 15, "rs-data", rs_ip, &client, &token, DATA_API);
                    }
                    if t >= next_burst {
                        let n = self.rng.range(80, 150);
                        for i in 0..n {
                            self.use_token(t + i * 55_000 / n, &client, &token, ip, DATA_API);
                        }
                        next_burst = t + self.rng.range(4 * HOUR, 8 * HOUR);
                    }
                    t += self.rng.range(60_000, 300_000);
                }
                self.sessions.push(Session {
                    kind: Kind::Agent,
                    client: client.clone(),
                    token,
                    place: ASHBURN,
                    ip: egress[0],
                    start,
                    end: start + HOUR,
                    resource: DATA_API,
                });
            }
        }
        // rs-data also calls the billing API with tokens of its own: a resource server that is
        // a client too, which must not be mistaken for a token thief.
        for hour in 0..self.days * 24 {
            let token = self.jti();
            let t = START_MS + hour * HOUR + 30 * MIN;
            self.session(
                Kind::Agent,
                "rs-data",
                token,
                ASHBURN,
                &[ip(ASHBURN, 200, 1)],
                t,
                3,
                10 * MIN,
                BILLING_API,
                None,
            );
        }
    }

    fn stray_failures(&mut self) {
        for day in 0..self.days {
            for _ in 0..2 {
                let t = START_MS + day * DAY + self.rng.range(0, DAY);
                let client = format!("office-{}", self.rng.range(0, 14));
                let src = ip(PARIS, 1 + self.rng.range(0, 14) as u8, 10);
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
        // A deploy with a stale secret fails five times in ten minutes: annoying, not an attack.
        for i in 0..5 {
            let mut e = event(
                EventKind::ClientAuthenticationFailed,
                START_MS + 3 * DAY + i * 2 * MIN,
                "ci-2",
                None,
                Some(ip(FRANKFURT, 2, 15)),
            );
            e.reason = Some("invalid_client_secret".into());
            self.events.push(e);
        }
    }
}

#[path = "attacks.rs"]
mod attacks;
