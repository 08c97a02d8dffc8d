//! State stays bounded whatever the input: a flood of invented client ids and tokens.
use tessera_core::audit::EventKind;
use tessera_monitor::MonitorConfig;

use crate::support::*;

#[test]
fn a_flood_of_unique_keys_never_grows_state_past_its_bounds() {
    let config = MonitorConfig {
        max_tokens: 1_000,
        max_clients: 500,
        ..MonitorConfig::default()
    };
    let mut engine = engine_with(&config);
    let mut out = Vec::new();
    for i in 0..100_000u64 {
        let e = if i % 2 == 0 {
            Ev::new(EventKind::ClientAuthenticationFailed, START_MS + i)
                .client(&format!("x{i}"))
                .ip(unknown_ip((i % 250) as u8))
                .done()
        } else {
            Ev::used(
                START_MS + i,
                &format!("c{}", i % 5_000),
                &format!("t{i}"),
                ip(PARIS, (i % 200) as u8, 1),
            )
            .done()
        };
        engine.observe(&e, &mut out);
    }
    // Per detector: tokens ≤ max_tokens, clients (and addresses) ≤ max_clients, plus the
    // engine's cooldown and taint maps (≤ max_tokens each).
    let bound = 7 * (1_000 + 2 * 500) + 2 * 1_000;
    assert!(
        engine.state_len() <= bound,
        "{} > {bound}",
        engine.state_len()
    );
    assert_eq!(engine.stats().events, 100_000);
}
