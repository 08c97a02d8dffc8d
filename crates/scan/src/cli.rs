//! `tessera scan`'s command line: the clap arguments (flattened into the `tessera` binary's
//! subcommand) and [`main_with`], which turns them into [`ScanOptions`] and an exit code.
//!
//! `tessera scan PATH... [--git] [--history] [--staged] [--format text|json|sarif]
//! [--server URL --revoke] [--baseline FILE]`, plus `--client-id`/`--client-secret`
//! (or `TESSERA_CLIENT_ID`/`TESSERA_CLIENT_SECRET`) for the server check, `--write-baseline FILE`,
//! `--no-ignore`, `--max-file-size BYTES` and `--no-progress`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use tessera_proto::Secret;

use crate::{
    DEFAULT_MAX_FILE_SIZE, EXIT_ERROR, Format, ScanError, ScanOptions, ServerCheck, SourceMode, run,
};

/// Output formats as spelled on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Human-readable (coloured on a terminal).
    Text,
    /// JSON document.
    Json,
    /// SARIF 2.1.0.
    Sarif,
}

/// Arguments of `tessera scan`. Exit codes: 0 nothing found, 1 findings, 2 error.
#[derive(Clone, Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; with --git/--history/--staged, a path inside a repository.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Scan the tree committed at HEAD instead of the working files.
    #[arg(long)]
    pub git: bool,
    /// Scan every blob reachable from every ref (implies --git): finds secrets deleted long ago.
    #[arg(long)]
    pub history: bool,
    /// Scan what the next commit would add (index entries differing from HEAD): for pre-commit hooks.
    #[arg(long, conflicts_with_all = ["history", "git"])]
    pub staged: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
    /// Ask this Tessera authorization server whether each Tessera token found is live.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// With --server: revoke live tokens and rotate live client secrets.
    #[arg(long, requires = "server")]
    pub revoke: bool,
    /// Admin client id for --server (needs the scope tessera:admin).
    #[arg(long, env = "TESSERA_CLIENT_ID", value_name = "ID")]
    pub client_id: Option<String>,
    /// Admin client secret for --server.
    #[arg(long, env = "TESSERA_CLIENT_SECRET", value_name = "SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub client_secret: Option<Secret>,
    /// Suppress findings whose fingerprints this baseline file lists.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write the fingerprints of all current findings to FILE (then exit 0).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Skip files and blobs larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
    /// Also scan files excluded by .gitignore, .ignore and .tesseraignore.
    #[arg(long)]
    pub no_ignore: bool,
    /// Never show the progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

fn parse_secret(s: &str) -> Result<Secret, String> {
    Ok(Secret::new(s))
}

impl ScanArgs {
    /// The clap-free options these arguments describe.
    pub fn to_options(&self) -> Result<ScanOptions, ScanError> {
        let mode = match (self.staged, self.history, self.git) {
            (true, _, _) => SourceMode::Staged,
            (_, true, _) => SourceMode::History,
            (_, _, true) => SourceMode::GitHead,
            _ => SourceMode::Files,
        };
        let format = match self.format {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
        };
        let server = match &self.server {
            None => None,
            Some(url) => {
                let (Some(client_id), Some(client_secret)) = (&self.client_id, &self.client_secret)
                else {
                    return Err(ScanError::Usage(
                        "--server needs --client-id and --client-secret (or TESSERA_CLIENT_ID/TESSERA_CLIENT_SECRET)".into(),
                    ));
                };
                Some(ServerCheck {
                    url: url.clone(),
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    revoke: self.revoke,
                })
            }
        };
        let color = format == Format::Text
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Ok(ScanOptions {
            paths: self.paths.clone(),
            mode,
            format,
            server,
            baseline: self.baseline.clone(),
            write_baseline: self.write_baseline.clone(),
            max_file_size: self.max_file_size,
            no_ignore: self.no_ignore,
            color,
            progress: !self.no_progress,
        })
    }
}

/// Runs `tessera scan` with parsed arguments, writing the report to stdout and errors to stderr.
/// Returns the process exit code: 0 nothing found, 1 findings, 2 error.
pub fn main_with(args: ScanArgs) -> i32 {
    let result = args.to_options().and_then(|opts| {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let code = run(&opts, &mut out)?;
        out.flush().map_err(ScanError::Output)?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tessera scan: error: {e}");
            EXIT_ERROR
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        scan: ScanArgs,
    }

    #[test]
    fn parses_the_documented_interface() {
        let cli = Cli::try_parse_from([
            "scan",
            "repo",
            "other",
            "--history",
            "--format",
            "sarif",
            "--server",
            "https://as",
            "--revoke",
            "--baseline",
            "b.json",
            "--client-id",
            "admin",
            "--client-secret",
            "s3cret",
        ])
        .unwrap();
        let opts = cli.scan.to_options().unwrap();
        assert_eq!(opts.mode, SourceMode::History);
        assert_eq!(opts.format, Format::Sarif);
        assert_eq!(opts.paths, [PathBuf::from("repo"), PathBuf::from("other")]);
        let server = opts.server.unwrap();
        assert!(server.revoke);
        assert_eq!(server.client_secret.expose_secret(), "s3cret");
        assert!(!format!("{server:?}").contains("s3cret"));
        assert!(!format!("{:?}", cli.scan).contains("s3cret"));
    }

    #[test]
    fn revoke_needs_a_server_and_staged_excludes_history() {
        assert!(Cli::try_parse_from(["scan", ".", "--revoke"]).is_err());
        assert!(Cli::try_parse_from(["scan", ".", "--staged", "--history"]).is_err());
        let cli = Cli::try_parse_from(["scan"]).unwrap();
        assert_eq!(cli.scan.paths, [PathBuf::from(".")]);
        assert_eq!(cli.scan.to_options().unwrap().mode, SourceMode::Files);
    }
}
