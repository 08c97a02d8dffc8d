//! The revocation feed (`TokenStore::list_revocations`): revoked JWTs and opaque tokens, client
//! entries written by client changes, and an exact cursor however many entries share a second.
use std::collections::HashSet;

use tessera_core::store::{FeedPosition, RevocationEntry, RevokedKind};

use crate::support::{Env, InsertToken, client, opaque_id, token};

conformance!(
    feed_lists_unexpired_revocations_after_a_position,
    a_position_is_exact_among_more_than_a_page_in_one_second,
    client_changes_that_revoke_tokens_are_feed_entries,
);

fn jwt(id: &str, expires_at: u64, revoked_at: u64) -> RevocationEntry {
    RevocationEntry {
        kind: RevokedKind::Jwt,
        id: id.into(),
        expires_at: Some(expires_at),
        revoked_at,
        not_before: None,
        disabled: false,
    }
}

fn client_entry(
    id: &str,
    revoked_at: u64,
    not_before: Option<u64>,
    disabled: bool,
) -> RevocationEntry {
    RevocationEntry {
        kind: RevokedKind::Client,
        id: id.into(),
        expires_at: None,
        revoked_at,
        not_before,
        disabled,
    }
}

async fn feed_lists_unexpired_revocations_after_a_position(env: Env) {
    let s = env.store;
    let start = FeedPosition::default();
    assert!(s.list_revocations(&start, 0, 100).await.unwrap().is_empty());
    let t = 1_700_000_000;
    s.revoke_jti("ja", "c1", t + 600, t + 10).await.unwrap();
    s.revoke_jti("jb", "c1", t + 20, t + 12).await.unwrap();
    let mut opaque = token(41);
    opaque.expires_at = t + 900;
    s.insert_token(opaque).await.unwrap();
    s.insert_token(token(42)).await.unwrap();
    s.revoke_access_token(41, t + 11).await.unwrap();
    let op = RevocationEntry {
        kind: RevokedKind::Opaque,
        id: opaque_id(&s, 41).await,
        expires_at: Some(t + 900),
        revoked_at: t + 11,
        not_before: None,
        disabled: false,
    };
    let all = s.list_revocations(&start, t, 100).await.unwrap();
    assert_eq!(
        all,
        vec![
            jwt("ja", t + 600, t + 10),
            op.clone(),
            jwt("jb", t + 20, t + 12)
        ]
    );
    // A second-only position includes that second; an entry's position excludes the entry.
    assert_eq!(
        s.list_revocations(&FeedPosition::at(t + 11), t, 100)
            .await
            .unwrap(),
        vec![op.clone(), jwt("jb", t + 20, t + 12)]
    );
    assert_eq!(
        s.list_revocations(&op.position(), t, 100).await.unwrap(),
        vec![jwt("jb", t + 20, t + 12)]
    );
    // Expired tokens drop out; the limit holds.
    assert_eq!(
        s.list_revocations(&start, t + 30, 100).await.unwrap(),
        vec![jwt("ja", t + 600, t + 10), op]
    );
    assert_eq!(s.list_revocations(&start, t, 1).await.unwrap().len(), 1);
    assert!(
        s.list_revocations(&FeedPosition::at(t + 13), t, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The first feed's cursor was a second with pages of 1000: more than a page in one second
/// stalled or skipped. Positions walk such a second exactly once, on both backends.
async fn a_position_is_exact_among_more_than_a_page_in_one_second(env: Env) {
    const PAGE: u32 = 1000;
    let s = env.store;
    let t = 1_700_000_000;
    let mut expected = HashSet::new();
    for i in 0..1100u64 {
        let jti = format!("j{i:05}");
        s.revoke_jti(&jti, "c1", t + 600, t).await.unwrap();
        expected.insert((RevokedKind::Jwt, jti));
    }
    for id in 1..=150u64 {
        s.insert_token(token(id)).await.unwrap();
        s.revoke_access_token(id, t).await.unwrap();
        expected.insert((RevokedKind::Opaque, opaque_id(&s, id).await));
    }
    // Ids whose text and numeric orders differ, and a client entry, in the same second.
    let mut c = client("same-second", 1);
    s.create_client(&c).await.unwrap();
    c.disabled = true;
    c.updated_at = t;
    s.update_client(&c).await.unwrap();
    expected.insert((RevokedKind::Client, "same-second".into()));
    s.revoke_jti("later", "c1", t + 600, t + 1).await.unwrap();

    let mut position = FeedPosition::at(t);
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = s.list_revocations(&position, t, PAGE).await.unwrap();
        pages += 1;
        assert!(pages <= 3, "the walk does not stall");
        for pair in page.windows(2) {
            assert!(pair[0].position() < pair[1].position(), "feed order");
        }
        if let Some(last) = page.last() {
            assert!(last.position() > position, "each page moves on");
            position = last.position();
        }
        seen.extend(page.iter().map(|e| (e.kind, e.id.clone(), e.revoked_at)));
        if (page.len() as u32) < PAGE {
            break;
        }
    }
    assert_eq!(pages, 2);
    let last = seen.pop().unwrap();
    assert_eq!(last, (RevokedKind::Jwt, "later".to_string(), t + 1));
    assert_eq!(seen.len(), expected.len(), "no entry twice");
    let seen: HashSet<_> = seen.into_iter().map(|(k, id, _)| (k, id)).collect();
    assert_eq!(seen, expected, "no entry skipped");
}

async fn client_changes_that_revoke_tokens_are_feed_entries(env: Env) {
    let s = env.store;
    let start = FeedPosition::default();
    let entries = async || s.list_revocations(&start, 0, 100).await.unwrap();
    let mut c = client("c", 100);
    c.tokens_not_before = None;
    s.create_client(&c).await.unwrap();
    // Changes that revoke nothing are no entry.
    c.name = "renamed".into();
    c.updated_at = 110;
    assert!(s.update_client(&c).await.unwrap());
    assert!(entries().await.is_empty());
    // Disabling, a new tokens_not_before, enabling: one entry, replaced by each change.
    c.disabled = true;
    c.updated_at = 120;
    s.update_client(&c).await.unwrap();
    assert_eq!(entries().await, vec![client_entry("c", 120, None, true)]);
    c.disabled = false;
    c.tokens_not_before = Some(131);
    c.updated_at = 130;
    s.update_client(&c).await.unwrap();
    assert_eq!(
        entries().await,
        vec![client_entry("c", 130, Some(131), false)]
    );
    // A later position sees the change again only when it is newer.
    let seen = client_entry("c", 130, Some(131), false).position();
    assert!(s.list_revocations(&seen, 0, 100).await.unwrap().is_empty());
    // Deleting: every token refused, stamped with the deletion time.
    assert!(s.delete_client("c", 140).await.unwrap());
    assert_eq!(entries().await, vec![client_entry("c", 140, None, true)]);
    assert!(!s.delete_client("c", 150).await.unwrap());
    assert_eq!(entries().await, vec![client_entry("c", 140, None, true)]);
    // The id registered again: its new tokens are valid, the deleted client's are not.
    let again = client("c", 160);
    s.create_client(&again).await.unwrap();
    assert_eq!(
        entries().await,
        vec![client_entry("c", 160, Some(160), false)]
    );
    // A client that was never revoked gets no entry when created.
    s.create_client(&client("fresh", 170)).await.unwrap();
    assert_eq!(entries().await.len(), 1);
}
