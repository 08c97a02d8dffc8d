//! `TokenStore` on SQLite.
use std::ops::Range;

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use tessera_core::audit::AuditEvent;
use tessera_core::store::{
    AccessTokenRecord, FeedPosition, RevocationEntry, RevokedKind, StoreResult, TokenStore,
};
use tessera_proto::SecretHash;

use super::SqliteStore;

#[async_trait]
impl TokenStore for SqliteStore {
    async fn reserve_selectors(&self, count: u64) -> StoreResult<Range<u64>> {
        self.writer
            .run_statement(move |conn| {
                let end: i64 = conn
                    .prepare_cached("UPDATE selectors SET next = next + ?1 WHERE name = 'access_token' RETURNING next")?
                    .query_row([count as i64], |r| r.get(0))?;
                Ok((end as u64 - count)..end as u64)
            })
            .await
    }

    async fn insert_access_token(
        &self,
        t: AccessTokenRecord,
        issued: AuditEvent,
    ) -> StoreResult<()> {
        // Two statements in one job, made durable together by the batch's commit. Without a
        // savepoint (two more statements per token, measurable on this path): a refused row
        // is rolled back by SQLite on its own and the event is then not written; a refused event
        // takes its row back out, so neither is ever stored alone.
        let id = t.id as i64;
        self.writer
            .run_statement(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO access_tokens (id, hash, client_id, subject, scope, audience, issued_at, expires_at, cnf_jkt, cnf_x5t, act) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )?
                .execute(params![
                    t.id as i64,
                    t.hash.as_bytes().as_slice(),
                    t.client_id,
                    t.subject,
                    t.scope,
                    t.audience,
                    t.issued_at as i64,
                    t.expires_at as i64,
                    t.cnf_jkt,
                    t.cnf_x5t,
                    t.act.as_ref().map(crate::act_json::write),
                ])?;
                super::events::insert(conn, &issued).inspect_err(|_| {
                    let _ = conn
                        .prepare_cached("DELETE FROM access_tokens WHERE id = ?1")
                        .and_then(|mut s| s.execute([id]));
                })
            })
            .await
    }

    async fn get_access_token(&self, id: u64) -> StoreResult<Option<AccessTokenRecord>> {
        let Ok(key) = i64::try_from(id) else {
            return Ok(None);
        };
        self.readers.with(|conn| {
            conn.prepare_cached(
                "SELECT hash, client_id, subject, scope, audience, issued_at, expires_at, revoked_at, cnf_jkt, cnf_x5t, act \
                 FROM access_tokens WHERE id = ?1",
            )?
            .query_row([key], |r| {
                let hash: Vec<u8> = r.get(0)?;
                Ok(AccessTokenRecord {
                    id,
                    hash: SecretHash::from_bytes(&hash).unwrap_or(SecretHash::of(b"corrupt")),
                    client_id: r.get(1)?,
                    subject: r.get(2)?,
                    scope: r.get(3)?,
                    audience: r.get(4)?,
                    issued_at: r.get::<_, i64>(5)? as u64,
                    expires_at: r.get::<_, i64>(6)? as u64,
                    revoked_at: r.get::<_, Option<i64>>(7)?.map(|t| t as u64),
                    cnf_jkt: r.get(8)?,
                    cnf_x5t: r.get(9)?,
                    act: crate::act_json::read(r.get(10)?),
                })
            })
            .optional()
        })
    }

    async fn revoke_access_token(&self, id: u64, now: u64) -> StoreResult<bool> {
        self.writer
            .run(move |conn| {
                let n = conn
                    .prepare_cached("UPDATE access_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")?
                    .execute(params![id as i64, now as i64])?;
                // RFC 8693: every token exchanged from it goes too, in this same job.
                super::lineage::cascade(conn, "opaque", &id.to_string(), now as i64)?;
                Ok(n == 1)
            })
            .await
    }

    async fn revoke_jti(
        &self,
        jti: &str,
        client_id: &str,
        expires_at: u64,
        now: u64,
    ) -> StoreResult<bool> {
        let (jti, client_id) = (jti.to_string(), client_id.to_string());
        self.writer
            .run(move |conn| {
                let n = conn
                    .prepare_cached(
                        "INSERT INTO revoked_jtis (jti, client_id, expires_at, revoked_at) VALUES (?1, ?2, ?3, ?4) \
                         ON CONFLICT (jti) DO NOTHING",
                    )?
                    .execute(params![jti, client_id, expires_at as i64, now as i64])?;
                // RFC 8693: every token exchanged from it goes too, in this same job.
                super::lineage::cascade(conn, "jwt", &jti, now as i64)?;
                Ok(n == 1)
            })
            .await
    }

    async fn is_jti_revoked(&self, jti: &str) -> StoreResult<bool> {
        self.readers.with(|conn| {
            conn.prepare_cached("SELECT 1 FROM revoked_jtis WHERE jti = ?1")?
                .query_row([jti], |_| Ok(()))
                .optional()
                .map(|r| r.is_some())
        })
    }

    async fn list_revocations(
        &self,
        after: &FeedPosition,
        now: u64,
        limit: u32,
    ) -> StoreResult<Vec<RevocationEntry>> {
        let (kind, id) = crate::feed::sql_bounds(after);
        let (since, kind, id) = (after.revoked_at as i64, kind.to_string(), id.to_string());
        self.readers.with(|conn| {
            // Each branch is narrowed by its revoked_at index; the row-value comparison makes the
            // cursor exact among entries of one second (the feed's order is revoked_at, kind, id).
            let mut stmt = conn.prepare_cached(
                "SELECT kind, id, expires_at, revoked_at, not_before, disabled, hash FROM ( \
                 SELECT 'jwt' AS kind, jti AS id, expires_at, revoked_at, NULL AS not_before, 0 AS disabled, NULL AS hash \
                 FROM revoked_jtis WHERE revoked_at >= ?1 AND expires_at > ?4 \
                 UNION ALL \
                 SELECT 'opaque', CAST(id AS TEXT), expires_at, revoked_at, NULL, 0, hash FROM access_tokens \
                 WHERE revoked_at IS NOT NULL AND revoked_at >= ?1 AND expires_at > ?4 \
                 UNION ALL \
                 SELECT kind, id, expires_at, revoked_at, not_before, disabled, NULL FROM revocation_entries \
                 WHERE revoked_at >= ?1 AND (expires_at IS NULL OR expires_at > ?4)) \
                 WHERE (revoked_at, kind, id) > (?1, ?2, ?3) \
                 ORDER BY revoked_at, kind, id LIMIT ?5",
            )?;
            let rows = stmt.query_map(params![since, kind, id, now as i64, limit as i64], |r| {
                let kind: String = r.get(0)?;
                Ok(RevocationEntry {
                    kind: RevokedKind::parse(&kind).ok_or_else(|| {
                        rusqlite::Error::FromSqlConversionFailure(
                            0,
                            rusqlite::types::Type::Text,
                            format!("unknown revocation kind {kind:?}").into(),
                        )
                    })?,
                    // An opaque token's feed id is its public id (tessera_core::token_id), which
                    // sorts exactly as its selector does among the feed's ids.
                    id: match r.get::<_, Option<Vec<u8>>>(6)? {
                        None => r.get(1)?,
                        Some(hash) => {
                            let bad = |what: &str| {
                                rusqlite::Error::FromSqlConversionFailure(
                                    0,
                                    rusqlite::types::Type::Blob,
                                    format!("access_tokens.{what}").into(),
                                )
                            };
                            let selector: i64 = r.get::<_, String>(1)?.parse().map_err(|_| bad("id"))?;
                            let hash = SecretHash::from_bytes(&hash).ok_or_else(|| bad("hash"))?;
                            tessera_core::token_id::opaque(selector as u64, &hash)
                        }
                    },
                    expires_at: r.get::<_, Option<i64>>(2)?.map(|t| t as u64),
                    revoked_at: r.get::<_, i64>(3)? as u64,
                    not_before: r.get::<_, Option<i64>>(4)?.map(|t| t as u64),
                    disabled: r.get(5)?,
                })
            })?;
            rows.collect()
        })
    }

    async fn insert_replay_guard(&self, key: &str, expires_at: u64, now: u64) -> StoreResult<bool> {
        let key = key.to_string();
        self.writer
            .run_statement(move |conn| {
                // An expired guard may be reused (its proof could not be accepted anyway).
                let n = conn
                    .prepare_cached(
                        "INSERT INTO replay_guards (key, expires_at) VALUES (?1, ?2) \
                         ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at \
                         WHERE replay_guards.expires_at <= ?3",
                    )?
                    .execute(params![key, expires_at as i64, now as i64])?;
                Ok(n == 1)
            })
            .await
    }
}
