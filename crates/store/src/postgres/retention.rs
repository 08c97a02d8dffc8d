//! `RetentionStore` on PostgreSQL: each sweep is one `DELETE … WHERE key = ANY(ARRAY(SELECT …
//! LIMIT n FOR UPDATE SKIP LOCKED))` statement, found through the expiry index. `SKIP LOCKED`
//! lets janitors on several nodes take disjoint batches instead of queueing on each other's row
//! locks (or on a revocation's); a row another node already deleted is simply not found.
use async_trait::async_trait;
use tessera_core::store::{Expiring, RetentionStore, StoreResult};

use super::PgStore;

/// The column that identifies a row of `kind`'s table (`ctid` where the key has several columns).
fn key_column(kind: Expiring) -> &'static str {
    match kind {
        Expiring::AccessTokens => "id",
        Expiring::RevokedJtis => "jti",
        Expiring::ReplayGuards => "key",
        Expiring::AuthorizationCodes | Expiring::RefreshTokens | Expiring::RefreshSuccessors => {
            "hash"
        }
        Expiring::FamilyTokens | Expiring::TokenLineage => "ctid",
        Expiring::PendingAuthorizations => "id",
        Expiring::GrantFamilies => "id",
        Expiring::LoginFailures => "key",
    }
}

/// The bounded delete of one kind of expiring row: `$1` the cutoff, `$2` the batch size.
fn delete_sql(kind: Expiring) -> String {
    format!(
        "DELETE FROM {t} WHERE {k} = ANY(ARRAY(SELECT {k} FROM {t} \
         WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED))",
        t = kind.as_str(),
        k = key_column(kind)
    )
}

#[async_trait]
impl RetentionStore for PgStore {
    async fn delete_expired(&self, kind: Expiring, cutoff: u64, limit: u32) -> StoreResult<u64> {
        let cutoff = i64::try_from(cutoff).unwrap_or(i64::MAX);
        self.execute(&delete_sql(kind), &[&cutoff, &i64::from(limit)])
            .await
    }

    async fn delete_events_before(&self, cutoff_ms: u64, limit: u32) -> StoreResult<u64> {
        let cutoff = i64::try_from(cutoff_ms).unwrap_or(i64::MAX);
        self.execute(
            "DELETE FROM events WHERE id = ANY(ARRAY(SELECT id FROM events \
             WHERE time_ms < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))",
            &[&cutoff, &i64::from(limit)],
        )
        .await
    }
}
