//! RFC 6749 §4.1.3: the authorization code grant, with PKCE (RFC 7636 §4.5–4.6), the `dpop_jkt`
//! binding of RFC 9449 §10, and replay detection: a code presented twice revokes every token
//! issued from it (RFC 6749 §4.1.2).
use async_trait::async_trait;
use tessera_proto::{ErrorCode, OAuthError, TokenKind, TokenString};

use super::Grant;
use super::family::{mint_linked, new_refresh_token};
use crate::audit::{EventKind, RequestContext};
use crate::authority::Authority;
use crate::authorize::pkce;
use crate::binding::SenderBinding;
use crate::client::{Client, GrantType};
use crate::mint::{IssuedToken, TokenSpec};
use crate::params::Params;
use crate::policy;
use crate::store::{RedeemOutcome, RefreshTokenRecord};

/// The authorization code grant.
pub struct AuthorizationCode;

fn invalid_grant(description: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, description)
}

const BAD_CODE: &str = "the authorization code is invalid, expired or was already used";

#[async_trait]
impl Grant for AuthorizationCode {
    fn grant_type(&self) -> GrantType {
        GrantType::AuthorizationCode
    }

    async fn issue(
        &self,
        authority: &Authority,
        client: &Client,
        params: &Params,
        binding: &SenderBinding,
        ctx: &RequestContext,
    ) -> Result<IssuedToken, OAuthError> {
        // RFC 6749 §4.1.3: code, redirect_uri, client_id; RFC 7636 §4.5: code_verifier.
        let code = params.require("code")?;
        let redirect_uri = params.get("redirect_uri")?;
        let verifier = params.get("code_verifier")?;
        let resources = params.all("resource");
        let Ok(parsed) = TokenString::parse_kind(code, TokenKind::AuthorizationCode) else {
            return Err(invalid_grant(BAD_CODE));
        };
        let now = authority.clock().now();
        // One conditional UPDATE: of concurrent redemptions exactly one gets `Redeemed`.
        let code = match authority.store().redeem_code(parsed.hash, now).await? {
            RedeemOutcome::Redeemed(code) => code,
            RedeemOutcome::AlreadyUsed { code, .. } => {
                // RFC 6749 §4.1.2: "If an authorization code is used more than once, the
                // authorization server MUST deny the request and SHOULD revoke (when possible)
                // all tokens previously issued based on that authorization code." The store
                // revoked the family in the transaction that found the replay.
                let mut event = ctx.event(
                    EventKind::AuthorizationCodeReused,
                    authority.clock().now_ms(),
                );
                event.client_id = Some(code.client_id.clone());
                event.caller_id = (code.client_id != client.id).then(|| client.id.clone());
                event.token_id = Some(code.family.clone());
                event.subject = Some(code.subject.clone());
                event.reason = Some("family_revoked".into());
                authority.record_durable(event).await?;
                return Err(invalid_grant(BAD_CODE));
            }
            RedeemOutcome::Expired | RedeemOutcome::Revoked | RedeemOutcome::NotFound => {
                return Err(invalid_grant(BAD_CODE));
            }
        };
        // RFC 6749 §4.1.3: "ensure that the authorization code was issued to the authenticated
        // confidential client, or if the client is public, ensure that the code was issued to
        // client_id in the request".
        if code.client_id != client.id {
            return Err(invalid_grant(
                "the authorization code was issued to another client",
            ));
        }
        // RFC 6749 §4.1.3: redirect_uri must be identical when the request included it.
        let redirect_ok = match (&code.redirect_uri, redirect_uri) {
            (Some(expected), Some(given)) => expected == given,
            (Some(_), None) => false,
            (None, Some(given)) => {
                client.redirect_uris.len() == 1 && client.redirect_uris[0] == given
            }
            (None, None) => true,
        };
        if !redirect_ok {
            return Err(invalid_grant(
                "redirect_uri does not match the authorization request",
            ));
        }
        // RFC 7636 §4.6.
        let Some(verifier) = verifier else {
            return Err(OAuthError::invalid_request("code_verifier is missing"));
        };
        if !pkce::verify_s256(verifier, &code.code_challenge) {
            return Err(invalid_grant(
                "the code_verifier does not match the code_challenge",
            ));
        }
        // RFC 9449 §10: the proof key must be the one named by dpop_jkt.
        if let Some(jkt) = &code.dpop_jkt
            && binding.dpop_jkt.as_deref() != Some(jkt.as_str())
        {
            return Err(invalid_grant(
                "the DPoP proof key does not match the dpop_jkt of the authorization request",
            ));
        }
        // RFC 8707 §2.2: a resource named again must be the one authorized.
        if !resources.is_empty() && resources != [code.audience.as_str()] {
            return Err(OAuthError::new(
                ErrorCode::InvalidTarget,
                "the requested resource was not authorized",
            ));
        }
        let spec = TokenSpec {
            client_id: client.id.clone(),
            subject: code.subject.clone(),
            scope: code.scope.clone(),
            audience: code.audience.clone(),
            ttl: policy::lifetime::access_token_ttl(client, &authority.config().tokens),
            format: client.token_format,
            alg: client.jwt_alg,
            binding: binding.clone(),
            reason: None,
            act: None,
        };
        let mut issued = mint_linked(authority, spec, &code.family, ctx).await?;
        if client.allows_grant(GrantType::RefreshToken) {
            let (token, record) = new_refresh_token(RefreshTokenRecord {
                hash: code.hash,
                family: code.family,
                client_id: client.id.clone(),
                subject: code.subject,
                scope: code.scope,
                audience: code.audience,
                // RFC 9449 §5: a public client's refresh token is bound to its DPoP key; a
                // confidential client's is bound by its authentication instead.
                cnf_jkt: if client.is_public() {
                    binding.dpop_jkt.clone()
                } else {
                    None
                },
                issued_at: now,
                expires_at: now + authority.config().tokens.refresh_ttl,
                used_at: None,
                revoked_at: None,
            });
            authority.store().insert_refresh_token(record).await?;
            issued.refresh_token = Some(token);
        }
        Ok(issued)
    }
}
