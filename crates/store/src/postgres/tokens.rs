//! `TokenStore` on PostgreSQL. Opaque-token inserts are group-committed: many requests' rows go
//! in one `INSERT … SELECT FROM unnest(…)`, their `token.issued` events in the same transaction,
//! and each request is answered after that commit.
use std::ops::Range;

use async_trait::async_trait;
use deadpool_postgres::Pool;
use tessera_core::audit::AuditEvent;
use tessera_core::error::StoreError;
use tessera_core::store::{
    AccessTokenRecord, FeedPosition, RevocationEntry, RevokedKind, StoreResult, TokenStore,
};
use tessera_proto::SecretHash;

use super::writer::dup;
use super::{PgStore, corrupt, events, pool};

const INSERT_ONE: &str = "INSERT INTO access_tokens \
    (id, hash, client_id, subject, scope, audience, issued_at, expires_at, cnf_jkt, cnf_x5t, act) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

const INSERT_MANY: &str = "INSERT INTO access_tokens \
    (id, hash, client_id, subject, scope, audience, issued_at, expires_at, cnf_jkt, cnf_x5t, act) \
    SELECT * FROM unnest($1::BIGINT[], $2::BYTEA[], $3::TEXT[], $4::TEXT[], $5::TEXT[], \
    $6::TEXT[], $7::BIGINT[], $8::BIGINT[], $9::TEXT[], $10::TEXT[], $11::TEXT[])";

/// An opaque token's row and the `token.issued` event that reports it: written in one
/// transaction.
pub(super) type Issued = (AccessTokenRecord, AuditEvent);

/// Writes one batch of tokens in one statement, and their events, in one transaction: a row is
/// never committed without its event, nor an event without its row. The events' ordering lock
/// is taken last, so it is held only for the event insert and the commit. If the batch is
/// refused for a reason other than an unreachable server (a duplicate selector, say), the
/// tokens are retried one by one so a bad row fails alone, as a failing job does in the SQLite
/// writer.
pub(super) async fn insert_batch(pool: Pool, batch: Vec<Issued>) -> Vec<StoreResult<()>> {
    let n = batch.len();
    let all = |r: StoreResult<()>| match r {
        Ok(()) => (0..n).map(|_| Ok(())).collect(),
        Err(e) => (0..n).map(|_| Err(dup(&e))).collect(),
    };
    let mut conn = match pool::get(&pool).await {
        Ok(c) => c,
        Err(e) => return all(Err(e)),
    };
    let many = async {
        let tx = conn.transaction().await?;
        let stmt = tx.prepare_cached(INSERT_MANY).await?;
        let tokens = || batch.iter().map(|(t, _)| t);
        let ids: Vec<i64> = tokens().map(|t| t.id as i64).collect();
        let hashes: Vec<&[u8]> = tokens().map(|t| t.hash.as_bytes().as_slice()).collect();
        let clients: Vec<&str> = tokens().map(|t| t.client_id.as_str()).collect();
        let subjects: Vec<&str> = tokens().map(|t| t.subject.as_str()).collect();
        let scopes: Vec<&str> = tokens().map(|t| t.scope.as_str()).collect();
        let audiences: Vec<Option<&str>> = tokens().map(|t| t.audience.as_deref()).collect();
        let issued: Vec<i64> = tokens().map(|t| t.issued_at as i64).collect();
        let expires: Vec<i64> = tokens().map(|t| t.expires_at as i64).collect();
        let jkts: Vec<Option<&str>> = tokens().map(|t| t.cnf_jkt.as_deref()).collect();
        let x5ts: Vec<Option<&str>> = tokens().map(|t| t.cnf_x5t.as_deref()).collect();
        let acts: Vec<Option<String>> = tokens()
            .map(|t| t.act.as_ref().map(crate::act_json::write))
            .collect();
        tx.execute(
            &stmt,
            &[
                &ids, &hashes, &clients, &subjects, &scopes, &audiences, &issued, &expires, &jkts,
                &x5ts, &acts,
            ],
        )
        .await?;
        events::append(&tx, batch.iter().map(|(_, e)| e)).await?;
        tx.commit().await
    };
    match many.await.map_err(pool::map_err) {
        Ok(()) => all(Ok(())),
        Err(e @ StoreError::Unavailable(_)) => all(Err(e)),
        Err(e) if n == 1 => all(Err(e)),
        Err(_) => {
            let mut results = Vec::with_capacity(n);
            for item in &batch {
                results.push(insert_one(&mut conn, item).await);
            }
            results
        }
    }
}

async fn insert_one(conn: &mut deadpool_postgres::Client, (t, event): &Issued) -> StoreResult<()> {
    let run = async {
        let tx = conn.transaction().await?;
        let stmt = tx.prepare_cached(INSERT_ONE).await?;
        tx.execute(
            &stmt,
            &[
                &(t.id as i64),
                &t.hash.as_bytes().as_slice(),
                &t.client_id,
                &t.subject,
                &t.scope,
                &t.audience,
                &(t.issued_at as i64),
                &(t.expires_at as i64),
                &t.cnf_jkt,
                &t.cnf_x5t,
                &t.act.as_ref().map(crate::act_json::write),
            ],
        )
        .await?;
        events::append(&tx, std::iter::once(event)).await?;
        tx.commit().await
    };
    run.await.map_err(pool::map_err)
}

#[async_trait]
impl TokenStore for PgStore {
    async fn reserve_selectors(&self, count: u64) -> StoreResult<Range<u64>> {
        // One UPDATE … RETURNING: the row lock makes concurrent reservations, from any node,
        // take disjoint blocks.
        let count = i64::try_from(count)
            .map_err(|_| StoreError::Backend("selector block too large".into()))?;
        let row = self
            .query_opt(
                "UPDATE selectors SET next = next + $1 WHERE name = 'access_token' RETURNING next",
                &[&count],
            )
            .await?
            .ok_or_else(|| corrupt("selectors", "name"))?;
        let end: i64 = row.try_get(0).map_err(pool::map_err)?;
        Ok((end - count) as u64..end as u64)
    }

    async fn insert_access_token(
        &self,
        token: AccessTokenRecord,
        issued: AuditEvent,
    ) -> StoreResult<()> {
        self.tokens.write((token, issued)).await
    }

    async fn get_access_token(&self, id: u64) -> StoreResult<Option<AccessTokenRecord>> {
        let Ok(key) = i64::try_from(id) else {
            return Ok(None);
        };
        let Some(r) = self
            .query_opt(
                "SELECT hash, client_id, subject, scope, audience, issued_at, expires_at, revoked_at, \
                 cnf_jkt, cnf_x5t, act FROM access_tokens WHERE id = $1",
                &[&key],
            )
            .await?
        else {
            return Ok(None);
        };
        let get = |e| pool::map_err(e);
        let hash: &[u8] = r.try_get(0).map_err(get)?;
        Ok(Some(AccessTokenRecord {
            id,
            hash: SecretHash::from_bytes(hash).ok_or_else(|| corrupt("access_tokens", "hash"))?,
            client_id: r.try_get(1).map_err(get)?,
            subject: r.try_get(2).map_err(get)?,
            scope: r.try_get(3).map_err(get)?,
            audience: r.try_get(4).map_err(get)?,
            issued_at: r.try_get::<_, i64>(5).map_err(get)? as u64,
            expires_at: r.try_get::<_, i64>(6).map_err(get)? as u64,
            revoked_at: r
                .try_get::<_, Option<i64>>(7)
                .map_err(get)?
                .map(|t| t as u64),
            cnf_jkt: r.try_get(8).map_err(get)?,
            cnf_x5t: r.try_get(9).map_err(get)?,
            act: crate::act_json::read(r.try_get(10).map_err(get)?),
        }))
    }

    async fn revoke_access_token(&self, id: u64, now: u64) -> StoreResult<bool> {
        let Ok(key) = i64::try_from(id) else {
            return Ok(false);
        };
        // Under READ COMMITTED a concurrent revocation waits for the row lock, then re-checks
        // `revoked_at IS NULL` against the committed row: exactly one caller sees `true`. The
        // tokens exchanged from it are revoked in the same transaction.
        let mut conn = pool::get(&self.pool).await?;
        let run = async {
            let tx = conn.transaction().await?;
            let n = tx
                .execute(
                    "UPDATE access_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                    &[&key, &(now as i64)],
                )
                .await?;
            super::lineage::cascade(&tx, "opaque", &id.to_string(), now as i64).await?;
            tx.commit().await?;
            Ok(n == 1)
        };
        run.await.map_err(pool::map_err)
    }

    async fn revoke_jti(
        &self,
        jti: &str,
        client_id: &str,
        expires_at: u64,
        now: u64,
    ) -> StoreResult<bool> {
        // ON CONFLICT DO NOTHING: of concurrent revocations of one jti exactly one inserts. The
        // tokens exchanged from it are revoked in the same transaction.
        let mut conn = pool::get(&self.pool).await?;
        let run = async {
            let tx = conn.transaction().await?;
            let n = tx
                .execute(
                    "INSERT INTO revoked_jtis (jti, client_id, expires_at, revoked_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (jti) DO NOTHING",
                    &[&jti, &client_id, &(expires_at as i64), &(now as i64)],
                )
                .await?;
            super::lineage::cascade(&tx, "jwt", jti, now as i64).await?;
            tx.commit().await?;
            Ok(n == 1)
        };
        run.await.map_err(pool::map_err)
    }

    async fn is_jti_revoked(&self, jti: &str) -> StoreResult<bool> {
        Ok(self
            .query_opt("SELECT 1 FROM revoked_jtis WHERE jti = $1", &[&jti])
            .await?
            .is_some())
    }

    async fn list_revocations(
        &self,
        after: &FeedPosition,
        now: u64,
        limit: u32,
    ) -> StoreResult<Vec<RevocationEntry>> {
        let (kind, id) = crate::feed::sql_bounds(after);
        // Each branch is narrowed by its revoked_at index; the row-value comparison makes the
        // cursor exact among entries of one second. COLLATE "C": byte order, as in SQLite, so a
        // cursor means the same on both backends.
        let rows = self
            .query(
                "SELECT kind, id, expires_at, revoked_at, not_before, disabled, hash FROM ( \
                 SELECT 'jwt'::TEXT AS kind, jti AS id, expires_at, revoked_at, NULL::BIGINT AS not_before, \
                 FALSE AS disabled, NULL::BYTEA AS hash FROM revoked_jtis WHERE revoked_at >= $1 AND expires_at > $4 \
                 UNION ALL \
                 SELECT 'opaque', id::TEXT, expires_at, revoked_at, NULL, FALSE, hash FROM access_tokens \
                 WHERE revoked_at IS NOT NULL AND revoked_at >= $1 AND expires_at > $4 \
                 UNION ALL \
                 SELECT kind, id, expires_at, revoked_at, not_before, disabled, NULL FROM revocation_entries \
                 WHERE revoked_at >= $1 AND (expires_at IS NULL OR expires_at > $4)) feed \
                 WHERE (revoked_at, kind COLLATE \"C\", id COLLATE \"C\") > ($1, $2::TEXT COLLATE \"C\", $3::TEXT COLLATE \"C\") \
                 ORDER BY revoked_at, kind COLLATE \"C\", id COLLATE \"C\" LIMIT $5",
                &[
                    &(after.revoked_at as i64),
                    &kind,
                    &id,
                    &(now as i64),
                    &(limit as i64),
                ],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(RevocationEntry {
                    kind: RevokedKind::parse(r.get::<_, &str>(0))
                        .ok_or_else(|| corrupt("revocation_entries", "kind"))?,
                    id: public_id(r.get(1), r.get::<_, Option<&[u8]>>(6))?,
                    expires_at: r.get::<_, Option<i64>>(2).map(|t| t as u64),
                    revoked_at: r.get::<_, i64>(3) as u64,
                    not_before: r.get::<_, Option<i64>>(4).map(|t| t as u64),
                    disabled: r.get(5),
                })
            })
            .collect()
    }

    async fn insert_replay_guard(&self, key: &str, expires_at: u64, now: u64) -> StoreResult<bool> {
        // One statement: of concurrent inserts of one key, from any node, one inserts and the
        // others find its row and (it not having expired) change nothing. An expired guard may
        // be reused (its proof could not be accepted anyway).
        let n = self
            .execute(
                "INSERT INTO replay_guards (key, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at \
                 WHERE replay_guards.expires_at <= $3",
                &[&key, &(expires_at as i64), &(now as i64)],
            )
            .await?;
        Ok(n == 1)
    }
}

/// An opaque token's feed id is its public id (`tessera_core::token_id`), which sorts exactly
/// as its selector does among the feed's ids, so cursors keep their meaning.
fn public_id(id: String, hash: Option<&[u8]>) -> StoreResult<String> {
    let Some(hash) = hash else { return Ok(id) };
    let selector = id.parse().map_err(|_| corrupt("access_tokens", "id"))?;
    let hash = SecretHash::from_bytes(hash).ok_or_else(|| corrupt("access_tokens", "hash"))?;
    Ok(tessera_core::token_id::opaque(selector, &hash))
}
