//! One scan end to end: read the sources, match, apply the baseline, ask the server, report, and
//! turn the outcome into an exit code (0 nothing found, 1 findings, 2 error).

use std::io::Write;

use crate::baseline;
use crate::matcher::Matcher;
use crate::options::{ScanOptions, SourceMode};
use crate::progress::Progress;
use crate::report::{self, Report};
use crate::server;
use crate::source::{Stats, files, git};
use crate::{Finding, ScanError};

/// Exit code: nothing found.
pub const EXIT_CLEAN: i32 = 0;
/// Exit code: at least one finding not suppressed by the baseline.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code: the scan could not be completed.
pub const EXIT_ERROR: i32 = 2;

/// Reads and matches every source in `opts`; no baseline, no server, no output.
pub fn scan(opts: &ScanOptions) -> Result<(Vec<Finding>, Stats), ScanError> {
    if opts.paths.is_empty() {
        return Err(ScanError::Usage("no path to scan".into()));
    }
    let matcher = Matcher::new();
    let mut findings = Vec::new();
    let mut stats = Stats::default();
    match opts.mode {
        SourceMode::Files => {
            let entries = files::collect(&opts.paths, opts.no_ignore)?;
            let total = entries.iter().map(|e| e.size).sum();
            let progress = Progress::new(opts.progress, total, "scanning files");
            let (f, s) = files::scan(&entries, &matcher, opts.max_file_size, &progress);
            progress.finish();
            findings.extend(f);
            stats.add(s);
        }
        mode => {
            for path in &opts.paths {
                let work = match mode {
                    SourceMode::GitHead => git::list_head(path)?,
                    SourceMode::Staged => git::list_staged(path)?,
                    _ => git::list_history(path)?,
                };
                // Blob sizes are unknown before reading; count ~4 KiB a blob for the bar.
                let progress = Progress::new(
                    opts.progress,
                    work.len() as u64 * 4096,
                    "scanning git objects",
                );
                let (f, s) = work.scan(&matcher, opts.max_file_size, &progress)?;
                progress.finish();
                findings.extend(f);
                stats.add(s);
            }
        }
    }
    if opts.mode != SourceMode::History {
        findings.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    }
    Ok((findings, stats))
}

/// Runs a whole scan and writes the report to `out`. Returns the exit code for findings
/// ([`EXIT_CLEAN`] or [`EXIT_FINDINGS`]); an `Err` means [`EXIT_ERROR`].
pub fn run(opts: &ScanOptions, out: &mut dyn Write) -> Result<i32, ScanError> {
    // Refuse a --server URL that would expose the admin credentials before reading anything.
    if let Some(check) = &opts.server {
        check.target()?;
    }
    let (mut findings, stats) = scan(opts)?;
    if let Some(path) = &opts.write_baseline {
        baseline::write(path, &findings)?;
    }
    let mut suppressed = 0;
    if let Some(path) = &opts.baseline {
        let known = baseline::load(path)?;
        let before = findings.len();
        findings.retain(|f| !known.contains(&f.fingerprint));
        suppressed = before - findings.len();
    }
    if let Some(check) = &opts.server {
        server::check(check, &mut findings)?;
    }
    let report = Report {
        findings,
        stats,
        suppressed,
    };
    report::write(&report, opts.format, opts.color, out).map_err(ScanError::Output)?;
    Ok(
        if report.findings.is_empty() || opts.write_baseline.is_some() {
            EXIT_CLEAN
        } else {
            EXIT_FINDINGS
        },
    )
}
