//! `RetentionStore` on PostgreSQL: each sweep is one `DELETE … WHERE key = ANY(ARRAY(SELECT …
//! LIMIT n FOR UPDATE SKIP LOCKED))` statement, found through the expiry index. `SKIP LOCKED`
//! lets janitors on several nodes take disjoint batches instead of queueing on each other's row
//! locks (or on a revocation's); a row another node already deleted is simply not found.
use async_trait::async_trait;
use tessera_core::store::{Expiring, RetentionStore, StoreResult};

use super::PgStore;

/// The bounded delete of one kind of expiring row: `$1` the cutoff, `$2` the batch size.
fn delete_sql(kind: Expiring) -> &'static str {
    match kind {
        Expiring::AccessTokens => {
            "DELETE FROM access_tokens WHERE id = ANY(ARRAY(SELECT id FROM access_tokens \
             WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED))"
        }
        Expiring::RevokedJtis => {
            "DELETE FROM revoked_jtis WHERE jti = ANY(ARRAY(SELECT jti FROM revoked_jtis \
             WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED))"
        }
        Expiring::ReplayGuards => {
            "DELETE FROM replay_guards WHERE key = ANY(ARRAY(SELECT key FROM replay_guards \
             WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED))"
        }
        Expiring::AuthorizationCodes => {
            "DELETE FROM authorization_codes WHERE hash = ANY(ARRAY(SELECT hash FROM authorization_codes \
             WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED))"
        }
        Expiring::RefreshTokens => {
            "DELETE FROM refresh_tokens WHERE hash = ANY(ARRAY(SELECT hash FROM refresh_tokens \
             WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED))"
        }
        Expiring::FamilyTokens => {
            "DELETE FROM family_tokens WHERE ctid = ANY(ARRAY(SELECT ctid FROM family_tokens \
             WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED))"
        }
        Expiring::PendingAuthorizations => {
            "DELETE FROM pending_authorizations WHERE id = ANY(ARRAY(SELECT id FROM pending_authorizations \
             WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED))"
        }
    }
}

#[async_trait]
impl RetentionStore for PgStore {
    async fn delete_expired(&self, kind: Expiring, cutoff: u64, limit: u32) -> StoreResult<u64> {
        let cutoff = i64::try_from(cutoff).unwrap_or(i64::MAX);
        self.execute(delete_sql(kind), &[&cutoff, &i64::from(limit)])
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
