//! Refresh-token reuse: the server saw a rotated refresh token presented again (OAuth 2.0
//! Security BCP §4.14.2: one of the two parties holding it is an attacker). Every such event is
//! an alert, high severity: the default policy revokes the whole grant family.
use tessera_core::audit::EventKind;

use super::{Detector, Observation};
use crate::alert::{Alert, Severity};

/// The detector's name.
pub const NAME: &str = "refresh_token_reuse";

/// Settings of the refresh-token-reuse alert source.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RefreshReuseConfig {
    /// Raise alerts for `refresh_token.reused` events.
    pub enabled: bool,
}

impl Default for RefreshReuseConfig {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// The refresh-token-reuse alert source (stateless).
pub struct RefreshReuse;

impl Detector for RefreshReuse {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, obs: &Observation<'_>, out: &mut Vec<Alert>) {
        let event = obs.event;
        if event.kind != EventKind::RefreshTokenReused {
            return;
        }
        let alert = Alert::from_event(
            NAME,
            Severity::High,
            event,
            "a rotated refresh token was presented again".to_string(),
        );
        let alert = match event.reason.as_deref() {
            Some(reason) => alert.with("reason", reason),
            None => alert,
        };
        out.push(alert);
    }

    fn state_len(&self) -> usize {
        0
    }
}
