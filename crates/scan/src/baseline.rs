//! Baselines: a JSON file of fingerprints whose findings are known and accepted (or being
//! rotated), so CI fails only on new leaks. `--write-baseline` records the current findings.
//!
//! Format: `{"version": 1, "fingerprints": ["<32 hex>", …]}`. A JSON report written by
//! `--format json` is accepted too (its findings' fingerprints are used), so yesterday's report
//! can serve as today's baseline.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ScanError;
use crate::finding::Finding;

#[derive(Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    fingerprints: BTreeSet<String>,
}

#[derive(Deserialize)]
struct ReportFile {
    findings: Vec<ReportFinding>,
}

#[derive(Deserialize)]
struct ReportFinding {
    fingerprint: String,
}

/// Reads the fingerprints listed in a baseline (or JSON report) file.
pub fn load(path: &Path) -> Result<BTreeSet<String>, ScanError> {
    let bytes = std::fs::read(path).map_err(|source| ScanError::Io {
        path: path.to_owned(),
        source,
    })?;
    if let Ok(file) = serde_json::from_slice::<BaselineFile>(&bytes) {
        return Ok(file.fingerprints);
    }
    serde_json::from_slice::<ReportFile>(&bytes)
        .map(|r| r.findings.into_iter().map(|f| f.fingerprint).collect())
        .map_err(|e| ScanError::Baseline(format!("{}: {e}", path.display())))
}

/// Writes the fingerprints of `findings` as a baseline file.
pub fn write(path: &Path, findings: &[Finding]) -> Result<(), ScanError> {
    let file = BaselineFile {
        version: 1,
        fingerprints: findings.iter().map(|f| f.fingerprint.clone()).collect(),
    };
    let mut text = serde_json::to_string_pretty(&file).expect("a baseline serialises");
    text.push('\n');
    std::fs::write(path, text).map_err(|source| ScanError::Io {
        path: path.to_owned(),
        source,
    })
}
