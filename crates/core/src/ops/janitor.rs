//! The retention janitor: on a schedule, deletes opaque access tokens, revoked-JWT records and
//! replay guards that expired more than `expired_token_grace_secs` ago, and audit events older
//! than `audit_events_days`, so no table grows forever and nobody has to run a cleanup by hand
//! (Hydra's users did, and their tables grew anyway: ory/hydra#1574, #3784).
//!
//! Each delete is one bounded statement ([`RetentionStore`]); a sweep repeats it until a batch
//! comes back short, yielding between batches so request traffic interleaves. Every node may run
//! the janitor: deletes are idempotent, and on PostgreSQL concurrent janitors take disjoint
//! batches. A sweep that deleted something records one `janitor.swept` event with the counts.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::audit::{AuditEvent, EventKind};
use crate::clock::Clock;
use crate::config::RetentionConfig;
use crate::error::StoreError;
use crate::store::{Expiring, Store};

/// The counts' key for audit events in [`Sweep::deleted`].
pub const EVENTS: &str = "events";

/// What one sweep deleted, by table (tables with nothing deleted are absent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Rows deleted, by table name.
    pub deleted: BTreeMap<String, u64>,
}

impl Sweep {
    /// Rows deleted in all.
    pub fn total(&self) -> u64 {
        self.deleted.values().sum()
    }
}

/// The janitor of one node.
pub struct Janitor {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: RetentionConfig,
}

impl Janitor {
    /// A janitor sweeping `store` with `config`'s cutoffs, telling time by `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: RetentionConfig) -> Self {
        Self {
            store,
            clock,
            config,
        }
    }

    /// One sweep: every expiring table, then old events. A storage failure (the database is
    /// away) ends the sweep early; what was deleted before it is still reported in the event,
    /// and the next sweep carries on.
    pub async fn tick(&self) -> Result<Sweep, StoreError> {
        let mut sweep = Sweep::default();
        let result = self.sweep_into(&mut sweep).await;
        if sweep.total() > 0 {
            let mut event = AuditEvent::new(EventKind::JanitorSwept, self.clock.now_ms());
            event.deleted = Some(sweep.deleted.clone());
            self.store.record_event(event).await;
            tracing::info!(deleted = ?sweep.deleted, "janitor swept");
        }
        result.map(|()| sweep)
    }

    async fn sweep_into(&self, sweep: &mut Sweep) -> Result<(), StoreError> {
        let limit = self.config.batch_size.max(1);
        let now = self.clock.now();
        let kept = now.saturating_sub(self.config.expired_token_grace_secs);
        for kind in Expiring::ALL {
            let cutoff = if kind.kept_past_expiry() { kept } else { now };
            let store = self.store.as_ref();
            drain(
                limit,
                || store.delete_expired(kind, cutoff, limit),
                sweep,
                kind.as_str(),
            )
            .await?;
        }
        if self.config.audit_events_days > 0 {
            let keep_ms = self.config.audit_events_days.saturating_mul(86_400_000);
            let cutoff_ms = self.clock.now_ms().saturating_sub(keep_ms);
            let store = self.store.as_ref();
            drain(
                limit,
                || store.delete_events_before(cutoff_ms, limit),
                sweep,
                EVENTS,
            )
            .await?;
        }
        Ok(())
    }

    /// Sweeps every `janitor_interval_secs` (the first one interval after start) until the task
    /// is aborted.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        let period = Duration::from_secs(self.config.janitor_interval_secs.max(1));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.tick().await {
                    tracing::warn!(error = %e, "janitor sweep stopped early; retrying next interval");
                }
            }
        })
    }
}

/// Repeats one bounded delete until it deletes fewer than `limit` rows, adding the count to
/// `sweep` under `table` (even when a later batch fails).
async fn drain<F, Fut>(
    limit: u32,
    mut delete: F,
    sweep: &mut Sweep,
    table: &str,
) -> Result<(), StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<u64, StoreError>>,
{
    loop {
        let n = delete().await?;
        if n > 0 {
            *sweep.deleted.entry(table.to_string()).or_default() += n;
        }
        if n < u64::from(limit) {
            return Ok(());
        }
        // Let request traffic (and, on SQLite, the writer's other jobs) in between batches.
        tokio::task::yield_now().await;
    }
}
