//! Detection quality on the labelled two-week traces of `support/trace.rs` (built from issue
//! 15's list of real traffic, not from the detectors), on several seeds: every detector must
//! reach recall ≥ 95 % with ≤ 1 % of its alerts false on every seed, and no high-severity
//! alert (what the default policy revokes on) may be false. The attack-free trace raises none.
//!
//! `cargo test -p tessera-monitor --test it quality_table -- --ignored --nocapture` prints the
//! table of docs/monitor.md.
use crate::support::{self, Quality, quality, trace};

const DAYS: u64 = 14;
/// The seeds asserted (and reported in docs/monitor.md).
const SEEDS: [u64; 3] = [1, 2, 3];

fn measure(seed: u64) -> (trace::Trace, Vec<tessera_monitor::Alert>, Vec<Quality>) {
    let t = trace::generate(seed, DAYS, true);
    let alerts = support::run(&mut support::engine(), &t.events);
    let q = quality(&alerts, &t.attacks);
    (t, alerts, q)
}

fn check(seed: u64) {
    let (t, alerts, q) = measure(seed);
    for atk in &t.attacks {
        if !alerts
            .iter()
            .any(|a| a.detector == atk.detector && support::matches(a, atk))
        {
            println!("seed {seed}: missed: {atk:?}");
        }
    }
    for a in alerts
        .iter()
        .filter(|a| !t.attacks.iter().any(|atk| support::matches(a, atk)))
        .take(20)
    {
        println!("seed {seed}: false: {}", a.to_json());
    }
    for d in &q {
        assert!(
            d.attacks > 0,
            "seed {seed}: {} has no labelled attack",
            d.detector
        );
        assert!(
            d.recall() >= 0.95,
            "seed {seed}: {}: recall {}/{}",
            d.detector,
            d.caught,
            d.attacks
        );
        assert!(
            d.false_rate() <= 0.01,
            "seed {seed}: {}: {} of {} alerts false",
            d.detector,
            d.false_alerts,
            d.alerts
        );
        assert_eq!(
            d.false_high, 0,
            "seed {seed}: {}: false high alerts",
            d.detector
        );
    }
}

#[test]
fn targets_hold_on_seed_1() {
    check(SEEDS[0]);
}

#[test]
fn targets_hold_on_seed_2() {
    check(SEEDS[1]);
}

#[test]
fn targets_hold_on_seed_3() {
    check(SEEDS[2]);
}

#[test]
fn normal_traffic_raises_no_alert() {
    let t = trace::generate(SEEDS[0], DAYS, false);
    assert!(t.events.len() > 200_000, "{}", t.events.len());
    assert!(t.tokens > 10_000, "{}", t.tokens);
    let alerts = support::run(&mut support::engine(), &t.events);
    let shown: Vec<String> = alerts.iter().take(10).map(|a| a.to_json()).collect();
    assert!(
        alerts.is_empty(),
        "{} alerts on normal traffic, e.g.\n{}",
        alerts.len(),
        shown.join("\n")
    );
}

/// Prints, per seed and detector, precision, recall and alert delay, and the false
/// high-severity alerts per token (the auto-revoke bar: rarer than 1 in 10,000 tokens).
#[test]
#[ignore = "prints the quality table of docs/monitor.md"]
fn quality_table() {
    println!(
        "| seed | detector | attacks | caught | recall | alerts | false | precision | delay median / max | high alerts | false high |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let (mut tokens, mut events) = (0, 0);
    let mut false_high = [0usize; 7];
    for seed in SEEDS {
        let (t, _, q) = measure(seed);
        tokens += t.tokens;
        events += t.events.len();
        for (i, d) in q.iter().enumerate() {
            let (median, max) = d.delay();
            false_high[i] += d.false_high;
            println!(
                "| {seed} | {} | {} | {} | {:.0} % | {} | {} | {:.1} % | {:.0} s / {:.0} s | {} | {} |",
                d.detector,
                d.attacks,
                d.caught,
                d.recall() * 100.0,
                d.alerts,
                d.false_alerts,
                d.precision() * 100.0,
                median,
                max,
                d.high,
                d.false_high
            );
        }
    }
    println!(
        "\n{events} events, {tokens} tokens over {} seeds",
        SEEDS.len()
    );
    println!("| detector | false high alerts | per token |");
    println!("|---|---|---|");
    for (i, d) in support::DETECTORS.iter().enumerate() {
        println!(
            "| {d} | {} | {:.1e} |",
            false_high[i],
            false_high[i] as f64 / tokens as f64
        );
    }
}
