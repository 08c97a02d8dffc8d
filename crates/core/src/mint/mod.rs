//! Minting access tokens: one file per format. Adding a format = one file here and, if it has a
//! string form, one prefix in `tessera_proto::token_string`.
pub mod jwt;
pub mod opaque;

use tessera_proto::{OAuthError, Secret};

use crate::audit::{AuditEvent, EventKind, RequestContext};
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
    /// The `token.issued` event's `reason`, when the issuance is out of the ordinary:
    /// `refresh_grace` for an answer within the refresh reuse grace window.
    pub reason: Option<&'static str>,
    /// RFC 8693 §4.1: the actor chain, for an exchanged token.
    pub act: Option<tessera_proto::act::Act>,
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
    /// Issue time, seconds since the epoch.
    pub issued_at: u64,
    /// RFC 8693 §2.2.1: the issued token's type, for a token exchange.
    pub issued_token_type: Option<&'static str>,
}

/// Mints a token of the spec's format and records its `token.issued` event durably, before the
/// token can reach the client: an opaque token's event in the same commit as its row, a JWT's —
/// the JWT's only record — on its own. Both are group-committed with other requests' writes, so
/// a token the client received is in the audit trail even after a crash (issue 13).
pub async fn mint(
    authority: &Authority,
    spec: TokenSpec,
    ctx: &RequestContext,
) -> Result<IssuedToken, OAuthError> {
    match spec.format {
        TokenFormat::Jwt => {
            let reason = spec.reason;
            let issued = jwt::mint(authority, spec)?;
            authority
                .record_durable(issued_event(authority, ctx, &issued, reason))
                .await?;
            Ok(issued)
        }
        TokenFormat::Opaque => opaque::mint(authority, spec, ctx).await,
    }
}

/// [`mint`] for a token whose `token.issued` event the caller commits itself, with the change
/// that hands the token out (a token exchange's lineage link): a JWT's event is returned, not
/// recorded; an opaque token's is committed with its row as in [`mint`] (`None`).
pub async fn mint_unrecorded(
    authority: &Authority,
    spec: TokenSpec,
    ctx: &RequestContext,
) -> Result<(IssuedToken, Option<AuditEvent>), OAuthError> {
    match spec.format {
        TokenFormat::Jwt => {
            let reason = spec.reason;
            let issued = jwt::mint(authority, spec)?;
            let event = issued_event(authority, ctx, &issued, reason);
            Ok((issued, Some(event)))
        }
        TokenFormat::Opaque => Ok((opaque::mint(authority, spec, ctx).await?, None)),
    }
}

/// The `token.issued` event for `issued`: it names the token by its id, never by value.
fn issued_event(
    authority: &Authority,
    ctx: &RequestContext,
    issued: &IssuedToken,
    reason: Option<&'static str>,
) -> AuditEvent {
    let mut event = ctx.event(EventKind::TokenIssued, authority.clock().now_ms());
    event.client_id = Some(issued.client_id.clone());
    event.token_id = Some(issued.token_id.clone());
    event.scope = Some(issued.scope.clone());
    event.resource = Some(issued.audience.clone());
    event.format = Some(issued.format.as_str().to_string());
    event.reason = reason.map(str::to_string);
    event
}
