//! Pending authorization requests: what `GET /authorize` stored for the login form to finish,
//! and what clients pushed to `POST /par` (RFC 9126) for `GET /authorize` to pick up.
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
    /// Stores a pushed authorization request (RFC 9126 §2.2) for `client_id`, named by the
    /// SHA-256 of its `request_uri`, until `expires_at` — unless the client already has
    /// `max_per_client` unexpired pushed requests (at `now`): then nothing is stored and `false`
    /// returned. Atomic across nodes, like the login forms' cap. Pushed rows are never login
    /// forms: `get`/`consume_pending_authorization` do not see them.
    async fn insert_pushed_authorization(
        &self,
        id: SecretHash,
        client_id: &str,
        body: String,
        expires_at: u64,
        now: u64,
        max_per_client: u64,
    ) -> StoreResult<bool>;
    /// Consumes the pushed request `id` if it is unexpired, unused and was pushed by
    /// `client_id`, returning its body: `Some` for exactly one caller (RFC 9126 §2.2: the
    /// request URI is single-use and bound to the client that pushed it).
    async fn take_pushed_authorization(
        &self,
        id: SecretHash,
        client_id: &str,
        now: u64,
    ) -> StoreResult<Option<String>>;
}
