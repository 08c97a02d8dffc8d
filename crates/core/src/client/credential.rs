//! How a registered client proves who it is, as one enum: a client holds exactly the
//! credential its authentication method needs, so a public client with a secret, a
//! `private_key_jwt` client without keys, or one with both `jwks` and `jwks_uri` cannot be
//! constructed. [`super::registration`] builds it from loose registration metadata.
use tessera_proto::SecretHash;

use super::AuthMethod;
use crate::binding::mtls::TlsClientAuth;

/// The hashes of a client's secrets: the current one, and during a rotation's grace period the
/// previous one with the time it stops working.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSecrets {
    /// SHA-256 of the current secret.
    pub current: SecretHash,
    /// SHA-256 of the previous secret and its expiry (seconds since the epoch).
    pub previous: Option<(SecretHash, u64)>,
}

impl ClientSecrets {
    /// Whether `presented` is the current secret, or the previous one before its expiry.
    /// Both comparisons always run, in constant time, so timing tells nothing.
    pub fn accepts(&self, presented: &SecretHash, now: u64) -> bool {
        let current = self.current == *presented;
        let previous = match &self.previous {
            Some((hash, expires_at)) => (*hash == *presented) & (now < *expires_at),
            None => false,
        };
        current | previous
    }
}

/// Where a client's public keys are: registered with it, or published by it. RFC 7591 §2:
/// "The `jwks_uri` and `jwks` parameters MUST NOT both be present in the same request or
/// response" — one or the other, never both, never neither.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientKeys {
    /// `jwks`: the JWK Set itself (JSON text, public keys only).
    Jwks(String),
    /// `jwks_uri`: where the server fetches the set (https, or http on loopback).
    JwksUri(String),
}

impl ClientKeys {
    /// The registered set's JSON, if the keys are registered by value.
    pub fn jwks(&self) -> Option<&str> {
        match self {
            Self::Jwks(j) => Some(j),
            Self::JwksUri(_) => None,
        }
    }

    /// The URL of the published set, if the keys are registered by reference.
    pub fn jwks_uri(&self) -> Option<&str> {
        match self {
            Self::Jwks(_) => None,
            Self::JwksUri(u) => Some(u),
        }
    }
}

/// The two certificate methods of RFC 8705 §2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsCredential {
    /// `tls_client_auth` (§2.1): a CA-issued certificate carrying this subject DN or SAN.
    Subject(TlsClientAuth),
    /// `self_signed_tls_client_auth` (§2.2): a certificate whose public key is in these keys.
    SelfSigned(ClientKeys),
}

/// Which of the two secret methods of RFC 6749 §2.3.1 the client registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretMethod {
    /// `client_secret_basic`: HTTP Basic.
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    Post,
}

/// A client's credential: its `token_endpoint_auth_method` (RFC 7591 §2) together with exactly
/// what that method checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// `client_secret_basic` or `client_secret_post` (RFC 6749 §2.3.1): the secrets' hashes.
    Secret {
        /// Which of the two methods.
        method: SecretMethod,
        /// The hashes (the secrets themselves are never stored).
        secrets: ClientSecrets,
    },
    /// `private_key_jwt` (RFC 7523 §2.2): a JWT signed with one of these keys.
    PrivateKeyJwt(ClientKeys),
    /// `tls_client_auth` or `self_signed_tls_client_auth` (RFC 8705 §2).
    Tls(TlsCredential),
    /// `none` (RFC 7591 §2): a public client (RFC 6749 §2.1), which holds no secret.
    None,
}

impl Credential {
    /// The RFC 7591 `token_endpoint_auth_method` this credential is for.
    pub const fn auth_method(&self) -> AuthMethod {
        match self {
            Self::Secret {
                method: SecretMethod::Basic,
                ..
            } => AuthMethod::ClientSecretBasic,
            Self::Secret {
                method: SecretMethod::Post,
                ..
            } => AuthMethod::ClientSecretPost,
            Self::PrivateKeyJwt(_) => AuthMethod::PrivateKeyJwt,
            Self::Tls(TlsCredential::Subject(_)) => AuthMethod::TlsClientAuth,
            Self::Tls(TlsCredential::SelfSigned(_)) => AuthMethod::SelfSignedTlsClientAuth,
            Self::None => AuthMethod::None,
        }
    }

    /// The secrets' hashes, for the two secret methods only.
    pub fn secrets(&self) -> Option<&ClientSecrets> {
        match self {
            Self::Secret { secrets, .. } => Some(secrets),
            _ => None,
        }
    }

    /// The client's public keys, for `private_key_jwt` and `self_signed_tls_client_auth`.
    pub fn keys(&self) -> Option<&ClientKeys> {
        match self {
            Self::PrivateKeyJwt(keys) | Self::Tls(TlsCredential::SelfSigned(keys)) => Some(keys),
            _ => None,
        }
    }

    /// What a `tls_client_auth` client's certificate must carry.
    pub fn tls_subject(&self) -> Option<&TlsClientAuth> {
        match self {
            Self::Tls(TlsCredential::Subject(subject)) => Some(subject),
            _ => None,
        }
    }
}
