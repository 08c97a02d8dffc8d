//! Tessera's HTTP edge (axum). It makes no protocol decisions: `routes/` extract and respond,
//! `tessera-core` decides. `admin/` serves health and metrics on a separate listener.
#![warn(missing_docs)]

pub mod admin;
pub mod error;
pub mod extract;
pub mod jwks_fetch;
pub mod linger;
pub mod listen;
pub mod login;
pub mod panic;
pub mod respond;
pub mod routes;
pub mod security_headers;
pub mod state;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use tessera_core::clock::{Clock, SystemClock};
use tessera_core::ops::janitor::Janitor;
use tessera_core::store::Store;
use tessera_core::{Authority, Config};

use crate::admin::metrics::Metrics;
use crate::error::StartError;
use crate::state::App;

/// A running server: its bound addresses; dropping it stops it.
pub struct Running {
    /// Where the OAuth endpoints listen.
    pub addr: SocketAddr,
    /// Where `/healthz` and `/metrics` listen.
    pub admin_addr: SocketAddr,
    /// The authority (for tests and the CLI).
    pub authority: Arc<Authority>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Starts the server on the system clock.
pub async fn start(config: Config, store: Arc<dyn Store>) -> Result<Running, StartError> {
    start_with_clock(config, store, Arc::new(SystemClock)).await
}

/// Starts the server: binds both listeners, opens the authority, spawns the change watcher and
/// (unless `retention.enabled` is off) the retention janitor.
/// With `listen` port 0 the issuer defaults to the bound address.
pub async fn start_with_clock(
    mut config: Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> Result<Running, StartError> {
    config.check()?;
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
        _ => None,
    };
    let listener = listen::bind(config.listen).await?;
    let admin_listener = listen::bind(config.admin_listen).await?;
    let addr = listener.local_addr().map_err(StartError::LocalAddr)?;
    let admin_addr = admin_listener.local_addr().map_err(StartError::LocalAddr)?;
    config.listen = addr;
    let janitor = config
        .retention
        .enabled
        .then(|| Janitor::new(store.clone(), clock.clone(), config.retention.clone()));
    let authority = Authority::open(config, store, clock).await?;
    authority.set_jwks_fetcher(Arc::new(
        jwks_fetch::HttpJwksFetcher::new(jwks_fetch::address_policy(
            authority.config(),
            authority.issuer(),
        ))
        .map_err(StartError::JwksClient)?,
    ));
    if !authority.keys_sealed() {
        tracing::warn!(
            "signing keys are stored UNENCRYPTED in the database: no key-encryption key was \
             given to this embedded server (`tessera serve` always has one: docs/keys.md)"
        );
    }
    let chains = Arc::new(tls::ChainChecker::new(
        authority.config().tls_client_ca.as_deref(),
    )?);
    let proxies = extract::forwarded::TrustedProxies::new(authority.config().trusted_proxy_nets()?);
    if authority.config().behind_tls_proxy && authority.config().trusted_proxies.is_empty() {
        tracing::warn!(
            "behind_tls_proxy is set but trusted_proxies is empty: audit events, the monitor and \
             the login lockout see the proxy's address for every caller"
        );
    }
    let app = App {
        authority: authority.clone(),
        metrics: Arc::new(Metrics::default()),
        chains: chains.clone(),
    };
    let mut tasks = vec![
        authority.spawn_change_watcher(),
        authority.spawn_key_scheduler(),
        tokio::spawn(listen::serve(
            listener,
            routes::router(app.clone()),
            tls,
            chains.clone(),
            authority.config().limits.clone(),
            proxies.clone(),
        )),
        tokio::spawn(listen::serve(
            admin_listener,
            admin::router(app),
            None,
            chains,
            authority.config().limits.clone(),
            proxies,
        )),
    ];
    tasks.extend(janitor.map(Janitor::spawn));
    tracing::info!(%addr, %admin_addr, issuer = authority.issuer(), "tessera listening");
    Ok(Running {
        addr,
        admin_addr,
        authority,
        tasks,
    })
}
