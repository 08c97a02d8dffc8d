//! TLS with rustls: the server certificate, and client certificates for mutual TLS (RFC 8705).
//!
//! Client certificates are *requested*, never required, and any certificate whose holder proves
//! its key in the handshake is accepted at the TLS layer: a self-signed certificate is legitimate
//! for `self_signed_tls_client_auth`. Whether the chain verifies against `tls_client_ca` is
//! decided here, once per connection, and travels with each request as
//! `ClientCertificate::chain_verified`; the core decides what a certificate authenticates.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};
use tessera_core::binding::mtls::ClientCertificate;
use tokio_rustls::TlsAcceptor;

/// A TLS file that could not be used: each message names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The file could not be read.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not PEM of the expected kind.
    #[error("parsing {}: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The key file holds no private key.
    #[error("no private key in {}", .0.display())]
    NoPrivateKey(PathBuf),
    /// rustls refused the protocol versions.
    #[error("{0}")]
    Protocols(rustls::Error),
    /// The certificate and key do not make a usable pair.
    #[error("TLS certificate/key: {0}")]
    CertificateKey(rustls::Error),
    /// A client CA certificate is not usable as a trust anchor.
    #[error("{}: {source}", path.display())]
    TrustAnchor {
        /// The file.
        path: PathBuf,
        /// Why.
        source: rustls::Error,
    },
    /// No client-certificate verifier could be built from the CA file.
    #[error("client CA {}: {detail}", path.display())]
    ClientCa {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
}

fn read(p: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(p).map_err(|source| TlsError::Read {
        path: p.to_path_buf(),
        source,
    })
}

fn parse(p: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Parse {
        path: p.to_path_buf(),
        source,
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Builds the TLS acceptor from PEM files, asking clients for an optional certificate.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let certs = rustls_pemfile::certs(&mut read(cert)?.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(parse(cert))?;
    let key = rustls_pemfile::private_key(&mut read(key)?.as_slice())
        .map_err(parse(key))?
        .ok_or_else(|| TlsError::NoPrivateKey(key.to_path_buf()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Protocols)?
        .with_client_cert_verifier(Arc::new(OptionalClientCert {
            provider: provider(),
        }))
        .with_single_cert(certs, key)
        .map_err(TlsError::CertificateKey)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Requests a client certificate and checks only the handshake signature (proof of the key).
#[derive(Debug)]
struct OptionalClientCert {
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for OptionalClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Verifies client certificate chains against the configured client CA (`tls_client_ca`).
#[derive(Default)]
pub struct ChainChecker {
    verifier: Option<Arc<dyn ClientCertVerifier>>,
}

impl ChainChecker {
    /// A checker trusting the CA certificates in `ca_pem`, or trusting nothing when `None`.
    pub fn new(ca_pem: Option<&Path>) -> Result<Self, TlsError> {
        let Some(path) = ca_pem else {
            return Ok(Self::default());
        };
        let mut roots = RootCertStore::empty();
        for cert in rustls_pemfile::certs(&mut read(path)?.as_slice()) {
            let cert = cert.map_err(parse(path))?;
            roots.add(cert).map_err(|source| TlsError::TrustAnchor {
                path: path.to_path_buf(),
                source,
            })?;
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .allow_unauthenticated()
            .build()
            .map_err(|e| TlsError::ClientCa {
                path: path.to_path_buf(),
                detail: e.to_string(),
            })?;
        Ok(Self {
            verifier: Some(verifier),
        })
    }

    /// The request-level view of a presented chain.
    pub fn check(&self, chain: &[CertificateDer<'_>]) -> Option<ClientCertificate> {
        let (end_entity, intermediates) = chain.split_first()?;
        let chain_verified = self.verifier.as_ref().is_some_and(|v| {
            v.verify_client_cert(end_entity, intermediates, UnixTime::now())
                .is_ok()
        });
        Some(ClientCertificate {
            der: Arc::from(end_entity.as_ref()),
            chain_verified,
        })
    }

    /// Parses a proxy's certificate header (URL-encoded PEM, as nginx's
    /// `$ssl_client_escaped_cert`) and checks it like a TLS peer chain.
    pub fn check_header(&self, value: &str) -> Option<ClientCertificate> {
        let pem = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .ok()?;
        let chain = rustls_pemfile::certs(&mut pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        self.check(&chain)
    }
}
