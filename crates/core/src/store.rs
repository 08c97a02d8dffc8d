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

/// What a revocation-feed entry names. The order of [`RevokedKind::as_str`] is the feed's order
/// among entries revoked in the same second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RevokedKind {
    /// A client disabled, deleted, or given `tokens_not_before`: the id is its `client_id`.
    Client,
    /// A JWT: the id is its `jti`.
    Jwt,
    /// A signing key withdrawn before its tokens expired: the id is its `kid`.
    Key,
    /// An opaque token: the id is its selector.
    Opaque,
}

impl RevokedKind {
    /// The name on the wire and in the database (`type` in the feed).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Jwt => "jwt",
            Self::Key => "key",
            Self::Opaque => "opaque",
        }
    }

    /// Parses [`RevokedKind::as_str`]'s output.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "client" => Self::Client,
            "jwt" => Self::Jwt,
            "key" => Self::Key,
            "opaque" => Self::Opaque,
            _ => return None,
        })
    }
}

/// An access token issued from a grant family (authorization code and refresh tokens), so that
/// revoking the family revokes it too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FamilyToken {
    /// JWT or opaque.
    pub kind: crate::client::TokenFormat,
    /// The `jti`, or the opaque token's selector in decimal.
    pub id: String,
    /// When the token expires.
    pub expires_at: u64,
}

/// One entry of the revocation feed (`GET /revocations`). Entries are ordered by
/// (`revoked_at`, `kind`, `id`), so a [`FeedPosition`] names an exact place however many entries
/// share one second.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevocationEntry {
    /// What is revoked.
    pub kind: RevokedKind,
    /// The `jti`, the opaque token's public id ([`crate::token_id`]), the `client_id` or the `kid`.
    pub id: String,
    /// When resource servers may forget it: the token's expiry. `None` for clients and keys,
    /// whose tokens live at most the server's longest token lifetime after `revoked_at` (or
    /// `not_before`): the reader, which knows that lifetime, decides.
    pub expires_at: Option<u64>,
    /// When it was revoked (for a client: its last such change).
    pub revoked_at: u64,
    /// Clients: tokens issued before this time are revoked (`tokens_not_before`).
    pub not_before: Option<u64>,
    /// Clients: disabled or deleted, so every token it holds is refused.
    pub disabled: bool,
}

impl RevocationEntry {
    /// The feed position just after this entry.
    pub fn position(&self) -> FeedPosition {
        FeedPosition {
            revoked_at: self.revoked_at,
            after: Some((self.kind, self.id.clone())),
        }
    }
}

/// An exact place in the revocation feed: entries after it are those revoked later than
/// `revoked_at`, or in that second and after (`kind`, `id`) in the feed's order.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeedPosition {
    /// Seconds since the epoch.
    pub revoked_at: u64,
    /// The last entry read in that second; `None`: before every entry of that second.
    pub after: Option<(RevokedKind, String)>,
}

impl FeedPosition {
    /// Before every entry revoked at or after `revoked_at`.
    pub fn at(revoked_at: u64) -> Self {
        Self {
            revoked_at,
            after: None,
        }
    }

    /// The (`kind`, `id`) bounds as SQL parameters: empty strings sort before every entry.
    pub fn sql_bounds(&self) -> (&str, &str) {
        match &self.after {
            Some((kind, id)) => (kind.as_str(), id.as_str()),
            None => ("", ""),
        }
    }
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
    /// The revocation feed: entries after `after` in the feed's order (revoked JWT `jti`s and
    /// opaque selectors still unexpired at `now`; client and key entries), at most `limit`.
    async fn list_revocations(
        &self,
        after: &FeedPosition,
        now: u64,
        limit: u32,
    ) -> StoreResult<Vec<RevocationEntry>>;
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
    /// Authorization codes, redeemed or not, by `expires_at`.
    AuthorizationCodes,
    /// Refresh tokens, by `expires_at` (a family's tokens share one expiry, so a rotated token
    /// outlives every use that could reveal a reuse).
    RefreshTokens,
    /// Links from a grant family to the access tokens issued from it, by the token's expiry.
    FamilyTokens,
    /// Login-page requests nobody completed, by `expires_at`.
    PendingAuthorizations,
    /// Grant families (authorizations) whose codes and refresh tokens have all expired.
    GrantFamilies,
    /// Failed-login counters whose window and lock are both over.
    LoginFailures,
}

impl Expiring {
    /// Every kind, in the order the janitor sweeps them.
    pub const ALL: [Self; 9] = [
        Self::AccessTokens,
        Self::RevokedJtis,
        Self::ReplayGuards,
        Self::AuthorizationCodes,
        Self::RefreshTokens,
        Self::FamilyTokens,
        Self::PendingAuthorizations,
        Self::GrantFamilies,
        Self::LoginFailures,
    ];

    /// The table's name (in logs and the `janitor.swept` event).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AccessTokens => "access_tokens",
            Self::RevokedJtis => "revoked_jtis",
            Self::ReplayGuards => "replay_guards",
            Self::AuthorizationCodes => "authorization_codes",
            Self::RefreshTokens => "refresh_tokens",
            Self::FamilyTokens => "family_tokens",
            Self::PendingAuthorizations => "pending_authorizations",
            Self::GrantFamilies => "grant_families",
            Self::LoginFailures => "login_failures",
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
    /// Replaces `kid`'s private key `old` with the sealed `sealed` (and marks it sealed), only if
    /// it still holds `old`; `false` otherwise (another node re-sealed it first, or it is gone).
    /// The start-up migration of unsealed and unbound keys (docs/keys.md).
    async fn reseal_key(&self, kid: &str, old: &[u8], sealed: &[u8]) -> StoreResult<bool>;
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
    ClientStore
    + TokenStore
    + KeyStore
    + EventStore
    + AlertStore
    + RetentionStore
    + GrantStore
    + UserStore
{
    /// Current change counters (cheap: polled several times a second).
    async fn change_versions(&self) -> StoreResult<ChangeVersions>;
    /// Whether the store answers (for `/healthz`).
    async fn ping(&self) -> StoreResult<()>;
}

/// An authorization code (RFC 6749 §4.1.2), stored by the SHA-256 of its `tsr_ac_` string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationCodeRecord {
    /// SHA-256 of the code string.
    pub hash: SecretHash,
    /// The grant family: every refresh and access token issued from this code carries it, so
    /// a replayed code or refresh token revokes them all at once.
    pub family: String,
    /// The client the code was issued to.
    pub client_id: String,
    /// The resource owner (user name) who approved it.
    pub subject: String,
    /// Space-separated approved scope.
    pub scope: String,
    /// The one audience (RFC 8707 resource) of the tokens it yields.
    pub audience: String,
    /// RFC 6749 §4.1.3: the `redirect_uri` of the authorization request, if it carried one.
    pub redirect_uri: Option<String>,
    /// RFC 7636 §4.2: the S256 `code_challenge`.
    pub code_challenge: String,
    /// RFC 9449 §10: the `dpop_jkt` the token request's proof key must match.
    pub dpop_jkt: Option<String>,
    /// Issue time, seconds since the epoch.
    pub issued_at: u64,
    /// Expiry, seconds since the epoch.
    pub expires_at: u64,
    /// When it was redeemed (set by [`GrantStore::redeem_code`]).
    pub used_at: Option<u64>,
}

/// What redeeming a code did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedeemOutcome {
    /// This call redeemed it (the record as it was before).
    Redeemed(AuthorizationCodeRecord),
    /// It had been redeemed before: a replay (RFC 6749 §4.1.2).
    AlreadyUsed(AuthorizationCodeRecord),
    /// It expired unused.
    Expired,
    /// Its authorization (grant family) was revoked before it was redeemed: the user was
    /// disabled or deleted, or the family was revoked for reuse.
    Revoked,
    /// No such code.
    NotFound,
}

/// A refresh token (RFC 6749 §1.5, §6), stored by the SHA-256 of its `tsr_rt_` string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// SHA-256 of the token string.
    pub hash: SecretHash,
    /// The grant family (see [`AuthorizationCodeRecord::family`]).
    pub family: String,
    /// The client it was issued to; only that client may use it.
    pub client_id: String,
    /// The resource owner.
    pub subject: String,
    /// Space-separated scope (a refresh may narrow it, never widen it).
    pub scope: String,
    /// The one audience of the access tokens it yields.
    pub audience: String,
    /// RFC 9449 §5: a public client's refresh token is bound to its DPoP key's thumbprint.
    pub cnf_jkt: Option<String>,
    /// Issue time, seconds since the epoch.
    pub issued_at: u64,
    /// Expiry, seconds since the epoch.
    pub expires_at: u64,
    /// When it was rotated (used).
    pub used_at: Option<u64>,
    /// When it (or its whole family) was revoked.
    pub revoked_at: Option<u64>,
}

/// What rotating a refresh token did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RotateOutcome {
    /// This call rotated it: the old record (as before) is now used, the new one stored.
    Rotated(RefreshTokenRecord),
    /// It had been rotated before: a replay, the caller must revoke the family.
    Reused(RefreshTokenRecord),
    /// It is revoked or expired; nothing changed.
    Inactive,
    /// No such refresh token.
    NotFound,
}

/// Authorization codes, refresh tokens and the grant families tying the tokens issued from one
/// authorization together. Every method is one transaction, so concurrent redemptions or
/// rotations, from any node, have exactly one winner.
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Stores a fresh code and creates its family.
    async fn insert_authorization_code(&self, code: AuthorizationCodeRecord) -> StoreResult<()>;
    /// Marks the code used at `now` if it was unused and unexpired (one conditional UPDATE).
    async fn redeem_code(&self, hash: SecretHash, now: u64) -> StoreResult<RedeemOutcome>;
    /// Stores the first refresh token of a family.
    async fn insert_refresh_token(&self, token: RefreshTokenRecord) -> StoreResult<()>;
    /// A refresh token by hash.
    async fn get_refresh_token(&self, hash: SecretHash) -> StoreResult<Option<RefreshTokenRecord>>;
    /// Marks `old` used and stores `new` (same family) if `old` was unused, unrevoked and
    /// unexpired at `now`; one transaction.
    async fn rotate_refresh(
        &self,
        old: SecretHash,
        new: RefreshTokenRecord,
        now: u64,
    ) -> StoreResult<RotateOutcome>;
    /// The revocation cascade: revokes the family, every refresh token of it and every access
    /// token issued from it (opaque rows marked revoked, JWT `jti`s recorded as revoked, so the
    /// revocation feed carries them). `false` if the family was already revoked or is unknown.
    async fn revoke_family(&self, family: &str, now: u64) -> StoreResult<bool>;
    /// Records that an access token (opaque selector or JWT `jti`, with its expiry) was issued
    /// from `family`. If the family is already revoked the token is revoked at once and `false`
    /// returned.
    async fn link_family_token(
        &self,
        family: &str,
        token: &FamilyToken,
        client_id: &str,
    ) -> StoreResult<bool>;
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

/// A resource owner who logs in on the built-in login page.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The login name (unique).
    pub username: String,
    /// The argon2id PHC string of the password.
    pub password_hash: String,
    /// A disabled user cannot log in.
    pub disabled: bool,
    /// Creation time, seconds since the epoch.
    pub created_at: u64,
}

impl std::fmt::Debug for UserRecord {
    /// The password hash is left out: it is slow to attack, not harmless.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("username", &self.username)
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// Resource owners.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user; `Conflict` if the name is taken.
    async fn create_user(&self, user: &UserRecord) -> StoreResult<()>;
    /// One user by name.
    async fn get_user(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    /// Every user, by name.
    async fn list_users(&self) -> StoreResult<Vec<UserRecord>>;
    /// Disables or enables a user; `false` if there is no such user.
    async fn set_user_disabled(&self, username: &str, disabled: bool) -> StoreResult<bool>;
    /// Replaces a user's password hash; `false` if there is no such user.
    async fn set_user_password(&self, username: &str, password_hash: &str) -> StoreResult<bool>;
    /// Deletes a user; `false` if there was no such user.
    async fn delete_user(&self, username: &str) -> StoreResult<bool>;
    /// The grant families (authorizations) of `subject` that are not revoked yet: what
    /// disabling or deleting the user revokes.
    async fn live_families_of(&self, subject: &str) -> StoreResult<Vec<String>>;
    /// Reserves one login attempt against `key` (a user name or an address, see
    /// `authorize::throttle`) *before* its password is checked, in one atomic statement: if the
    /// key is locked at `now` nothing changes and [`LoginAttempt::Locked`] is returned;
    /// otherwise the attempt is counted as a failure in advance (a new window starts when the
    /// last one is over), and the attempt that reaches `rule.max_failures` in a window locks
    /// the key until `now + rule.lockout`. Because the count is taken before the check, no
    /// number of concurrent attempts gets more than `max_failures` checks through the gate; an
    /// attempt that turns out not to be a failure is handed back with
    /// [`UserStore::refund_login_attempt`] or [`UserStore::clear_login_failures`].
    async fn reserve_login_attempt(
        &self,
        key: &str,
        now: u64,
        rule: &FailureRule,
    ) -> StoreResult<LoginAttempt>;
    /// Hands back one reserved attempt that was not a failure (a good password from an
    /// address, or an attempt whose password could not be checked): the count drops by one
    /// within the reservation's window (nothing changes once a new window started), and the
    /// lock this reservation set, if it set one, is lifted.
    async fn refund_login_attempt(&self, key: &str, reservation: &Reservation) -> StoreResult<()>;
    /// The time `key` is locked until (`0` if it has no record).
    async fn login_locked_until(&self, key: &str) -> StoreResult<u64>;
    /// Forgets `key`'s failures (after a successful login).
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()>;
}

/// What [`UserStore::reserve_login_attempt`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginAttempt {
    /// The attempt is counted: its password may be checked.
    Reserved(Reservation),
    /// The key is locked: the attempt was not counted and its password must not be checked.
    Locked,
}

/// One counted login attempt, as the store saw it after counting it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reservation {
    /// The start of the window it was counted in.
    pub window_start: u64,
    /// Attempts counted in that window, this one included.
    pub failures: u64,
    /// When this attempt reached the limit: the time it locked the key until; else `0`.
    pub locked_until: u64,
}

/// When failed logins lock a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureRule {
    /// Failures in one window that lock the key (at least 1).
    pub max_failures: u32,
    /// Seconds a window lasts from its first failure.
    pub window: u64,
    /// Seconds a lock lasts.
    pub lockout: u64,
}
