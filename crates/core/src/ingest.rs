//! Event ingestion for resource servers that do not run `tessera-validate`: they report each
//! token use as a `token.used` event, in batches, and the events enter the audit trail — and the
//! live monitor — exactly as if this node had recorded them.
//!
//! The reporter is authenticated and named in `reported_by`; the report's `caller_id` (the
//! client that presented the token) and `ip` (the presenter's address) are kept as reported,
//! because they are what the monitor judges. A client with `tessera:events` can therefore make
//! the monitor revoke tokens: grant it to resource servers only.
use serde::Deserialize;
use tessera_proto::OAuthError;

use crate::admin::{ADMIN_SCOPE, EVENTS_SCOPE, require_any_scope};
use crate::audit::{AuditEvent, EventKind};
use crate::authority::Authority;
use crate::client::Client;

/// Most events in one request.
pub const MAX_EVENTS: usize = 1000;

/// The request body: `{"events": [AuditEvent, …]}` in the docs/events.md schema.
#[derive(Debug, Deserialize)]
pub struct EventBatch {
    /// The reported events.
    pub events: Vec<AuditEvent>,
}

/// Records a batch reported by `caller`; all or nothing: one refused event refuses the batch,
/// so a reporter never has to work out which half was taken. Returns how many were recorded.
pub async fn ingest(
    authority: &Authority,
    caller: &Client,
    batch: EventBatch,
) -> Result<usize, OAuthError> {
    require_any_scope(caller, &[ADMIN_SCOPE, EVENTS_SCOPE])?;
    if batch.events.len() > MAX_EVENTS {
        return Err(OAuthError::invalid_request(format!(
            "too many events in one request (at most {MAX_EVENTS})"
        )));
    }
    if let Some(i) = batch
        .events
        .iter()
        .position(|e| e.kind != EventKind::TokenUsed)
    {
        return Err(OAuthError::invalid_request(format!(
            "events[{i}]: only token.used events may be reported"
        )));
    }
    let n = batch.events.len();
    for mut event in batch.events {
        event.reported_by = Some(caller.id.clone());
        authority.record(event).await;
    }
    Ok(n)
}
