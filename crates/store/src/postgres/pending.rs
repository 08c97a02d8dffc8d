//! `PendingAuthorizationStore` on PostgreSQL: the login page's pending requests, their global
//! cap held by a transaction-scoped advisory lock.
use async_trait::async_trait;
use tessera_core::store::{PendingAuthorizationStore, StoreResult};
use tessera_proto::SecretHash;

use super::{PgStore, pool};

/// The advisory-lock key serialising inserts of pending authorizations (the global cap).
const PENDING_CAP_LOCK: i64 = 0x7465_7373_5041_4e44; // "tessPAND"
/// The first key of the per-client advisory locks serialising pushes (RFC 9126) of one client.
const PUSHED_CAP_LOCK: i32 = 0x7450_4152; // "tPAR"

#[async_trait]
impl PendingAuthorizationStore for PgStore {
    async fn insert_pending_authorization(
        &self,
        id: SecretHash,
        body: String,
        expires_at: u64,
        now: u64,
        max_live: u64,
    ) -> StoreResult<bool> {
        let mut conn = pool::get(&self.pool).await?;
        let run = async {
            let tx = conn.transaction().await?;
            // Inserts queue on one transaction-scoped advisory lock, and the count runs in a
            // statement after it (a fresh snapshot under READ COMMITTED), so it sees every
            // insert that committed before: concurrent requests cannot all pass the cap.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PENDING_CAP_LOCK])
                .await?;
            let n = tx
                .execute(
                    "INSERT INTO pending_authorizations (id, body, expires_at) \
                     SELECT $1, $2, $3 WHERE (SELECT count(*) FROM \
                       (SELECT 1 FROM pending_authorizations WHERE expires_at > $4 AND client_id IS NULL LIMIT $5) live) < $5",
                    &[
                        &id.as_bytes().as_slice(),
                        &body,
                        &(expires_at as i64),
                        &(now as i64),
                        &(max_live.min(i64::MAX as u64) as i64),
                    ],
                )
                .await?;
            tx.commit().await?;
            Ok(n == 1)
        };
        run.await.map_err(pool::map_err)
    }

    async fn get_pending_authorization(
        &self,
        id: SecretHash,
        now: u64,
    ) -> StoreResult<Option<String>> {
        Ok(self
            .query_opt(
                "SELECT body FROM pending_authorizations WHERE id = $1 AND used_at IS NULL AND expires_at > $2 \
                 AND client_id IS NULL",
                &[&id.as_bytes().as_slice(), &(now as i64)],
            )
            .await?
            .map(|r| r.get(0)))
    }

    async fn consume_pending_authorization(&self, id: SecretHash, now: u64) -> StoreResult<bool> {
        let n = self
            .execute(
                "UPDATE pending_authorizations SET used_at = $2 \
                 WHERE id = $1 AND used_at IS NULL AND expires_at > $2 AND client_id IS NULL",
                &[&id.as_bytes().as_slice(), &(now as i64)],
            )
            .await?;
        Ok(n == 1)
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
        let mut conn = pool::get(&self.pool).await?;
        let run = async {
            let tx = conn.transaction().await?;
            // One client's pushes queue on its own transaction-scoped advisory lock (keyed by a
            // hash of its id: a collision only serialises two clients), so the count that
            // follows sees every push that committed before it.
            tx.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                &[&PUSHED_CAP_LOCK, &client_id],
            )
            .await?;
            let n = tx
                .execute(
                    "INSERT INTO pending_authorizations (id, client_id, body, expires_at) \
                     SELECT $1, $2, $3, $4 WHERE (SELECT count(*) FROM \
                       (SELECT 1 FROM pending_authorizations \
                        WHERE client_id = $2 AND expires_at > $5 LIMIT $6) live) < $6",
                    &[
                        &id.as_bytes().as_slice(),
                        &client_id,
                        &body,
                        &(expires_at as i64),
                        &(now as i64),
                        &(max_per_client.min(i64::MAX as u64) as i64),
                    ],
                )
                .await?;
            tx.commit().await?;
            Ok(n == 1)
        };
        run.await.map_err(pool::map_err)
    }

    async fn take_pushed_authorization(
        &self,
        id: SecretHash,
        client_id: &str,
        now: u64,
    ) -> StoreResult<Option<String>> {
        Ok(self
            .query_opt(
                "UPDATE pending_authorizations SET used_at = $3 \
                 WHERE id = $1 AND client_id = $2 AND used_at IS NULL AND expires_at > $3 \
                 RETURNING body",
                &[&id.as_bytes().as_slice(), &client_id, &(now as i64)],
            )
            .await?
            .map(|r| r.get(0)))
    }
}
