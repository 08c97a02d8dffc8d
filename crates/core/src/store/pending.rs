//! Pending authorization requests: what `GET /authorize` stored for the login form to finish.
use async_trait::async_trait;
use tessera_proto::SecretHash;

use super::StoreResult;

/// Authorization requests waiting for the resource owner on the login page. Kept apart from
/// [`super::GrantStore`]: a pending request holds no token and belongs to no grant family; what
/// it must guard is the store's size, since unauthenticated callers create them.
#[async_trait]
pub trait PendingAuthorizationStore: Send + Sync {
    /// Stores a pending authorization request (the login form's hidden `request` field names
    /// it by the SHA-256 of its random id) until `expires_at` — unless `max_live` unexpired
    /// requests (at `now`) are stored already: then nothing is stored and `false` returned.
    /// The count and the insert are atomic across every node sharing the store, so the cap
    /// holds under any concurrency (`GET /authorize` is unauthenticated: without a cap, anyone
    /// could fill the store).
    async fn insert_pending_authorization(
        &self,
        id: SecretHash,
        body: String,
        expires_at: u64,
        now: u64,
        max_live: u64,
    ) -> StoreResult<bool>;
    /// A pending authorization request that is unexpired and not yet consumed.
    async fn get_pending_authorization(
        &self,
        id: SecretHash,
        now: u64,
    ) -> StoreResult<Option<String>>;
    /// Consumes a pending authorization request: `true` for exactly one caller.
    async fn consume_pending_authorization(&self, id: SecretHash, now: u64) -> StoreResult<bool>;
}
