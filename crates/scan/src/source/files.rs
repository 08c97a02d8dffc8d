//! Files and directories: walked with the `ignore` crate (ripgrep's walker), so `.gitignore`,
//! `.ignore` and `.tesseraignore` are honoured, while hidden files — `.env`, `.github/workflows/`,
//! `.gitlab-ci.yml`, `.circleci/` — are scanned like any other file. `.git/` itself is skipped
//! (its contents are the history source's job).

use std::path::{Path, PathBuf};

use ignore::WalkBuilder;
use rayon::prelude::*;

use super::{Stats, scan_buffer};
use crate::ScanError;
use crate::finding::{Finding, Origin};
use crate::matcher::Matcher;
use crate::progress::Progress;

/// A file to scan and the path to show for it.
#[derive(Clone, Debug)]
pub struct FileEntry {
    /// Path to open.
    pub path: PathBuf,
    /// Path relative to the scanned directory (or as given, for a file argument), `/`-separated.
    pub display: String,
    /// Size when listed, for the progress bar.
    pub size: u64,
}

/// Lists the files under `roots`, skipping `.git/` and ignored files.
pub fn collect(roots: &[PathBuf], no_ignore: bool) -> Result<Vec<FileEntry>, ScanError> {
    let mut out = Vec::new();
    for root in roots {
        let meta = std::fs::metadata(root).map_err(|source| ScanError::Io {
            path: root.clone(),
            source,
        })?;
        let mut builder = WalkBuilder::new(root);
        builder
            .hidden(false)
            .require_git(false)
            .follow_links(false)
            .filter_entry(|e| e.file_name() != ".git");
        if no_ignore {
            builder.standard_filters(false).hidden(false);
        } else {
            builder.add_custom_ignore_filename(".tesseraignore");
        }
        for entry in builder.build() {
            let entry = entry.map_err(|e| ScanError::Walk(e.to_string()))?;
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            let display = display_path(root, entry.path(), meta.is_dir());
            out.push(FileEntry {
                path: entry.into_path(),
                display,
                size,
            });
        }
    }
    Ok(out)
}

fn display_path(root: &Path, path: &Path, root_is_dir: bool) -> String {
    let shown = if root_is_dir {
        path.strip_prefix(root).unwrap_or(path)
    } else {
        path
    };
    let text = shown.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").map(str::to_owned).unwrap_or(text)
}

/// Scans the listed files in parallel.
pub fn scan(
    entries: &[FileEntry],
    matcher: &Matcher,
    max_size: u64,
    progress: &Progress,
) -> (Vec<Finding>, Stats) {
    let results: Vec<(Vec<Finding>, Stats)> = entries
        .par_iter()
        .map(|entry| {
            if entry.size > max_size {
                return (
                    Vec::new(),
                    Stats {
                        skipped: 1,
                        ..Stats::default()
                    },
                );
            }
            let result = match std::fs::read(&entry.path) {
                Ok(data) => {
                    let origin = Origin {
                        path: entry.display.clone(),
                        commit: None,
                    };
                    scan_buffer(matcher, &data, &origin, max_size)
                }
                Err(_) => (
                    Vec::new(),
                    Stats {
                        skipped: 1,
                        ..Stats::default()
                    },
                ),
            };
            progress.inc(entry.size);
            result
        })
        .collect();
    let mut stats = Stats::default();
    let mut findings = Vec::new();
    for (f, s) in results {
        findings.extend(f);
        stats.add(s);
    }
    (findings, stats)
}
