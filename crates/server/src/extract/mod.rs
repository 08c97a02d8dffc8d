//! Extracting what a request carries, before any protocol decision: the form, the client's
//! credentials, the caller's context.
pub mod body;
pub mod client_credentials;
pub mod form;
pub mod forwarded;

use std::net::SocketAddr;

use axum::http::{HeaderMap, header};
use tessera_core::audit::RequestContext;

/// The `DPoP` header (RFC 9449 §4.1): at most one, ASCII.
pub fn dpop_proof(headers: &HeaderMap) -> Result<Option<&str>, tessera_proto::OAuthError> {
    let invalid = |d: &'static str| {
        tessera_proto::OAuthError::new(tessera_proto::ErrorCode::InvalidDpopProof, d)
    };
    let mut values = headers.get_all("dpop").iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(invalid("more than one DPoP header"));
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| invalid("the DPoP header is not ASCII"))
}

/// The TCP peer of a connection, set by the accept loop.
#[derive(Clone, Copy, Debug)]
pub struct PeerAddr(pub SocketAddr);

/// Caller context for audit events: peer IP and User-Agent.
pub fn context(peer: Option<PeerAddr>, headers: &HeaderMap) -> RequestContext {
    RequestContext {
        client_cert: None,
        ip: peer.map(|p| p.0.ip()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect()),
    }
}
