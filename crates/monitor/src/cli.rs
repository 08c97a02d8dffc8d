//! `tessera monitor`'s command line: the clap arguments (flattened into the `tessera` binary)
//! and [`run`] / [`replay_main`], which the binary calls.
//!
//! `tessera monitor replay --input events.jsonl [--geoip FILE.mmdb] [--config FILE.toml]
//! --output alerts.jsonl` (`-` for standard input or output).
use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::config::MonitorConfig;
use crate::engine::Engine;
use crate::geo::GeoIp;
use crate::replay::{ReplayStats, replay};
use crate::state::MonitorState;

/// Arguments of `tessera monitor`.
#[derive(Clone, Debug, Args)]
pub struct MonitorArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: MonitorCommand,
}

/// The `tessera monitor` subcommands.
#[derive(Clone, Debug, Subcommand)]
pub enum MonitorCommand {
    /// Run the detectors over an event log and write one JSON alert per line.
    Replay(ReplayArgs),
}

/// Arguments of `tessera monitor replay`.
#[derive(Clone, Debug, Args)]
pub struct ReplayArgs {
    /// Event log: one JSON audit event per line (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Where to write alerts, one JSON object per line (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    /// MaxMind-format GeoIP City database (enables impossible travel and local-time off-hours).
    #[arg(long, value_name = "FILE")]
    pub geoip: Option<PathBuf>,
    /// Monitor configuration (TOML); defaults otherwise.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Start from baselines saved earlier (a state file written by the server or `--save-state`).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Save the learned baselines here when the replay ends.
    #[arg(long, value_name = "FILE")]
    pub save_state: Option<PathBuf>,
}

/// Runs `tessera monitor …`.
pub fn run(args: &MonitorArgs) -> Result<(), String> {
    match &args.command {
        MonitorCommand::Replay(a) => replay_main(a).map(|_| ()),
    }
}

/// Runs `tessera monitor replay`; prints a one-line summary on standard error.
pub fn replay_main(args: &ReplayArgs) -> Result<ReplayStats, String> {
    let config = match &args.config {
        Some(path) => MonitorConfig::load(path)?,
        None => MonitorConfig::default(),
    };
    let geo = args.geoip.as_deref().map(GeoIp::open).transpose()?;
    let mut engine = Engine::new(&config, geo);
    if let Some(path) = &args.state {
        let state = MonitorState::load(path)?
            .ok_or_else(|| format!("{}: no such state file", path.display()))?;
        engine.restore(state)?;
    }
    let stats = {
        let output: Box<dyn Write> = if args.output.as_os_str() == "-" {
            Box::new(io::stdout().lock())
        } else {
            Box::new(
                File::create(&args.output)
                    .map_err(|e| format!("creating {}: {e}", args.output.display()))?,
            )
        };
        let result = if args.input.as_os_str() == "-" {
            replay(io::stdin().lock(), output, &mut engine)
        } else {
            let file = File::open(&args.input)
                .map_err(|e| format!("opening {}: {e}", args.input.display()))?;
            replay(BufReader::with_capacity(1 << 16, file), output, &mut engine)
        };
        result.map_err(|e| format!("replay: {e}"))?
    };
    if let Some(path) = &args.save_state {
        engine.snapshot().save(path)?;
    }
    let mut summary = format!(
        "tessera monitor replay: {} events, {} alerts, {} lines skipped",
        stats.events, stats.alerts, stats.skipped
    );
    if let Some((line, reason)) = &stats.first_skip {
        summary.push_str(&format!(" (first: line {line}: {reason})"));
    }
    eprintln!("{summary}");
    Ok(stats)
}
