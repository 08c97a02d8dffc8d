//! Human-readable output: one block per finding, a summary line, ANSI colours when asked for
//! (the CLI asks when stdout is a terminal and `NO_COLOR` is unset).

use std::io::{self, Write};

use super::Report;
use crate::rules::Severity;

struct Paint(bool);

impl Paint {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

pub(super) fn write(report: &Report, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let p = Paint(color);
    for f in &report.findings {
        let sev = match f.severity {
            Severity::High => p.paint("1;31", "HIGH  "),
            Severity::Medium => p.paint("1;33", "MEDIUM"),
            Severity::Low => p.paint("36", "LOW   "),
        };
        writeln!(
            out,
            "{sev} {}  {}",
            p.paint("1", f.rule),
            p.paint("4", &format!("{}:{}:{}", f.path, f.line, f.column))
        )?;
        writeln!(out, "       {}", f.description)?;
        let mut detail = format!("       {}  fingerprint {}", f.preview, f.fingerprint);
        if let Some(c) = &f.commit {
            detail.push_str(&format!("  commit {}", &c[..c.len().min(12)]));
        }
        match f.at_head {
            Some(true) => detail.push_str(" (still at HEAD)"),
            Some(false) => detail.push_str(" (history only: removed from HEAD, still in history)"),
            None => {}
        }
        writeln!(out, "{detail}")?;
        if let Some(v) = &f.server {
            let state = if v.live {
                p.paint("1;31", "live")
            } else {
                p.paint("32", "not live")
            };
            writeln!(out, "       server: {state}, action: {}", v.action)?;
        }
    }
    let n = report.findings.len();
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let mut summary = if n == 0 {
        p.paint("32", "No secrets found")
    } else {
        p.paint(
            "1",
            &format!(
                "{n} finding{} ({} high, {} medium, {} low)",
                if n == 1 { "" } else { "s" },
                count(Severity::High),
                count(Severity::Medium),
                count(Severity::Low)
            ),
        )
    };
    summary.push_str(&format!(
        " in {} files/blobs ({:.1} MB scanned, {} skipped)",
        report.stats.scanned,
        report.stats.bytes as f64 / 1e6,
        report.stats.skipped
    ));
    if report.suppressed > 0 {
        summary.push_str(&format!(
            "; {} suppressed by the baseline",
            report.suppressed
        ));
    }
    writeln!(out, "{summary}")
}
