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
                           (SELECT 1 FROM pending_authorizations WHERE expires_at > ?4 AND client_id IS NULL LIMIT ?5)) < ?5",
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
                "SELECT body FROM pending_authorizations WHERE id = ?1 AND used_at IS NULL AND expires_at > ?2 \
                 AND client_id IS NULL",
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
                         WHERE id = ?1 AND used_at IS NULL AND expires_at > ?2 AND client_id IS NULL",
                    )?
                    .execute(params![id.as_bytes().as_slice(), now as i64])?;
                Ok(n == 1)
            })
            .await
    }

    async fn insert_pushed_authorization(
        &self,
        id: SecretHash,
        client_id: &str,
        body: String,
        expires_at: u64,
        now: u64,
        max_per_client: u64,
    ) -> StoreResult<bool> {
        let client_id = client_id.to_string();
        // One statement on the single writer, as for the login forms: the per-client count and
        // the insert cannot interleave with another push.
        self.writer
            .run_statement(move |conn| {
                let n = conn
                    .prepare_cached(
                        "INSERT INTO pending_authorizations (id, client_id, body, expires_at) \
                         SELECT ?1, ?2, ?3, ?4 WHERE (SELECT count(*) FROM \
                           (SELECT 1 FROM pending_authorizations \
                            WHERE client_id = ?2 AND expires_at > ?5 LIMIT ?6)) < ?6",
                    )?
                    .execute(params![
                        id.as_bytes().as_slice(),
                        client_id,
                        body,
                        expires_at as i64,
                        now as i64,
                        max_per_client.min(i64::MAX as u64) as i64
                    ])?;
                Ok(n == 1)
            })
            .await
    }

    async fn take_pushed_authorization(
        &self,
        id: SecretHash,
        client_id: &str,
        now: u64,
    ) -> StoreResult<Option<String>> {
        let client_id = client_id.to_string();
        self.writer
            .run_statement(move |conn| {
                conn.prepare_cached(
                    "UPDATE pending_authorizations SET used_at = ?3 \
                     WHERE id = ?1 AND client_id = ?2 AND used_at IS NULL AND expires_at > ?3 \
                     RETURNING body",
                )?
                .query_row(
                    params![id.as_bytes().as_slice(), client_id, now as i64],
                    |r| r.get(0),
                )
                .optional()
            })
            .await
    }
}
