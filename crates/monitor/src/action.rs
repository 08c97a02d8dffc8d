//! Automatic actions: the policy that maps an alert to actions (revoke the token, revoke the
//! grant family, disable the client) and the [`ActionSink`] that carries them out.
//!
//! By default only high-confidence evidence acts on its own — evidence whose false positives are
//! rarer than one in 10,000 tokens on the generated traces (docs/monitor.md, "Quality"):
//! refresh-token reuse revokes the grant family; a token presented by another client, a token
//! jumping between continents within minutes, or a token used from ten or more places within
//! minutes revokes the token. Everything else only alerts until a person (or the configuration)
//! decides.
//!
//! Evidence a resource server reported (`POST /admin/events`) never acts on its own unless the
//! reporter is trusted for that (`tessera:events:act`): the alert is raised and stored, the
//! actions are left to a person ([`tessera_core::audit::Provenance`]).
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::alert::{Alert, Severity};
use crate::detector::{impossible_travel, multi_client, multi_ip, refresh_reuse};

/// One automatic action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Revoke the alert's token (an opaque token's row, or a JWT's `jti`).
    RevokeToken,
    /// Revoke every token of the grant the alert's token belongs to (refresh-token family).
    RevokeGrantFamily,
    /// Disable the alert's client until an administrator enables it again.
    DisableClient,
}

impl Action {
    /// The snake_case name used in configuration and audit events.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RevokeToken => "revoke_token",
            Self::RevokeGrantFamily => "revoke_grant_family",
            Self::DisableClient => "disable_client",
        }
    }
}

/// Alerts of `detector` at or above `min_severity` trigger `actions`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRule {
    /// The detector's name.
    pub detector: String,
    /// The lowest severity that acts.
    pub min_severity: Severity,
    /// What to do, in order.
    pub actions: Vec<Action>,
}

/// The action policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActionPolicy {
    /// Master switch: when false the monitor only alerts.
    pub enabled: bool,
    /// How long a revoked JWT's `jti` is remembered, seconds: at least the longest token
    /// lifetime the server issues (the monitor does not see a JWT's `exp`).
    pub jwt_revocation_ttl_secs: u64,
    /// The rules; the listed ones replace the defaults entirely.
    pub rules: Vec<ActionRule>,
}

impl Default for ActionPolicy {
    fn default() -> Self {
        let rule = |detector: &str, actions: Vec<Action>| ActionRule {
            detector: detector.to_string(),
            min_severity: Severity::High,
            actions,
        };
        Self {
            enabled: true,
            jwt_revocation_ttl_secs: 86_400,
            rules: vec![
                rule(refresh_reuse::NAME, vec![Action::RevokeGrantFamily]),
                rule(multi_client::NAME, vec![Action::RevokeToken]),
                rule(impossible_travel::NAME, vec![Action::RevokeToken]),
                rule(multi_ip::NAME, vec![Action::RevokeToken]),
            ],
        }
    }
}

impl ActionPolicy {
    /// The actions `alert` calls for, deduplicated, in rule order. Token actions are dropped
    /// when the alert names no token, client actions when it names no client.
    pub fn actions_for(&self, alert: &Alert) -> Vec<Action> {
        if !self.enabled || !alert.provenance.may_act() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let rules = self
            .rules
            .iter()
            .filter(|r| r.detector == alert.detector && alert.severity >= r.min_severity);
        for action in rules.flat_map(|r| r.actions.iter().copied()) {
            let applies = match action {
                Action::RevokeToken | Action::RevokeGrantFamily => alert.token_id.is_some(),
                Action::DisableClient => alert.client_id.is_some(),
            };
            if applies && !out.contains(&action) {
                out.push(action);
            }
        }
        out
    }
}

/// What an action achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionOutcome {
    /// It was carried out now.
    Done,
    /// Nothing to do: already revoked or disabled, or the token or client is unknown.
    Unchanged,
    /// This sink cannot do it (yet).
    Unsupported,
}

impl ActionOutcome {
    /// The lowercase name stored with an alert's actions.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Unchanged => "unchanged",
            Self::Unsupported => "unsupported",
        }
    }
}

/// Carries out actions and records audit events. The server's implementation is
/// [`crate::store_actions::StoreActions`]; tests may record calls instead.
#[async_trait]
pub trait ActionSink: Send + Sync {
    /// Revokes one token. `now_ms` is the alert's time.
    async fn revoke_token(
        &self,
        token_id: &str,
        client_id: Option<&str>,
        now_ms: u64,
    ) -> Result<ActionOutcome, String>;

    /// Revokes the grant family `token_id` belongs to. The store has no grant families yet.
    async fn revoke_grant_family(
        &self,
        token_id: &str,
        client_id: Option<&str>,
        now_ms: u64,
    ) -> Result<ActionOutcome, String> {
        let _ = (token_id, client_id, now_ms);
        Ok(ActionOutcome::Unsupported)
    }

    /// Disables a client.
    async fn disable_client(&self, client_id: &str, now_ms: u64) -> Result<ActionOutcome, String>;

    /// Records an audit event (`alert.raised`, and the events of actions taken).
    async fn record(&self, event: tessera_core::audit::AuditEvent);

    /// Stores the alert with the actions taken about it (`revoke_token:done`, …) so people can
    /// list and acknowledge it (`tessera alerts`, `/admin/alerts`); returns its id. Sinks without
    /// a database keep nothing and return `None`.
    async fn store_alert(&self, alert: &Alert, actions: &[String]) -> Result<Option<i64>, String> {
        let _ = (alert, actions);
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::audit::{AuditEvent, EventKind};

    #[test]
    fn default_policy_acts_only_on_high_confidence_detectors() {
        let mut e = AuditEvent::new(EventKind::TokenUsed, 0);
        e.token_id = Some("t".into());
        e.client_id = Some("c".into());
        let policy = ActionPolicy::default();
        let high = |d: &str| Alert::from_event(d, Severity::High, &e, String::new());
        assert_eq!(
            policy.actions_for(&high("impossible_travel")),
            [Action::RevokeToken]
        );
        assert_eq!(policy.actions_for(&high("burst")), []);
        let medium = Alert::from_event("impossible_travel", Severity::Medium, &e, String::new());
        assert_eq!(policy.actions_for(&medium), []);
        assert_eq!(
            policy.actions_for(&high("refresh_token_reuse")),
            [Action::RevokeGrantFamily]
        );
    }

    #[test]
    fn reported_evidence_acts_only_from_a_trusted_reporter() {
        use tessera_core::audit::Provenance;
        let policy = ActionPolicy::default();
        let mut e = AuditEvent::new(EventKind::TokenUsed, 0);
        e.token_id = Some("t".into());
        e.client_id = Some("c".into());
        for (provenance, acts) in [
            (Provenance::Observed, true),
            (Provenance::Reported, false),
            (Provenance::ReportedTrusted, true),
        ] {
            e.provenance = provenance;
            let alert = Alert::from_event("multi_client", Severity::High, &e, String::new());
            assert_eq!(alert.provenance, provenance);
            let expected: &[Action] = if acts { &[Action::RevokeToken] } else { &[] };
            assert_eq!(policy.actions_for(&alert), expected, "{provenance:?}");
        }
    }
}
