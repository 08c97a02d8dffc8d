//! `tessera serve`.
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::settings::{self, StoreArgs};

/// Flags of `tessera serve`; each also reads its `TESSERA_*` environment variable.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address of the OAuth endpoints [default: 127.0.0.1:8080]
    #[arg(long, env = "TESSERA_LISTEN")]
    listen: Option<SocketAddr>,
    /// Address of /healthz and /metrics [default: 127.0.0.1:8081]
    #[arg(long, env = "TESSERA_ADMIN_LISTEN")]
    admin_listen: Option<SocketAddr>,
    /// Issuer URL [default: http://LISTEN, https with TLS]
    #[arg(long, env = "TESSERA_ISSUER")]
    issuer: Option<String>,
    /// TLS certificate chain (PEM)
    #[arg(long, env = "TESSERA_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM)
    #[arg(long, env = "TESSERA_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address (tokens cross the network in clear)
    #[arg(long)]
    insecure_http: bool,
    #[command(flatten)]
    store: StoreArgs,
}

pub async fn run(args: ServeArgs) -> Result<(), String> {
    let mut config = settings::load(&args.store)?;
    if let Some(v) = args.listen {
        config.listen = v;
    }
    if let Some(v) = args.admin_listen {
        config.admin_listen = v;
    }
    if let Some(v) = args.issuer {
        config.issuer = Some(v);
    }
    if let Some(v) = args.tls_cert {
        config.tls_cert = Some(v);
    }
    if let Some(v) = args.tls_key {
        config.tls_key = Some(v);
    }
    config.insecure_http |= args.insecure_http;
    config.check()?;
    let store = tessera_store::open(&config.database).await?;
    let running = tessera_server::start(config, store).await?;
    eprintln!(
        "tessera listening on {} (admin {})",
        running.addr, running.admin_addr
    );
    shutdown_signal().await;
    tracing::info!("shutting down");
    running
        .authority
        .store()
        .flush_events()
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
