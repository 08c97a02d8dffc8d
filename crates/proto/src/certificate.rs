//! The client certificate of a request and its RFC 8705 thumbprint: what the edge (a TLS
//! listener, a trusted proxy header) hands the authorization server and resource servers alike,
//! so both compute `x5t#S256` the same way. Parsing the certificate is core's business
//! (`binding::mtls`); this type only carries the DER.
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

/// The client certificate of a request, as the edge saw it.
#[derive(Clone, Debug)]
pub struct ClientCertificate {
    /// DER of the end-entity certificate.
    pub der: Arc<[u8]>,
    /// Whether its chain verified against the configured client CA (`tls_client_ca`).
    pub chain_verified: bool,
}

impl ClientCertificate {
    /// RFC 8705 §3.1: "the base64url-encoded SHA-256 hash (a.k.a. thumbprint) of the DER
    /// encoding of the X.509 certificate" — the token's `cnf.x5t#S256`.
    pub fn x5t_s256(&self) -> String {
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.der);
        B64.encode(d.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thumbprint_is_the_base64url_sha256_of_the_der() {
        let cert = ClientCertificate {
            der: Arc::from(&b"abc"[..]),
            chain_verified: false,
        };
        // SHA-256("abc") = ba7816bf…15ad, base64url without padding.
        assert_eq!(
            cert.x5t_s256(),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }
}
