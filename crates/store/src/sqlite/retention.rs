//! `RetentionStore` on SQLite: each sweep is one `DELETE … WHERE rowid IN (SELECT … LIMIT n)`
//! statement in the writer's next batch, found through the expiry index, so it holds the write
//! lock for one bounded batch and never for a whole table.
use async_trait::async_trait;
use rusqlite::params;
use tessera_core::store::{Expiring, RetentionStore, StoreResult};

use super::SqliteStore;

/// The bounded delete of one kind of expiring row: `?1` the cutoff, `?2` the batch size. Every
/// expiring table has a rowid and an `expires_at` column, so the table name is all that differs.
fn delete_sql(kind: Expiring) -> String {
    format!(
        "DELETE FROM {t} WHERE rowid IN (SELECT rowid FROM {t} WHERE expires_at <= ?1 LIMIT ?2)",
        t = kind.as_str()
    )
}

#[async_trait]
impl RetentionStore for SqliteStore {
    async fn delete_expired(&self, kind: Expiring, cutoff: u64, limit: u32) -> StoreResult<u64> {
        let cutoff = i64::try_from(cutoff).unwrap_or(i64::MAX);
        self.writer
            .run_statement(move |conn| {
                conn.prepare_cached(&delete_sql(kind))?
                    .execute(params![cutoff, i64::from(limit)])
                    .map(|n| n as u64)
            })
            .await
    }

    async fn delete_events_before(&self, cutoff_ms: u64, limit: u32) -> StoreResult<u64> {
        let cutoff = i64::try_from(cutoff_ms).unwrap_or(i64::MAX);
        self.writer
            .run_statement(move |conn| {
                conn.prepare_cached(
                    "DELETE FROM events WHERE id IN \
                     (SELECT id FROM events WHERE time_ms < ?1 LIMIT ?2)",
                )?
                .execute(params![cutoff, i64::from(limit)])
                .map(|n| n as u64)
            })
            .await
    }
}
