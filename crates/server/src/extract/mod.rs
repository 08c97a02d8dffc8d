//! Extracting what a request carries, before any protocol decision: the form, the client's
//! credentials, the caller's context.
pub mod client_credentials;
pub mod form;

use std::net::SocketAddr;

use axum::http::{HeaderMap, header};
use tessera_core::audit::RequestContext;

/// The TCP peer of a connection, set by the accept loop.
#[derive(Clone, Copy, Debug)]
pub struct PeerAddr(pub SocketAddr);

/// Caller context for audit events: peer IP and User-Agent.
pub fn context(peer: Option<PeerAddr>, headers: &HeaderMap) -> RequestContext {
    RequestContext {
        ip: peer.map(|p| p.0.ip()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect()),
    }
}
