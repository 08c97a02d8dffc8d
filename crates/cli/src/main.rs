//! The `tessera` binary: one file per subcommand.
mod alerts;
mod client;
mod duration;
mod keys;
mod migrate;
mod proxy;
mod serve;
mod settings;
mod user;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: the request path allocates a few dozen small strings per request, and glibc's
/// malloc/free was ~7 % of the server's CPU under load (perf, docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Manage resource owners who log in on the built-in login page (works on the database directly).
    #[command(subcommand)]
    User(user::UserCommand),
    /// List, rotate and revoke signing keys (docs/keys.md).
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// The monitor's stored alerts: list, show, acknowledge (works on the database directly).
    #[command(subcommand)]
    Alerts(alerts::AlertsCommand),
    /// Anomaly detection over audit events: `tessera monitor replay` (docs/monitor.md).
    Monitor(tessera_monitor::cli::MonitorArgs),
    /// Bring the database schema up to date.
    Migrate(migrate::MigrateArgs),
    /// Reverse proxy that validates access tokens before forwarding (docs/validate.md).
    Proxy(Box<proxy::ProxyArgs>),
    /// Find leaked tokens and secrets in files, CI configuration and git history (docs/scan.md).
    Scan(Box<tessera_scan::cli::ScanArgs>),
}

fn main() -> ExitCode {
    let cli: Cli = settings::parse_command_line();
    // The scanner has its own exit codes (0 clean, 1 findings, 2 error) and needs no runtime.
    let cli = match cli.command {
        Command::Scan(args) => {
            let code = tessera_scan::cli::main_with(*args);
            return ExitCode::from(u8::try_from(code).unwrap_or(2));
        }
        command => Cli { command },
    };
    let default_level = if matches!(cli.command, Command::Serve(_) | Command::Proxy(_)) {
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
    if matches!(cli.command, Command::Serve(_) | Command::Proxy(_)) {
        // A panic is answered 500 by the listener; log where, never a message with request data.
        tessera_server::panic::install_hook();
    }
    // jsonwebtoken fixes its crypto provider at first use, for the whole process: Tessera's
    // (parsed keys cached, PKCS#8 RSA keys signing) before anything signs or verifies.
    // tessera-validate installs none of its own; it verifies with whichever is installed.
    tessera_core::keys::install_crypto_provider();
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
            Command::User(cmd) => user::run(cmd).await,
            Command::Alerts(cmd) => alerts::run(cmd).await,
            Command::Migrate(args) => migrate::run(args).await,
            Command::Proxy(args) => proxy::run(*args).await,
            Command::Monitor(args) => tessera_monitor::cli::run(&args),
            Command::Scan(_) => unreachable!("handled before the runtime starts"),
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
