//! Sender constraint: proofs that the presenter of a token holds a key, and the binding written
//! into the token (`cnf`). DPoP (RFC 9449) here; mutual TLS (RFC 8705) joins it.
pub mod dn;
pub mod dpop;
pub mod mtls;
pub mod nonce;

/// What a token is bound to; empty for a bearer token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SenderBinding {
    /// RFC 9449 §6: the JWK SHA-256 thumbprint of the DPoP key (`cnf.jkt`).
    pub dpop_jkt: Option<String>,
    /// RFC 8705 §3: SHA-256 thumbprint of the client certificate (`cnf.x5t#S256`).
    pub x5t_s256: Option<String>,
}

impl SenderBinding {
    /// `DPoP` for a DPoP-bound token, else `Bearer`.
    pub fn token_type(&self) -> &'static str {
        if self.dpop_jkt.is_some() {
            "DPoP"
        } else {
            "Bearer"
        }
    }
}
