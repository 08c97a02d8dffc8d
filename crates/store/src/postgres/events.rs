//! `EventStore` on PostgreSQL: `record_event` is a channel send; one background task writes what
//! has queued as one multi-row insert, batch after batch in queue order. `record_event_durable`
//! is group-committed the same way by a second task, without retries, and returns after its
//! batch's commit.
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Pool, Transaction};
use tessera_core::audit::AuditEvent;
use tessera_core::error::StoreError;
use tessera_core::store::{EventStore, StoreResult};

use super::writer::dup;
use super::{PgStore, pool};

/// Waits between attempts to write a batch of queued events while PostgreSQL is unreachable (a
/// restart): the events stay queued that long before they are dropped with an error in the log.
pub(super) const RETRY_DELAYS_MS: &[u64] = &[100, 500, 1500, 3000];
/// Durable events are not retried: a request waits for them, and fails promptly with
/// `temporarily_unavailable` like any other write while the database is away.
pub(super) const NO_RETRY: &[u64] = &[];

/// Events keep their queue order inside a batch (`WITH ORDINALITY … ORDER BY`), and the
/// transaction-scoped advisory lock makes batches from different nodes commit in id order, so a
/// reader paging with `after = last id seen` never skips an event that commits late with a
/// smaller id.
const INSERT: &str = "INSERT INTO events (time_ms, type, client_id, token_id, body) \
    SELECT t, k, c, i, b FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[]) \
    WITH ORDINALITY AS u(t, k, c, i, b, n) ORDER BY n";
const LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtextextended('tessera.events:' || current_schema(), 0))";

/// Writes one batch, retrying while the server is unreachable after each of `retry_delays_ms`.
pub(super) async fn insert_batch(
    pool: Pool,
    events: Vec<AuditEvent>,
    retry_delays_ms: &[u64],
) -> Vec<StoreResult<()>> {
    let mut attempt = 0;
    let result = loop {
        match try_insert(&pool, &events).await {
            Err(StoreError::Unavailable(e)) if attempt < retry_delays_ms.len() => {
                tokio::time::sleep(Duration::from_millis(retry_delays_ms[attempt])).await;
                attempt += 1;
                tracing::warn!(error = %e, attempt, "writing audit events failed; retrying");
            }
            other => break other,
        }
    };
    if let Err(e) = &result
        && !retry_delays_ms.is_empty()
    {
        tracing::error!(error = %e, lost = events.len(), "audit events could not be written");
    }
    events
        .iter()
        .map(|_| result.as_ref().map(|_| ()).map_err(dup))
        .collect()
}

async fn try_insert(pool: &Pool, events: &[AuditEvent]) -> StoreResult<()> {
    let mut conn = pool::get(pool).await?;
    let run = async {
        let tx = conn.transaction().await?;
        append(&tx, events.iter()).await?;
        tx.commit().await
    };
    run.await.map_err(pool::map_err)
}

/// Appends `events` in `tx`, under the ordering lock, which `tx` then holds until it ends: take
/// it last in a transaction that writes anything else.
pub(super) async fn append<'a>(
    tx: &Transaction<'_>,
    events: impl Iterator<Item = &'a AuditEvent> + Clone,
) -> Result<(), tokio_postgres::Error> {
    let times: Vec<i64> = events.clone().map(|e| e.time_ms as i64).collect();
    let kinds: Vec<&str> = events.clone().map(|e| e.kind.name()).collect();
    let clients: Vec<Option<&str>> = events.clone().map(|e| e.client_id.as_deref()).collect();
    let tokens: Vec<Option<&str>> = events.clone().map(|e| e.token_id.as_deref()).collect();
    let bodies: Vec<String> = events.map(AuditEvent::to_json).collect();
    tx.batch_execute(LOCK).await?;
    let stmt = tx.prepare_cached(INSERT).await?;
    tx.execute(&stmt, &[&times, &kinds, &clients, &tokens, &bodies])
        .await
        .map(drop)
}

#[async_trait]
impl EventStore for PgStore {
    async fn record_event(&self, event: AuditEvent) {
        if !self.events.queue(event).await {
            tracing::error!("event writer stopped; an audit event was lost");
        }
    }

    async fn record_event_durable(&self, event: AuditEvent) -> StoreResult<()> {
        self.durable_events.write(event).await
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
