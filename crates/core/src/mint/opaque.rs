//! Opaque access tokens: a `tsr_at_` token string whose selector keys its row; only the hash is
//! stored, and the response waits until the row is durable (group-committed by the store).
use tessera_proto::{OAuthError, TokenKind, TokenString};

use super::{IssuedToken, TokenSpec};
use crate::authority::Authority;
use crate::client::TokenFormat;
use crate::store::AccessTokenRecord;

/// Mints and stores an opaque access token for `spec`.
pub async fn mint(authority: &Authority, spec: TokenSpec) -> Result<IssuedToken, OAuthError> {
    let now = authority.clock().now();
    let selector = authority.next_selector().await?;
    let token = TokenString::generate(TokenKind::AccessToken, selector);
    let token_id = crate::token_id::opaque(selector, &token.hash());
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
    };
    authority.store().insert_access_token(record).await?;
    Ok(IssuedToken {
        client_id: spec.client_id,
        access_token: token,
        token_id,
        token_type: spec.binding.token_type(),
        expires_in: spec.ttl,
        scope: spec.scope,
        audience: spec.audience,
        format: TokenFormat::Opaque,
        refresh_token: None,
        reason: None,
    })
}
