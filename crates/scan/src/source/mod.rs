//! Where bytes come from: the file system (`files`) or a git repository (`git`: HEAD, the index,
//! or every blob reachable from every ref).
//!
//! Each source lists its work first (cheap, sequential), then scans it in parallel with rayon;
//! every buffer goes through the same [`scan_buffer`] so all sources share one hot path.

pub mod files;
pub mod git;

use crate::finding::{Finding, Origin};
use crate::matcher::Matcher;

/// How many leading bytes are checked for a NUL to call a buffer binary (git's own heuristic).
const BINARY_PROBE: usize = 8000;

/// Counters for the summary line and the benchmark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Files or blobs whose bytes were scanned.
    pub scanned: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Skipped as binary, too large or unreadable.
    pub skipped: u64,
}

impl Stats {
    pub(crate) fn add(&mut self, other: Stats) {
        self.scanned += other.scanned;
        self.bytes += other.bytes;
        self.skipped += other.skipped;
    }
}

/// Whether `data` looks binary: a NUL byte in its first 8000 bytes.
pub fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(BINARY_PROBE)]).is_some()
}

/// Scans one buffer unless it is binary or larger than `max_size`; returns its findings and
/// what it counted.
pub(crate) fn scan_buffer(
    matcher: &Matcher,
    data: &[u8],
    origin: &Origin,
    max_size: u64,
) -> (Vec<Finding>, Stats) {
    if data.len() as u64 > max_size || is_binary(data) {
        return (
            Vec::new(),
            Stats {
                skipped: 1,
                ..Stats::default()
            },
        );
    }
    let findings = matcher
        .scan(data)
        .iter()
        .map(|hit| Finding::from_hit(hit, origin))
        .collect();
    (
        findings,
        Stats {
            scanned: 1,
            bytes: data.len() as u64,
            skipped: 0,
        },
    )
}
