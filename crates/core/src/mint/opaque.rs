//! Opaque access tokens: a `tsr_at_` token string whose selector keys its row; only the hash is
//! stored, and the response waits until the row and its `token.issued` event are durable (one
//! commit, shared with other requests by the store's group commit).
use tessera_proto::{OAuthError, TokenKind, TokenString};

use super::{IssuedToken, TokenSpec, issued_event};
use crate::audit::RequestContext;
use crate::authority::Authority;
use crate::client::TokenFormat;
use crate::store::AccessTokenRecord;

/// Mints and stores an opaque token for `spec`, its `token.issued` event in the same commit.
pub async fn mint(
    authority: &Authority,
    spec: TokenSpec,
    ctx: &RequestContext,
) -> Result<IssuedToken, OAuthError> {
    let now = authority.clock().now();
    let reason = spec.reason;
    let selector = authority.next_selector().await?;
    let token = TokenString::generate(TokenKind::AccessToken, selector);
    let record = AccessTokenRecord {
        id: selector,
        hash: token.hash(),
        client_id: spec.client_id.clone(),
        subject: spec.subject,
        scope: spec.scope.clone(),
        audience: Some(spec.audience.clone()),
        issued_at: now,
        expires_at: now + spec.ttl,
        revoked_at: None,
        cnf_jkt: spec.binding.dpop_jkt.clone(),
        cnf_x5t: spec.binding.x5t_s256.clone(),
        act: spec.act.clone(),
    };
    let issued = IssuedToken {
        client_id: spec.client_id,
        token_id: crate::token_id::opaque(selector, &token.hash()),
        access_token: token,
        token_type: spec.binding.token_type(),
        expires_in: spec.ttl,
        scope: spec.scope,
        audience: spec.audience,
        format: TokenFormat::Opaque,
        refresh_token: None,
        issued_at: now,
        issued_token_type: None,
    };
    let store = authority.store();
    authority
        .record_with(issued_event(authority, ctx, &issued, reason), |event| {
            store.insert_access_token(record, event)
        })
        .await?;
    Ok(issued)
}
