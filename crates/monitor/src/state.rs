//! [`MonitorState`]: the learned baselines (client profiles, rates, homes) saved across a
//! restart, as one JSON document. Short-lived per-token state is not saved: it rebuilds in
//! minutes, while a client's working hours take a week to learn.
use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Format version written in every state file.
pub const STATE_VERSION: u32 = 1;

/// Saved detector state, by detector name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonitorState {
    /// Format version ([`STATE_VERSION`]).
    pub version: u32,
    /// Each detector's snapshot.
    pub detectors: BTreeMap<String, Value>,
}

impl Default for MonitorState {
    fn default() -> Self {
        Self {
            version: STATE_VERSION,
            detectors: BTreeMap::new(),
        }
    }
}

impl MonitorState {
    /// Writes the state atomically (a temporary file renamed over `path`).
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let tmp = path.with_extension("tmp");
        let json = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        std::fs::write(&tmp, json).map_err(|e| format!("writing {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("renaming to {}: {e}", path.display()))
    }

    /// Reads a saved state; `Ok(None)` when the file does not exist yet.
    pub fn load(path: &Path) -> Result<Option<Self>, String> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("reading {}: {e}", path.display())),
        };
        let state: Self =
            serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        if state.version != STATE_VERSION {
            return Err(format!(
                "{}: state version {} is not {STATE_VERSION}",
                path.display(),
                state.version
            ));
        }
        Ok(Some(state))
    }
}
