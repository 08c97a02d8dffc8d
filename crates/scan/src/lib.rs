//! Leaked-token scanner: finds Tessera tokens and third-party secrets in files, CI configuration
//! and git history, and can ask the authorization server to revoke the live ones.
//!
//! Tessera's token strings carry a prefix and a CRC32 checksum (`tessera_proto::token_string`), so
//! a Tessera token is recognised with no false positive and a typo is told apart from a token.
//! Third-party secrets are found by a curated rule table ([`rules::RULES`]).
//!
//! Layout, following the data: [`source`] (files, git) → [`matcher`] (Aho-Corasick prefilter,
//! rule regexes, validators) → [`Finding`] (fingerprint, redacted preview; never the secret) →
//! [`baseline`] → [`server`] (leak check / revocation) → [`report`] (text, JSON, SARIF).
//!
//! Entry points: [`run`] with [`ScanOptions`] (clap-free), or [`cli::main_with`] with the
//! [`cli::ScanArgs`] that `tessera scan` flattens into its subcommand.
//!
//! ```no_run
//! use tessera_scan::{ScanOptions, SourceMode, run};
//! let opts = ScanOptions { paths: vec![".".into()], mode: SourceMode::History, ..ScanOptions::default() };
//! let code = run(&opts, &mut std::io::stdout()).unwrap_or(tessera_scan::EXIT_ERROR);
//! std::process::exit(code);
//! ```
#![warn(missing_docs)]

pub mod baseline;
pub mod cli;
pub mod finding;
pub mod matcher;
#[cfg(test)]
mod matcher_proptests;
pub mod options;
pub mod progress;
pub mod report;
pub mod rules;
mod run;
pub mod server;
pub mod source;

use std::path::PathBuf;

pub use finding::{Finding, ServerVerdict, TesseraLeak};
pub use options::{DEFAULT_MAX_FILE_SIZE, ScanOptions, SourceMode};
pub use report::{Format, Report};
pub use run::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, run, scan};
pub use server::ServerCheck;

/// Why a scan could not complete (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A path could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Walking a directory failed.
    #[error("walking files: {0}")]
    Walk(String),
    /// The repository could not be read.
    #[error("git: {0}")]
    Git(String),
    /// The baseline file is not a baseline.
    #[error("baseline: {0}")]
    Baseline(String),
    /// The authorization server could not be asked or refused.
    #[error("server: {0}")]
    Server(String),
    /// Writing the report failed.
    #[error("writing the report: {0}")]
    Output(std::io::Error),
    /// The options make no sense together.
    #[error("{0}")]
    Usage(String),
}
