//! Mutual TLS (RFC 8705): client authentication by certificate (`tls_client_auth` against a
//! registered subject DN or SAN, over a chain that verified against the configured CA;
//! `self_signed_tls_client_auth` against the client's registered JWK Set) and certificate-bound
//! tokens (`cnf.x5t#S256`, the SHA-256 of the certificate's DER, computed by proto's
//! [`ClientCertificate`]).
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;

use super::dn::DistinguishedName;

pub use tessera_proto::certificate::ClientCertificate;

/// RFC 8705 §2.1.2: the one value a `tls_client_auth` client's certificate must carry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsClientAuth {
    /// `tls_client_auth_subject_dn`, RFC 4514 string.
    SubjectDn(String),
    /// `tls_client_auth_san_dns`.
    SanDns(String),
    /// `tls_client_auth_san_uri`.
    SanUri(String),
    /// `tls_client_auth_san_ip`.
    SanIp(String),
    /// `tls_client_auth_san_email`.
    SanEmail(String),
}

/// `tls_client_auth`: the chain verified and the certificate carries the registered value.
pub fn matches_registered(
    cert: &ClientCertificate,
    expected: &TlsClientAuth,
) -> Result<(), &'static str> {
    if !cert.chain_verified {
        return Err("certificate_chain_not_trusted");
    }
    let (_, x509) = X509Certificate::from_der(&cert.der).map_err(|_| "certificate_unreadable")?;
    let sans: Vec<GeneralName<'_>> = x509
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|ext| ext.value.general_names.clone())
        .unwrap_or_default();
    let found = match expected {
        // RFC 8705 §2.1.2: "the expected subject distinguished name of the certificate, in
        // string representation as defined in [RFC4514]" — parsed, and compared as RDN sequences
        // (RFC 4517 distinguishedNameMatch), never as display strings.
        TlsClientAuth::SubjectDn(dn) => DistinguishedName::parse(dn)
            .map_err(|_| "registered_subject_dn_unparseable")?
            .matches(x509.subject()),
        TlsClientAuth::SanDns(v) => sans
            .iter()
            .any(|n| matches!(n, GeneralName::DNSName(d) if d.eq_ignore_ascii_case(v))),
        TlsClientAuth::SanUri(v) => sans
            .iter()
            .any(|n| matches!(n, GeneralName::URI(u) if u == v)),
        TlsClientAuth::SanEmail(v) => sans
            .iter()
            .any(|n| matches!(n, GeneralName::RFC822Name(e) if e.eq_ignore_ascii_case(v))),
        TlsClientAuth::SanIp(v) => {
            let want: Option<std::net::IpAddr> = v.parse().ok();
            sans.iter().any(|n| match n {
                GeneralName::IPAddress(bytes) => ip_from_bytes(bytes) == want,
                _ => false,
            })
        }
    };
    if found {
        Ok(())
    } else {
        Err("certificate_does_not_match_registration")
    }
}

fn ip_from_bytes(b: &[u8]) -> Option<std::net::IpAddr> {
    match b.len() {
        4 => Some(std::net::IpAddr::from(<[u8; 4]>::try_from(b).ok()?)),
        16 => Some(std::net::IpAddr::from(<[u8; 16]>::try_from(b).ok()?)),
        _ => None,
    }
}

/// `self_signed_tls_client_auth` (RFC 8705 §2.2): the certificate's public key is one of the keys
/// in the client's registered JWK Set. No chain is checked.
pub fn matches_jwks(cert: &ClientCertificate, jwks: &str) -> Result<(), &'static str> {
    let (_, x509) = X509Certificate::from_der(&cert.der).map_err(|_| "certificate_unreadable")?;
    let set: serde_json::Value = serde_json::from_str(jwks).map_err(|_| "no_registered_keys")?;
    let keys = set["keys"].as_array().ok_or("no_registered_keys")?;
    let spki = x509.public_key();
    let b64 = |v: &serde_json::Value| v.as_str().and_then(|s| B64.decode(s).ok());
    let strip = |b: &[u8]| {
        b.iter()
            .skip_while(|&&x| x == 0)
            .copied()
            .collect::<Vec<u8>>()
    };
    let found = match spki.parsed() {
        Ok(PublicKey::EC(point)) => {
            let raw = point.data();
            keys.iter().any(|k| {
                k["kty"] == "EC"
                    && raw.len() > 1
                    && matches!((b64(&k["x"]), b64(&k["y"])), (Some(x), Some(y)) if raw[0] == 4 && raw[1..] == [x.as_slice(), y.as_slice()].concat()[..])
            })
        }
        Ok(PublicKey::RSA(rsa)) => keys.iter().any(|k| {
            k["kty"] == "RSA"
                && b64(&k["n"]).is_some_and(|n| strip(&n) == strip(rsa.modulus))
                && b64(&k["e"]).is_some_and(|e| strip(&e) == strip(rsa.exponent))
        }),
        _ => {
            // Ed25519: the SPKI's key bits are the raw 32-byte public key (JWK `x`).
            let raw = spki.subject_public_key.data.as_ref();
            keys.iter()
                .any(|k| k["kty"] == "OKP" && b64(&k["x"]).is_some_and(|x| x == raw))
        }
    };
    if found {
        Ok(())
    } else {
        Err("certificate_key_not_registered")
    }
}
