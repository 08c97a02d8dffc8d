//! The audit trail: every issuance, introspection, revocation and failed authentication is a
//! typed [`AuditEvent`] with a `noun.verb` name (the type is proto's, shared with resource
//! servers); here, what the edge knows of the caller, recorded on every event.
use std::net::IpAddr;

pub use tessera_proto::audit::{AuditEvent, EventKind, Provenance};

/// Who made a request, as far as the edge could tell: recorded on every event.
#[derive(Clone, Debug, Default)]
pub struct RequestContext {
    /// The client certificate of the TLS connection (or of a trusted proxy header).
    pub client_cert: Option<crate::binding::mtls::ClientCertificate>,
    /// The caller's IP address.
    pub ip: Option<IpAddr>,
    /// The caller's User-Agent header.
    pub user_agent: Option<String>,
}

impl RequestContext {
    /// Builds an event of `kind` at `time_ms` carrying this caller's ip and user agent.
    pub fn event(&self, kind: EventKind, time_ms: u64) -> AuditEvent {
        let mut e = AuditEvent::new(kind, time_ms);
        e.ip = self.ip;
        e.user_agent = self.user_agent.clone();
        e
    }
}
