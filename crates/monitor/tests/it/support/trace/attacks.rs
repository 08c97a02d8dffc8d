//! The injected attacks of issue 15, each labelled with the detector expected to catch it,
//! all from day 7 on (once a week of normal traffic has been seen): a token replayed from
//! another continent minutes after its owner used it; one token used from tens of cities in a
//! few minutes; a token presented by another client; a 50× rate burst against the token's own
//! normal (even when that is a call every half hour); a new token used at 00:00–04:00 local by
//! a client that only ever works office hours. Plus refresh-token reuse and secret guessing.
use std::net::IpAddr;

use tessera_core::audit::EventKind;

use super::super::world::*;
use super::{Attack, DAY, Gen, Kind, MIN, Session, Worker, event, unknown};

impl Gen {
    pub(super) fn inject_attacks(&mut self) {
        self.replays_from_afar();
        self.many_cities();
        self.other_clients();
        self.bursts();
        self.night_tokens();
        self.refresh_reuse();
        self.credential_guessing();
    }

    fn label(
        &mut self,
        detector: &'static str,
        token: Option<&str>,
        client: Option<&str>,
        ip: Option<IpAddr>,
        start_ms: u64,
        end_ms: u64,
    ) {
        self.attacks.push(Attack {
            detector,
            token_id: token.map(str::to_string),
            client_id: client.map(str::to_string),
            ip,
            start_ms,
            end_ms,
        });
    }

    /// A session of one of `kinds` in use from day 7 on, picked at random and never picked
    /// again (one attack per token).
    fn target(&mut self, kinds: &[Kind], filter: impl Fn(&Session) -> bool) -> Session {
        let from = T0 + 7 * DAY;
        let pool: Vec<usize> = (0..self.sessions.len())
            .filter(|&i| {
                let s = &self.sessions[i];
                kinds.contains(&s.kind) && s.start() >= from && s.uses.len() >= 4 && filter(s)
            })
            .collect();
        let i = pool[self.rng.range(0, pool.len() as u64) as usize];
        self.sessions.swap_remove(i)
    }

    /// A city on another continent at least 3,000 km from `city`.
    fn far_city(&mut self, city: usize) -> usize {
        loop {
            let c = self.rng.range(0, CITIES.len() as u64) as usize;
            if CITIES[c].continent != CITIES[city].continent && city_distance(c, city) > 3000.0 {
                return c;
            }
        }
    }

    /// A stolen token replayed from another continent 1–5 minutes after its owner used it
    /// from a known city.
    fn replays_from_afar(&mut self) {
        for n in 0..14u8 {
            let kinds: &[Kind] = match n % 4 {
                0 => &[Kind::Office],
                1 => &[Kind::Mobile],
                2 => &[Kind::Shift],
                _ => &[Kind::LowRate, Kind::Office],
            };
            let s = self.target(kinds, |s| s.city.is_some() && s.uses.iter().any(|u| u.2));
            let owner = *s.uses.iter().find(|u| u.2).expect("a located use");
            let city = s.city.expect("located");
            let far = self.far_city(city);
            let start = owner.0 + self.rng.range(MIN, 5 * MIN);
            let src = city_ip(far, 66, n + 1);
            let mut t = start;
            for _ in 0..self.rng.range(3, 10) {
                self.use_token(t, &s.client, &s.token, src, s.resource);
                t += self.rng.range(5_000, 40_000);
            }
            self.label(
                "impossible_travel",
                Some(&s.token),
                Some(&s.client),
                None,
                start,
                t,
            );
        }
    }

    /// One token used from 10–25 cities in a few minutes (shared out, or a botnet).
    fn many_cities(&mut self) {
        for n in 0..10u8 {
            let kinds: &[Kind] = match n % 3 {
                0 => &[Kind::Office],
                1 => &[Kind::Mobile],
                _ => &[Kind::Service, Kind::Ci, Kind::Agent],
            };
            let s = self.target(kinds, |_| true);
            let start = s.uses[1].0 + self.rng.range(MIN, 3 * MIN);
            let count = self.rng.range(10, 26) as usize;
            let mut cities: Vec<usize> = (0..CITIES.len()).collect();
            for i in 0..count {
                let j = i + self.rng.range(0, (cities.len() - i) as u64) as usize;
                cities.swap(i, j);
            }
            let mut t = start;
            for &c in &cities[..count] {
                for _ in 0..self.rng.range(1, 3) {
                    self.use_token(t, &s.client, &s.token, city_ip(c, 77, n + 1), s.resource);
                    t += self.rng.range(2_000, 8_000);
                }
            }
            self.label("multi_ip", Some(&s.token), Some(&s.client), None, start, t);
        }
    }

    /// A token presented at the resource server by a client it was not issued to.
    fn other_clients(&mut self) {
        for n in 0..8u64 {
            let kinds: &[Kind] = match n % 4 {
                0 => &[Kind::Office],
                1 => &[Kind::Mobile],
                2 => &[Kind::Ci],
                _ => &[Kind::Service, Kind::Agent],
            };
            let s = self.target(kinds, |_| true);
            let thief = self.sessions[self.rng.range(0, self.sessions.len() as u64) as usize]
                .client
                .clone();
            let thief = if thief == s.client {
                "shift-1".to_string()
            } else {
                thief
            };
            let mut t = s.uses[1].0 + self.rng.range(MIN, 3 * MIN);
            let start = t;
            for _ in 0..self.rng.range(1, 4) {
                let mut e = event(
                    EventKind::TokenUsed,
                    t,
                    &s.client,
                    Some(&s.token),
                    Some(s.uses[0].1),
                );
                e.caller_id = Some(thief.clone());
                e.resource = Some(s.resource.to_string());
                self.events.push(e);
                t += self.rng.range(5_000, 30_000);
            }
            self.label(
                "multi_client",
                Some(&s.token),
                Some(&s.client),
                None,
                start,
                t,
            );
        }
    }

    /// 50× the token's own normal rate for 20–40 minutes, from its owner's address: for a
    /// low-rate service that is only one or two calls a minute.
    fn bursts(&mut self) {
        for n in 0..12u64 {
            let kinds: &[Kind] = match n % 6 {
                0 | 3 => &[Kind::LowRate],
                1 => &[Kind::Office],
                2 => &[Kind::Mobile],
                4 => &[Kind::Service],
                // Not agents: 50× their background rate is what their normal bursts are.
                _ => &[Kind::Shift],
            };
            let s = self.target(kinds, |s| s.uses.len() >= 8);
            // The token's normal: for a low-rate service its whole day; otherwise its use.
            let rate = 50.0 * s.rate_per_min();
            let minutes = self.rng.range(20, 41);
            let calls = (rate * minutes as f64).round() as u64;
            let start = s.uses[2].0 + self.rng.range(10_000, 2 * MIN);
            let src = s.uses[2].1;
            for i in 0..calls {
                self.use_token(
                    start + i * minutes * MIN / calls,
                    &s.client,
                    &s.token,
                    src,
                    s.resource,
                );
            }
            let end = start + minutes * MIN;
            self.label("burst", Some(&s.token), Some(&s.client), None, start, end);
        }
    }

    /// A new token for an office-hours-only worker, used at 00:00–04:00 local on a working
    /// day, from their home line, their office, a VPN exit in their country or an unknown
    /// address (stolen credentials, or a session opened on a stolen laptop).
    fn night_tokens(&mut self) {
        let mut used = Vec::new();
        for n in 0..10u64 {
            let ok = |w: &Worker, d: u64| {
                d % 7 < 5 && !w.away.contains(&d) && !w.away.contains(&(d - 1))
            };
            let (w, day) = loop {
                let w = self.rng.range(0, self.workers.len() as u64) as usize;
                let d = self.rng.range(8, self.days);
                if !used.contains(&w) && ok(&self.workers[w], d) {
                    used.push(w);
                    break (w, d);
                }
            };
            let worker = self.workers[w].clone();
            let start = at_local(worker.city, day, self.rng.range(0, 225));
            let src = match n % 4 {
                0 => worker.home_ip,
                1 => worker.office_ip,
                2 => city_ip(worker.vpn_city, 241, n as u8 + 1),
                _ => unknown(50 + n as u8),
            };
            let token = self.token();
            self.issue(
                start,
                &worker.client,
                &token,
                src,
                "https://work.example.com",
            );
            let mut t = start;
            for _ in 0..self.rng.range(3, 11) {
                t += self.rng.range(30_000, 3 * MIN);
                self.use_token(t, &worker.client, &token, src, "https://work.example.com");
            }
            self.label(
                "off_hours",
                Some(&token),
                Some(&worker.client),
                None,
                start,
                t,
            );
        }
    }

    fn refresh_reuse(&mut self) {
        for n in 0..3u64 {
            let t = T0 + (8 + n) * DAY + self.rng.range(0, DAY);
            let token = format!("rt-family-{n}");
            let mut e = event(
                EventKind::RefreshTokenReused,
                t,
                "app-ios",
                Some(&token),
                Some(city_ip(43, 5, n as u8 + 1)),
            );
            e.reason = Some("rotated_token_presented".into());
            self.events.push(e);
            self.label(
                "refresh_token_reuse",
                Some(&token),
                Some("app-ios"),
                None,
                t,
                t,
            );
        }
    }

    fn credential_guessing(&mut self) {
        for n in 0..4u64 {
            let client = ["ci-1", "office-4", "admin", "agent-0"][n as usize].to_string();
            let src = unknown(100 + n as u8);
            let start = T0 + (7 + n) * DAY + self.rng.range(0, DAY);
            let count = self.rng.range(30, 60);
            for i in 0..count {
                let mut e = event(
                    EventKind::ClientAuthenticationFailed,
                    start + i * 3_000,
                    &client,
                    None,
                    Some(src),
                );
                e.reason = Some("invalid_client_secret".into());
                self.events.push(e);
            }
            self.label(
                "auth_failures",
                None,
                Some(&client),
                Some(src),
                start,
                start + count * 3_000,
            );
        }
        // Password spraying: one address, one guess at each of many client ids.
        for n in 0..2u64 {
            let src = unknown(200 + n as u8);
            let start = T0 + (9 + n) * DAY + self.rng.range(0, DAY);
            for i in 0..15u64 {
                let client = if i % 2 == 0 {
                    format!("office-{}", i + 1)
                } else {
                    format!("guess-{i}")
                };
                let mut e = event(
                    EventKind::ClientAuthenticationFailed,
                    start + i * 8_000,
                    &client,
                    None,
                    Some(src),
                );
                e.reason = Some("invalid_client".into());
                self.events.push(e);
            }
            self.label(
                "auth_failures",
                None,
                None,
                Some(src),
                start,
                start + 15 * 8_000,
            );
        }
    }
}
