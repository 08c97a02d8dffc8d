//! Client registrations.
use async_trait::async_trait;
use tessera_proto::SecretHash;

use super::StoreResult;
use crate::client::Client;

/// Clients: registration and lookup.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Registers a client; `Conflict` if the id is taken.
    async fn create_client(&self, client: &Client) -> StoreResult<()>;
    /// One client by id.
    async fn get_client(&self, id: &str) -> StoreResult<Option<Client>>;
    /// Every client, ordered by creation.
    async fn list_clients(&self) -> StoreResult<Vec<Client>>;
    /// Replaces a client's settings (not its secrets); `false` if it does not exist.
    async fn update_client(&self, client: &Client) -> StoreResult<bool>;
    /// Deletes a client; `false` if it did not exist. Like disabling it or changing its
    /// `tokens_not_before` in [`ClientStore::update_client`] (stamped with the client's
    /// `updated_at`), it records a `client` entry of the revocation feed at `now`, in the same
    /// transaction.
    async fn delete_client(&self, id: &str, now: u64) -> StoreResult<bool>;
    /// Installs `new` as the current secret; the old current secret keeps working until
    /// `previous_expires_at` (seconds since the epoch; ≤ now means at once). `false` if unknown
    /// or public (a public client never gets a secret).
    async fn rotate_client_secret(
        &self,
        id: &str,
        new: SecretHash,
        previous_expires_at: u64,
        now: u64,
    ) -> StoreResult<bool>;
}
