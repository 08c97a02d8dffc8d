//! Bounded work and storage for unauthenticated login-page requests: password checks run a
//! bounded number at a time and past the wait answer "try again" on the form (never a 5xx);
//! `GET /authorize` from one address is rate-limited and pending forms are capped in total,
//! answered with a 429 error page; oversized forms and queries get a 400 page.
use std::sync::Arc;

use tessera_core::Config;
use tessera_core::clock::FixedClock;

use crate::support::flow::{
    PASSWORD, USER, allow, authorize, code_client, concurrent_logins, open_login_form, pkce,
    request, request_field,
};
use crate::support::{TestClient, TestServer, fixed_clock, test_config};

const WRONG: &str = "Wrong user name or password.";
const BUSY: &str = "Too many people are signing in right now. Try again in a moment.";

async fn server(f: impl FnOnce(&mut Config)) -> (TestServer, Arc<FixedClock>) {
    let clock = fixed_clock();
    let mut config = test_config();
    config.login.max_failures_per_user = 0;
    config.login.max_failures_per_ip = 0;
    f(&mut config);
    (TestServer::start_with(config, clock.clone()).await, clock)
}

async fn open_form(server: &TestServer, c: &TestClient) -> reqwest::Response {
    let (_, challenge) = pkce();
    authorize(server, &request(c, &challenge, &[])).await
}

/// `n` concurrent logins of made-up names on one form; the answers (status, page).
async fn flood_logins(server: &TestServer, id: &str, n: usize) -> Vec<(u16, String)> {
    let attempts = (0..n)
        .map(|i| (format!("made-up-{i}"), "guess".to_string()))
        .collect();
    concurrent_logins(server, id, attempts).await
}

async fn metric(server: &TestServer, name: &str) -> i64 {
    let text = reqwest::get(format!("http://{}/metrics", server.running.admin_addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_logins_never_run_more_password_checks_than_the_slots() {
    let (server, _) = server(|c| {
        c.login.max_concurrent_hashes = 2;
        c.login.hash_wait_ms = 120_000;
    })
    .await;
    let c = code_client(&server, true, |_| {}).await;
    let id = open_login_form(&server, &c).await;
    let answers = flood_logins(&server, &id, 24).await;
    for (status, page) in &answers {
        assert_eq!(*status, 200);
        assert!(page.contains(WRONG), "queued, then checked: {page}");
    }
    let gate = server.running.authority.password_gate();
    assert_eq!(gate.size(), 2);
    assert!((1..=2).contains(&gate.peak()), "peak {}", gate.peak());
    assert_eq!(gate.running(), 0);
    assert_eq!(
        metric(&server, "tessera_password_checks_peak").await,
        gate.peak() as i64
    );
    assert_eq!(metric(&server, "tessera_password_check_slots").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn past_the_wait_a_login_gets_try_again_on_the_form_and_is_not_counted() {
    let (server, _) = server(|c| {
        c.login.max_concurrent_hashes = 1;
        c.login.hash_wait_ms = 0;
        c.login.max_failures_per_ip = 30;
    })
    .await;
    let c = code_client(&server, true, |_| {}).await;
    let id = open_login_form(&server, &c).await;
    let answers = flood_logins(&server, &id, 24).await;
    let busy = answers.iter().filter(|(_, p)| p.contains(BUSY)).count();
    let wrong = answers.iter().filter(|(_, p)| p.contains(WRONG)).count();
    assert!(answers.iter().all(|(s, _)| *s == 200), "never a 5xx");
    assert_eq!(busy + wrong, 24);
    assert!(busy > 0, "one slot and no wait: some are refused");
    assert!(server.running.authority.password_gate().peak() <= 1);
    // Refused attempts were handed back: the address counted only the checked ones, so the
    // right password still works (30 - wrong > 0 attempts left).
    let resp = allow(&server, &id, USER, PASSWORD).await;
    assert_eq!(resp.status(), 303);
}

#[tokio::test]
async fn login_forms_from_one_address_are_rate_limited() {
    let (server, clock) = server(|c| {
        c.login.max_authorize_per_ip = 5;
        c.login.authorize_window_secs = 60;
    })
    .await;
    let c = code_client(&server, true, |_| {}).await;
    for _ in 0..5 {
        assert_eq!(open_form(&server, &c).await.status(), 200);
    }
    for _ in 0..3 {
        let resp = open_form(&server, &c).await;
        assert_eq!(resp.status(), 429);
        let page = resp.text().await.unwrap();
        assert!(page.contains("temporarily_unavailable"), "{page}");
        assert!(
            !page.contains("name=\"request\""),
            "no form: nothing stored"
        );
    }
    // Invalid requests store nothing and are not counted.
    let resp = authorize(&server, &[("client_id", "nope")]).await;
    assert_eq!(resp.status(), 400);
    clock.advance(61);
    let resp = open_form(&server, &c).await;
    assert_eq!(resp.status(), 200);
    // The legitimate flow still works from a fresh form.
    let id = request_field(&resp.text().await.unwrap());
    let resp = allow(&server, &id, USER, PASSWORD).await;
    assert_eq!(resp.status(), 303);
}

#[tokio::test]
async fn pending_login_forms_are_capped_in_total() {
    let (server, clock) = server(|c| {
        c.login.max_authorize_per_ip = 0;
        c.login.max_pending = 3;
    })
    .await;
    let c = code_client(&server, true, |_| {}).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let resp = open_form(&server, &c).await;
        assert_eq!(resp.status(), 200);
        ids.push(request_field(&resp.text().await.unwrap()));
    }
    let resp = open_form(&server, &c).await;
    assert_eq!(resp.status(), 429);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("temporarily_unavailable")
    );
    // The forms already open still work.
    let resp = allow(&server, &ids[0], USER, PASSWORD).await;
    assert_eq!(resp.status(), 303);
    // Once they expire there is room again.
    clock.advance(601);
    assert_eq!(open_form(&server, &c).await.status(), 200);
}

#[tokio::test]
async fn oversized_login_forms_and_authorization_queries_get_an_error_page() {
    let (server, _) = server(|_| {}).await;
    let c = code_client(&server, true, |_| {}).await;
    let id = open_login_form(&server, &c).await;
    let big = "p".repeat(16 * 1024);
    let resp = allow(&server, &id, USER, &big).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("invalid_request"));
    assert_eq!(
        server.running.authority.password_gate().peak(),
        0,
        "not hashed"
    );
    // A long password under the form limit is checked as a wrong one, not hashed at length.
    let long = "p".repeat(2000);
    let resp = allow(&server, &id, USER, &long).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains(WRONG));
    let (_, challenge) = pkce();
    let state = "s".repeat(9 * 1024);
    let resp = authorize(&server, &request(&c, &challenge, &[("state", &state)])).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("too long"));
}
