//! What can go wrong with signing keys, their sealing and the key-encryption key file: typed, so
//! a caller can tell a wrong key-encryption key from a store outage, and the messages (which name
//! the setting to fix) live in one place.
use std::path::PathBuf;

use crate::error::StoreError;

/// Sealing and opening private keys (AES-256-GCM under the key-encryption key).
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The configured key is not base64.
    #[error("the key-encryption key is not valid base64")]
    NotBase64,
    /// The configured key does not decode to 32 bytes.
    #[error("the key-encryption key must be 32 bytes (base64 of 32 random bytes)")]
    WrongLength,
    /// The AEAD library refused the key.
    #[error("bad AES key")]
    BadKey,
    /// The system random number generator failed.
    #[error("RNG failed")]
    Rng,
    /// The AEAD library refused to seal.
    #[error("sealing failed")]
    Seal,
    /// The blob is shorter than a nonce.
    #[error("sealed key too short")]
    TooShort,
    /// The blob's nonce is malformed.
    #[error("bad nonce")]
    BadNonce,
    /// Wrong key, tampering, or a blob sealed for another kid.
    #[error("cannot open a private key: wrong key-encryption key?")]
    DoesNotOpen,
}

/// Finding, reading or creating the key-encryption key file.
#[derive(Debug, thiserror::Error)]
pub enum KekFileError {
    /// PostgreSQL has no default key file: every node must be given the same key.
    #[error(
        "signing keys must be sealed: with PostgreSQL set keys.encryption_key \
         (TESSERA_KEY_ENCRYPTION_KEY, base64 of 32 random bytes, e.g. `openssl rand -base64 32`) \
         or keys.encryption_key_file (TESSERA_KEY_ENCRYPTION_KEY_FILE), the same on every node \
         (docs/keys.md)"
    )]
    PostgresNeedsKey,
    /// The system random number generator failed.
    #[error("RNG failed")]
    Rng,
    /// Another process created the file, then it was gone before it could be read.
    #[error("{} vanished while being created", .0.display())]
    Vanished(PathBuf),
    /// The file could not be created.
    #[error("creating the key-encryption key file {}: {source}", path.display())]
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file's metadata could not be read.
    #[error("{}: {source}", path.display())]
    Metadata {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file could not be read.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Others may read or write the file.
    #[error(
        "refusing to start: the key-encryption key file {} has mode {mode:04o}, readable or \
         writable by others; it must be 0600 (owner only). Fix: chmod 600 {}",
        path.display(),
        path.display()
    )]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file does not hold a usable key.
    #[error("{}: {source}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with the key.
        source: SealError,
    },
}

/// Generating, loading, signing with and rotating signing keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The crypto library failed to generate or encode a key.
    #[error("{0}")]
    Generate(&'static str),
    /// A PKCS#8 private key does not parse.
    #[error("bad {alg} key: {detail}")]
    BadPrivateKey {
        /// The key's algorithm, as the message names it.
        alg: &'static str,
        /// The library's reason.
        detail: String,
    },
    /// A public JWK could not be built or thumbprinted.
    #[error("{0}")]
    Jwk(String),
    /// A stored public JWK does not parse.
    #[error("stored JWK of {kid} is invalid: {detail}")]
    StoredJwk {
        /// The key.
        kid: String,
        /// The parser's reason.
        detail: String,
    },
    /// A stored public JWK is not a usable verification key.
    #[error("{0}")]
    Decoding(String),
    /// A sealed key, and no key-encryption key to open it with.
    #[error(
        "key {0} is sealed but no key-encryption key is configured \
         (keys.encryption_key / TESSERA_KEY_ENCRYPTION_KEY)"
    )]
    SealedWithoutKek(String),
    /// No current key of the algorithm asked for.
    #[error("no current {0} key")]
    NoCurrentKey(&'static str),
    /// The JWS library failed to sign.
    #[error("{0}")]
    Sign(String),
    /// A next key published by this call was gone when read back.
    #[error("the new next key vanished")]
    Vanished,
    /// Sealing or opening a private key.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
