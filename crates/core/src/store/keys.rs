//! Signing keys and their lifecycle writes.
use async_trait::async_trait;

use super::StoreResult;
use crate::keys::{KeyState, SigningAlg, StoredKey};

/// What revoking a signing key did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyRevocation {
    /// The key is now revoked.
    Revoked {
        /// Its algorithm.
        alg: SigningAlg,
        /// Its state before (`current`, `next` or `retired`).
        previous: KeyState,
        /// When it was current: the key that signs in its place from now on (the published
        /// `next` key if there was one, else the fresh replacement).
        successor: Option<String>,
    },
    /// It had been revoked before, at this time; nothing changed.
    AlreadyRevoked {
        /// When it was revoked.
        revoked_at: u64,
    },
    /// No key has that id (or it was removed); nothing changed.
    NotFound,
}

/// Signing keys. Every write is one transaction whose conditions are checked inside it, so when
/// several nodes act on the same schedule at once exactly one wins and the others get `false`.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Every key not yet removed, oldest first.
    async fn list_keys(&self) -> StoreResult<Vec<StoredKey>>;
    /// Makes `new` the current key of its algorithm and retires the previous current key of that
    /// algorithm, in one transaction.
    async fn rotate_in_key(&self, new: StoredKey, now: u64) -> StoreResult<()>;
    /// Inserts `key` in its state (`next` or `current`, with its own `activated_at`) unless its
    /// algorithm already has a key in that state; `false` then (another node was first).
    async fn insert_key(&self, key: StoredKey) -> StoreResult<bool>;
    /// Makes the `next` key `next` current at `now` and retires `current` (the algorithm's current
    /// key, `None`: it has none) — only if `next` is still that algorithm's next key and
    /// `current` still its current key; `false`, and nothing changes, otherwise.
    async fn promote_key(&self, next: &str, current: Option<&str>, now: u64) -> StoreResult<bool>;
    /// Revokes `kid` at `now`. If it was current, its algorithm's `next` key becomes current at
    /// once, or `replacement` (a fresh key of the same algorithm) if there is none: the
    /// algorithm is never left without a current key.
    async fn revoke_key(
        &self,
        kid: &str,
        replacement: StoredKey,
        now: u64,
    ) -> StoreResult<KeyRevocation>;
    /// Deletes retired keys retired at or before `cutoff` and revoked keys revoked at or before
    /// it; returns the removed keys' ids (each id is returned to exactly one caller).
    async fn prune_keys(&self, cutoff: u64) -> StoreResult<Vec<String>>;
    /// Replaces `kid`'s private key `old` with the sealed `sealed` (and marks it sealed), only if
    /// it still holds `old`; `false` otherwise (another node re-sealed it first, or it is gone).
    /// The start-up migration of unsealed and unbound keys (docs/keys.md).
    async fn reseal_key(&self, kid: &str, old: &[u8], sealed: &[u8]) -> StoreResult<bool>;
}
