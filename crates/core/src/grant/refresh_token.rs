//! RFC 6749 §6: refreshing an access token. The refresh token rotates on every use (RFC 9700
//! §4.14.2); presenting a rotated one again revokes its whole family — every refresh and access
//! token issued from the same authorization — and records `refresh_token.reused`, unless its
//! client presents it within `refresh.reuse_grace_secs` of its rotation while the successor is
//! still unused: then the answer carries that same successor (see [`super::successor`]). A
//! public client's token bound to a DPoP key (RFC 9449 §5) needs a proof with that key.
use async_trait::async_trait;
use tessera_proto::{ErrorCode, OAuthError, TokenKind, TokenString};

use super::Grant;
use super::family::{mint_linked, new_refresh_token};
use super::successor;
use crate::audit::{EventKind, RequestContext};
use crate::authority::Authority;
use crate::binding::SenderBinding;
use crate::client::{Client, GrantType};
use crate::mint::{IssuedToken, TokenSpec};
use crate::params::Params;
use crate::policy;
use crate::store::{RefreshTokenRecord, RotateOutcome};

/// The refresh token grant.
pub struct RefreshToken;

/// The answer for every unusable refresh token, whatever the reason.
pub(super) fn invalid_grant() -> OAuthError {
    OAuthError::new(
        ErrorCode::InvalidGrant,
        "the refresh token is invalid, expired or revoked",
    )
}

#[async_trait]
impl Grant for RefreshToken {
    fn grant_type(&self) -> GrantType {
        GrantType::RefreshToken
    }

    async fn issue(
        &self,
        authority: &Authority,
        client: &Client,
        params: &Params,
        binding: &SenderBinding,
        ctx: &RequestContext,
    ) -> Result<IssuedToken, OAuthError> {
        // RFC 6749 §6: refresh_token, optional scope.
        let presented = params.require("refresh_token")?;
        let requested_scope = params.get("scope")?;
        let resources = params.all("resource");
        let Ok(parsed) = TokenString::parse_kind(presented, TokenKind::RefreshToken) else {
            return Err(invalid_grant());
        };
        let now = authority.clock().now();
        let Some(old) = authority.store().get_refresh_token(parsed.hash).await? else {
            return Err(invalid_grant());
        };
        // RFC 6749 §6: "the refresh token is bound to the client to which it was issued".
        if old.client_id != client.id {
            return Err(invalid_grant().with_detail("refresh token of another client"));
        }
        if client.tokens_not_before.is_some_and(|t| old.issued_at < t) {
            return Err(invalid_grant().with_detail("issued before tokens_not_before"));
        }
        // RFC 9449 §5: a bound refresh token needs a proof with the same key; nothing changes
        // when it is missing or made with another key.
        if let Some(jkt) = &old.cnf_jkt {
            match &binding.dpop_jkt {
                None => {
                    return Err(OAuthError::new(
                        ErrorCode::InvalidGrant,
                        "this refresh token is DPoP-bound: present a DPoP proof made with its key",
                    ));
                }
                Some(k) if k != jkt => {
                    return Err(OAuthError::new(
                        ErrorCode::InvalidGrant,
                        "the DPoP proof key does not match the key the refresh token is bound to",
                    ));
                }
                Some(_) => {}
            }
        }
        // RFC 6749 §6: the scope may narrow, never widen ("MUST NOT include any scope not
        // originally granted").
        let scope = match requested_scope {
            None => old.scope.clone(),
            Some(requested) => {
                let granted: Vec<&str> = old.scope.split(' ').collect();
                let wanted = policy::scope::parse(requested)?;
                if wanted.iter().any(|s| !granted.contains(s)) {
                    return Err(OAuthError::new(
                        ErrorCode::InvalidScope,
                        "the requested scope exceeds the scope originally granted",
                    ));
                }
                if wanted.is_empty() {
                    old.scope.clone()
                } else {
                    wanted.join(" ")
                }
            }
        };
        if !resources.is_empty() && resources != [old.audience.as_str()] {
            return Err(OAuthError::new(
                ErrorCode::InvalidTarget,
                "the requested resource was not authorized",
            ));
        }
        // RFC 6749 §6: the new refresh token keeps the original scope; its family keeps the
        // original expiry, so rotation never extends a grant's life.
        let (token, new) = new_refresh_token(RefreshTokenRecord {
            issued_at: now,
            used_at: None,
            revoked_at: None,
            ..old.clone()
        });
        let grace = successor::seal(authority, &old.hash, &token, now)?;
        let (token, reason) = match authority
            .store()
            .rotate_refresh(old.hash, new, grace, now)
            .await?
        {
            RotateOutcome::Rotated(_) => (token, None),
            // The same client presents the rotated token again within the window its rotation
            // opened (parallel refreshes from tabs of one app, a retry after a lost response):
            // the same successor, and a fresh access token, instead of revoking the family.
            RotateOutcome::WithinGrace {
                successor, sealed, ..
            } => {
                tracing::info!(
                    client_id = %client.id,
                    "rotated refresh token presented again within its grace window: same successor"
                );
                let token = successor::open(authority, &old.hash, &sealed, &successor)?;
                (token, Some("refresh_grace"))
            }
            RotateOutcome::Reused { token: used, .. } => {
                // RFC 9700 §4.14.2: a rotated token presented again means one of the two
                // presenters stole it; the store revoked the family in the transaction that
                // found the reuse, so neither keeps access.
                let mut event =
                    ctx.event(EventKind::RefreshTokenReused, authority.clock().now_ms());
                event.client_id = Some(used.client_id.clone());
                event.token_id = Some(used.family.clone());
                event.subject = Some(used.subject.clone());
                event.scope = Some(used.scope.clone());
                event.resource = Some(used.audience.clone());
                event.reason = Some("family_revoked".into());
                authority.record_durable(event).await?;
                return Err(invalid_grant().with_detail("refresh token reuse: family revoked"));
            }
            RotateOutcome::Inactive | RotateOutcome::NotFound => return Err(invalid_grant()),
        };
        let spec = TokenSpec {
            client_id: client.id.clone(),
            subject: old.subject.clone(),
            scope,
            audience: old.audience.clone(),
            ttl: policy::lifetime::access_token_ttl(client, &authority.config().tokens),
            format: client.token_format,
            alg: client.jwt_alg,
            binding: binding.clone(),
            reason,
            act: None,
        };
        let mut issued = mint_linked(authority, spec, &old.family, ctx).await?;
        issued.refresh_token = Some(token);
        Ok(issued)
    }
}
