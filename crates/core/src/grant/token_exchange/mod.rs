//! RFC 8693: token exchange, for delegation. A client (an AI agent, a tool server, an MCP
//! server) that received a token — its `aud` is one of the client's registered resource URIs —
//! exchanges it for a token to one of its own audiences, acting on the token's subject's behalf:
//! never wider in scope, never longer-lived, the client recorded as the actor (`act`, nested
//! along a chain), bound to the client's own key when the subject token was bound, and linked
//! to the subject token so revoking it revokes the new token too.
mod request;
mod subject;

use async_trait::async_trait;
use tessera_proto::act::Act;
use tessera_proto::{ErrorCode, OAuthError};

use super::Grant;
use crate::audit::{EventKind, RequestContext};
use crate::authority::Authority;
use crate::binding::SenderBinding;
use crate::client::{Client, GrantType};
use crate::mint::{self, IssuedToken, TokenSpec};
use crate::params::Params;
use crate::policy;
use crate::store::{ExchangeLink, LinkOutcome};
use request::{ACCESS_TOKEN_TYPE, ExchangeRequest};
use subject::Subject;

/// The token exchange grant.
pub struct TokenExchange;

/// Who may exchange what: the subject token must have been sent to this client (its `aud` is
/// one of the client's resource URIs), and when it names who may act (`may_act`), that is this
/// client.
fn may_exchange(client: &Client, subject: &Subject) -> Result<(), OAuthError> {
    if !client.is_resource_server_for(&subject.aud) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "the subject_token is not addressed to this client",
        ));
    }
    // RFC 8693 §4.4: "the may_act claim makes a statement that one party is authorized to
    // become the actor and act on behalf of another party."
    if subject.may_act.as_ref().is_some_and(|m| m.sub != client.id) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "the subject_token's may_act does not name this client",
        ));
    }
    Ok(())
}

/// Sender constraint carries over: a bound subject token is exchanged only by a request that
/// binds the new token in the same way, to the exchanging client's own key or certificate.
fn check_binding(subject: &Subject, binding: &SenderBinding) -> Result<(), OAuthError> {
    if subject.cnf_jkt.is_some() && binding.dpop_jkt.is_none() {
        return Err(OAuthError::new(
            ErrorCode::InvalidDpopProof,
            "a DPoP-bound subject_token is exchanged only with a DPoP proof",
        ));
    }
    if subject.cnf_x5t.is_some() && binding.x5t_s256.is_none() {
        return Err(OAuthError::new(
            ErrorCode::InvalidRequest,
            "a certificate-bound subject_token is exchanged only over mutual TLS",
        ));
    }
    Ok(())
}

#[async_trait]
impl Grant for TokenExchange {
    fn grant_type(&self) -> GrantType {
        GrantType::TokenExchange
    }

    async fn issue(
        &self,
        authority: &Authority,
        client: &Client,
        params: &Params,
        binding: &SenderBinding,
        ctx: &RequestContext,
    ) -> Result<IssuedToken, OAuthError> {
        let req = ExchangeRequest::parse(params)?;
        let now = authority.clock().now();
        let subject = subject::live(authority, req.subject_token, "subject_token", now).await?;
        may_exchange(client, &subject)?;
        // RFC 8693 §2.1: the actor_token represents the acting party: here, the client itself,
        // so it must be a live token of this client.
        if let Some(actor) = req.actor_token {
            let actor = subject::live(authority, actor, "actor_token", now).await?;
            if actor.client_id != client.id {
                return Err(OAuthError::new(
                    ErrorCode::InvalidRequest,
                    "the actor_token was not issued to this client",
                ));
            }
        }
        let depth = subject.depth + 1;
        if depth > authority.config().tokens.exchange_max_depth {
            return Err(OAuthError::new(
                ErrorCode::InvalidRequest,
                "the subject_token's delegation chain is too deep to exchange again",
            ));
        }
        check_binding(&subject, binding)?;
        let audience = request::target(client, params)?;
        let scope = request::scope(client, &subject.scope, req.scope)?;
        // Never outlives the subject token, nor the client's own lifetime.
        let ttl = policy::lifetime::access_token_ttl(client, &authority.config().tokens)
            .min(subject.exp.saturating_sub(now));
        // Delegation, never silent impersonation: the client is the (current) actor, prior
        // actors nested inside; only a client registered to impersonate leaves itself out.
        let act = if client.allow_impersonation {
            subject.act.clone()
        } else {
            Some(Act::delegate(&client.id, subject.act.clone()))
        };
        let spec = TokenSpec {
            client_id: client.id.clone(),
            subject: subject.sub.clone(),
            scope,
            audience,
            ttl,
            format: client.token_format,
            alg: client.jwt_alg,
            binding: binding.clone(),
            reason: None,
            act: act.clone(),
        };
        // A JWT's `token.issued` is committed with the link below: one commit per exchange.
        let (mut issued, issued_event) = mint::mint_unrecorded(authority, spec, ctx).await?;
        let Some(child) = crate::lineage::token_of(issued.format, &issued.token_id) else {
            return Err(OAuthError::server_error("minted token has no lineage id"));
        };
        let link = ExchangeLink {
            child,
            client_id: client.id.clone(),
            expires_at: issued.issued_at + issued.expires_in,
            depth,
            parent: subject.lineage.clone(),
            parent_client_id: subject.client_id.clone(),
            parent_issued_at: subject.iat,
        };
        let mut event = ctx.event(EventKind::TokenExchanged, authority.clock().now_ms());
        event.client_id = Some(client.id.clone());
        event.token_id = Some(issued.token_id.clone());
        event.subject_token_id = Some(subject.public_id.clone());
        event.subject = Some(subject.sub.clone());
        event.actor_chain = Some(
            act.as_ref()
                .map(|a| a.chain().into_iter().map(str::to_string).collect())
                .unwrap_or_default(),
        );
        event.scope = Some(issued.scope.clone());
        event.resource = Some(issued.audience.clone());
        event.format = Some(issued.format.as_str().to_string());
        event.reason = Some(
            if client.allow_impersonation {
                "impersonation"
            } else {
                "delegation"
            }
            .to_string(),
        );
        // The link checks the subject token again inside its transaction, and stores the
        // `token.exchanged` event (and a JWT's `token.issued`) with it: a revocation that
        // answered before is seen here, and the new token never leaves (nor is it recorded).
        let events: Vec<_> = issued_event.into_iter().chain([event]).collect();
        let store = authority.store();
        if store.link_exchanged(&link, events.clone(), now).await? == LinkOutcome::ParentRevoked {
            return Err(subject::invalid("subject_token").with_detail("revoked while exchanging"));
        }
        // Committed with the link: now the monitor may see them.
        for event in &events {
            authority.tap_committed(event);
        }
        // RFC 8693 §2.2.1: issued_token_type is REQUIRED in the response.
        issued.issued_token_type = Some(ACCESS_TOKEN_TYPE);
        Ok(issued)
    }
}
