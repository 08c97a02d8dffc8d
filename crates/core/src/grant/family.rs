//! What the authorization code and refresh token grants share: minting an access token that is
//! linked to its grant family (so a replayed code or refresh token revokes it), and minting a
//! refresh token.
use tessera_proto::{OAuthError, Secret, TokenKind, TokenString};

use crate::audit::RequestContext;
use crate::authority::Authority;
use crate::mint::{self, IssuedToken, TokenSpec};
use crate::store::{FamilyToken, RefreshTokenRecord};

/// Mints the access token and records it under `family`. This request already won the code
/// redemption or the refresh rotation (one transaction, one winner); if a replay detected on
/// another request revoked the family since, the link revokes the token at once. The winner
/// still gets its answer — tokens that are already dead, exactly what it would hold had the
/// replay come a moment later — so the race's outcome (one success, one `invalid_grant`, the
/// whole family revoked) does not depend on which of the two requests finishes first.
pub async fn mint_linked(
    authority: &Authority,
    spec: TokenSpec,
    family: &str,
    ctx: &RequestContext,
) -> Result<IssuedToken, OAuthError> {
    let client_id = spec.client_id.clone();
    let issued = mint::mint(authority, spec, ctx).await?;
    let linked = FamilyToken {
        kind: issued.format,
        // The store links an opaque token by its row's selector, a JWT by its `jti`.
        id: match issued.format {
            crate::client::TokenFormat::Opaque => {
                crate::token_id::opaque_selector(&issued.token_id)
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            }
            crate::client::TokenFormat::Jwt => issued.token_id.clone(),
        },
        expires_at: authority.clock().now() + issued.expires_in,
    };
    let linked_live = authority
        .store()
        .link_family_token(family, &linked, &client_id)
        .await?;
    if !linked_live {
        tracing::info!(
            client_id,
            "grant family revoked by a concurrent replay: the winner's tokens are revoked"
        );
    }
    Ok(issued)
}

/// A fresh refresh token string and its record (not yet stored).
pub fn new_refresh_token(template: RefreshTokenRecord) -> (Secret, RefreshTokenRecord) {
    let token = TokenString::generate_random(TokenKind::RefreshToken);
    let record = RefreshTokenRecord {
        hash: token.hash(),
        ..template
    };
    (token, record)
}
