//! `AlertStore` on PostgreSQL: each call one statement on a pooled connection (alerts are rare:
//! no batching), acknowledgement a conditional `UPDATE` so concurrent acks cannot both win.
use async_trait::async_trait;
use tessera_core::store::{
    AckOutcome, AlertFilter, AlertRecord, AlertStatus, AlertStore, StoreResult,
};
use tokio_postgres::Row;

use super::{PgStore, corrupt, pool::map_err};

const COLUMNS: &str = "id, detector, severity, token_id, client_id, time_ms, summary, evidence, \
    actions, status, acked_at, acked_by";

fn from_row(r: &Row) -> StoreResult<AlertRecord> {
    let get = |e| map_err(e);
    let evidence: &str = r.try_get(7).map_err(get)?;
    let status: &str = r.try_get(9).map_err(get)?;
    Ok(AlertRecord {
        id: r.try_get(0).map_err(get)?,
        detector: r.try_get(1).map_err(get)?,
        severity: r.try_get(2).map_err(get)?,
        token_id: r.try_get(3).map_err(get)?,
        client_id: r.try_get(4).map_err(get)?,
        time_ms: r.try_get::<_, i64>(5).map_err(get)? as u64,
        summary: r.try_get(6).map_err(get)?,
        evidence: serde_json::from_str(evidence).map_err(|_| corrupt("alerts", "evidence"))?,
        actions: r.try_get(8).map_err(get)?,
        status: AlertStatus::parse(status).ok_or_else(|| corrupt("alerts", "status"))?,
        acked_at: r
            .try_get::<_, Option<i64>>(10)
            .map_err(get)?
            .map(|t| t as u64),
        acked_by: r.try_get(11).map_err(get)?,
    })
}

#[async_trait]
impl AlertStore for PgStore {
    async fn insert_alert(&self, a: &AlertRecord) -> StoreResult<i64> {
        let row = self
            .query_opt(
                "INSERT INTO alerts (detector, severity, token_id, client_id, time_ms, summary, evidence, actions, status) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open') RETURNING id",
                &[
                    &a.detector,
                    &a.severity,
                    &a.token_id,
                    &a.client_id,
                    &(a.time_ms as i64),
                    &a.summary,
                    &a.evidence.to_string(),
                    &a.actions,
                ],
            )
            .await?
            .ok_or_else(|| corrupt("alerts", "id"))?;
        row.try_get(0).map_err(map_err)
    }

    async fn list_alerts(&self, f: &AlertFilter) -> StoreResult<Vec<AlertRecord>> {
        let status = f.status.map(AlertStatus::as_str);
        let since = f.since_ms.map(|t| i64::try_from(t).unwrap_or(i64::MAX));
        let rows = self
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM alerts \
                     WHERE ($1::TEXT IS NULL OR status = $1) AND ($2::TEXT IS NULL OR detector = $2) \
                     AND ($3::BIGINT IS NULL OR time_ms >= $3) \
                     ORDER BY time_ms DESC, id DESC LIMIT $4"
                ),
                &[&status, &f.detector, &since, &i64::from(f.limit)],
            )
            .await?;
        rows.iter().map(from_row).collect()
    }

    async fn get_alert(&self, id: i64) -> StoreResult<Option<AlertRecord>> {
        self.query_opt(
            &format!("SELECT {COLUMNS} FROM alerts WHERE id = $1"),
            &[&id],
        )
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
    }

    async fn ack_alert(&self, id: i64, by: &str, now: u64) -> StoreResult<AckOutcome> {
        // One statement: the update, and whether the row exists at all when it changed nothing.
        let row = self
            .query_opt(
                "WITH acked AS (UPDATE alerts SET status = 'acked', acked_at = $2, acked_by = $3 \
                 WHERE id = $1 AND status = 'open' RETURNING id) \
                 SELECT (SELECT count(*) FROM acked), (SELECT count(*) FROM alerts WHERE id = $1)",
                &[&id, &(now as i64), &by],
            )
            .await?
            .ok_or_else(|| corrupt("alerts", "id"))?;
        let acked: i64 = row.try_get(0).map_err(map_err)?;
        let exists: i64 = row.try_get(1).map_err(map_err)?;
        Ok(match (acked, exists) {
            (1.., _) => AckOutcome::Acked,
            (_, 1..) => AckOutcome::AlreadyAcked,
            _ => AckOutcome::NotFound,
        })
    }
}
