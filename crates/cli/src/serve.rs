//! `tessera serve`.
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::settings::{self, StoreArgs};

/// Flags of `tessera serve`. Those that set a configuration key win over its `TESSERA_*`
/// variable, which `settings::load` applies (core's one table); the monitor's own files are
/// read from their variables by clap.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address of the OAuth endpoints [default: 127.0.0.1:8080]
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Address of /healthz and /metrics [default: 127.0.0.1:8081]
    #[arg(long)]
    admin_listen: Option<SocketAddr>,
    /// Issuer URL [default: http://LISTEN, https with TLS]
    #[arg(long)]
    issuer: Option<String>,
    /// TLS certificate chain (PEM)
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM)
    #[arg(long)]
    tls_key: Option<PathBuf>,
    /// CA certificates (PEM) that issue client certificates for tls_client_auth (RFC 8705 §2.1)
    #[arg(long)]
    tls_client_ca: Option<PathBuf>,
    /// Seconds a rotated refresh token, presented again by its client, still yields the same successor (0: reuse always revokes the family) [default: 0]
    #[arg(long)]
    refresh_reuse_grace_secs: Option<u64>,
    /// Allow plain HTTP on a non-loopback address (tokens cross the network in clear)
    #[arg(long)]
    insecure_http: bool,
    /// Monitor configuration (TOML; docs/monitor.md) [default: built-in thresholds]
    #[arg(long, env = "TESSERA_MONITOR_CONFIG")]
    monitor_config: Option<PathBuf>,
    /// MaxMind-format GeoIP City database for the impossible-travel detector
    #[arg(long, env = "TESSERA_GEOIP")]
    geoip: Option<PathBuf>,
    /// File where the monitor keeps its learned baselines across restarts (loaded at start, saved at shutdown)
    #[arg(long, env = "TESSERA_MONITOR_STATE")]
    monitor_state: Option<PathBuf>,
    /// Do not run the live anomaly monitor
    #[arg(long)]
    no_monitor: bool,
    #[command(flatten)]
    store: StoreArgs,
}

pub async fn run(args: ServeArgs) -> Result<(), String> {
    let (mut config, kek_created) = settings::load_with_kek(&args.store)?;
    settings::announce_kek(kek_created);
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
    if let Some(v) = args.tls_client_ca {
        config.tls_client_ca = Some(v);
    }
    if let Some(v) = args.refresh_reuse_grace_secs {
        config.refresh.reuse_grace_secs = v;
    }
    config.insecure_http |= args.insecure_http;
    config.check().map_err(|e| e.to_string())?;
    let store = tessera_store::open(&config.database).await?;
    let running = tessera_server::start(config, store.clone())
        .await
        .map_err(|e| e.to_string())?;
    let monitor = if args.no_monitor {
        None
    } else {
        Some(start_monitor(
            &running,
            store,
            args.monitor_config.as_deref(),
            args.geoip.as_deref(),
            args.monitor_state.as_deref(),
        )?)
    };
    eprintln!(
        "tessera listening on {} (admin {})",
        running.addr, running.admin_addr
    );
    shutdown_signal().await;
    tracing::info!("shutting down");
    if let (Some(monitor), Some(path)) = (&monitor, &args.monitor_state) {
        monitor.save_state(path)?;
    }
    running
        .authority
        .store()
        .flush_events()
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Feeds every event this node records to the anomaly monitor (docs/monitor.md), which raises
/// alerts and takes the configured automatic actions through the store.
fn start_monitor(
    running: &tessera_server::Running,
    store: std::sync::Arc<dyn tessera_core::store::Store>,
    config: Option<&std::path::Path>,
    geoip: Option<&std::path::Path>,
    state: Option<&std::path::Path>,
) -> Result<std::sync::Arc<tessera_monitor::Monitor>, String> {
    use std::sync::Arc;
    use tessera_monitor::{GeoIp, Monitor, MonitorConfig, StoreActions};
    let config = match config {
        Some(path) => MonitorConfig::load(path)?,
        None => MonitorConfig::default(),
    };
    let geo = geoip.map(GeoIp::open).transpose()?;
    let clock: Arc<dyn tessera_core::clock::Clock> = Arc::new(tessera_core::clock::SystemClock);
    let monitor = Monitor::new(&config, geo)
        .with_sinks(config.sinks.build(clock)?)
        .with_actions(Arc::new(StoreActions::new(
            store,
            config.actions.jwt_revocation_ttl_secs,
        )));
    let monitor = Arc::new(monitor);
    if let Some(path) = state {
        monitor.load_state(path)?;
    }
    let feed = monitor.clone().spawn(16_384);
    running.authority.set_event_tap(Box::new(move |event| {
        feed.submit(event);
    }));
    Ok(monitor)
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
