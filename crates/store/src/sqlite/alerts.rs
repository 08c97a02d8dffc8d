//! `AlertStore` on SQLite: inserts and acknowledgements go through the writer (durable before
//! the caller hears back); listings read from the reader pool.
use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, params};
use tessera_core::store::{
    AckOutcome, AlertFilter, AlertRecord, AlertStatus, AlertStore, StoreResult,
};

use super::SqliteStore;

const COLUMNS: &str = "id, detector, severity, token_id, client_id, time_ms, summary, evidence, \
    actions, status, acked_at, acked_by";

/// A text column that should hold JSON but does not: a hand-edited database.
fn bad_json(column: usize, e: serde_json::Error) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(e))
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<AlertRecord> {
    let evidence: String = r.get(7)?;
    let actions: String = r.get(8)?;
    let status: String = r.get(9)?;
    Ok(AlertRecord {
        id: r.get(0)?,
        detector: r.get(1)?,
        severity: r.get(2)?,
        token_id: r.get(3)?,
        client_id: r.get(4)?,
        time_ms: r.get::<_, i64>(5)? as u64,
        summary: r.get(6)?,
        evidence: serde_json::from_str(&evidence).map_err(|e| bad_json(7, e))?,
        actions: serde_json::from_str(&actions).map_err(|e| bad_json(8, e))?,
        // Only the two statuses are ever written; anything else reads as acknowledged, so a
        // corrupt row never reappears as a fresh open alert.
        status: AlertStatus::parse(&status).unwrap_or(AlertStatus::Acked),
        acked_at: r.get::<_, Option<i64>>(10)?.map(|t| t as u64),
        acked_by: r.get(11)?,
    })
}

#[async_trait]
impl AlertStore for SqliteStore {
    async fn insert_alert(&self, a: &AlertRecord) -> StoreResult<i64> {
        let a = a.clone();
        self.writer
            .run(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO alerts (detector, severity, token_id, client_id, time_ms, summary, evidence, actions, status) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open') RETURNING id",
                )?
                .query_row(
                    params![
                        a.detector,
                        a.severity,
                        a.token_id,
                        a.client_id,
                        a.time_ms as i64,
                        a.summary,
                        a.evidence.to_string(),
                        serde_json::Value::from(a.actions).to_string(),
                    ],
                    |r| r.get(0),
                )
            })
            .await
    }

    async fn list_alerts(&self, f: &AlertFilter) -> StoreResult<Vec<AlertRecord>> {
        let status = f.status.map(AlertStatus::as_str);
        let since = f.since_ms.map(|t| i64::try_from(t).unwrap_or(i64::MAX));
        self.readers.with(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM alerts \
                 WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR detector = ?2) AND (?3 IS NULL OR time_ms >= ?3) \
                 ORDER BY time_ms DESC, id DESC LIMIT ?4"
            ))?
            .query_map(params![status, f.detector, since, f.limit], from_row)?
            .collect()
        })
    }

    async fn get_alert(&self, id: i64) -> StoreResult<Option<AlertRecord>> {
        self.readers.with(|conn| {
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM alerts WHERE id = ?1"))?
                .query_row([id], from_row)
                .optional()
        })
    }

    async fn ack_alert(&self, id: i64, by: &str, now: u64) -> StoreResult<AckOutcome> {
        let by = by.to_string();
        self.writer
            .run(move |conn| {
                let n = conn
                    .prepare_cached(
                        "UPDATE alerts SET status = 'acked', acked_at = ?2, acked_by = ?3 \
                         WHERE id = ?1 AND status = 'open'",
                    )?
                    .execute(params![id, now as i64, by])?;
                if n == 1 {
                    return Ok(AckOutcome::Acked);
                }
                let exists = conn
                    .prepare_cached("SELECT 1 FROM alerts WHERE id = ?1")?
                    .query_row([id], |_| Ok(()))
                    .optional()?
                    .is_some();
                Ok(if exists {
                    AckOutcome::AlreadyAcked
                } else {
                    AckOutcome::NotFound
                })
            })
            .await
    }
}
