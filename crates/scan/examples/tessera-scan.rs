//! A stand-alone `tessera-scan` binary for benchmarks and for trying the scanner before the
//! `tessera scan` subcommand is wired into the CLI: same arguments, same exit codes.

use clap::Parser;
use tessera_scan::cli::{ScanArgs, main_with};

/// Finds leaked Tessera and third-party secrets in files, CI configuration and git history.
#[derive(Parser)]
#[command(name = "tessera-scan", version)]
struct Cli {
    #[command(flatten)]
    scan: ScanArgs,
}

fn main() {
    std::process::exit(main_with(Cli::parse().scan));
}
