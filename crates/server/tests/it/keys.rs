//! The signing-key lifecycle over HTTP: scheduled rotation walked through on a pinned clock
//! (next → current → retired → removed) with every unexpired token's key in `/jwks` at every
//! step, and `keys revoke` taking a key out of `/jwks` and its tokens out of service.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tessera_core::audit::EventKind;
use tessera_core::clock::{Clock, FixedClock, SystemClock};
use tessera_core::keys::lifecycle::{KeyChange, RevokeKeyError, revoke_key};
use tessera_core::keys::{KeyState, SigningAlg};
use tessera_core::store::KeyRevocation;

use crate::support::{TestServer, test_config};

async fn jwks_kids(server: &TestServer) -> HashSet<String> {
    let jwks: serde_json::Value = server
        .http
        .get(server.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

fn kid_of(jwt: &str) -> String {
    jsonwebtoken::decode_header(jwt).unwrap().kid.unwrap()
}

/// The kids in `/jwks` at `now`; asserts every token unexpired at `now` has its key there, and
/// notes when each kid was first seen published.
async fn check(
    server: &TestServer,
    now: u64,
    tokens: &[(String, String, u64)],
    first_published: &mut HashMap<String, u64>,
) -> HashSet<String> {
    let kids = jwks_kids(server).await;
    for kid in &kids {
        first_published.entry(kid.clone()).or_insert(now);
    }
    for (_, kid, exp) in tokens {
        if *exp > now {
            assert!(
                kids.contains(kid),
                "t+{}: a valid token's key {kid} is missing from /jwks {kids:?}",
                now - T0
            );
        }
    }
    kids
}

const T0: u64 = 1_700_000_000;
const MAX_TTL: u64 = 300;
const PUBLISH_BEFORE_USE: u64 = 100;
const ROTATION_PERIOD: u64 = 1000;
const LEEWAY: u64 = 30;

#[tokio::test]
async fn scheduled_rotation_never_leaves_a_valid_token_without_its_key() {
    let mut config = test_config();
    config.tokens.default_ttl = MAX_TTL;
    config.tokens.max_ttl = MAX_TTL;
    config.keys.rotation_period = ROTATION_PERIOD;
    config.keys.publish_before_use = PUBLISH_BEFORE_USE;
    config.keys.retired_leeway = LEEWAY;
    // The test drives the schedule itself; the background task stays out of the way.
    config.keys.check_interval = 3600;
    let clock = Arc::new(FixedClock::at(T0));
    let server = TestServer::start_with(config, clock.clone()).await;
    let authority = server.running.authority.clone();
    let c = server.client(|_| {}).await;

    let mut first_published: HashMap<String, u64> = HashMap::new();
    let mut tokens: Vec<(String, String, u64)> = Vec::new(); // (jwt, kid, exp)
    let mut changes = Vec::new();
    // Three rotation periods in 50 s steps.
    for step in 0..=60u64 {
        let now = clock.now();
        // Before this node runs its schedule (another node may be late) and after.
        check(&server, now, &tokens, &mut first_published).await;
        changes.extend(authority.run_key_schedule().await.unwrap());
        let kids = check(&server, now, &tokens, &mut first_published).await;

        let jwt = server.access_token(&c).await;
        let kid = kid_of(&jwt);
        assert!(kids.contains(&kid), "signed with an unpublished key");
        // Every key but the first was published for publish_before_use before its first token.
        if first_published[&kid] != T0 {
            assert!(
                now - first_published[&kid] >= PUBLISH_BEFORE_USE,
                "t+{}: {kid} signs {} s after it was published",
                now - T0,
                now - first_published[&kid]
            );
        }
        tokens.push((jwt, kid, now + MAX_TTL));
        // Unexpired tokens introspect active, whichever key signed them.
        if step % 5 == 0 {
            for (jwt, _, _) in tokens.iter().filter(|t| t.2 > now) {
                assert_eq!(server.introspect(&c, jwt).await["active"], true);
            }
        }
        clock.advance(50);
    }

    let es256_signers: HashSet<&str> = tokens.iter().map(|t| t.1.as_str()).collect();
    assert_eq!(es256_signers.len(), 4, "initial key + three rotations");
    let rotated = changes
        .iter()
        .filter(|c| {
            matches!(
                c,
                KeyChange::Rotated {
                    alg: SigningAlg::ES256,
                    ..
                }
            )
        })
        .count();
    assert_eq!(rotated, 3);
    // Keys retired long enough ago are gone from the store and from /jwks.
    let removed: Vec<&String> = changes
        .iter()
        .filter_map(|c| match c {
            KeyChange::Removed { kid } => Some(kid),
            _ => None,
        })
        .collect();
    assert!(!removed.is_empty());
    let stored = server.store.list_keys().await.unwrap();
    let kids = jwks_kids(&server).await;
    for kid in &removed {
        assert!(!stored.iter().any(|k| &&k.kid == kid));
        assert!(!kids.contains(*kid));
    }
    // What is left: per algorithm one current, at most one next, retired keys still in their
    // publication window.
    let now = clock.now();
    for k in &stored {
        if k.state == KeyState::Retired {
            assert!(k.retired_at.unwrap() + MAX_TTL + LEEWAY > now);
        }
    }
    for kind in [
        EventKind::KeyCreated,
        EventKind::KeyRotated,
        EventKind::KeyRetired,
        EventKind::KeyRemoved,
    ] {
        let events = server.events_of(kind).await;
        assert!(!events.is_empty(), "{kind:?}");
        assert!(
            events
                .iter()
                .all(|e| e.token_id.is_some() && e.format.is_some())
        );
    }
}

#[tokio::test]
async fn a_revoked_key_leaves_jwks_and_its_tokens_turn_inactive() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    let jwt = server.access_token(&c).await;
    let kid = kid_of(&jwt);
    assert_eq!(server.introspect(&c, &jwt).await["active"], true);

    // As `tessera keys revoke` does it: another handle on the same database.
    let cli = tessera_store::open(&server.running.authority.config().database)
        .await
        .unwrap();
    let now = SystemClock.now();
    let outcome = revoke_key(cli.as_ref(), &kid, Some("leaked in CI"), None, now)
        .await
        .unwrap();
    let KeyRevocation::Revoked {
        alg,
        previous,
        successor: Some(successor),
    } = outcome
    else {
        panic!("unexpected outcome {outcome:?}");
    };
    assert_eq!((alg, previous), (SigningAlg::ES256, KeyState::Current));
    cli.flush_events().await.unwrap();

    // Every node drops it within change_poll_ms (50 ms here).
    let started = Instant::now();
    loop {
        let kids = jwks_kids(&server).await;
        if !kids.contains(&kid) {
            assert!(kids.contains(&successor), "the successor is published");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "still published"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        server.introspect(&c, &jwt).await,
        serde_json::json!({"active": false})
    );
    // New tokens are signed by the successor and are active.
    let fresh = server.access_token(&c).await;
    assert_eq!(kid_of(&fresh), successor);
    assert_eq!(server.introspect(&c, &fresh).await["active"], true);

    let revoked = server.events_of(EventKind::KeyRevoked).await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].token_id.as_deref(), Some(kid.as_str()));
    assert_eq!(revoked[0].format.as_deref(), Some("ES256"));
    assert_eq!(revoked[0].reason.as_deref(), Some("leaked in CI"));
    let rotated = server.events_of(EventKind::KeyRotated).await;
    assert!(
        rotated
            .iter()
            .any(|e| e.token_id.as_deref() == Some(successor.as_str())
                && e.reason.as_deref() == Some("revoked"))
    );

    // Twice: nothing changes, no second event.
    let again = revoke_key(cli.as_ref(), &kid, None, None, now + 5)
        .await
        .unwrap();
    assert_eq!(again, KeyRevocation::AlreadyRevoked { revoked_at: now });
    cli.flush_events().await.unwrap();
    assert_eq!(server.events_of(EventKind::KeyRevoked).await.len(), 1);
    // Unknown kid: a clear error, nothing changes.
    let before = server.store.list_keys().await.unwrap();
    assert_eq!(
        revoke_key(cli.as_ref(), "no-such-kid", None, None, now).await,
        Err(RevokeKeyError::UnknownKid("no-such-kid".into()))
    );
    assert_eq!(server.store.list_keys().await.unwrap(), before);
}

#[tokio::test]
async fn revoking_a_retired_key_unpublishes_it_without_touching_the_signer() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    let old = server.access_token(&c).await;
    let old_kid = kid_of(&old);
    let cli = tessera_store::open(&server.running.authority.config().database)
        .await
        .unwrap();
    let now = SystemClock.now();
    let new_kid =
        tessera_core::keys::lifecycle::rotate_key(cli.as_ref(), SigningAlg::ES256, None, now)
            .await
            .unwrap();
    let outcome = revoke_key(cli.as_ref(), &old_kid, None, None, now)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        KeyRevocation::Revoked {
            alg: SigningAlg::ES256,
            previous: KeyState::Retired,
            successor: None
        }
    );
    let started = Instant::now();
    while jwks_kids(&server).await.contains(&old_kid) {
        assert!(started.elapsed() < Duration::from_secs(2));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        server.introspect(&c, &old).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(kid_of(&server.access_token(&c).await), new_kid);
}
