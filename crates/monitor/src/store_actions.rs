//! [`StoreActions`]: the monitor's actions carried out on the server's own store, so
//! `tessera serve` revokes and disables exactly as an administrator would, and stores each
//! alert for `tessera alerts` and `/admin/alerts`.
use std::sync::Arc;

use async_trait::async_trait;
use tessera_core::audit::AuditEvent;
use tessera_core::store::Store;
use tessera_core::token_id;

use crate::action::{ActionOutcome, ActionSink};
use crate::alert::Alert;

/// Actions over a [`Store`].
pub struct StoreActions {
    store: Arc<dyn Store>,
    jwt_revocation_ttl_secs: u64,
}

impl StoreActions {
    /// Actions on `store`; a revoked JWT's `jti` is kept for `jwt_revocation_ttl_secs` (use at
    /// least the server's longest token lifetime, `tokens.max_ttl`).
    pub fn new(store: Arc<dyn Store>, jwt_revocation_ttl_secs: u64) -> Self {
        Self {
            store,
            jwt_revocation_ttl_secs,
        }
    }
}

#[async_trait]
impl ActionSink for StoreActions {
    async fn revoke_token(
        &self,
        token_id: &str,
        client_id: Option<&str>,
        now_ms: u64,
    ) -> Result<ActionOutcome, String> {
        let now = now_ms / 1000;
        // An opaque token's id is `<selector>.<tag>` (tessera_core::token_id): the row the
        // selector finds is revoked only when the tag matches its hash, so a guessed id revokes
        // nothing. A JWT's id is its random base64url `jti`.
        if let Some(selector) = token_id::opaque_selector(token_id) {
            let row = self
                .store
                .get_access_token(selector)
                .await
                .map_err(|e| e.to_string())?;
            let Some(row) = row.filter(|r| token_id::opaque_matches(token_id, selector, &r.hash))
            else {
                return Ok(ActionOutcome::Unchanged);
            };
            {
                if client_id.is_some_and(|c| c != row.client_id) {
                    return Ok(ActionOutcome::Unchanged);
                }
                let done = self
                    .store
                    .revoke_access_token(selector, now)
                    .await
                    .map_err(|e| e.to_string())?;
                return Ok(if done {
                    ActionOutcome::Done
                } else {
                    ActionOutcome::Unchanged
                });
            }
        }
        let new = self
            .store
            .revoke_jti(
                token_id,
                client_id.unwrap_or_default(),
                now + self.jwt_revocation_ttl_secs,
                now,
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(if new {
            ActionOutcome::Done
        } else {
            ActionOutcome::Unchanged
        })
    }

    async fn disable_client(&self, client_id: &str, now_ms: u64) -> Result<ActionOutcome, String> {
        let Some(mut client) = self
            .store
            .get_client(client_id)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(ActionOutcome::Unchanged);
        };
        if client.disabled {
            return Ok(ActionOutcome::Unchanged);
        }
        client.disabled = true;
        client.updated_at = now_ms / 1000;
        let done = self
            .store
            .update_client(&client)
            .await
            .map_err(|e| e.to_string())?;
        Ok(if done {
            ActionOutcome::Done
        } else {
            ActionOutcome::Unchanged
        })
    }

    async fn record(&self, event: AuditEvent) {
        self.store.record_event(event).await;
    }

    async fn store_alert(&self, alert: &Alert, actions: &[String]) -> Result<Option<i64>, String> {
        self.store
            .insert_alert(&alert.to_record(actions))
            .await
            .map(Some)
            .map_err(|e| e.to_string())
    }
}
