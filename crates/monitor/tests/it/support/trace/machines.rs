//! The machines of the trace: CI pipelines fanning out to cloud runners, 24/7 services behind
//! NAT, agents with bursts, low-rate services, local-time and UTC crons, stray failures.
use super::super::world::*;
use super::*;

impl Gen {
    /// CI pipelines: each run's token fans out to 8–25 runners of one cloud region within a
    /// couple of minutes; runs every two to four hours, and a nightly fan-out of 20–25 runners.
    pub(super) fn ci_pipelines(&mut self) {
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
    pub(super) fn services(&mut self) {
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
    pub(super) fn agents(&mut self) {
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
    pub(super) fn low_rate(&mut self) {
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
    pub(super) fn crons(&mut self) {
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
    pub(super) fn stray_failures(&mut self) {
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
