//! `PendingAuthorizationStore` on SQLite: the login page's pending requests, capped in one
//! statement on the single writer.
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use tessera_core::store::{PendingAuthorizationStore, StoreResult};
use tessera_proto::SecretHash;

use super::SqliteStore;

#[async_trait]
impl PendingAuthorizationStore for SqliteStore {
    async fn insert_pending_authorization(
        &self,
        id: SecretHash,
        body: String,
        expires_at: u64,
        now: u64,
        max_live: u64,
    ) -> StoreResult<bool> {
        // One statement on the single writer: the count and the insert cannot interleave with
        // another insert.
        self.writer
            .run_statement(move |conn| {
                let n = conn
                    .prepare_cached(
                        "INSERT INTO pending_authorizations (id, body, expires_at) \
                         SELECT ?1, ?2, ?3 WHERE (SELECT count(*) FROM \
                           (SELECT 1 FROM pending_authorizations WHERE expires_at > ?4 LIMIT ?5)) < ?5",
                    )?
                    .execute(params![
                        id.as_bytes().as_slice(),
                        body,
                        expires_at as i64,
                        now as i64,
                        max_live.min(i64::MAX as u64) as i64
                    ])?;
                Ok(n == 1)
            })
            .await
    }

    async fn get_pending_authorization(
        &self,
        id: SecretHash,
        now: u64,
    ) -> StoreResult<Option<String>> {
        self.readers.with(|conn| {
            conn.prepare_cached(
                "SELECT body FROM pending_authorizations WHERE id = ?1 AND used_at IS NULL AND expires_at > ?2",
            )?
            .query_row(params![id.as_bytes().as_slice(), now as i64], |r| r.get(0))
            .optional()
        })
    }

    async fn consume_pending_authorization(&self, id: SecretHash, now: u64) -> StoreResult<bool> {
        self.writer
            .run_statement(move |conn| {
                let n = conn
                    .prepare_cached(
                        "UPDATE pending_authorizations SET used_at = ?2 \
                         WHERE id = ?1 AND used_at IS NULL AND expires_at > ?2",
                    )?
                    .execute(params![id.as_bytes().as_slice(), now as i64])?;
                Ok(n == 1)
            })
            .await
    }
}
