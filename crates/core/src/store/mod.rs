//! The storage traits: narrow, one method per use case, each one atomic. Backends live in the
//! `tessera-store` crate (SQLite, the embedded default) and share one conformance suite.
//! Mirrors the backend files in `tessera-store` (`sqlite/<concept>.rs`, `postgres/<concept>.rs`):
//! one module per concept, every item re-exported here.
mod alerts;
mod clients;
mod events;
mod grants;
mod keys;
mod lineage;
mod login_throttle;
mod pending;
mod retention;
mod tokens;
mod users;

use async_trait::async_trait;

use crate::error::StoreError;

pub use alerts::{AckOutcome, AlertFilter, AlertRecord, AlertStatus, AlertStore};
pub use clients::ClientStore;
pub use events::EventStore;
pub use grants::{
    AuthorizationCodeRecord, GrantStore, RedeemOutcome, RefreshTokenRecord, RotateOutcome,
    SealedSuccessor,
};
pub use keys::{KeyRevocation, KeyStore};
pub use lineage::{Ancestor, ExchangeLink, LineageStore, LineageToken, LinkOutcome};
pub use login_throttle::{FailureRule, LoginAttempt, LoginThrottleStore, Reservation};
pub use pending::PendingAuthorizationStore;
pub use retention::{Expiring, RetentionStore};
pub use tokens::{
    AccessTokenRecord, FamilyToken, FeedPosition, RevocationEntry, RevokedKind, TokenStore,
};
pub use users::{UserRecord, UserStore};

/// Result of a storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Version counters bumped by every change to a topic, so nodes know when to drop caches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChangeVersions {
    /// Bumped by any client insert, update or delete.
    pub clients: i64,
    /// Bumped by any signing-key change.
    pub keys: i64,
}

/// The whole store.
#[async_trait]
pub trait Store:
    ClientStore
    + TokenStore
    + KeyStore
    + EventStore
    + AlertStore
    + RetentionStore
    + GrantStore
    + PendingAuthorizationStore
    + UserStore
    + LoginThrottleStore
    + LineageStore
{
    /// Current change counters (cheap: polled several times a second).
    async fn change_versions(&self) -> StoreResult<ChangeVersions>;
    /// Whether the store answers (for `/healthz`).
    async fn ping(&self) -> StoreResult<()>;
}
