//! The storage traits: narrow, one method per use case, each one atomic. Backends live in the
//! `tessera-store` crate (SQLite, the embedded default) and share one conformance suite.
use std::ops::Range;

use async_trait::async_trait;
use tessera_proto::SecretHash;

use crate::audit::AuditEvent;
use crate::client::Client;
use crate::error::StoreError;
use crate::keys::{KeyState, SigningAlg, StoredKey};

/// Result of a storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// A stored opaque access token. Only the SHA-256 of the token string is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessTokenRecord {
    /// The selector carried in the token string: the row's key.
    pub id: u64,
    /// SHA-256 of the whole token string.
    pub hash: SecretHash,
    /// The client it was issued to.
    pub client_id: String,
    /// Its subject (the client itself for client_credentials).
    pub subject: String,
    /// Space-separated granted scope.
    pub scope: String,
    /// Its one audience.
    pub audience: Option<String>,
    /// Issue time, seconds since the epoch.
    pub issued_at: u64,
    /// Expiry, seconds since the epoch.
    pub expires_at: u64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<u64>,
    /// RFC 9449: the thumbprint of the DPoP key it is bound to.
    pub cnf_jkt: Option<String>,
    /// RFC 8705: the SHA-256 thumbprint of the client certificate it is bound to.
    pub cnf_x5t: Option<String>,
}

/// What kind of token a revocation-feed entry names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevokedKind {
    /// A JWT: the id is its `jti`.
    Jwt,
    /// An opaque token: the id is its selector.
    Opaque,
}

/// One entry of the revocation feed (`GET /revocations`): a revoked token that has not expired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedToken {
    /// JWT or opaque.
    pub kind: RevokedKind,
    /// The `jti`, or the opaque token's selector in decimal.
    pub id: String,
    /// When the token expires (resource servers forget it then).
    pub expires_at: u64,
    /// When it was revoked: the feed's cursor.
    pub revoked_at: u64,
}

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
    /// Deletes a client; `false` if it did not exist.
    async fn delete_client(&self, id: &str) -> StoreResult<bool>;
    /// Installs `new` as the current secret; the old current secret keeps working until
    /// `previous_expires_at` (seconds since the epoch; ≤ now means at once). `false` if unknown.
    async fn rotate_client_secret(
        &self,
        id: &str,
        new: SecretHash,
        previous_expires_at: u64,
        now: u64,
    ) -> StoreResult<bool>;
}

/// Access tokens and revocation records.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Reserves `count` fresh, never-reused selectors (shared safely by every node on the store).
    async fn reserve_selectors(&self, count: u64) -> StoreResult<Range<u64>>;
    /// Stores an opaque token; returns only once the row is durable.
    async fn insert_access_token(&self, token: AccessTokenRecord) -> StoreResult<()>;
    /// An opaque token by selector.
    async fn get_access_token(&self, id: u64) -> StoreResult<Option<AccessTokenRecord>>;
    /// Marks an opaque token revoked at `now`; `false` if unknown or already revoked.
    async fn revoke_access_token(&self, id: u64, now: u64) -> StoreResult<bool>;
    /// Records a JWT's `jti` as revoked until `expires_at`; idempotent: `false` if it already was.
    async fn revoke_jti(
        &self,
        jti: &str,
        client_id: &str,
        expires_at: u64,
        now: u64,
    ) -> StoreResult<bool>;
    /// Whether a JWT's `jti` was revoked.
    async fn is_jti_revoked(&self, jti: &str) -> StoreResult<bool>;
    /// The revocation feed: tokens (JWT `jti`s and opaque selectors) revoked at or after `since`
    /// that are still unexpired at `now`, ordered by revocation time, at most `limit`.
    async fn list_revocations(
        &self,
        since: u64,
        now: u64,
        limit: u32,
    ) -> StoreResult<Vec<RevokedToken>>;
    /// Records a single-use value (a DPoP proof's or a client assertion's `jti`, hashed) until
    /// `expires_at`; `false` if it was already recorded and has not expired — a replay. Atomic
    /// across every node sharing the store.
    async fn insert_replay_guard(&self, key: &str, expires_at: u64, now: u64) -> StoreResult<bool>;
}

/// The kinds of row that stop being needed at a known time, which the retention janitor
/// (`crate::janitor`) deletes. Adding an expiring table = one variant here and one line per
/// backend naming its table, key and expiry column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Expiring {
    /// Opaque access tokens, revoked or not, by `expires_at`.
    AccessTokens,
    /// Revocation records of JWT `jti`s, by the revoked token's `expires_at` (the record must
    /// outlive the token: until then introspection and the revocation feed need it).
    RevokedJtis,
    /// Single-use values (DPoP proof and client assertion `jti`s), by `expires_at`.
    ReplayGuards,
}

impl Expiring {
    /// Every kind, in the order the janitor sweeps them.
    pub const ALL: [Self; 3] = [Self::AccessTokens, Self::RevokedJtis, Self::ReplayGuards];

    /// The table's name (in logs and the `janitor.swept` event).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AccessTokens => "access_tokens",
            Self::RevokedJtis => "revoked_jtis",
            Self::ReplayGuards => "replay_guards",
        }
    }
}

/// Bounded deletes for the retention janitor. Each call is one statement touching at most
/// `limit` rows (a short transaction that never holds up the token endpoint for long), and is
/// idempotent: several nodes sweeping at once delete each row once and never fail for it.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Deletes at most `limit` rows of `kind` whose expiry is at or before `cutoff` (seconds
    /// since the epoch); returns how many it deleted.
    async fn delete_expired(&self, kind: Expiring, cutoff: u64, limit: u32) -> StoreResult<u64>;
    /// Deletes at most `limit` audit events whose time is before `cutoff_ms` (milliseconds since
    /// the epoch); returns how many it deleted.
    async fn delete_events_before(&self, cutoff_ms: u64, limit: u32) -> StoreResult<u64>;
}

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
}

/// The audit trail.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Queues an event; batches are written without holding up the caller.
    async fn record_event(&self, event: AuditEvent);
    /// Events with id greater than `after`, oldest first, at most `limit`.
    async fn list_events(&self, after: i64, limit: u32) -> StoreResult<Vec<(i64, AuditEvent)>>;
    /// Waits until every event queued before this call is written.
    async fn flush_events(&self) -> StoreResult<()>;
}

/// Whether a person has looked at an alert yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertStatus {
    /// Raised, nobody has acknowledged it.
    Open,
    /// Acknowledged by someone (`acked_by`, `acked_at`).
    Acked,
}

impl AlertStatus {
    /// The lowercase name used in the database, JSON and the CLI.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Acked => "acked",
        }
    }

    /// Parses [`AlertStatus::as_str`]'s output.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "acked" => Some(Self::Acked),
            _ => None,
        }
    }
}

/// An alert the monitor raised, as stored. The store does not interpret `severity`, `evidence`
/// or `actions`: the monitor owns their vocabulary, the store keeps them for people to read.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRecord {
    /// Assigned by the store on insert (ignored when inserting).
    pub id: i64,
    /// The detector that raised it (`impossible_travel`, `multi_client`, …).
    pub detector: String,
    /// `low`, `medium` or `high`.
    pub severity: String,
    /// The token concerned (JWT `jti` or opaque selector), if the alert is about one token.
    pub token_id: Option<String>,
    /// The client concerned.
    pub client_id: Option<String>,
    /// The time of the event that raised the alert (not of the insert), ms since the epoch.
    pub time_ms: u64,
    /// One sentence for a person.
    pub summary: String,
    /// Detector-specific facts, a JSON object.
    pub evidence: serde_json::Value,
    /// Automatic actions taken, e.g. `revoke_token:done`.
    pub actions: Vec<String>,
    /// Open or acknowledged.
    pub status: AlertStatus,
    /// When it was acknowledged, seconds since the epoch.
    pub acked_at: Option<u64>,
    /// Who acknowledged it (a client id, or `cli:<user>`).
    pub acked_by: Option<String>,
}

/// Which alerts to list. The default lists every alert, newest first, at most 100.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertFilter {
    /// Only alerts with this status (`None`: both).
    pub status: Option<AlertStatus>,
    /// Only alerts of this detector.
    pub detector: Option<String>,
    /// Only alerts whose event time is at or after this, ms since the epoch.
    pub since_ms: Option<u64>,
    /// At most this many.
    pub limit: u32,
}

impl Default for AlertFilter {
    fn default() -> Self {
        Self {
            status: None,
            detector: None,
            since_ms: None,
            limit: 100,
        }
    }
}

/// What acknowledging an alert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckOutcome {
    /// It was open and is now acknowledged.
    Acked,
    /// It had been acknowledged before; the first acknowledgement stands.
    AlreadyAcked,
    /// No alert has that id.
    NotFound,
}

/// Alerts raised by the monitor, and their acknowledgement by people.
#[async_trait]
pub trait AlertStore: Send + Sync {
    /// Stores a new alert (status open) and returns its id; returns once the row is durable.
    async fn insert_alert(&self, alert: &AlertRecord) -> StoreResult<i64>;
    /// Alerts matching `filter`, newest event time first (ties: newest id first).
    async fn list_alerts(&self, filter: &AlertFilter) -> StoreResult<Vec<AlertRecord>>;
    /// One alert by id.
    async fn get_alert(&self, id: i64) -> StoreResult<Option<AlertRecord>>;
    /// Acknowledges an open alert in one statement, so two people acknowledging at once do not
    /// both win: the second gets `AlreadyAcked` and the first `acked_by` stands.
    async fn ack_alert(&self, id: i64, by: &str, now: u64) -> StoreResult<AckOutcome>;
}

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
    ClientStore + TokenStore + KeyStore + EventStore + AlertStore + RetentionStore
{
    /// Current change counters (cheap: polled several times a second).
    async fn change_versions(&self) -> StoreResult<ChangeVersions>;
    /// Whether the store answers (for `/healthz`).
    async fn ping(&self) -> StoreResult<()>;
}
