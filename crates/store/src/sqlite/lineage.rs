//! `LineageStore` on SQLite, and the cascade every revocation runs inside its own writer job.
//! The writer thread runs jobs one after another, so a link's check of its parent and a
//! revocation's walk of that parent's children can never interleave.
use async_trait::async_trait;
use rusqlite::{Connection, params};
use tessera_core::audit::AuditEvent;
use tessera_core::client::TokenFormat;
use tessera_core::store::{
    Ancestor, ExchangeLink, LineageStore, LineageToken, LinkOutcome, StoreResult,
};

use super::SqliteStore;
use super::grants::revoke_linked;

/// Chains are at most a handful of links deep (the exchange grant's depth limit); this bounds
/// the walk whatever the table holds.
const MAX_WALK: usize = 64;

/// Revokes every token exchanged from `(kind, id)`, down the chain, inside the caller's job: an
/// opaque row is marked revoked, a JWT's `jti` recorded (so the revocation feed carries each).
pub(super) fn cascade(conn: &Connection, kind: &str, id: &str, now: i64) -> rusqlite::Result<()> {
    let mut frontier = vec![(kind.to_string(), id.to_string())];
    for _ in 0..MAX_WALK {
        if frontier.is_empty() {
            break;
        }
        let mut next = Vec::new();
        for (k, i) in &frontier {
            let children: Vec<(String, String, String, i64)> = conn
                .prepare_cached(
                    "SELECT child_kind, child_id, client_id, expires_at FROM token_lineage \
                     WHERE parent_kind = ?1 AND parent_id = ?2",
                )?
                .query_map(params![k, i], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            for (ck, ci, client, exp) in children {
                revoke_linked(conn, &ck, &ci, &client, exp, now)?;
                next.push((ck, ci));
            }
        }
        frontier = next;
    }
    Ok(())
}

/// Revokes every token exchanged from a token of `client_id` that the client no longer allows —
/// all of them when it is disabled or deleted, those from tokens issued before `not_before`
/// otherwise — and what was exchanged from those in turn, inside the caller's job (the client
/// change's own). The revocation feed then carries them to resource servers, which cannot tell
/// from an exchanged token which client issued the token it came from.
pub(super) fn cascade_client(
    conn: &Connection,
    client_id: &str,
    disabled: bool,
    not_before: Option<i64>,
    now: i64,
) -> rusqlite::Result<()> {
    let children: Vec<(String, String, String, i64)> = conn
        .prepare_cached(
            "SELECT child_kind, child_id, client_id, expires_at FROM token_lineage \
             WHERE parent_client_id = ?1 AND expires_at > ?4 \
             AND (?2 OR parent_issued_at < ?3)",
        )?
        .query_map(
            params![client_id, disabled, not_before.unwrap_or(0), now],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    for (kind, id, client, exp) in children {
        revoke_linked(conn, &kind, &id, &client, exp, now)?;
        cascade(conn, &kind, &id, now)?;
    }
    Ok(())
}

/// Whether the parent's client still allows it: exists, enabled, and issued it no earlier than
/// its `tokens_not_before`.
fn client_allows(conn: &Connection, link: &ExchangeLink) -> rusqlite::Result<bool> {
    let row: Option<(bool, Option<i64>)> = conn
        .prepare_cached("SELECT disabled, tokens_not_before FROM clients WHERE id = ?1")?
        .query_row([&link.parent_client_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    Ok(row.is_some_and(|(disabled, nb)| {
        !disabled && nb.is_none_or(|t| link.parent_issued_at as i64 >= t)
    }))
}

/// Whether the token is revoked (an opaque token whose row is gone counts as revoked: the
/// janitor removes only expired rows).
fn is_revoked(conn: &Connection, token: &LineageToken) -> rusqlite::Result<bool> {
    match token.kind {
        TokenFormat::Opaque => {
            let Ok(id) = token.id.parse::<i64>() else {
                return Ok(true);
            };
            let row: Option<Option<i64>> = conn
                .prepare_cached("SELECT revoked_at FROM access_tokens WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })?;
            Ok(!matches!(row, Some(None)))
        }
        TokenFormat::Jwt => conn
            .prepare_cached("SELECT 1 FROM revoked_jtis WHERE jti = ?1")?
            .exists([&token.id]),
    }
}

#[async_trait]
impl LineageStore for SqliteStore {
    async fn link_exchanged(
        &self,
        link: &ExchangeLink,
        events: Vec<AuditEvent>,
        now: u64,
    ) -> StoreResult<LinkOutcome> {
        let link = link.clone();
        self.writer
            .run(move |conn| {
                let revoked = is_revoked(conn, &link.parent)? || !client_allows(conn, &link)?;
                conn.prepare_cached(
                    "INSERT INTO token_lineage (child_kind, child_id, parent_kind, parent_id, \
                     parent_client_id, parent_issued_at, client_id, depth, expires_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?
                .execute(params![
                    link.child.kind.as_str(),
                    link.child.id,
                    link.parent.kind.as_str(),
                    link.parent.id,
                    link.parent_client_id,
                    link.parent_issued_at as i64,
                    link.client_id,
                    link.depth,
                    link.expires_at as i64,
                ])?;
                if !revoked {
                    for event in &events {
                        super::events::insert(conn, event)?;
                    }
                    return Ok(LinkOutcome::Linked);
                }
                revoke_linked(
                    conn,
                    link.child.kind.as_str(),
                    &link.child.id,
                    &link.client_id,
                    link.expires_at as i64,
                    now as i64,
                )?;
                Ok(LinkOutcome::ParentRevoked)
            })
            .await
    }

    async fn ancestors(&self, token: &LineageToken) -> StoreResult<Vec<Ancestor>> {
        let sql = crate::lineage_sql::ANCESTORS.replace('$', "?");
        self.readers.with(|conn| {
            conn.prepare_cached(&sql)?
                .query_map(params![token.kind.as_str(), token.id], |r| {
                    let kind: String = r.get(0)?;
                    Ok(Ancestor {
                        token: LineageToken {
                            kind: TokenFormat::parse(&kind).ok_or_else(|| {
                                rusqlite::Error::InvalidColumnType(
                                    0,
                                    "parent_kind".into(),
                                    rusqlite::types::Type::Text,
                                )
                            })?,
                            id: r.get(1)?,
                        },
                        client_id: r.get(2)?,
                        issued_at: r.get::<_, i64>(3)? as u64,
                    })
                })?
                .collect()
        })
    }
}
