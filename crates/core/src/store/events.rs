//! The audit trail.
use async_trait::async_trait;

use super::StoreResult;
use crate::audit::AuditEvent;

/// The audit trail.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Queues an event; batches are written without holding up the caller. For events no
    /// response reports (failed authentications, introspections): a crash may lose the last
    /// few.
    async fn record_event(&self, event: AuditEvent);
    /// Writes an event in the next group commit and returns once that commit is durable, for
    /// an event a response reports (a revocation, a reuse that revoked a family): the caller
    /// answers only after it, so no acknowledged change is missing from the audit trail after
    /// a crash. Many requests' events still share one commit.
    async fn record_event_durable(&self, event: AuditEvent) -> StoreResult<()>;
    /// Events with id greater than `after`, oldest first, at most `limit`.
    async fn list_events(&self, after: i64, limit: u32) -> StoreResult<Vec<(i64, AuditEvent)>>;
    /// Waits until every event queued before this call is written.
    async fn flush_events(&self) -> StoreResult<()>;
}
