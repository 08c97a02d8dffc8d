//! Learned baselines survive a restart: a profile learned before is judged after.
use tessera_monitor::state::MonitorState;

use crate::support::*;

#[test]
fn a_saved_profile_still_flags_a_night_login_after_a_restart() {
    let mut events = Vec::new();
    for d in 0..14u64 {
        if d % 7 >= 5 {
            continue;
        }
        for h in 8..18u64 {
            events.push(
                Ev::used(
                    START_MS + d * DAY + h * HOUR,
                    "alice",
                    &format!("t{d}"),
                    ip(PARIS, 1, 1),
                )
                .done(),
            );
        }
    }
    let mut before = engine();
    assert!(run(&mut before, &events).is_empty());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("monitor-state.json");
    before.snapshot().save(&path).unwrap();

    let night = Ev::used(
        START_MS + 14 * DAY + 3 * HOUR,
        "alice",
        "n",
        ip(PARIS, 1, 1),
    )
    .done();
    let mut restarted = engine();
    restarted
        .restore(MonitorState::load(&path).unwrap().unwrap())
        .unwrap();
    let alerts = run(&mut restarted, std::slice::from_ref(&night));
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].detector, "off_hours");
    // Without the state, a fresh monitor knows nothing yet and stays silent.
    assert!(run(&mut engine(), &[night]).is_empty());
    assert!(
        MonitorState::load(&dir.path().join("absent.json"))
            .unwrap()
            .is_none()
    );
}
