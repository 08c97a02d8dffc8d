//! The monitor's typed configuration (TOML): state bounds, alert cooldown, each detector's
//! thresholds (their structs live beside the detectors), the action policy and the sinks.
//! Every field has a default; unknown keys are rejected, so a typo never silently does nothing.
use std::path::Path;

use serde::Deserialize;

use crate::action::ActionPolicy;
use crate::detector::auth_failures::AuthFailuresConfig;
use crate::detector::burst::BurstConfig;
use crate::detector::impossible_travel::ImpossibleTravelConfig;
use crate::detector::multi_client::MultiClientConfig;
use crate::detector::multi_ip::MultiIpConfig;
use crate::detector::off_hours::OffHoursConfig;
use crate::detector::refresh_reuse::RefreshReuseConfig;
use crate::sink::SinksConfig;

/// Everything the monitor can be told.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    /// The same detector does not alert twice about the same token (or client, or address)
    /// within this many seconds of event time: one attack, one alert, not a storm.
    pub alert_cooldown_secs: u64,
    /// Tokens whose state each detector keeps at most (least recently seen evicted first).
    pub max_tokens: usize,
    /// Clients (and addresses) whose state each detector keeps at most.
    pub max_clients: usize,
    /// Impossible travel.
    pub impossible_travel: ImpossibleTravelConfig,
    /// Request bursts.
    pub burst: BurstConfig,
    /// One token from many networks.
    pub multi_ip: MultiIpConfig,
    /// One token, several clients.
    pub multi_client: MultiClientConfig,
    /// Use outside a client's usual hours.
    pub off_hours: OffHoursConfig,
    /// Refresh-token reuse reported by the server.
    pub refresh_token_reuse: RefreshReuseConfig,
    /// Repeated client-authentication failures.
    pub auth_failures: AuthFailuresConfig,
    /// What to do automatically about an alert.
    pub actions: ActionPolicy,
    /// Where alerts go.
    pub sinks: SinksConfig,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            alert_cooldown_secs: 1800,
            max_tokens: 200_000,
            max_clients: 50_000,
            impossible_travel: ImpossibleTravelConfig::default(),
            burst: BurstConfig::default(),
            multi_ip: MultiIpConfig::default(),
            multi_client: MultiClientConfig::default(),
            off_hours: OffHoursConfig::default(),
            refresh_token_reuse: RefreshReuseConfig::default(),
            auth_failures: AuthFailuresConfig::default(),
            actions: ActionPolicy::default(),
            sinks: SinksConfig::default(),
        }
    }
}

impl MonitorConfig {
    /// Parses TOML.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Reads and parses a TOML file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        Self::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_toml_keeps_defaults_and_typos_are_rejected() {
        let c = MonitorConfig::from_toml("[burst]\nfactor = 20.0\n").unwrap();
        assert_eq!(c.burst.factor, 20.0);
        assert_eq!(c.burst.min_events, 10);
        assert_eq!(c.impossible_travel.max_speed_kmh, 1000.0);
        let err = MonitorConfig::from_toml("[burst]\nfactr = 20.0\n").unwrap_err();
        assert!(err.contains("factr"), "{err}");
    }
}
