//! `GrantStore` and `UserStore`: code redemption, refresh rotation and the revocation cascade,
//! each atomic — concurrent callers, on one node or two, have exactly one winner.
use std::sync::Arc;

use tessera_core::client::TokenFormat;
use tessera_core::error::StoreError;
use tessera_core::store::{
    AuthorizationCodeRecord, Expiring, FamilyToken, FeedPosition, RedeemOutcome,
    RefreshTokenRecord, RotateOutcome, Store, UserRecord,
};
use tessera_proto::{Secret, SecretHash};

use crate::support::{Env, InsertToken, opaque_id, token};

conformance!(
    code_round_trip_and_single_redemption,
    expired_and_unknown_codes_are_not_redeemed,
    concurrent_code_redemptions_have_one_winner,
    refresh_rotation_marks_the_old_token_used,
    concurrent_rotations_have_one_winner,
    family_revocation_cascades_to_every_token,
    tokens_linked_after_revocation_are_revoked_at_once,
    users_round_trip,
    users_are_listed_changed_and_deleted,
    live_families_of_a_subject,
    codes_of_a_revoked_authorization_are_not_redeemed,
    the_janitor_sweeps_a_family_once_its_refresh_tokens_expired,
    the_janitor_sweeps_expired_grant_rows_only,
);

const NOW: u64 = 1_700_000_000;

pub(crate) fn code(name: &str, family: &str) -> AuthorizationCodeRecord {
    AuthorizationCodeRecord {
        hash: SecretHash::of(name.as_bytes()),
        family: family.into(),
        client_id: "c1".into(),
        subject: "alice".into(),
        scope: "read write".into(),
        audience: "https://api.example.com".into(),
        redirect_uri: name
            .ends_with('r')
            .then(|| "https://app.example.com/cb".into()),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        dpop_jkt: name.ends_with('d').then(|| "jkt".into()),
        issued_at: NOW,
        expires_at: NOW + 60,
        used_at: None,
    }
}

pub(crate) fn refresh(name: &str, family: &str) -> RefreshTokenRecord {
    RefreshTokenRecord {
        hash: SecretHash::of(name.as_bytes()),
        family: family.into(),
        client_id: "c1".into(),
        subject: "alice".into(),
        scope: "read".into(),
        audience: "https://api.example.com".into(),
        cnf_jkt: name.ends_with('d').then(|| "jkt".into()),
        issued_at: NOW,
        expires_at: NOW + 3600,
        used_at: None,
        revoked_at: None,
    }
}

async fn code_round_trip_and_single_redemption(env: Env) {
    let s = env.store;
    for name in ["code-r", "code-d"] {
        let c = code(name, &format!("fam-{name}"));
        s.insert_authorization_code(c.clone()).await.unwrap();
        assert_eq!(
            s.redeem_code(c.hash, NOW + 1).await.unwrap(),
            RedeemOutcome::Redeemed(c.clone())
        );
        let mut used = c.clone();
        used.used_at = Some(NOW + 1);
        assert_eq!(
            s.redeem_code(c.hash, NOW + 2).await.unwrap(),
            RedeemOutcome::AlreadyUsed {
                code: used,
                revoked: true
            }
        );
    }
    // A second code in one family is refused (the family is created with its code).
    assert!(matches!(
        s.insert_authorization_code(code("other", "fam-code-r"))
            .await,
        Err(StoreError::Conflict(_))
    ));
}

async fn expired_and_unknown_codes_are_not_redeemed(env: Env) {
    let s = env.store;
    let c = code("c", "f");
    s.insert_authorization_code(c.clone()).await.unwrap();
    assert_eq!(
        s.redeem_code(c.hash, NOW + 60).await.unwrap(),
        RedeemOutcome::Expired
    );
    assert_eq!(
        s.redeem_code(SecretHash::of(b"nope"), NOW).await.unwrap(),
        RedeemOutcome::NotFound
    );
}

async fn concurrent_code_redemptions_have_one_winner(env: Env) {
    let nodes: Vec<Arc<dyn Store>> = vec![env.store.clone(), env.open_again().await];
    for round in 0..5 {
        let c = code(&format!("race-{round}"), &format!("fam-{round}"));
        nodes[0].insert_authorization_code(c.clone()).await.unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let s = nodes[i % 2].clone();
                tokio::spawn(async move { s.redeem_code(c.hash, NOW + 1).await.unwrap() })
            })
            .collect();
        let (mut winners, mut revokers) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                RedeemOutcome::Redeemed(_) => winners += 1,
                RedeemOutcome::AlreadyUsed { revoked, .. } => revokers += usize::from(revoked),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(winners, 1, "round {round}");
        assert_eq!(
            revokers, 1,
            "the replays revoke the family once, round {round}"
        );
    }
}

async fn refresh_rotation_marks_the_old_token_used(env: Env) {
    let s = env.store;
    let (first, second, third) = (
        refresh("rt1", "f"),
        refresh("rt2d", "f"),
        refresh("rt3", "f"),
    );
    s.insert_authorization_code(code("c", "f")).await.unwrap();
    s.insert_refresh_token(first.clone()).await.unwrap();
    assert_eq!(
        s.get_refresh_token(first.hash).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        s.rotate_refresh(first.hash, second.clone(), None, NOW + 5)
            .await
            .unwrap(),
        RotateOutcome::Rotated(first.clone())
    );
    assert_eq!(
        s.get_refresh_token(second.hash).await.unwrap(),
        Some(second.clone())
    );
    let mut used = first.clone();
    used.used_at = Some(NOW + 5);
    assert_eq!(
        s.rotate_refresh(first.hash, third.clone(), None, NOW + 6)
            .await
            .unwrap(),
        RotateOutcome::Reused {
            token: used,
            revoked: true
        }
    );
    assert_eq!(s.get_refresh_token(third.hash).await.unwrap(), None);
    // The reuse revoked the family in the same transaction: the successor too.
    let mut second = second;
    second.revoked_at = Some(NOW + 6);
    assert_eq!(
        s.get_refresh_token(second.hash).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(
        s.rotate_refresh(SecretHash::of(b"x"), third.clone(), None, NOW)
            .await
            .unwrap(),
        RotateOutcome::NotFound
    );
    // Expired: inactive, nothing changes (a token of a live family, so nothing but its expiry
    // makes it inactive).
    let live = refresh("rt4", "g");
    s.insert_refresh_token(live.clone()).await.unwrap();
    assert_eq!(
        s.rotate_refresh(live.hash, third.clone(), None, NOW + 3600)
            .await
            .unwrap(),
        RotateOutcome::Inactive
    );
    assert_eq!(s.get_refresh_token(live.hash).await.unwrap(), Some(live));
    assert_eq!(s.get_refresh_token(third.hash).await.unwrap(), None);
}

async fn concurrent_rotations_have_one_winner(env: Env) {
    let nodes: Vec<Arc<dyn Store>> = vec![env.store.clone(), env.open_again().await];
    for round in 0..5 {
        let family = format!("fam-{round}");
        let old = refresh(&format!("old-{round}"), &family);
        let code = code(&format!("code-{round}"), &family);
        nodes[1].insert_authorization_code(code).await.unwrap();
        nodes[1].insert_refresh_token(old.clone()).await.unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let s = nodes[i % 2].clone();
                let new = refresh(&format!("new-{round}-{i}"), &family);
                tokio::spawn(async move {
                    let hash = new.hash;
                    (
                        s.rotate_refresh(old.hash, new, None, NOW + 1)
                            .await
                            .unwrap(),
                        hash,
                    )
                })
            })
            .collect();
        let (mut winners, mut revokers) = (0, 0);
        for t in tasks {
            let (outcome, new_hash) = t.await.unwrap();
            let stored = nodes[0].get_refresh_token(new_hash).await.unwrap();
            match outcome {
                RotateOutcome::Rotated(_) => {
                    winners += 1;
                    assert!(stored.is_some());
                }
                // A loser that comes after the family's revocation finds its token revoked.
                RotateOutcome::Reused { revoked, .. } => {
                    revokers += usize::from(revoked);
                    assert!(stored.is_none(), "a loser stored its token");
                }
                RotateOutcome::Inactive => assert!(stored.is_none(), "a loser stored its token"),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(winners, 1, "round {round}");
        assert_eq!(
            revokers, 1,
            "the replays revoke the family once, round {round}"
        );
    }
}

fn jwt(jti: &str) -> FamilyToken {
    FamilyToken {
        kind: TokenFormat::Jwt,
        id: jti.into(),
        expires_at: NOW + 300,
    }
}

fn opaque(id: u64) -> FamilyToken {
    FamilyToken {
        kind: TokenFormat::Opaque,
        id: id.to_string(),
        expires_at: NOW + 300,
    }
}

async fn family_revocation_cascades_to_every_token(env: Env) {
    let s = env.store;
    s.insert_authorization_code(code("c", "f")).await.unwrap();
    s.insert_authorization_code(code("other", "g"))
        .await
        .unwrap();
    let mut at = token(5);
    at.issued_at = NOW;
    at.expires_at = NOW + 300;
    s.insert_token(at.clone()).await.unwrap();
    s.insert_token(token(6)).await.unwrap();
    assert!(s.link_family_token("f", &opaque(5), "c1").await.unwrap());
    assert!(s.link_family_token("f", &jwt("jti-1"), "c1").await.unwrap());
    assert!(s.link_family_token("g", &jwt("jti-2"), "c1").await.unwrap());
    let (r1, r2) = (refresh("r1", "f"), refresh("r2", "f"));
    s.insert_refresh_token(r1.clone()).await.unwrap();
    s.rotate_refresh(r1.hash, r2.clone(), None, NOW + 1)
        .await
        .unwrap();
    s.insert_refresh_token(refresh("r-other", "g"))
        .await
        .unwrap();

    assert!(s.revoke_family("f", NOW + 10).await.unwrap());
    assert!(!s.revoke_family("f", NOW + 11).await.unwrap(), "once");
    assert!(!s.revoke_family("unknown", NOW).await.unwrap());
    for r in [r1, r2] {
        let got = s.get_refresh_token(r.hash).await.unwrap().unwrap();
        assert_eq!(got.revoked_at, Some(NOW + 10));
    }
    assert_eq!(
        s.rotate_refresh(SecretHash::of(b"r2"), refresh("r3", "f"), None, NOW + 12)
            .await
            .unwrap(),
        RotateOutcome::Inactive
    );
    assert_eq!(
        s.get_access_token(5).await.unwrap().unwrap().revoked_at,
        Some(NOW + 10)
    );
    assert!(s.is_jti_revoked("jti-1").await.unwrap());
    // The other family is untouched.
    assert_eq!(
        s.get_access_token(6).await.unwrap().unwrap().revoked_at,
        None
    );
    assert!(!s.is_jti_revoked("jti-2").await.unwrap());
    let other = s
        .get_refresh_token(SecretHash::of(b"r-other"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other.revoked_at, None);
    // The revocation feed carries the cascade.
    let feed = s
        .list_revocations(&FeedPosition::at(0), NOW, 100)
        .await
        .unwrap();
    let ids: Vec<&str> = feed.iter().map(|r| r.id.as_str()).collect();
    let five = opaque_id(&s, 5).await;
    assert!(
        ids.contains(&"jti-1") && ids.contains(&five.as_str()),
        "{ids:?}"
    );
    assert!(!ids.contains(&"5"), "never the bare selector: {ids:?}");
}

async fn tokens_linked_after_revocation_are_revoked_at_once(env: Env) {
    let s = env.store;
    s.insert_authorization_code(code("c", "f")).await.unwrap();
    assert!(s.revoke_family("f", NOW).await.unwrap());
    assert!(!s.link_family_token("f", &jwt("late"), "c1").await.unwrap());
    assert!(s.is_jti_revoked("late").await.unwrap());
}

async fn users_round_trip(env: Env) {
    let s = env.store;
    let u = UserRecord {
        username: "alice".into(),
        password_hash: Secret::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
        disabled: false,
        created_at: NOW,
    };
    s.create_user(&u).await.unwrap();
    assert_eq!(s.get_user("alice").await.unwrap(), Some(u.clone()));
    assert_eq!(s.get_user("bob").await.unwrap(), None);
    assert!(matches!(
        s.create_user(&u).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(!format!("{u:?}").contains("argon2"), "Debug hides the hash");
}

/// The retention janitor's deletes for the authorization-code tables: expired rows go, live
/// ones stay usable.
async fn the_janitor_sweeps_expired_grant_rows_only(env: Env) {
    let s = env.store;
    let (old, mut live) = (code("old", "f-old"), code("live", "f-live"));
    live.expires_at = NOW + 600;
    s.insert_authorization_code(old.clone()).await.unwrap();
    s.insert_authorization_code(live.clone()).await.unwrap();
    let cutoff = NOW + 60; // `old` expires here, `live` later
    assert_eq!(
        s.delete_expired(Expiring::AuthorizationCodes, cutoff, 10)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.redeem_code(old.hash, NOW).await.unwrap(),
        RedeemOutcome::NotFound
    );
    assert_eq!(
        s.redeem_code(live.hash, NOW).await.unwrap(),
        RedeemOutcome::Redeemed(live)
    );

    let (gone, mut kept) = (refresh("rt-gone", "f-old"), refresh("rt-kept", "f-live"));
    kept.expires_at = NOW + 7200;
    s.insert_refresh_token(gone).await.unwrap();
    s.insert_refresh_token(kept.clone()).await.unwrap();
    assert_eq!(
        s.delete_expired(Expiring::RefreshTokens, NOW + 3600, 10)
            .await
            .unwrap(),
        1
    );
    assert!(s.get_refresh_token(kept.hash).await.unwrap().is_some());

    // jwt() links a token expiring at NOW + 300.
    assert!(
        s.link_family_token("f-live", &jwt("j1"), "c1")
            .await
            .unwrap()
    );
    assert_eq!(
        s.delete_expired(Expiring::FamilyTokens, NOW + 299, 10)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.delete_expired(Expiring::FamilyTokens, NOW + 300, 10)
            .await
            .unwrap(),
        1
    );

    let (p_old, p_live) = (SecretHash::of(b"p-old"), SecretHash::of(b"p-live"));
    for (p, exp) in [(p_old, NOW + 600), (p_live, NOW + 900)] {
        assert!(
            s.insert_pending_authorization(p, "{}".into(), exp, NOW, 10)
                .await
                .unwrap()
        );
    }
    assert_eq!(
        s.delete_expired(Expiring::PendingAuthorizations, NOW + 600, 10)
            .await
            .unwrap(),
        1
    );
    assert!(s.consume_pending_authorization(p_live, NOW).await.unwrap());
}

async fn users_are_listed_changed_and_deleted(env: Env) {
    let s = env.store;
    for name in ["carol", "alice"] {
        s.create_user(&UserRecord {
            username: name.into(),
            password_hash: Secret::new(format!("hash-{name}")),
            disabled: false,
            created_at: NOW,
        })
        .await
        .unwrap();
    }
    let names = |users: Vec<UserRecord>| users.into_iter().map(|u| u.username).collect::<Vec<_>>();
    assert_eq!(names(s.list_users().await.unwrap()), ["alice", "carol"]);
    assert!(s.set_user_disabled("alice", true).await.unwrap());
    assert!(s.get_user("alice").await.unwrap().unwrap().disabled);
    assert!(s.set_user_disabled("alice", false).await.unwrap());
    assert!(!s.get_user("alice").await.unwrap().unwrap().disabled);
    assert!(s.set_user_password("alice", "hash-new").await.unwrap());
    assert_eq!(
        s.get_user("alice")
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .expose_secret(),
        "hash-new"
    );
    assert!(!s.set_user_disabled("nobody", true).await.unwrap());
    assert!(!s.set_user_password("nobody", "x").await.unwrap());
    assert!(s.delete_user("alice").await.unwrap());
    assert!(!s.delete_user("alice").await.unwrap());
    assert_eq!(names(s.list_users().await.unwrap()), ["carol"]);
}

async fn live_families_of_a_subject(env: Env) {
    let s = env.store;
    // fam-1: redeemed, with a refresh token; fam-2: a code not redeemed yet; fam-3: bob's;
    // fam-4: alice's but revoked.
    for (family, subject) in [
        ("fam-1", "alice"),
        ("fam-2", "alice"),
        ("fam-3", "bob"),
        ("fam-4", "alice"),
    ] {
        let mut c = code(&format!("code-{family}"), family);
        c.subject = subject.into();
        s.insert_authorization_code(c).await.unwrap();
    }
    s.insert_refresh_token(refresh("rt-1", "fam-1"))
        .await
        .unwrap();
    assert!(s.revoke_family("fam-4", NOW).await.unwrap());
    let mut live = s.live_families_of("alice").await.unwrap();
    live.sort();
    assert_eq!(live, ["fam-1", "fam-2"]);
    assert_eq!(s.live_families_of("bob").await.unwrap(), ["fam-3"]);
    assert!(s.live_families_of("nobody").await.unwrap().is_empty());
}

async fn codes_of_a_revoked_authorization_are_not_redeemed(env: Env) {
    let s = env.store;
    let c = code("code-x", "fam-x");
    s.insert_authorization_code(c.clone()).await.unwrap();
    assert!(s.revoke_family("fam-x", NOW).await.unwrap());
    assert_eq!(
        s.redeem_code(c.hash, NOW + 1).await.unwrap(),
        RedeemOutcome::Revoked
    );
    // Still revoked, not "already used": nothing was marked.
    assert_eq!(
        s.redeem_code(c.hash, NOW + 2).await.unwrap(),
        RedeemOutcome::Revoked
    );
    assert_eq!(
        s.redeem_code(c.hash, NOW + 61).await.unwrap(),
        RedeemOutcome::Expired
    );
}

async fn the_janitor_sweeps_a_family_once_its_refresh_tokens_expired(env: Env) {
    let s = env.store;
    // fam-short: a code never redeemed (expires NOW + 60); fam-long: redeemed, with a refresh
    // token that expires at NOW + 3600.
    s.insert_authorization_code(code("code-s", "fam-short"))
        .await
        .unwrap();
    s.insert_authorization_code(code("code-l", "fam-long"))
        .await
        .unwrap();
    s.insert_refresh_token(refresh("rt-l", "fam-long"))
        .await
        .unwrap();
    assert_eq!(
        s.delete_expired(Expiring::GrantFamilies, NOW + 59, 10)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.delete_expired(Expiring::GrantFamilies, NOW + 60, 10)
            .await
            .unwrap(),
        1,
        "the unredeemed code's family"
    );
    assert_eq!(
        s.delete_expired(Expiring::GrantFamilies, NOW + 3599, 10)
            .await
            .unwrap(),
        0,
        "the refresh token keeps its family"
    );
    // Until then the family still revokes.
    assert!(s.revoke_family("fam-long", NOW + 10).await.unwrap());
    assert_eq!(
        s.delete_expired(Expiring::GrantFamilies, NOW + 3600, 10)
            .await
            .unwrap(),
        1
    );
}
