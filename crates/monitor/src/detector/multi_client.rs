//! Multi-client: a token presented by, introspected by, or attributed to a client other than the
//! one it was issued to.
//!
//! Three signals, from the strongest:
//! - `owner_mismatch` (high): an event names a different owner than the `token.issued` line did;
//! - `presented_by_other_client` (high): a resource server reports (`token.used` with
//!   `caller_id`) that a different authenticated client presented the token;
//! - `introspected_by_token_holder` (medium): a client introspects another client's token for a
//!   resource it obtains tokens for itself — a fellow consumer of that API holding a peer's
//!   token, not the API. Resource servers introspect everyone's tokens but do not request tokens
//!   for their own audience, so they are never flagged; callers listed in `resource_servers` are
//!   never flagged either.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::audit::EventKind;

use super::{Detector, Observation};
use crate::alert::{Alert, Severity};
use crate::bounded::BoundedMap;

/// The detector's name.
pub const NAME: &str = "multi_client";

/// Thresholds of the multi-client detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MultiClientConfig {
    /// Run this detector.
    pub enabled: bool,
    /// Client ids of resource servers allowed to introspect any client's tokens.
    pub resource_servers: Vec<String>,
}

impl Default for MultiClientConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            resource_servers: Vec::new(),
        }
    }
}

/// Resources remembered per client.
const MAX_RESOURCES: usize = 16;

/// The resources a client has been issued tokens for (`""` for tokens without one).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Holder {
    resources: Vec<String>,
}

/// The multi-client detector.
pub struct MultiClient {
    config: MultiClientConfig,
    owners: BoundedMap<String, String>,
    holders: BoundedMap<String, Holder>,
}

impl MultiClient {
    /// A detector holding at most `max_tokens` tokens and `max_clients` clients.
    pub fn new(config: MultiClientConfig, max_tokens: usize, max_clients: usize) -> Self {
        Self {
            config,
            owners: BoundedMap::new(max_tokens),
            holders: BoundedMap::new(max_clients),
        }
    }

    /// Whether `caller` obtains tokens for `resource` itself (never when the resource is unknown).
    fn consumes(&self, caller: &str, resource: Option<&str>) -> bool {
        let Some(holder) = self.holders.peek(caller) else {
            return false;
        };
        match resource {
            Some(r) => holder.resources.iter().any(|h| h == r),
            None => false,
        }
    }
}

impl Detector for MultiClient {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, obs: &Observation<'_>, out: &mut Vec<Alert>) {
        let event = obs.event;
        let token_id = event.token_id.as_deref();
        match event.kind {
            EventKind::TokenIssued => {
                if let (Some(token), Some(client)) = (token_id, event.client_id.as_deref()) {
                    self.owners.insert(token.to_string(), client.to_string());
                    let resource = event.resource.as_deref().unwrap_or_default();
                    let holder = self.holders.get_or_insert_with(client, Holder::default);
                    if holder.resources.len() < MAX_RESOURCES
                        && !holder.resources.iter().any(|r| r == resource)
                    {
                        holder.resources.push(resource.to_string());
                    }
                }
                return;
            }
            EventKind::TokenUsed | EventKind::TokenIntrospected => {}
            _ => return,
        }
        let Some(token) = token_id else { return };
        // A log may begin mid-stream: without the issuance line, the event's own owner stands.
        let issued_to = self.owners.peek(token).cloned();
        let owner = issued_to.clone().or_else(|| event.client_id.clone());
        let Some(owner) = owner else { return };

        if let (Some(issued), Some(named)) = (&issued_to, event.client_id.as_deref())
            && issued != named
        {
            let alert = Alert::from_event(
                NAME,
                Severity::High,
                event,
                format!("token issued to {issued} was attributed to {named}"),
            )
            .with("signal", "owner_mismatch")
            .with("issued_to", issued.as_str())
            .with("named", named);
            out.push(alert);
            return;
        }
        let Some(caller) = event.caller_id.as_deref() else {
            return;
        };
        if caller == owner {
            return;
        }
        if event.kind == EventKind::TokenUsed {
            let mut alert = Alert::from_event(
                NAME,
                Severity::High,
                event,
                format!("token issued to {owner} was presented by {caller}"),
            )
            .with("signal", "presented_by_other_client")
            .with("issued_to", owner.as_str())
            .with("caller", caller);
            alert.client_id = Some(owner);
            out.push(alert);
            return;
        }
        let allowed = self.config.resource_servers.iter().any(|c| c == caller);
        if !allowed && self.consumes(caller, event.resource.as_deref()) {
            let mut alert = Alert::from_event(
                NAME,
                Severity::Medium,
                event,
                format!(
                    "{caller}, itself a consumer of this resource, introspected a token of {owner}"
                ),
            )
            .with("signal", "introspected_by_token_holder")
            .with("issued_to", owner.as_str())
            .with("caller", caller);
            alert.client_id = Some(owner);
            out.push(alert);
        }
    }

    fn state_len(&self) -> usize {
        self.owners.len() + self.holders.len()
    }

    fn snapshot(&self) -> Option<Value> {
        Some(super::snapshot_map(&self.holders))
    }

    fn restore(&mut self, state: Value) -> Result<(), String> {
        super::restore_map(&mut self.holders, state)
    }
}
