//! The `tessera` binary: one file per subcommand.
mod client;
mod duration;
mod keys;
mod serve;
mod settings;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Tessera: an OAuth 2.0 authorization server for short-lived, scoped, audience-restricted tokens.
#[derive(Parser)]
#[command(name = "tessera", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the authorization server (zero config: 127.0.0.1:8080, SQLite ./tessera.db).
    Serve(serve::ServeArgs),
    /// Register and manage OAuth clients (works on the database directly).
    #[command(subcommand)]
    Client(Box<client::ClientCommand>),
    /// List and rotate signing keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Client(cmd) => client::run(*cmd).await,
            Command::Keys(cmd) => keys::run(cmd).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
