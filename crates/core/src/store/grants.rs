//! Authorization codes, refresh tokens and grant families.
use async_trait::async_trait;
use tessera_proto::{Secret, SecretHash};

use super::{StoreResult, tokens::FamilyToken};

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
    /// It had been redeemed before: a replay (RFC 6749 §4.1.2). The same transaction revoked
    /// the code's family, so no grant has to remember a second call.
    AlreadyUsed {
        /// The code as stored (with its `used_at`).
        code: AuthorizationCodeRecord,
        /// Whether this call revoked the family (`false`: it was revoked before, e.g. by a
        /// concurrent replay).
        revoked: bool,
    },
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

/// A rotation's successor kept for the reuse grace window (`refresh.reuse_grace_secs`): its
/// token string sealed under the key-encryption key by the refresh grant, which alone opens it.
/// The store keeps it until `until` and never hands it out after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedSuccessor {
    /// `nonce || ciphertext || tag` of the successor's token string: sealed, but a secret all
    /// the same.
    pub sealed: Secret<Vec<u8>>,
    /// The end of the window, seconds since the epoch: from then on presenting the rotated
    /// token again is reuse.
    pub until: u64,
}

/// What rotating a refresh token did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RotateOutcome {
    /// This call rotated it: the old record (as before) is now used, the new one stored.
    Rotated(RefreshTokenRecord),
    /// It had been rotated before: a replay. The same transaction revoked the token's family
    /// (RFC 9700 §4.14.2), so no grant has to remember a second call.
    Reused {
        /// The token as it was found (with its `used_at`, before the revocation).
        token: RefreshTokenRecord,
        /// Whether this call revoked the family (`false`: it was revoked before, e.g. by a
        /// concurrent replay).
        revoked: bool,
    },
    /// It had been rotated, but within the grace window that rotation opened
    /// (`refresh.reuse_grace_secs`), and its successor is still unused, unrevoked and unexpired:
    /// the caller answers with that same successor. Nothing changed.
    WithinGrace {
        /// The token as it was found (with its `used_at`).
        token: RefreshTokenRecord,
        /// The hash of the successor that rotation stored.
        successor: SecretHash,
        /// The successor's token string, sealed by the rotation.
        sealed: SealedSuccessor,
    },
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
    /// Marks the code used at `now` if it was unused and unexpired (one conditional UPDATE); a
    /// code used before revokes its family in the same transaction ([`RedeemOutcome::AlreadyUsed`]).
    async fn redeem_code(&self, hash: SecretHash, now: u64) -> StoreResult<RedeemOutcome>;
    /// Stores the first refresh token of a family.
    async fn insert_refresh_token(&self, token: RefreshTokenRecord) -> StoreResult<()>;
    /// A refresh token by hash.
    async fn get_refresh_token(&self, hash: SecretHash) -> StoreResult<Option<RefreshTokenRecord>>;
    /// Marks `old` used and stores `new` (same family) if `old` was unused, unrevoked and
    /// unexpired at `now`, keeping `grace` (the sealed `new`) until its window ends. If `old`
    /// was used before: [`RotateOutcome::WithinGrace`] when its rotation's window is still open
    /// and that successor still unused, unrevoked and unexpired; otherwise the family is
    /// revoked ([`RotateOutcome::Reused`]). One transaction either way, so concurrent
    /// presentations of one token, from any node, all get the same successor or find the
    /// family revoked, never two different successors.
    async fn rotate_refresh(
        &self,
        old: SecretHash,
        new: RefreshTokenRecord,
        grace: Option<SealedSuccessor>,
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
}
