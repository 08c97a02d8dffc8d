//! Minting access tokens: one file per format. Adding a format = one file here and, if it has a
//! string form, one prefix in `tessera_proto::token_string`.
pub mod jwt;
pub mod opaque;

use tessera_proto::{OAuthError, Secret};

use crate::authority::Authority;
use crate::binding::SenderBinding;
use crate::client::TokenFormat;
use crate::keys::SigningAlg;

/// What to mint, as decided by the grant and the policy.
#[derive(Clone, Debug)]
pub struct TokenSpec {
    /// The client the token is issued to.
    pub client_id: String,
    /// The subject (the client itself for client_credentials).
    pub subject: String,
    /// Granted scope, space-separated.
    pub scope: String,
    /// The one audience.
    pub audience: String,
    /// Lifetime in seconds.
    pub ttl: u64,
    /// Format.
    pub format: TokenFormat,
    /// JWT signing algorithm.
    pub alg: SigningAlg,
    /// What the token is bound to.
    pub binding: SenderBinding,
}

/// A freshly minted token.
#[derive(Debug)]
pub struct IssuedToken {
    /// The token itself (raw; leaves the server once, in the response).
    pub access_token: Secret,
    /// The client it was issued to.
    pub client_id: String,
    /// Its public identifier for events and introspection: the `jti`, or an opaque token's
    /// [`crate::token_id`].
    pub token_id: String,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Lifetime in seconds.
    pub expires_in: u64,
    /// Granted scope.
    pub scope: String,
    /// The audience.
    pub audience: String,
    /// Format.
    pub format: TokenFormat,
    /// RFC 6749 §5.1: a refresh token (raw), for grants that issue one.
    pub refresh_token: Option<Secret>,
    /// The `token.issued` event's `reason`, when the issuance is out of the ordinary:
    /// `refresh_grace` for an answer within the refresh reuse grace window.
    pub reason: Option<&'static str>,
}

/// Mints a token of the spec's format.
pub async fn mint(authority: &Authority, spec: TokenSpec) -> Result<IssuedToken, OAuthError> {
    match spec.format {
        TokenFormat::Jwt => jwt::mint(authority, spec),
        TokenFormat::Opaque => opaque::mint(authority, spec).await,
    }
}
