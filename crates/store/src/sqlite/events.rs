//! `EventStore` on SQLite: events ride the writer's batches. An event no response reports costs
//! its caller a channel send; a durable one (issuance, revocation) waits for the batch's commit,
//! shared with every other request in that batch.
use async_trait::async_trait;
use rusqlite::{Connection, params};
use tessera_core::audit::AuditEvent;
use tessera_core::store::{EventStore, StoreResult};

use super::SqliteStore;

/// Appends `e` to the audit trail (one statement, inside the writer's current batch).
pub(super) fn insert(conn: &Connection, e: &AuditEvent) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO events (time_ms, type, client_id, token_id, body) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        e.time_ms as i64,
        e.kind.name(),
        e.client_id,
        e.token_id,
        e.to_json()
    ])?;
    Ok(())
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn record_event(&self, e: AuditEvent) {
        self.writer.detached(move |conn| insert(conn, &e)).await
    }

    async fn record_event_durable(&self, e: AuditEvent) -> StoreResult<()> {
        self.writer
            .run_statement(move |conn| insert(conn, &e))
            .await
    }

    async fn list_events(&self, after: i64, limit: u32) -> StoreResult<Vec<(i64, AuditEvent)>> {
        self.readers.with(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT id, body FROM events WHERE id > ?1 ORDER BY id LIMIT ?2")?;
            stmt.query_map(params![after, limit], |r| {
                let body: String = r.get(1)?;
                let event = serde_json::from_str(&body).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        1,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })?;
                Ok((r.get(0)?, event))
            })?
            .collect()
        })
    }

    async fn flush_events(&self) -> StoreResult<()> {
        self.writer.run(|_| Ok(())).await
    }
}
