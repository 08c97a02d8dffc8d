//! `LineageStore` (RFC 8693 token exchange): revoking a token revokes every token exchanged
//! from it, down the chain and never up, in the revocation's own transaction — also when the
//! revocation races the links, on one node or two — and the feed lists the descendants.
use std::sync::Arc;

use tessera_core::client::TokenFormat;
use tessera_core::store::{
    ExchangeLink, Expiring, FamilyToken, FeedPosition, LineageToken, LinkOutcome, RevokedKind,
    Store,
};

use crate::grants::code;
use crate::support::{Env, InsertToken, client, token};

conformance!(
    revoking_an_ancestor_revokes_every_descendant_and_never_up,
    ancestors_are_listed_parent_first,
    a_link_to_a_revoked_parent_revokes_the_child_at_once,
    links_racing_a_revocation_leave_no_live_child,
    family_revocation_reaches_exchanged_tokens,
    the_janitor_sweeps_links_once_their_token_expired,
    a_client_change_revokes_what_was_exchanged_from_its_tokens,
);

/// Within the rows of `support::token` (issued 1_700_000_000, expiring 600 s later).
const NOW: u64 = 1_700_000_100;

fn opaque(id: u64) -> LineageToken {
    LineageToken {
        kind: TokenFormat::Opaque,
        id: id.to_string(),
    }
}

fn jwt(jti: &str) -> LineageToken {
    LineageToken {
        kind: TokenFormat::Jwt,
        id: jti.into(),
    }
}

fn link(child: LineageToken, parent: LineageToken, depth: u32) -> ExchangeLink {
    ExchangeLink {
        child,
        client_id: format!("agent{depth}"),
        expires_at: NOW + 300,
        depth,
        parent,
        parent_client_id: format!("agent{}", depth - 1),
        parent_issued_at: NOW - depth as u64,
    }
}

/// The clients the links name: agent0 (the subject tokens' client) to agent3.
async fn clients(s: &Arc<dyn Store>) {
    for n in 0..4 {
        s.create_client(&client(&format!("agent{n}"), NOW - 10))
            .await
            .unwrap();
    }
}

fn exchanged() -> tessera_core::audit::AuditEvent {
    tessera_core::audit::AuditEvent::new(tessera_core::audit::EventKind::TokenExchanged, NOW * 1000)
}

/// How many `token.exchanged` events are stored.
async fn exchanged_events(s: &Arc<dyn Store>) -> usize {
    s.flush_events().await.unwrap();
    s.list_events(0, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|(_, e)| e.kind == tessera_core::audit::EventKind::TokenExchanged)
        .count()
}

async fn is_revoked(s: &Arc<dyn Store>, t: &LineageToken) -> bool {
    match t.kind {
        TokenFormat::Opaque => s
            .get_access_token(t.id.parse().unwrap())
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some(),
        TokenFormat::Jwt => s.is_jti_revoked(&t.id).await.unwrap(),
    }
}

/// root (opaque 1) → j1 (JWT) → opaque 2 → j2 (JWT); and a second root (opaque 3) → j3.
async fn chain(s: &Arc<dyn Store>) {
    clients(s).await;
    for id in [1, 2, 3] {
        s.insert_token(token(id)).await.unwrap();
    }
    for l in [
        link(jwt("j1"), opaque(1), 1),
        link(opaque(2), jwt("j1"), 2),
        link(jwt("j2"), opaque(2), 3),
        link(jwt("j3"), opaque(3), 1),
    ] {
        assert_eq!(
            s.link_exchanged(&l, vec![exchanged()], NOW).await.unwrap(),
            LinkOutcome::Linked
        );
    }
}

async fn revoking_an_ancestor_revokes_every_descendant_and_never_up(env: Env) {
    let s = env.store;
    chain(&s).await;
    // A middle link first: what lies below goes, what lies above stays.
    assert!(s.revoke_jti("j1", "agent1", NOW + 300, NOW).await.unwrap());
    assert!(!is_revoked(&s, &opaque(1)).await, "never up the chain");
    for t in [opaque(2), jwt("j2")] {
        assert!(is_revoked(&s, &t).await, "{t:?}");
    }
    assert!(
        !is_revoked(&s, &jwt("j3")).await,
        "another chain is untouched"
    );
    // The root of the other chain, by its row.
    assert!(s.revoke_access_token(3, NOW).await.unwrap());
    assert!(is_revoked(&s, &jwt("j3")).await);
    // Resource servers follow: the feed names every descendant.
    let feed = s
        .list_revocations(&FeedPosition::default(), NOW, 100)
        .await
        .unwrap();
    let jwts: Vec<&str> = feed
        .iter()
        .filter(|e| e.kind == RevokedKind::Jwt)
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(jwts, ["j1", "j2", "j3"]);
    assert_eq!(
        feed.iter()
            .filter(|e| e.kind == RevokedKind::Opaque)
            .count(),
        2,
        "opaque 2 (a descendant) and 3 (revoked itself)"
    );
}

async fn ancestors_are_listed_parent_first(env: Env) {
    let s = env.store;
    chain(&s).await;
    let up = s.ancestors(&jwt("j2")).await.unwrap();
    let names: Vec<(&str, &str, u64)> = up
        .iter()
        .map(|a| (a.token.id.as_str(), a.client_id.as_str(), a.issued_at))
        .collect();
    assert_eq!(
        names,
        [
            ("2", "agent2", NOW - 3),
            ("j1", "agent1", NOW - 2),
            ("1", "agent0", NOW - 1)
        ]
    );
    assert_eq!(up[0].token.kind, TokenFormat::Opaque);
    assert_eq!(up[1].token.kind, TokenFormat::Jwt);
    assert!(s.ancestors(&opaque(1)).await.unwrap().is_empty());
    assert_eq!(exchanged_events(&s).await, 4, "each link stored its event");
    assert!(s.ancestors(&jwt("unknown")).await.unwrap().is_empty());
}

async fn a_link_to_a_revoked_parent_revokes_the_child_at_once(env: Env) {
    let s = env.store;
    clients(&s).await;
    for id in [1, 2] {
        s.insert_token(token(id)).await.unwrap();
    }
    assert!(s.revoke_access_token(1, NOW).await.unwrap());
    let late = link(opaque(2), opaque(1), 1);
    assert_eq!(
        s.link_exchanged(&late, vec![exchanged()], NOW)
            .await
            .unwrap(),
        LinkOutcome::ParentRevoked
    );
    assert!(is_revoked(&s, &opaque(2)).await);
    // A revoked JWT parent, and one whose opaque row does not exist.
    assert!(s.revoke_jti("jp", "c1", NOW + 300, NOW).await.unwrap());
    for (child, parent) in [(jwt("jc"), jwt("jp")), (jwt("jd"), opaque(99))] {
        let l = link(child.clone(), parent, 1);
        assert_eq!(
            s.link_exchanged(&l, vec![exchanged()], NOW).await.unwrap(),
            LinkOutcome::ParentRevoked
        );
        assert!(is_revoked(&s, &child).await, "{child:?}");
    }
    assert_eq!(
        exchanged_events(&s).await,
        0,
        "no event for an exchange whose token never left"
    );
}

/// The race: exchanges of one subject token racing its revocation, from two nodes.
/// Whatever the interleaving, once the revocation has answered no child is live.
async fn links_racing_a_revocation_leave_no_live_child(env: Env) {
    let nodes = [env.store.clone(), env.open_again().await];
    clients(&nodes[0]).await;
    for (parent_kind, rounds) in [(TokenFormat::Opaque, 3u64), (TokenFormat::Jwt, 3)] {
        for round in 0..rounds {
            let parent = match parent_kind {
                TokenFormat::Opaque => {
                    let id = 1000 + round;
                    nodes[0].insert_token(token(id)).await.unwrap();
                    opaque(id)
                }
                TokenFormat::Jwt => jwt(&format!("race-{round}")),
            };
            let mut tasks = Vec::new();
            for i in 0..40u64 {
                let s = nodes[(i % 2) as usize].clone();
                let child = jwt(&format!("child-{parent_kind:?}-{round}-{i}"));
                let l = link(child.clone(), parent.clone(), 1);
                tasks.push(tokio::spawn(async move {
                    let outcome = s.link_exchanged(&l, vec![exchanged()], NOW).await.unwrap();
                    (child, outcome)
                }));
            }
            tokio::task::yield_now().await;
            let s = nodes[1].clone();
            match &parent.kind {
                TokenFormat::Opaque => {
                    assert!(
                        s.revoke_access_token(parent.id.parse().unwrap(), NOW)
                            .await
                            .unwrap()
                    )
                }
                TokenFormat::Jwt => {
                    assert!(
                        s.revoke_jti(&parent.id, "c1", NOW + 300, NOW)
                            .await
                            .unwrap()
                    )
                }
            }
            for t in tasks {
                let (child, _) = t.await.unwrap();
                assert!(
                    is_revoked(&nodes[0], &child).await,
                    "{child:?} is live after its parent's revocation"
                );
            }
        }
    }
}

async fn family_revocation_reaches_exchanged_tokens(env: Env) {
    let s = env.store;
    clients(&s).await;
    s.insert_authorization_code(code("c", "f")).await.unwrap();
    s.insert_token(token(7)).await.unwrap();
    let family_token = FamilyToken {
        kind: TokenFormat::Opaque,
        id: "7".into(),
        expires_at: NOW + 300,
    };
    assert!(s.link_family_token("f", &family_token, "c1").await.unwrap());
    let child = link(jwt("from-family"), opaque(7), 1);
    assert_eq!(
        s.link_exchanged(&child, vec![exchanged()], NOW)
            .await
            .unwrap(),
        LinkOutcome::Linked
    );
    assert!(s.revoke_family("f", NOW).await.unwrap());
    assert!(is_revoked(&s, &opaque(7)).await);
    assert!(is_revoked(&s, &jwt("from-family")).await);
}

async fn the_janitor_sweeps_links_once_their_token_expired(env: Env) {
    let s = env.store;
    chain(&s).await;
    // Every link expires at NOW + 300 (the exchanged token's expiry).
    assert_eq!(
        s.delete_expired(Expiring::TokenLineage, NOW + 299, 10)
            .await
            .unwrap(),
        0
    );
    assert_eq!(s.ancestors(&jwt("j2")).await.unwrap().len(), 3);
    assert_eq!(
        s.delete_expired(Expiring::TokenLineage, NOW + 300, 3)
            .await
            .unwrap(),
        3,
        "bounded"
    );
    assert_eq!(
        s.delete_expired(Expiring::TokenLineage, NOW + 300, 10)
            .await
            .unwrap(),
        1
    );
    assert!(s.ancestors(&jwt("j2")).await.unwrap().is_empty());
}

/// Resource servers cannot tell from an exchanged token which client issued the token it came
/// from, so a client disabled, deleted or given `tokens_not_before` revokes, in the same
/// transaction, what was exchanged from its tokens (and the feed carries it); a link from such a
/// token is refused.
async fn a_client_change_revokes_what_was_exchanged_from_its_tokens(env: Env) {
    let s = env.store;
    chain(&s).await;
    // agent1 revokes the tokens it was issued before NOW - 1 (j1 was, at NOW - 2).
    let mut c = s.get_client("agent1").await.unwrap().unwrap();
    c.tokens_not_before = Some(NOW - 1);
    c.updated_at = NOW;
    assert!(s.update_client(&c).await.unwrap());
    for t in [opaque(2), jwt("j2")] {
        assert!(is_revoked(&s, &t).await, "{t:?}");
    }
    assert!(
        !is_revoked(&s, &jwt("j1")).await,
        "j1's own row is judged by its client lazily"
    );
    assert!(!is_revoked(&s, &jwt("j3")).await);
    // agent0 deleted: what was exchanged from its tokens (j1, j3) goes.
    assert!(s.delete_client("agent0", NOW).await.unwrap());
    assert!(is_revoked(&s, &jwt("j1")).await);
    assert!(is_revoked(&s, &jwt("j3")).await);
    // A link from a token of a deleted or disabled client is refused at once.
    s.insert_token(token(8)).await.unwrap();
    let late = link(jwt("late"), opaque(8), 1);
    assert_eq!(
        s.link_exchanged(&late, vec![exchanged()], NOW)
            .await
            .unwrap(),
        LinkOutcome::ParentRevoked
    );
    let mut c = s.get_client("agent2").await.unwrap().unwrap();
    c.disabled = true;
    c.updated_at = NOW;
    assert!(s.update_client(&c).await.unwrap());
    let from_disabled = link(jwt("late2"), opaque(8), 3);
    assert_eq!(
        s.link_exchanged(&from_disabled, vec![exchanged()], NOW)
            .await
            .unwrap(),
        LinkOutcome::ParentRevoked
    );
}
