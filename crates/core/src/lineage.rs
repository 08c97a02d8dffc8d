//! What a token's lineage (RFC 8693 token exchange) decides at introspection and at the next
//! exchange. Revocation of an ancestor already reached every descendant in the store (the
//! cascade runs in the revocation's transaction); what the store cannot push down is a change
//! to an ancestor's *client* — disabled, deleted, or given `tokens_not_before` — so that is
//! checked here, walking up from the token (a handful of rows at most).
use tessera_proto::OAuthError;

use crate::authority::Authority;
use crate::client::{Client, TokenFormat};
use crate::store::{Ancestor, LineageToken};

/// The store's name of a token: an opaque token by its selector in decimal, a JWT by its `jti`.
pub fn token_of(format: TokenFormat, public_id: &str) -> Option<LineageToken> {
    let id = match format {
        TokenFormat::Opaque => crate::token_id::opaque_selector(public_id)?.to_string(),
        TokenFormat::Jwt => public_id.to_string(),
    };
    Some(LineageToken { kind: format, id })
}

/// Whether a token of `client`, issued at `issued_at`, is still allowed by its client: the
/// client exists, is enabled, and did not revoke tokens issued before then.
pub fn client_allows(client: Option<&Client>, issued_at: u64) -> bool {
    client.is_some_and(|c| !c.disabled && c.tokens_not_before.is_none_or(|t| issued_at >= t))
}

/// The token's ancestors, parent first, if every one of their clients still allows them;
/// `None` when one does not (the token is then inactive, as its ancestor is).
pub async fn live_ancestors(
    authority: &Authority,
    token: &LineageToken,
) -> Result<Option<Vec<Ancestor>>, OAuthError> {
    let ancestors = authority.store().ancestors(token).await?;
    for a in &ancestors {
        let client = authority.client(&a.client_id).await?;
        if !client_allows(client.as_deref(), a.issued_at) {
            return Ok(None);
        }
    }
    Ok(Some(ancestors))
}
