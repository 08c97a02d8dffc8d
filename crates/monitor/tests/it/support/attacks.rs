//! The injected attacks, each labelled with the detector expected to catch it. They start on
//! day 7 (off-hours ones on day 10, once a working week has been learned).
use tessera_core::audit::EventKind;

use super::super::places::*;
use super::{Attack, DAY, Gen, Kind, MIN, START_MS, Session, event};

impl Gen {
    pub(super) fn inject_attacks(&mut self) {
        self.travel_with_stolen_tokens();
        self.travel_with_stolen_ci_credentials();
        self.bursts();
        self.shared_tokens();
        self.other_clients();
        self.night_logins();
        self.refresh_reuse();
        self.credential_guessing();
    }

    fn label(
        &mut self,
        detector: &'static str,
        token: Option<&str>,
        client: Option<&str>,
        ip: Option<std::net::IpAddr>,
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

    /// A session of `kind` starting on day `from` or later, `n`-th pick of a seeded shuffle.
    fn target(&mut self, kind: Kind, from: u64, filter: impl Fn(&Session) -> bool) -> Session {
        let pool: Vec<Session> = self
            .sessions
            .iter()
            .filter(|s| {
                s.kind == kind && s.start >= START_MS + from * DAY && s.end > s.start + 5 * MIN
            })
            .filter(|s| filter(s))
            .cloned()
            .collect();
        let i = self.rng.range(0, pool.len() as u64) as usize;
        let s = pool[i].clone();
        // Never hit the same session twice.
        self.sessions.retain(|x| x.token != s.token);
        s
    }

    fn travel_with_stolen_tokens(&mut self) {
        for n in 0..12 {
            let kind = if n % 3 == 2 {
                Kind::Mobile
            } else {
                Kind::Office
            };
            // The stolen token must have been seen somewhere the database knows.
            let s = self.target(kind, 7, |s| {
                !s.client.starts_with("night")
                    && s.client != "office-3"
                    && s.ip != unknown_ip(s.ip_host())
            });
            // Somewhere in another country at least 3,000 km away — or, for an office worker in
            // New York, San Francisco (a mobile user there may be on a carrier range located
            // only to "the United States", from which no domestic jump can be told).
            let far = loop {
                let p = self.rng.pick(&[
                    TOKYO,
                    MOSCOW,
                    SAO_PAULO,
                    SYDNEY,
                    SINGAPORE,
                    LONDON,
                    NEW_YORK,
                    SAN_FRANCISCO,
                ]);
                let (a, b) = (&PLACES[p], &PLACES[s.place]);
                let d = super::super::distance_km(a.latitude, a.longitude, b.latitude, b.longitude);
                if d > 3000.0 && (a.country != b.country || kind == Kind::Office) {
                    break p;
                }
            };
            let start = s.start + self.rng.range(2 * MIN, 5 * MIN);
            let uses = self.rng.range(5, 15);
            let mut t = start;
            for _ in 0..uses {
                self.use_token(t, &s.client, &s.token, ip(far, 66, n as u8 + 1), s.resource);
                t += self.rng.range(10_000, 30_000);
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

    fn travel_with_stolen_ci_credentials(&mut self) {
        for c in 0..4u64 {
            let client = format!("ci-{c}");
            let start = START_MS + (7 + c) * DAY + self.rng.range(0, DAY);
            // Far enough that no flight covers it between two pipeline runs (three hours apart).
            let far = self.rng.pick(&[SINGAPORE, TOKYO, SAO_PAULO, NEW_YORK]);
            let attacker = ip(far, 99, 1 + c as u8);
            let token = self.selector();
            self.issue(
                start,
                &client,
                &token,
                attacker,
                "https://deploy.example.com",
            );
            let mut t = start;
            for _ in 0..10 {
                t += self.rng.range(5_000, 20_000);
                self.use_token(t, &client, &token, attacker, "https://deploy.example.com");
            }
            self.label(
                "impossible_travel",
                Some(&token),
                Some(&client),
                None,
                start,
                t,
            );
        }
    }

    fn bursts(&mut self) {
        for n in 0..8 {
            let kind = [Kind::Office, Kind::Mobile, Kind::Agent][n % 3];
            let s = self.target(kind, 7, |s| {
                !s.client.starts_with("night") && s.client != "rs-data"
            });
            let start = s.start + self.rng.range(MIN, 4 * MIN);
            let count = if kind == Kind::Agent {
                self.rng.range(1000, 1500)
            } else {
                self.rng.range(400, 1500)
            };
            for i in 0..count {
                self.use_token(
                    start + i * 60_000 / count,
                    &s.client,
                    &s.token,
                    s.ip,
                    s.resource,
                );
            }
            self.label(
                "burst",
                Some(&s.token),
                Some(&s.client),
                None,
                start,
                start + 60_000,
            );
        }
    }

    fn shared_tokens(&mut self) {
        for n in 0..8u8 {
            let kind = if n % 2 == 0 {
                Kind::Office
            } else {
                Kind::Mobile
            };
            let s = self.target(kind, 7, |s| {
                !s.client.starts_with("night") && s.place != PARIS_V6
            });
            let start = s.start + self.rng.range(MIN, 4 * MIN);
            let networks = self.rng.range(6, 12) as u8;
            let place = if s.place == FRANCE { PARIS } else { s.place };
            let mut t = start;
            for k in 0..networks {
                for _ in 0..self.rng.range(1, 3) {
                    self.use_token(
                        t,
                        &s.client,
                        &s.token,
                        ip(place, 200 + k, 30 + n),
                        s.resource,
                    );
                    t += self.rng.range(3_000, 15_000);
                }
            }
            self.label("multi_ip", Some(&s.token), Some(&s.client), None, start, t);
        }
    }

    fn other_clients(&mut self) {
        // A token presented at the resource server by a client it was not issued to.
        for n in 0..4u64 {
            let s = self.target(Kind::Ci, 7, |_| true);
            let thief = format!("office-{}", n * 3);
            let t = s.start + self.rng.range(MIN, 3 * MIN);
            let mut e = event(
                EventKind::TokenUsed,
                t,
                &s.client,
                Some(&s.token),
                Some(ip(PARIS, 1 + n as u8 * 3, 10)),
            );
            e.caller_id = Some(thief);
            e.resource = Some(s.resource.to_string());
            self.events.push(e);
            self.label("multi_client", Some(&s.token), Some(&s.client), None, t, t);
        }
        // A client introspecting a peer's token for an API it uses itself.
        for n in 0..4u64 {
            let (kind, prefix) = if n % 2 == 0 {
                (Kind::Agent, "agent-")
            } else {
                (Kind::Office, "office-")
            };
            let s = self.target(kind, 7, |s| s.client.starts_with(prefix));
            let thief = if kind == Kind::Agent {
                if s.client == "agent-1" {
                    "agent-2"
                } else {
                    "agent-1"
                }
                .to_string()
            } else if s.client == "office-5" {
                "office-6".to_string()
            } else {
                "office-5".to_string()
            };
            let t = s.start + self.rng.range(MIN, 3 * MIN);
            self.introspect(
                t,
                &thief,
                ip(PARIS, 210, 1),
                &s.client,
                &s.token,
                s.resource,
            );
            self.label("multi_client", Some(&s.token), Some(&s.client), None, t, t);
        }
    }

    fn night_logins(&mut self) {
        for n in 0..8u64 {
            let h = [0, 1, 2, 4, 5, 7, 10, 12][n as usize];
            let client = format!("office-{h}");
            let place = if h < 10 { PARIS } else { NEW_YORK };
            let day = 10 + n % 4;
            let start = Self::at_local(place, day, 1.0 + self.rng.range(0, 210) as f64 / 60.0);
            let src = ip(place, 100 + h as u8, 20);
            let token = self.jti();
            self.issue(start, &client, &token, src, "https://deploy.example.com");
            let mut t = start;
            for _ in 0..self.rng.range(5, 15) {
                t += self.rng.range(30_000, 90_000);
                self.use_token(t, &client, &token, src, "https://deploy.example.com");
            }
            self.label("off_hours", Some(&token), Some(&client), None, start, t);
        }
    }

    fn refresh_reuse(&mut self) {
        for n in 0..4u64 {
            let t = START_MS + (8 + n) * DAY + self.rng.range(0, DAY);
            let token = format!("rt-family-{n}");
            let mut e = event(
                EventKind::RefreshTokenReused,
                t,
                "mobile-app",
                Some(&token),
                Some(ip(MOSCOW, 5, n as u8 + 1)),
            );
            e.reason = Some("rotated_token_presented".into());
            self.events.push(e);
            self.label(
                "refresh_token_reuse",
                Some(&token),
                Some("mobile-app"),
                None,
                t,
                t,
            );
        }
    }

    fn credential_guessing(&mut self) {
        for n in 0..4u64 {
            let client = ["ci-1", "office-4", "admin", "agent-0"][n as usize].to_string();
            let src = unknown_ip(100 + n as u8);
            let start = START_MS + (7 + n) * DAY + self.rng.range(0, DAY);
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
            let src = unknown_ip(200 + n as u8);
            let start = START_MS + (9 + n) * DAY + self.rng.range(0, DAY);
            for i in 0..15u64 {
                let client = if i % 2 == 0 {
                    format!("office-{i}")
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
