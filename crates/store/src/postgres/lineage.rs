//! `LineageStore` on PostgreSQL, and the cascade every revocation runs in its own transaction.
//!
//! Under READ COMMITTED a link and a revocation of the same parent could each miss the other's
//! uncommitted row. Both therefore take a transaction-scoped advisory lock named after the
//! parent token before reading: the link checks the parent's revocation after the lock, and the
//! revocation reads the parent's children after it, so whichever commits second sees the first.
//! The cascade takes each descendant's lock before reading its children in turn.
use async_trait::async_trait;
use deadpool_postgres::Transaction;
use tessera_core::audit::AuditEvent;
use tessera_core::client::TokenFormat;
use tessera_core::store::{
    Ancestor, ExchangeLink, LineageStore, LineageToken, LinkOutcome, StoreResult,
};

use super::grants::revoke_linked;
use super::{PgStore, corrupt, pool};

/// See the SQLite backend: bounds the walk whatever the table holds.
const MAX_WALK: usize = 64;

/// Takes the lineage lock of one token until the transaction ends.
async fn lock(tx: &Transaction<'_>, kind: &str, id: &str) -> Result<(), tokio_postgres::Error> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&format!("tessera.lineage:{kind}:{id}")],
    )
    .await
    .map(drop)
}

/// Revokes every token exchanged from `(kind, id)`, down the chain, inside the caller's
/// transaction (which has revoked `(kind, id)` itself, or is about to).
pub(super) async fn cascade(
    tx: &Transaction<'_>,
    kind: &str,
    id: &str,
    now: i64,
) -> Result<(), tokio_postgres::Error> {
    lock(tx, kind, id).await?;
    let mut frontier = vec![(kind.to_string(), id.to_string())];
    for _ in 0..MAX_WALK {
        if frontier.is_empty() {
            break;
        }
        let mut next = Vec::new();
        for (k, i) in &frontier {
            let children = tx
                .query(
                    "SELECT child_kind, child_id, client_id, expires_at FROM token_lineage \
                     WHERE parent_kind = $1 AND parent_id = $2",
                    &[k, i],
                )
                .await?;
            for r in &children {
                let (ck, ci): (String, String) = (r.get(0), r.get(1));
                lock(tx, &ck, &ci).await?;
                revoke_linked(tx, &ck, &ci, r.get(2), r.get(3), now).await?;
                next.push((ck, ci));
            }
        }
        frontier = next;
    }
    Ok(())
}

/// See the SQLite backend's `cascade_client`: inside the client change's transaction, which
/// holds the client row's lock (so a link from one of its tokens either committed before and is
/// seen here, or waits and sees the change).
pub(super) async fn cascade_client(
    tx: &Transaction<'_>,
    client_id: &str,
    disabled: bool,
    not_before: Option<i64>,
    now: i64,
) -> Result<(), tokio_postgres::Error> {
    let children = tx
        .query(
            "SELECT child_kind, child_id, client_id, expires_at FROM token_lineage \
             WHERE parent_client_id = $1 AND expires_at > $4 \
             AND ($2 OR parent_issued_at < $3)",
            &[&client_id, &disabled, &not_before.unwrap_or(0), &now],
        )
        .await?;
    for r in &children {
        let (kind, id): (String, String) = (r.get(0), r.get(1));
        lock(tx, &kind, &id).await?;
        revoke_linked(tx, &kind, &id, r.get(2), r.get(3), now).await?;
        cascade(tx, &kind, &id, now).await?;
    }
    Ok(())
}

/// Whether the parent's client still allows it; the row is share-locked against a concurrent
/// client change until this transaction ends.
async fn client_allows(
    tx: &Transaction<'_>,
    link: &ExchangeLink,
) -> Result<bool, tokio_postgres::Error> {
    let row = tx
        .query_opt(
            "SELECT disabled, tokens_not_before FROM clients WHERE id = $1 FOR SHARE",
            &[&link.parent_client_id],
        )
        .await?;
    Ok(row.is_some_and(|r| {
        let (disabled, nb): (bool, Option<i64>) = (r.get(0), r.get(1));
        !disabled && nb.is_none_or(|t| link.parent_issued_at as i64 >= t)
    }))
}

async fn is_revoked(
    tx: &Transaction<'_>,
    token: &LineageToken,
) -> Result<bool, tokio_postgres::Error> {
    Ok(match token.kind {
        TokenFormat::Opaque => {
            let Ok(id) = token.id.parse::<i64>() else {
                return Ok(true);
            };
            let row = tx
                .query_opt("SELECT revoked_at FROM access_tokens WHERE id = $1", &[&id])
                .await?;
            !matches!(row.map(|r| r.get::<_, Option<i64>>(0)), Some(None))
        }
        TokenFormat::Jwt => tx
            .query_opt("SELECT 1 FROM revoked_jtis WHERE jti = $1", &[&token.id])
            .await?
            .is_some(),
    })
}

#[async_trait]
impl LineageStore for PgStore {
    async fn link_exchanged(
        &self,
        link: &ExchangeLink,
        events: Vec<AuditEvent>,
        now: u64,
    ) -> StoreResult<LinkOutcome> {
        let mut conn = pool::get(&self.pool).await?;
        let run = async {
            let tx = conn.transaction().await?;
            let (pk, ck) = (link.parent.kind.as_str(), link.child.kind.as_str());
            lock(&tx, pk, &link.parent.id).await?;
            let revoked = is_revoked(&tx, &link.parent).await? || !client_allows(&tx, link).await?;
            tx.execute(
                "INSERT INTO token_lineage (child_kind, child_id, parent_kind, parent_id, \
                 parent_client_id, parent_issued_at, client_id, depth, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &ck,
                    &link.child.id,
                    &pk,
                    &link.parent.id,
                    &link.parent_client_id,
                    &(link.parent_issued_at as i64),
                    &link.client_id,
                    &(link.depth as i32),
                    &(link.expires_at as i64),
                ],
            )
            .await?;
            if revoked {
                let exp = link.expires_at as i64;
                revoke_linked(&tx, ck, &link.child.id, &link.client_id, exp, now as i64).await?;
            } else {
                super::events::append(&tx, events.iter()).await?;
            }
            tx.commit().await?;
            Ok(if revoked {
                LinkOutcome::ParentRevoked
            } else {
                LinkOutcome::Linked
            })
        };
        run.await.map_err(pool::map_err)
    }

    async fn ancestors(&self, token: &LineageToken) -> StoreResult<Vec<Ancestor>> {
        let rows = self
            .query(
                crate::lineage_sql::ANCESTORS,
                &[&token.kind.as_str(), &token.id],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get(0).map_err(pool::map_err)?;
                Ok(Ancestor {
                    token: LineageToken {
                        kind: TokenFormat::parse(&kind)
                            .ok_or_else(|| corrupt("token_lineage", "parent_kind"))?,
                        id: r.try_get(1).map_err(pool::map_err)?,
                    },
                    client_id: r.try_get(2).map_err(pool::map_err)?,
                    issued_at: r.try_get::<_, i64>(3).map_err(pool::map_err)? as u64,
                })
            })
            .collect()
    }
}
