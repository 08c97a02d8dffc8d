//! What every handler shares.
use std::sync::Arc;

use tessera_core::Authority;

use crate::admin::metrics::Metrics;

/// Handler state: the authority and the metrics.
#[derive(Clone)]
pub struct App {
    /// The authorization server.
    pub authority: Arc<Authority>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Client-certificate chain verification (mutual TLS).
    pub chains: Arc<crate::tls::ChainChecker>,
}
