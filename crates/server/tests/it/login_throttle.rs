//! `[login]`: failed logins lock a user name, or a client address trying many names, out for a
//! while; a locked-out submission is refused before its password is checked, with one message
//! whatever the name, and issues no code.
use std::sync::Arc;

use tessera_core::audit::EventKind;
use tessera_core::clock::FixedClock;

use crate::support::flow::{
    PASSWORD, USER, allow, code_client, concurrent_logins, open_login_form,
};
use crate::support::{TestClient, TestServer, fixed_clock, test_config};

const LOCKED: &str = "Too many failed sign-in attempts. Try again in a few minutes.";
const WRONG: &str = "Wrong user name or password.";

async fn server(per_user: u32, per_ip: u32) -> (TestServer, Arc<FixedClock>) {
    let clock = fixed_clock();
    let mut config = test_config();
    config.login.max_failures_per_user = per_user;
    config.login.max_failures_per_ip = per_ip;
    config.login.failure_window_secs = 600;
    config.login.lockout_secs = 300;
    (TestServer::start_with(config, clock.clone()).await, clock)
}

/// Opens a login form and submits `user`/`password` with "allow"; returns (status, page).
async fn attempt(server: &TestServer, c: &TestClient, user: &str, password: &str) -> (u16, String) {
    let id = open_login_form(server, c).await;
    let resp = allow(server, &id, user, password).await;
    (
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn a_user_name_is_locked_after_max_failures_even_for_the_right_password_until_the_lockout_ends()
 {
    let (server, clock) = server(3, 100).await;
    let c = code_client(&server, true, |_| {}).await;
    for _ in 0..3 {
        let (status, page) = attempt(&server, &c, USER, "wrong").await;
        assert_eq!(status, 200);
        assert!(page.contains(WRONG), "{page}");
    }
    // Locked: the right password is refused too, and no code is issued.
    let (status, page) = attempt(&server, &c, USER, PASSWORD).await;
    assert_eq!(status, 200, "the form again, not a redirect");
    assert!(page.contains(LOCKED), "{page}");
    let locked = server.events_of(EventKind::UserLoginLocked).await;
    assert_eq!(locked.len(), 1);
    assert_eq!(locked[0].subject.as_deref(), Some(USER));
    assert_eq!(locked[0].reason.as_deref(), Some("user"));
    assert!(
        server
            .events_of(EventKind::AuthorizationGranted)
            .await
            .is_empty()
    );
    // A name that does not exist locks the same way: the lock tells nothing about users.
    for _ in 0..3 {
        attempt(&server, &c, "nobody", "x").await;
    }
    let (_, page) = attempt(&server, &c, "nobody", "x").await;
    assert!(page.contains(LOCKED), "{page}");
    // Other names are not affected.
    let (_, page) = attempt(&server, &c, "bob", "x").await;
    assert!(page.contains(WRONG), "{page}");
    // After the lockout, the right password works, and clears the name's count.
    clock.advance(301);
    let (status, _) = attempt(&server, &c, USER, PASSWORD).await;
    assert_eq!(status, 303);
    let (_, page) = attempt(&server, &c, USER, "wrong").await;
    assert!(
        page.contains(WRONG),
        "one failure after a success does not lock: {page}"
    );
}

#[tokio::test]
async fn failures_outside_the_window_do_not_add_up() {
    let (server, clock) = server(3, 100).await;
    let c = code_client(&server, true, |_| {}).await;
    attempt(&server, &c, USER, "wrong").await;
    attempt(&server, &c, USER, "wrong").await;
    clock.advance(601);
    attempt(&server, &c, USER, "wrong").await;
    assert_eq!(attempt(&server, &c, USER, PASSWORD).await.0, 303);
}

#[tokio::test]
async fn an_address_trying_many_names_is_locked_out() {
    let (server, _) = server(100, 4).await;
    let c = code_client(&server, true, |_| {}).await;
    for name in ["a", "b", "c", "d"] {
        let (_, page) = attempt(&server, &c, name, "guess").await;
        assert!(page.contains(WRONG), "{page}");
    }
    let (status, page) = attempt(&server, &c, USER, PASSWORD).await;
    assert_eq!(status, 200);
    assert!(page.contains(LOCKED), "{page}");
    let locked = server.events_of(EventKind::UserLoginLocked).await;
    assert_eq!(locked[0].reason.as_deref(), Some("ip"));
    assert_eq!(locked[0].ip, Some("127.0.0.1".parse().unwrap()));
}

#[tokio::test]
async fn limits_set_to_zero_turn_the_lockout_off() {
    let (server, _) = server(0, 0).await;
    let c = code_client(&server, true, |_| {}).await;
    for _ in 0..8 {
        attempt(&server, &c, USER, "wrong").await;
    }
    assert_eq!(attempt(&server, &c, USER, PASSWORD).await.0, 303);
}

/// Concurrent guesses in flight at once, all for one name from one address.
async fn concurrent_attempts(
    server: &TestServer,
    id: &str,
    passwords: &[&str],
) -> Vec<(u16, String)> {
    let attempts = passwords
        .iter()
        .map(|p| (USER.to_string(), p.to_string()))
        .collect();
    concurrent_logins(server, id, attempts).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_concurrent_guesses_get_no_more_password_checks_than_the_limit() {
    let (server, _) = server(5, 20).await;
    let c = code_client(&server, true, |_| {}).await;
    let id = open_login_form(&server, &c).await;
    let guesses: Vec<String> = (0..39).map(|i| format!("guess {i}")).collect();
    let guesses: Vec<&str> = guesses.iter().map(String::as_str).collect();
    let answers = concurrent_attempts(&server, &id, &guesses).await;
    let checked = answers.iter().filter(|(_, p)| p.contains(WRONG)).count();
    let locked = answers.iter().filter(|(_, p)| p.contains(LOCKED)).count();
    assert!(
        answers.iter().all(|(s, _)| *s == 200),
        "every answer is the form"
    );
    assert_eq!(
        checked, 5,
        "exactly max_failures_per_user reach the password check"
    );
    assert_eq!(locked, 34);
    assert_eq!(server.events_of(EventKind::UserLoginFailed).await.len(), 5);
    // The right password, once over the limit, gets no code.
    let answers = concurrent_attempts(&server, &id, &[PASSWORD]).await;
    assert_eq!(answers[0].0, 200);
    assert!(answers[0].1.contains(LOCKED), "{}", answers[0].1);
    assert!(
        server
            .events_of(EventKind::AuthorizationGranted)
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_good_password_among_concurrent_guesses_does_not_widen_the_gate() {
    // Per address: 20; per name off. Forty at once, one of them right: at most 20 reach the
    // check, and the right one, if it was let through, hands its attempt back.
    let (server, _) = server(0, 20).await;
    let c = code_client(&server, true, |_| {}).await;
    let id = open_login_form(&server, &c).await;
    let mut passwords: Vec<String> = (0..39).map(|i| format!("guess {i}")).collect();
    passwords.push(PASSWORD.into());
    let passwords: Vec<&str> = passwords.iter().map(String::as_str).collect();
    let answers = concurrent_attempts(&server, &id, &passwords).await;
    let through = answers
        .iter()
        .filter(|(s, p)| *s == 303 || p.contains(WRONG))
        .count();
    assert!(through <= 20, "{through} reached the password check");
    assert!(
        answers
            .iter()
            .all(|(s, _)| *s == 200 || *s == 303 || *s == 400)
    );
}
