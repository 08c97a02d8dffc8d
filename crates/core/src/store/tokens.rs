//! Opaque access tokens, the revocation records and the revocation feed's positions.
use std::ops::Range;

use async_trait::async_trait;
use tessera_proto::SecretHash;

use super::StoreResult;
use crate::audit::AuditEvent;

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
    /// RFC 8693 §4.1: the actor chain of an exchanged token.
    pub act: Option<tessera_proto::act::Act>,
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
}

/// Access tokens and revocation records.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Reserves `count` fresh, never-reused selectors (shared safely by every node on the store).
    async fn reserve_selectors(&self, count: u64) -> StoreResult<Range<u64>>;
    /// Stores an opaque token and `issued`, the `token.issued` event that reports it; returns
    /// only once both are durable (group-committed with other requests' writes), so a token the
    /// client received always has its audit record. The event is never stored without the row.
    async fn insert_access_token(
        &self,
        token: AccessTokenRecord,
        issued: AuditEvent,
    ) -> StoreResult<()>;
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
