//! Why a server could not start: typed, so the CLI and tests can tell a bad configuration from a
//! port in use, and each message names what to fix.
use std::net::SocketAddr;

use tessera_core::config::ConfigError;
use tessera_core::error::StartupError;

use crate::tls::TlsError;

/// A failure of [`crate::start`].
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is refused ([`tessera_core::Config::check`]).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The TLS certificate, key or client CA could not be loaded.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A listener could not be bound.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A bound listener has no local address.
    #[error("{0}")]
    LocalAddr(std::io::Error),
    /// The authorization server could not open (keys, store).
    #[error(transparent)]
    Startup(#[from] StartupError),
    /// The HTTP client for clients' `jwks_uri` could not be built.
    #[error("building the jwks_uri HTTP client: {0}")]
    JwksClient(reqwest::Error),
}
