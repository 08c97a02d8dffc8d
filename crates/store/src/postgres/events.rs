//! `EventStore` on PostgreSQL: `record_event` is a channel send; one background task writes what
//! has queued as one multi-row insert, batch after batch in queue order.
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::Pool;
use tessera_core::audit::AuditEvent;
use tessera_core::error::StoreError;
use tessera_core::store::{EventStore, StoreResult};

use super::writer::dup;
use super::{PgStore, pool};

/// Waits between attempts to write a batch while PostgreSQL is unreachable (a restart): the
/// events stay queued that long before they are dropped with an error in the log.
const RETRY_DELAYS_MS: [u64; 4] = [100, 500, 1500, 3000];

/// Events keep their queue order inside a batch (`WITH ORDINALITY … ORDER BY`), and the
/// transaction-scoped advisory lock makes batches from different nodes commit in id order, so a
/// reader paging with `after = last id seen` never skips an event that commits late with a
/// smaller id.
const INSERT: &str = "INSERT INTO events (time_ms, type, client_id, token_id, body) \
    SELECT t, k, c, i, b FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[]) \
    WITH ORDINALITY AS u(t, k, c, i, b, n) ORDER BY n";
const LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtextextended('tessera.events:' || current_schema(), 0))";

/// Writes one batch, retrying while the server is unreachable.
pub(super) async fn insert_batch(pool: Pool, events: Vec<AuditEvent>) -> Vec<StoreResult<()>> {
    let mut attempt = 0;
    let result = loop {
        match try_insert(&pool, &events).await {
            Err(StoreError::Unavailable(e)) if attempt < RETRY_DELAYS_MS.len() => {
                tokio::time::sleep(Duration::from_millis(RETRY_DELAYS_MS[attempt])).await;
                attempt += 1;
                tracing::warn!(error = %e, attempt, "writing audit events failed; retrying");
            }
            other => break other,
        }
    };
    if let Err(e) = &result {
        tracing::error!(error = %e, lost = events.len(), "audit events could not be written");
    }
    events
        .iter()
        .map(|_| result.as_ref().map(|_| ()).map_err(dup))
        .collect()
}

async fn try_insert(pool: &Pool, events: &[AuditEvent]) -> StoreResult<()> {
    let mut conn = pool::get(pool).await?;
    let times: Vec<i64> = events.iter().map(|e| e.time_ms as i64).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.name()).collect();
    let clients: Vec<Option<&str>> = events.iter().map(|e| e.client_id.as_deref()).collect();
    let tokens: Vec<Option<&str>> = events.iter().map(|e| e.token_id.as_deref()).collect();
    let bodies: Vec<String> = events.iter().map(AuditEvent::to_json).collect();
    let run = async {
        let tx = conn.transaction().await?;
        tx.batch_execute(LOCK).await?;
        let stmt = tx.prepare_cached(INSERT).await?;
        tx.execute(&stmt, &[&times, &kinds, &clients, &tokens, &bodies])
            .await?;
        tx.commit().await
    };
    run.await.map_err(pool::map_err)
}

#[async_trait]
impl EventStore for PgStore {
    async fn record_event(&self, event: AuditEvent) {
        if !self.events.queue(event).await {
            tracing::error!("event writer stopped; an audit event was lost");
        }
    }

    async fn list_events(&self, after: i64, limit: u32) -> StoreResult<Vec<(i64, AuditEvent)>> {
        let rows = self
            .query(
                "SELECT id, body FROM events WHERE id > $1 ORDER BY id LIMIT $2",
                &[&after, &i64::from(limit)],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get(0).map_err(pool::map_err)?;
                let body: &str = r.try_get(1).map_err(pool::map_err)?;
                let event = serde_json::from_str(body)
                    .map_err(|e| StoreError::Backend(format!("corrupt event {id}: {e}")))?;
                Ok((id, event))
            })
            .collect()
    }

    async fn flush_events(&self) -> StoreResult<()> {
        self.events.flush().await
    }
}
