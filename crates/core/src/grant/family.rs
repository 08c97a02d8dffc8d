//! What the authorization code and refresh token grants share: minting an access token that is
//! linked to its grant family (so a replayed code or refresh token revokes it), and minting a
//! refresh token.
use tessera_proto::{OAuthError, Secret, TokenKind, TokenString};

use crate::authority::Authority;
use crate::mint::{self, IssuedToken, TokenSpec};
use crate::store::{FamilyToken, RefreshTokenRecord};

/// Mints the access token and records it under `family`. If the family was revoked meanwhile
/// (a replay detected on another request), the token is revoked at once and the grant fails.
pub async fn mint_linked(
    authority: &Authority,
    spec: TokenSpec,
    family: &str,
) -> Result<IssuedToken, OAuthError> {
    let client_id = spec.client_id.clone();
    let issued = mint::mint(authority, spec).await?;
    let linked = FamilyToken {
        kind: issued.format,
        id: issued.token_id.clone(),
        expires_at: authority.clock().now() + issued.expires_in,
    };
    if !authority
        .store()
        .link_family_token(family, &linked, &client_id)
        .await?
    {
        return Err(super::refresh_token::invalid_grant());
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
