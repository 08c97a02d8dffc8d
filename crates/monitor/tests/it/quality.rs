//! Detection quality on the labelled two-week trace: recall and false-alert rate per detector
//! (targets: recall ≥ 95 %, ≤ 1 % of alerts false), and no alert at all on normal traffic.
use crate::support::{self, quality, trace};

const SEED: u64 = 0x7E55_E4A0;
const DAYS: u64 = 14;

#[test]
fn normal_traffic_raises_no_alert() {
    let t = trace::generate(SEED, DAYS, false);
    assert!(t.events.len() > 100_000, "{}", t.events.len());
    let alerts = support::run(&mut support::engine(), &t.events);
    let shown: Vec<String> = alerts.iter().take(10).map(|a| a.to_json()).collect();
    assert!(
        alerts.is_empty(),
        "{} alerts on normal traffic, e.g.\n{}",
        alerts.len(),
        shown.join("\n")
    );
}

#[test]
fn every_detector_meets_recall_and_false_alert_targets() {
    let t = trace::generate(SEED, DAYS, true);
    let alerts = support::run(&mut support::engine(), &t.events);
    let q = quality(&alerts, &t.attacks);
    println!("| detector | attacks | caught | recall | alerts | false | false rate |");
    println!("|---|---|---|---|---|---|---|");
    for d in &q {
        println!(
            "| {} | {} | {} | {:.1} % | {} | {} | {:.1} % |",
            d.detector,
            d.attacks,
            d.caught,
            d.recall() * 100.0,
            d.alerts,
            d.false_alerts,
            d.false_rate() * 100.0
        );
    }
    let (attacks, caught, total, false_alerts) = q.iter().fold((0, 0, 0, 0), |acc, d| {
        (
            acc.0 + d.attacks,
            acc.1 + d.caught,
            acc.2 + d.alerts,
            acc.3 + d.false_alerts,
        )
    });
    println!(
        "events: {}, attacks: {attacks}, caught: {caught}, alerts: {total}, false: {false_alerts}",
        t.events.len()
    );
    for atk in &t.attacks {
        if !alerts
            .iter()
            .any(|a| a.detector == atk.detector && support::matches(a, atk))
        {
            println!("missed: {atk:?}");
        }
    }
    for a in &alerts {
        if !t.attacks.iter().any(|atk| support::matches(a, atk)) {
            println!("false: {}", a.to_json());
        }
    }
    for d in &q {
        assert!(d.attacks > 0, "{} has no labelled attack", d.detector);
        assert!(
            d.recall() >= 0.95,
            "{}: recall {:.3}",
            d.detector,
            d.recall()
        );
        assert!(
            d.false_rate() <= 0.01,
            "{}: false-alert rate {:.3}",
            d.detector,
            d.false_rate()
        );
    }
}

#[test]
fn targets_hold_on_other_seeds() {
    for seed in 1..=4u64 {
        let t = trace::generate(seed, DAYS, true);
        let alerts = support::run(&mut support::engine(), &t.events);
        for d in quality(&alerts, &t.attacks) {
            assert!(
                d.recall() >= 0.95,
                "seed {seed}: {}: recall {:.3}",
                d.detector,
                d.recall()
            );
            assert!(
                d.false_rate() <= 0.01,
                "seed {seed}: {}: false {:.3}",
                d.detector,
                d.false_rate()
            );
        }
    }
}
