//! Output formats: human text (`text`), JSON (`json`) and SARIF 2.1.0 (`sarif`). Each renders the
//! same [`Report`]; none of them ever sees a raw secret, only [`Finding`]s.

mod json;
mod sarif;
mod text;

use std::io::{self, Write};
use std::str::FromStr;

use serde::Serialize;

use crate::finding::Finding;
use crate::source::Stats;

/// Which output format to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Human-readable, coloured when the output is a terminal.
    #[default]
    Text,
    /// One JSON document: findings and a summary.
    Json,
    /// SARIF 2.1.0, for code-scanning UIs.
    Sarif,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            "sarif" => Ok(Self::Sarif),
            other => Err(format!("unknown format {other:?} (text, json or sarif)")),
        }
    }
}

/// The outcome of one scan, after baseline suppression and the server check.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// What was found, in source order.
    pub findings: Vec<Finding>,
    /// What was read.
    pub stats: Stats,
    /// Findings hidden because their fingerprint is in the baseline.
    pub suppressed: usize,
}

/// Writes `report` in `format`; `color` applies to text only.
pub fn write(report: &Report, format: Format, color: bool, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text::write(report, color, out),
        Format::Json => json::write(report, out),
        Format::Sarif => sarif::write(report, out),
    }
}
