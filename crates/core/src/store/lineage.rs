//! Token lineage (RFC 8693 token exchange): which token an exchanged token came from. Revoking a
//! token revokes every token exchanged from it, down the chain, in the revocation's own
//! transaction (the backends' `revoke_access_token`, `revoke_jti` and `revoke_family` walk it),
//! so introspection and the revocation feed see descendants revoked with their ancestor.
use async_trait::async_trait;

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::client::TokenFormat;

/// One token in a lineage link, named as the store names it: an opaque token by its selector in
/// decimal, a JWT by its `jti` (as in [`super::FamilyToken`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineageToken {
    /// JWT or opaque.
    pub kind: TokenFormat,
    /// The selector in decimal, or the `jti`.
    pub id: String,
}

/// An exchanged token and the subject token it was exchanged from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeLink {
    /// The new token.
    pub child: LineageToken,
    /// The client the new token was issued to.
    pub client_id: String,
    /// The new token's expiry (the link is kept until then).
    pub expires_at: u64,
    /// The new token's depth: 1 for a token exchanged from one that was not, and so on.
    pub depth: u32,
    /// The subject token.
    pub parent: LineageToken,
    /// The client the subject token was issued to.
    pub parent_client_id: String,
    /// The subject token's issue time (against its client's `tokens_not_before`).
    pub parent_issued_at: u64,
}

/// An ancestor of an exchanged token: what introspection checks besides the token itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ancestor {
    /// The ancestor token.
    pub token: LineageToken,
    /// The client it was issued to.
    pub client_id: String,
    /// When it was issued.
    pub issued_at: u64,
}

/// What linking an exchanged token found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkOutcome {
    /// The subject token was live when the link was written: any later revocation of it (or of
    /// its ancestors, or its family) reaches the new token.
    Linked,
    /// The subject token had been revoked (a revocation that answered before this link): the
    /// new token was revoked in the same transaction and must not be handed out.
    ParentRevoked,
}

/// The lineage of exchanged tokens.
#[async_trait]
pub trait LineageStore: Send + Sync {
    /// Records `link` in one transaction that also checks that the parent is not revoked
    /// (opaque row `revoked_at`, or its `jti` among the revoked), serialised against every
    /// revocation of the parent: either that revocation's cascade sees this link, or this call
    /// sees the revocation and revokes the child at once ([`LinkOutcome::ParentRevoked`]).
    /// `events` (the `token.exchanged` event, preceded by a JWT's `token.issued`) are stored in
    /// the same transaction, in order, when the link is made, and not at all otherwise: the
    /// audit trail names exactly the exchanges whose token was handed out, and a JWT exchange
    /// costs one commit, not two.
    async fn link_exchanged(
        &self,
        link: &ExchangeLink,
        events: Vec<AuditEvent>,
        now: u64,
    ) -> StoreResult<LinkOutcome>;
    /// The ancestors of `token`, its parent first; empty for a token that was not exchanged.
    async fn ancestors(&self, token: &LineageToken) -> StoreResult<Vec<Ancestor>>;
}
