//! Signing keys: generation, sealing at rest, the in-memory [`KeyRing`] that signs and verifies,
//! and the JWK Set it publishes.
mod error;
mod generate;
pub mod kek_file;
pub mod lifecycle;
mod provider;
mod ring;
mod schedule;
mod seal;

use serde::{Deserialize, Serialize};
use tessera_proto::Secret;

pub use error::{KekFileError, KeyError, SealError};
pub use generate::generate_key;
pub use provider::install_crypto_provider;
pub use ring::{ActiveSigner, KeyRing};
pub use schedule::{KeyPolicy, Step, plan};
pub use seal::Sealer;

/// A JWS algorithm Tessera signs access tokens with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum SigningAlg {
    /// ECDSA P-256 with SHA-256: the default (small, fast to sign).
    #[default]
    ES256,
    /// Ed25519: the fastest to sign.
    EdDSA,
    /// RSA PKCS#1 v1.5 with SHA-256, 2048-bit: for validators that know nothing else.
    RS256,
}

impl SigningAlg {
    /// Every algorithm, in a fixed order.
    pub const ALL: [SigningAlg; 3] = [Self::ES256, Self::EdDSA, Self::RS256];

    /// The JWS `alg` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
            Self::RS256 => "RS256",
        }
    }

    /// Parses a JWS `alg` value.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub(crate) fn jwt_algorithm(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::ES256 => jsonwebtoken::Algorithm::ES256,
            Self::EdDSA => jsonwebtoken::Algorithm::EdDSA,
            Self::RS256 => jsonwebtoken::Algorithm::RS256,
        }
    }
}

/// Where a key is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Published, not yet signing (so validators' caches have it before its first token).
    Next,
    /// Signs new tokens; one per algorithm.
    Current,
    /// No longer signs; published until every token it signed has expired.
    Retired,
    /// Compromised: unpublished at once, and every token it signed is inactive.
    Revoked,
}

impl KeyState {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Current => "current",
            Self::Retired => "retired",
            Self::Revoked => "revoked",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "next" => Some(Self::Next),
            "current" => Some(Self::Current),
            "retired" => Some(Self::Retired),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// A signing key as stored: the private key (PKCS#8, sealed when an encryption key is set) and
/// its public JWK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    /// Key id: the RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// Algorithm.
    pub alg: SigningAlg,
    /// Life-cycle state.
    pub state: KeyState,
    /// PKCS#8 private key, sealed with AES-256-GCM when `sealed`.
    pub private_key: Secret<Vec<u8>>,
    /// Whether `private_key` is sealed.
    pub sealed: bool,
    /// The public JWK (JSON object text) with `kid`, `alg` and `use`.
    pub public_jwk: String,
    /// Creation time, seconds since the epoch.
    pub created_at: u64,
    /// When it became current.
    pub activated_at: Option<u64>,
    /// When it was retired.
    pub retired_at: Option<u64>,
    /// When it was revoked (`tessera keys revoke`).
    pub revoked_at: Option<u64>,
}
