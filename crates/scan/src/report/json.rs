//! JSON output: `{"version": 1, "findings": [...], "summary": {...}}`, one document, pretty-printed.
//! Each finding has the fields of [`crate::Finding`]; `commit`, `at_head`, `tessera` and `server`
//! are `null` when they do not apply.

use std::io::{self, Write};

use serde_json::json;

use super::Report;

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let doc = json!({
        "version": 1,
        "findings": report.findings,
        "summary": {
            "findings": report.findings.len(),
            "suppressed": report.suppressed,
            "scanned": report.stats.scanned,
            "bytes": report.stats.bytes,
            "skipped": report.stats.skipped,
        },
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
