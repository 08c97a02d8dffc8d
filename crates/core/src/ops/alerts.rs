//! The monitor's stored alerts as the admin API and the CLI show them: one JSON shape for both,
//! and the operations an administrator may run — list, show, acknowledge.
use serde_json::{Value, json};
use tessera_proto::OAuthError;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::admin::{ADMIN_SCOPE, require_any_scope};
use crate::authority::Authority;
use crate::client::Client;
use crate::store::{AckOutcome, AlertFilter, AlertRecord, Store};

/// Most alerts one listing returns.
pub const MAX_LIST: u32 = 1000;

/// RFC 3339 for milliseconds since the epoch (the form the audit events use).
fn rfc3339_ms(ms: u64) -> Value {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .map_or(Value::Null, Value::String)
}

/// The JSON form of an alert. Times are RFC 3339; `time` is the time of the event that raised
/// it, `acked_at` when a person acknowledged it.
pub fn to_json(a: &AlertRecord) -> Value {
    json!({
        "id": a.id,
        "detector": a.detector,
        "severity": a.severity,
        "token_id": a.token_id,
        "client_id": a.client_id,
        "time": rfc3339_ms(a.time_ms),
        "summary": a.summary,
        "evidence": a.evidence,
        "actions": a.actions,
        "status": a.status.as_str(),
        "acked_at": a.acked_at.map(|s| rfc3339_ms(s.saturating_mul(1000))),
        "acked_by": a.acked_by,
    })
}

/// What acknowledging through [`ack`] found.
#[derive(Debug)]
pub enum Acked {
    /// The alert, now acknowledged (by this call, or — `first: false` — by an earlier one).
    Alert {
        /// The alert after the acknowledgement.
        alert: Box<AlertRecord>,
        /// Whether this call was the acknowledgement that counts.
        first: bool,
    },
    /// No alert has that id.
    NotFound,
}

/// Lists alerts for an admin `caller`.
pub async fn list(
    authority: &Authority,
    caller: &Client,
    filter: &AlertFilter,
) -> Result<Vec<AlertRecord>, OAuthError> {
    require_any_scope(caller, &[ADMIN_SCOPE])?;
    Ok(authority.store().list_alerts(filter).await?)
}

/// One alert for an admin `caller`.
pub async fn get(
    authority: &Authority,
    caller: &Client,
    id: i64,
) -> Result<Option<AlertRecord>, OAuthError> {
    require_any_scope(caller, &[ADMIN_SCOPE])?;
    Ok(authority.store().get_alert(id).await?)
}

/// Acknowledges an alert in the name of an admin `caller` (its client id becomes `acked_by`).
pub async fn ack(authority: &Authority, caller: &Client, id: i64) -> Result<Acked, OAuthError> {
    require_any_scope(caller, &[ADMIN_SCOPE])?;
    let now = authority.clock().now();
    ack_in(authority.store(), id, &caller.id, now).await
}

/// Acknowledges alert `id` as `by` at `now` (seconds) on `store`: shared by the API and the CLI.
pub async fn ack_in(store: &dyn Store, id: i64, by: &str, now: u64) -> Result<Acked, OAuthError> {
    let first = match store.ack_alert(id, by, now).await? {
        AckOutcome::NotFound => return Ok(Acked::NotFound),
        AckOutcome::Acked => true,
        AckOutcome::AlreadyAcked => false,
    };
    match store.get_alert(id).await? {
        Some(alert) => Ok(Acked::Alert {
            alert: Box::new(alert),
            first,
        }),
        None => Ok(Acked::NotFound),
    }
}
