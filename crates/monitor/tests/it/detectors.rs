//! Each detector on a short hand-made stream: a positive case with the exact alert, and a hard
//! negative that must stay silent.
use tessera_core::audit::EventKind;
use tessera_monitor::{MonitorConfig, Severity};

use crate::support::*;

fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

// ---- impossible travel ----

#[test]
fn token_used_in_paris_then_tokyo_a_minute_later_is_impossible_travel() {
    let t0 = START_MS;
    let events = [
        Ev::issued(t0, "app", "tok1", ip(PARIS, 1, 1)).done(),
        Ev::used(t0 + 10_000, "app", "tok1", ip(PARIS, 1, 1)).done(),
        Ev::used(t0 + 70_000, "app", "tok1", ip(TOKYO, 1, 1)).done(),
    ];
    let alerts = run(&mut engine(), &events);
    assert_eq!(
        summary(&alerts),
        [(
            "impossible_travel".to_string(),
            s("tok1"),
            s("app"),
            t0 + 70_000
        )]
    );
    let a = &alerts[0];
    assert_eq!(a.severity, Severity::High);
    assert_eq!(a.evidence["scope"], "token");
    assert_eq!(a.evidence["min_distance_km"], 9672.0);
}

#[test]
fn vpn_hop_inside_france_country_level_location_and_unknown_address_do_not_alert() {
    let t0 = START_MS;
    let mut events = vec![
        Ev::used(t0, "app", "tok1", ip(PARIS, 1, 1)).done(),
        // Paris → Marseille (660 km) in one minute: a VPN exit, same country.
        Ev::used(t0 + 60_000, "app", "tok1", ip(MARSEILLE, 1, 1)).done(),
        // Paris → "France" (radius 500 km).
        Ev::used(t0, "app", "tok3", ip(PARIS, 1, 1)).done(),
        Ev::used(t0 + 30_000, "app", "tok3", ip(FRANCE, 1, 1)).done(),
        // Paris → an address the database does not know: unknown never alerts; a day later
        // Tokyo is judged against the last *known* place, which is plausible.
        Ev::used(t0, "app", "tok4", ip(PARIS, 1, 1)).done(),
        Ev::used(t0 + 60_000, "app", "tok4", unknown_ip(1)).done(),
        Ev::used(t0 + DAY, "app", "tok4", ip(TOKYO, 1, 1)).done(),
        // New York mobile carrier located to the middle of the USA (radius 1000 km).
        Ev::used(t0, "app", "tok2", ip(NEW_YORK, 1, 1)).done(),
        Ev::used(t0 + 30_000, "app", "tok2", ip(US_CARRIER, 1, 1)).done(),
    ];
    events.sort_by_key(|e| e.time_ms);
    assert_eq!(summary(&run(&mut engine(), &events)), []);
}

#[test]
fn a_settled_clients_new_token_from_far_away_is_impossible_travel() {
    let mut events = Vec::new();
    // A CI client in Frankfurt for two days, then a token issued in Singapore.
    for i in 0..48u64 {
        events.push(
            Ev::issued(
                START_MS + i * HOUR,
                "ci",
                &format!("t{i}"),
                ip(FRANKFURT, 1, 1),
            )
            .done(),
        );
    }
    let t = START_MS + 47 * HOUR + 30 * MIN;
    events.push(Ev::issued(t, "ci", "stolen", ip(SINGAPORE, 1, 1)).done());
    let alerts = run(&mut engine(), &events);
    assert_eq!(
        summary(&alerts),
        [("impossible_travel".to_string(), s("stolen"), s("ci"), t)]
    );
    assert_eq!(alerts[0].evidence["scope"], "client");
}

#[test]
fn a_multi_user_client_is_never_judged_as_a_whole() {
    let mut events = Vec::new();
    // One mobile app, users in Paris and Sydney, each token used from one place.
    let cities = [PARIS, SYDNEY, NEW_YORK, TOKYO];
    for i in 0..200u64 {
        let place = cities[(i % 4) as usize];
        events.push(
            Ev::issued(
                START_MS + i * 10 * MIN,
                "app",
                &format!("t{i}"),
                ip(place, 1, 1),
            )
            .done(),
        );
    }
    assert_eq!(summary(&run(&mut engine(), &events)), []);
}

// ---- burst ----

fn steady(client: &str, token_per_hour: bool, days: u64) -> Vec<tessera_core::audit::AuditEvent> {
    let mut events = Vec::new();
    for m in 0..days * 24 * 60 / 2 {
        let t = START_MS + m * 2 * MIN;
        let token = if token_per_hour {
            format!("{client}-{}", t / HOUR)
        } else {
            format!("{client}-t")
        };
        events.push(Ev::used(t, client, &token, ip(ASHBURN, 1, 1)).done());
    }
    events
}

#[test]
fn a_token_far_above_its_clients_baseline_is_a_burst() {
    let mut events = steady("agent", true, 4);
    let t = START_MS + 4 * DAY + 5 * MIN;
    let token = format!("agent-{}", t / HOUR);
    for i in 0..200 {
        events.push(Ev::used(t + i * 100, "agent", &token, ip(ASHBURN, 1, 1)).done());
    }
    let alerts = run(&mut engine(), &events);
    // The client makes 15 calls per half hour (30 over the two buckets judged: its peak); its
    // hourly tokens learn about the same. The client's window already holds the previous
    // bucket's 15 calls, so it crosses 3 × its peak first; the token (new this hour) next.
    assert_eq!(
        summary(&alerts),
        [
            ("burst".to_string(), None, s("agent"), t + 75 * 100),
            ("burst".to_string(), s(&token), s("agent"), t + 90 * 100)
        ]
    );
    assert_eq!(alerts[0].evidence["scope"], "client");
    assert_eq!(alerts[1].evidence["scope"], "token");
}

#[test]
fn a_fifty_fold_burst_of_a_low_rate_service_is_a_burst() {
    // A call every 30 minutes for four days, then two calls a minute: 50× its normal, and
    // still only a few calls a minute.
    let mut events = Vec::new();
    for k in 0..4 * 48u64 {
        events.push(
            Ev::used(
                START_MS + k * 30 * MIN + 7 * MIN,
                "slow",
                "s",
                ip(ASHBURN, 1, 1),
            )
            .done(),
        );
    }
    let t = START_MS + 4 * DAY + 10 * MIN;
    for i in 0..20u64 {
        events.push(Ev::used(t + i * 30_000, "slow", "s", ip(ASHBURN, 1, 1)).done());
    }
    events.sort_by_key(|e| e.time_ms);
    let alerts = run(&mut engine(), &events);
    assert_eq!(summary(&alerts).len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].detector, "burst");
    // Without the burst: silent.
    events.retain(|e| e.time_ms < t);
    assert_eq!(summary(&run(&mut engine(), &events)), []);
}

#[test]
fn a_learned_hourly_burst_and_a_new_clients_first_burst_do_not_alert() {
    let mut events = Vec::new();
    // An agent that fires 150 requests in a minute every four hours, for three days.
    for h in 0..72u64 {
        let t = START_MS + h * HOUR;
        let token = format!("tok{h}");
        for m in 0..30u64 {
            events.push(Ev::used(t + m * 2 * MIN, "agent", &token, ip(ASHBURN, 1, 1)).done());
        }
        if h % 4 == 0 {
            for i in 0..150u64 {
                events.push(
                    Ev::used(t + 61 * MIN + i * 300, "agent", &token, ip(ASHBURN, 1, 1)).done(),
                );
            }
        }
    }
    // A brand-new client opening with 500 requests in a minute: still warming up.
    for i in 0..500u64 {
        events.push(
            Ev::used(
                START_MS + DAY + i * 100,
                "newcomer",
                "n1",
                ip(ASHBURN, 2, 1),
            )
            .done(),
        );
    }
    events.sort_by_key(|e| e.time_ms);
    assert_eq!(summary(&run(&mut engine(), &events)), []);
}

// ---- multi-IP ----

#[test]
fn a_token_from_many_cities_in_minutes_is_multi_ip_and_high_at_ten() {
    use crate::support::world::city_ip;
    let mut events = vec![Ev::issued(START_MS, "app", "tok", city_ip(0, 1, 1)).done()];
    for k in 0..12usize {
        let t = START_MS + k as u64 * 10_000;
        events.push(Ev::used(t, "app", "tok", city_ip(k * 3, 200, 9)).done());
    }
    let alerts: Vec<_> = run(&mut engine(), &events)
        .into_iter()
        .filter(|a| a.detector == "multi_ip")
        .collect();
    // The sixth place exceeds min_places = 5 (no norm learned yet); the tenth is high.
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert_eq!(alerts[0].severity, Severity::Medium);
    assert_eq!(alerts[0].evidence["places"], 6);
    assert_eq!(alerts[0].time_ms, START_MS + 5 * 10_000);
    assert_eq!(alerts[1].severity, Severity::High);
    assert_eq!(alerts[1].evidence["places"], 10);
}

#[test]
fn ci_fan_out_across_a_cloud_region_and_an_offices_two_egresses_are_one_place() {
    use crate::support::world::{cloud_ip, suburb_ip};
    let mut events = Vec::new();
    // 25 runners over four cloud records a few km apart, with radii of 50–200 km.
    for r in 0..25u8 {
        events.push(
            Ev::used(
                START_MS + u64::from(r) * 3_000,
                "ci",
                "job",
                cloud_ip(usize::from(r % 4), r, 7),
            )
            .done(),
        );
    }
    // Paris and Saint-Denis (9 km), alternating per request, plus carrier country-level
    // records: one place and an unknown position.
    for k in 0..20u64 {
        let hop = match k % 3 {
            0 => crate::support::world::city_ip(0, 1, 1),
            1 => suburb_ip(0, 1, 1),
            _ => crate::support::world::country_ip(0, 1, k as u8),
        };
        events.push(Ev::used(START_MS + k * 5_000, "office", "o", hop).done());
    }
    events.sort_by_key(|e| e.time_ms);
    assert_eq!(summary(&run(&mut engine(), &events)), []);
}

#[test]
fn wifi_cellular_switches_and_many_addresses_in_one_network_do_not_alert() {
    let mut events = Vec::new();
    for i in 0..50u64 {
        let t = START_MS + i * 10 * MIN;
        let token = format!("t{i}");
        events.push(Ev::used(t, "app", &token, ip(PARIS, 50, 1)).done());
        events.push(Ev::used(t + 60_000, "app", &token, ip(PARIS, 150, (i % 200) as u8)).done());
        events.push(Ev::used(t + 120_000, "app", &token, ip(PARIS, 50, 1)).done());
    }
    // One NAT pool: 30 addresses of one /24.
    for h in 0..30u8 {
        events.push(
            Ev::used(
                START_MS + u64::from(h) * 1000,
                "ci",
                "pool",
                ip(FRANKFURT, 1, h + 1),
            )
            .done(),
        );
    }
    events.sort_by_key(|e| e.time_ms);
    assert_eq!(summary(&run(&mut engine(), &events)), []);
}

// ---- multi-client ----

#[test]
fn a_token_presented_or_introspected_by_another_client_is_multi_client() {
    let t0 = START_MS;
    let api = "https://api.example.com";
    let events = [
        Ev::issued(t0, "alice", "ta", ip(PARIS, 1, 1))
            .resource(api)
            .done(),
        Ev::issued(t0, "bob", "tb", ip(PARIS, 2, 1))
            .resource(api)
            .done(),
        // The resource server reports bob presenting alice's token.
        Ev::used(t0 + 1000, "alice", "ta", ip(PARIS, 2, 1))
            .caller("bob")
            .resource(api)
            .done(),
        // bob, a consumer of the same API, introspects alice's token.
        Ev::new(EventKind::TokenIntrospected, t0 + 2000)
            .client("alice")
            .token("ta")
            .caller("bob")
            .resource(api)
            .done(),
    ];
    let alerts = run(
        &mut engine_with(&MonitorConfig {
            alert_cooldown_secs: 0,
            ..Default::default()
        }),
        &events,
    );
    assert_eq!(
        summary(&alerts),
        [
            ("multi_client".to_string(), s("ta"), s("alice"), t0 + 1000),
            ("multi_client".to_string(), s("ta"), s("alice"), t0 + 2000),
        ]
    );
    assert_eq!(alerts[0].evidence["signal"], "presented_by_other_client");
    assert_eq!(alerts[0].severity, Severity::High);
    assert_eq!(alerts[1].evidence["signal"], "introspected_by_token_holder");
}

#[test]
fn resource_servers_introspecting_even_when_they_hold_tokens_do_not_alert() {
    let t0 = START_MS;
    let events = [
        Ev::issued(t0, "alice", "ta", ip(PARIS, 1, 1))
            .resource("https://api.example.com")
            .done(),
        // The API's resource server holds tokens for another API (billing), not its own.
        Ev::issued(t0, "rs-api", "trs", ip(ASHBURN, 1, 1))
            .resource("https://billing.example.com")
            .done(),
        Ev::new(EventKind::TokenIntrospected, t0 + 1000)
            .client("alice")
            .token("ta")
            .caller("rs-api")
            .resource("https://api.example.com")
            .done(),
        // Mid-stream: a token whose issuance is not in the log, introspected by the owner itself.
        Ev::new(EventKind::TokenIntrospected, t0 + 2000)
            .client("carol")
            .token("tc")
            .caller("carol")
            .done(),
    ];
    assert_eq!(summary(&run(&mut engine(), &events)), []);
}

// ---- off-hours ----

fn workdays(client: &str, place: usize, days: u64) -> Vec<tessera_core::audit::AuditEvent> {
    let mut events = Vec::new();
    for d in 0..days {
        if d % 7 >= 5 {
            continue;
        }
        for h in 8..18u64 {
            let t = START_MS + d * DAY + h * HOUR + 15 * MIN;
            events.push(Ev::used(t, client, &format!("{client}{d}"), ip(place, 1, 1)).done());
        }
    }
    events
}

#[test]
fn a_nine_to_five_client_at_three_in_the_morning_is_off_hours() {
    let mut events = workdays("alice", PARIS, 14);
    let t = START_MS + 14 * DAY + 3 * HOUR;
    events.push(Ev::used(t, "alice", "night", ip(PARIS, 1, 1)).done());
    let alerts = run(&mut engine(), &events);
    assert_eq!(
        summary(&alerts),
        [("off_hours".to_string(), s("night"), s("alice"), t)]
    );
    assert_eq!(alerts[0].severity, Severity::Low);
    assert_eq!(alerts[0].evidence["local_hour"], 3);
}

#[test]
fn irregular_and_round_the_clock_clients_never_alert_on_hours() {
    let mut events = Vec::new();
    for d in 0..14u64 {
        for h in 0..24u64 {
            // A 24/7 service, every hour.
            events.push(
                Ev::used(
                    START_MS + d * DAY + h * HOUR,
                    "svc",
                    "s",
                    ip(FRANKFURT, 1, 1),
                )
                .done(),
            );
        }
        // A person with irregular hours: a different hour each day.
        let h = (d * 7) % 24;
        events.push(Ev::used(START_MS + d * DAY + h * HOUR, "owl", "o", ip(PARIS, 2, 1)).done());
    }
    events.push(
        Ev::used(
            START_MS + 14 * DAY + 3 * HOUR,
            "svc",
            "s",
            ip(FRANKFURT, 1, 1),
        )
        .done(),
    );
    events.push(Ev::used(START_MS + 14 * DAY + 3 * HOUR, "owl", "o", ip(PARIS, 2, 1)).done());
    events.sort_by_key(|e| e.time_ms);
    assert_eq!(summary(&run(&mut engine(), &events)), []);
}

#[test]
fn a_worker_who_flies_to_new_york_keeps_local_hours() {
    let mut events = workdays("alice", PARIS, 14);
    // Day 14 (a Monday), 10:00–16:00 in New York (UTC−5 by longitude): 15:00–21:00 UTC.
    for h in 15..21u64 {
        events.push(
            Ev::used(
                START_MS + 14 * DAY + h * HOUR,
                "alice",
                "ny",
                ip(NEW_YORK, 1, 1),
            )
            .done(),
        );
    }
    assert_eq!(summary(&run(&mut engine(), &events)), []);
}

// ---- refresh-token reuse and authentication failures ----

#[test]
fn refresh_token_reuse_is_a_high_alert() {
    let e = Ev::new(EventKind::RefreshTokenReused, START_MS)
        .client("app")
        .token("rt1")
        .ip(ip(MOSCOW, 1, 1))
        .done();
    let alerts = run(&mut engine(), &[e]);
    assert_eq!(
        summary(&alerts),
        [(
            "refresh_token_reuse".to_string(),
            s("rt1"),
            s("app"),
            START_MS
        )]
    );
    assert_eq!(alerts[0].severity, Severity::High);
}

#[test]
fn ten_failures_in_five_minutes_alert_and_a_few_after_a_rotation_do_not() {
    let mut events = Vec::new();
    // Three failures after a secret rotation, an hour apart from anything else.
    for i in 0..3 {
        events.push(
            Ev::new(EventKind::ClientAuthenticationFailed, START_MS + i * 5_000)
                .client("ci")
                .ip(ip(FRANKFURT, 1, 1))
                .done(),
        );
    }
    // Forty guesses at "admin" from one address.
    let t0 = START_MS + HOUR;
    for i in 0..40 {
        events.push(
            Ev::new(EventKind::ClientAuthenticationFailed, t0 + i * 2_000)
                .client("admin")
                .ip(unknown_ip(9))
                .done(),
        );
    }
    let alerts = run(&mut engine(), &events);
    assert_eq!(
        summary(&alerts),
        [(
            "auth_failures".to_string(),
            None,
            s("admin"),
            t0 + 9 * 2_000
        )]
    );
    assert_eq!(alerts[0].evidence["scope"], "client");
}

#[test]
fn one_address_spraying_many_client_ids_alerts_once_per_address() {
    let events: Vec<_> = (0..20u64)
        .map(|i| {
            Ev::new(EventKind::ClientAuthenticationFailed, START_MS + i * 1000)
                .client(&format!("c{i}"))
                .ip(unknown_ip(7))
                .done()
        })
        .collect();
    let alerts = run(&mut engine(), &events);
    assert_eq!(
        summary(&alerts),
        [("auth_failures".to_string(), None, None, START_MS + 9 * 1000)]
    );
    assert_eq!(alerts[0].ip, Some(unknown_ip(7)));
}
