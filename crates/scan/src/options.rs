//! What to scan and how to report it: the clap-free options the CLI (or any caller) fills in.

use std::path::PathBuf;

use crate::report::Format;
use crate::server::ServerCheck;

/// Default size limit: larger files are generated or data, not configuration.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// Which bytes to read from each path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SourceMode {
    /// The files under each path (respecting `.gitignore`; hidden files included).
    #[default]
    Files,
    /// The tree committed at HEAD of the repository containing each path (`--git`).
    GitHead,
    /// Every blob reachable from every ref of the repository (`--history`).
    History,
    /// Index entries that differ from HEAD: what the next commit would add (`--staged`).
    Staged,
}

/// Everything one scan needs.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Files, directories or (for git modes) paths inside repositories.
    pub paths: Vec<PathBuf>,
    /// Which bytes to read.
    pub mode: SourceMode,
    /// Output format.
    pub format: Format,
    /// Ask the authorization server about (and optionally revoke) Tessera tokens found.
    pub server: Option<ServerCheck>,
    /// Suppress findings whose fingerprint this file lists.
    pub baseline: Option<PathBuf>,
    /// Write the fingerprints of every finding (before suppression) to this file and exit 0.
    pub write_baseline: Option<PathBuf>,
    /// Skip files and blobs larger than this many bytes.
    pub max_file_size: u64,
    /// Scan files that `.gitignore`/`.ignore`/`.tesseraignore` exclude, too.
    pub no_ignore: bool,
    /// ANSI colours in text output.
    pub color: bool,
    /// A progress bar on stderr for long scans (shown only if stderr is a terminal).
    pub progress: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            paths: vec![PathBuf::from(".")],
            mode: SourceMode::Files,
            format: Format::Text,
            server: None,
            baseline: None,
            write_baseline: None,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            no_ignore: false,
            color: false,
            progress: false,
        }
    }
}
