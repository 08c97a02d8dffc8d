//! The subject (and actor) token of an exchange: one of our own access tokens, resolved and
//! checked live — signature, issuer and expiry for a JWT, the stored row for an opaque token,
//! not revoked, its client and every ancestor's client still allowing it.
use tessera_proto::act::{Act, MayAct};
use tessera_proto::{ErrorCode, OAuthError};

use crate::authority::Authority;
use crate::client::TokenFormat;
use crate::lineage::{client_allows, live_ancestors};
use crate::resolve::{Resolved, resolve};
use crate::store::LineageToken;

/// A live access token presented as `subject_token` (or `actor_token`).
#[derive(Debug)]
pub struct Subject {
    /// Its name in the lineage store.
    pub lineage: LineageToken,
    /// Its public id (events, introspection).
    pub public_id: String,
    /// The client it was issued to.
    pub client_id: String,
    /// Its subject: the resource owner, or the client for client_credentials.
    pub sub: String,
    /// Its granted scope, space-separated.
    pub scope: String,
    /// Its one audience.
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issue time, seconds since the epoch.
    pub iat: u64,
    /// RFC 9449: the DPoP key it is bound to.
    pub cnf_jkt: Option<String>,
    /// RFC 8705: the certificate it is bound to.
    pub cnf_x5t: Option<String>,
    /// RFC 8693 §4.1: its actor chain, if it was itself exchanged.
    pub act: Option<Act>,
    /// RFC 8693 §4.4: who may exchange it, when it says.
    pub may_act: Option<MayAct>,
    /// How many exchanges lie behind it (0: issued by another grant).
    pub depth: u32,
}

/// RFC 6749 §5.2: "The provided authorization grant … is invalid, expired, revoked": the same
/// answer for a forged, expired, revoked or unknown token, so the answer tells an attacker
/// nothing about which.
pub fn invalid(which: &'static str) -> OAuthError {
    OAuthError::new(
        ErrorCode::InvalidGrant,
        match which {
            "actor_token" => "the actor_token is invalid, expired or revoked",
            _ => "the subject_token is invalid, expired or revoked",
        },
    )
}

/// Resolves `token` (named `which` in errors) and checks that it is live at `now`.
pub async fn live(
    authority: &Authority,
    token: &str,
    which: &'static str,
    now: u64,
) -> Result<Subject, OAuthError> {
    let subject = match resolve(authority, token).await? {
        Resolved::Opaque(t) => {
            if t.revoked_at.is_some() {
                return Err(invalid(which).with_detail("opaque token revoked"));
            }
            Subject {
                public_id: crate::token_id::opaque(t.id, &t.hash),
                lineage: LineageToken {
                    kind: TokenFormat::Opaque,
                    id: t.id.to_string(),
                },
                client_id: t.client_id,
                sub: t.subject,
                scope: t.scope,
                aud: t.audience.unwrap_or_default(),
                exp: t.expires_at,
                iat: t.issued_at,
                cnf_jkt: t.cnf_jkt,
                cnf_x5t: t.cnf_x5t,
                act: t.act,
                may_act: None,
                depth: 0,
            }
        }
        Resolved::Jwt(c) => {
            if c.nbf > now {
                return Err(invalid(which).with_detail("JWT not yet valid"));
            }
            if authority.store().is_jti_revoked(&c.jti).await? {
                return Err(invalid(which).with_detail("JWT revoked"));
            }
            Subject {
                lineage: LineageToken {
                    kind: TokenFormat::Jwt,
                    id: c.jti.clone(),
                },
                public_id: c.jti,
                client_id: c.client_id,
                sub: c.sub,
                scope: c.scope,
                aud: c.aud,
                exp: c.exp,
                iat: c.iat,
                cnf_jkt: c.cnf.as_ref().and_then(|c| c.jkt.clone()),
                cnf_x5t: c.cnf.and_then(|c| c.x5t_s256),
                act: c.act,
                may_act: c.may_act,
                depth: 0,
            }
        }
        // A refresh token is no access token (RFC 8693 §3 token types): not exchangeable.
        Resolved::Refresh(_) => return Err(invalid(which).with_detail("a refresh token")),
        Resolved::Unknown => return Err(invalid(which).with_detail("not one of our tokens")),
    };
    if now >= subject.exp {
        return Err(invalid(which).with_detail("expired"));
    }
    let owner = authority.client(&subject.client_id).await?;
    if !client_allows(owner.as_deref(), subject.iat) {
        return Err(invalid(which).with_detail("its client is disabled or revoked its tokens"));
    }
    let Some(ancestors) = live_ancestors(authority, &subject.lineage).await? else {
        return Err(invalid(which).with_detail("an ancestor's client revoked its tokens"));
    };
    Ok(Subject {
        depth: u32::try_from(ancestors.len()).unwrap_or(u32::MAX),
        ..subject
    })
}
