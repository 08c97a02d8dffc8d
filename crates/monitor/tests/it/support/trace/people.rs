//! The people of the trace: office workers (egresses, home days, VPN exits, flights), shift
//! workers, and the users of two mobile apps behind carrier NAT.
use super::super::world::*;
use super::*;

impl Gen {
    /// Office workers: one client each, office hours in their city's civil time (which changes
    /// with daylight saving), two egresses 5–40 km apart alternating per request, home days,
    /// VPN exits elsewhere in the country for a few hours, and some fly abroad for a few days.
    pub(super) fn office_workers(&mut self) {
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
    pub(super) fn shift_workers(&mut self) {
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
    pub(super) fn mobile_apps(&mut self) {
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
}
