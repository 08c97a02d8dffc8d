//! The audit trail.
use async_trait::async_trait;

use super::StoreResult;
use crate::audit::AuditEvent;

/// The audit trail.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Queues an event; batches are written without holding up the caller.
    async fn record_event(&self, event: AuditEvent);
    /// Events with id greater than `after`, oldest first, at most `limit`.
    async fn list_events(&self, after: i64, limit: u32) -> StoreResult<Vec<(i64, AuditEvent)>>;
    /// Waits until every event queued before this call is written.
    async fn flush_events(&self) -> StoreResult<()>;
}
