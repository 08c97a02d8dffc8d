//! Expiring rows and the retention janitor's bounded deletes.
use async_trait::async_trait;

use super::StoreResult;

/// The kinds of row that stop being needed at a known time, which the retention janitor
/// (`crate::ops::janitor`) deletes. Adding an expiring table = one variant here and one line per
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
    /// Sealed successors of rotated refresh tokens (`refresh.reuse_grace_secs`), by the end of
    /// their grace window.
    RefreshSuccessors,
    /// Links from an exchanged token to its subject token (RFC 8693), by the exchanged token's
    /// expiry: its descendants expire no later, so no live token's chain loses a link.
    TokenLineage,
}

impl Expiring {
    /// Every kind, in the order the janitor sweeps them.
    pub const ALL: [Self; 11] = [
        Self::AccessTokens,
        Self::RevokedJtis,
        Self::ReplayGuards,
        Self::AuthorizationCodes,
        Self::RefreshTokens,
        Self::FamilyTokens,
        Self::PendingAuthorizations,
        Self::GrantFamilies,
        Self::LoginFailures,
        Self::RefreshSuccessors,
        Self::TokenLineage,
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
            Self::RefreshSuccessors => "refresh_successors",
            Self::TokenLineage => "token_lineage",
        }
    }

    /// Whether rows are kept `retention.expired_token_grace_secs` past their expiry (slack for
    /// other nodes' and resource servers' clocks). Sealed successors are not: an expired one is
    /// never opened, and the secret it holds should not outlive its window by more than a sweep.
    pub const fn kept_past_expiry(self) -> bool {
        !matches!(self, Self::RefreshSuccessors)
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
