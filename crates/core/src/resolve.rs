//! Finding what a presented access token is: an opaque token's row (by selector, hash compared in
//! constant time) or a JWT's verified claims. Shared by introspection and revocation.
use tessera_proto::{OAuthError, TokenKind, TokenString};

use crate::authority::Authority;
use crate::mint::jwt::AccessTokenClaims;
use crate::store::{AccessTokenRecord, RefreshTokenRecord};

/// A presented token, resolved.
#[derive(Debug)]
pub enum Resolved {
    /// One of our opaque tokens.
    Opaque(AccessTokenRecord),
    /// One of our refresh tokens (its state — used, revoked, expired — not yet checked).
    Refresh(RefreshTokenRecord),
    /// A JWT signed by one of our published keys (time claims not yet checked).
    Jwt(AccessTokenClaims),
    /// Not ours, malformed, forged, or signed by a key we no longer publish.
    Unknown,
}

/// Resolves `token`. Only storage failures are errors.
pub async fn resolve(authority: &Authority, token: &str) -> Result<Resolved, OAuthError> {
    if token.starts_with("tsr_rt_") {
        let Ok(parsed) = TokenString::parse_kind(token, TokenKind::RefreshToken) else {
            return Ok(Resolved::Unknown);
        };
        // Looked up by the hash itself: equality is the lookup.
        return Ok(
            match authority.store().get_refresh_token(parsed.hash).await? {
                Some(record) => Resolved::Refresh(record),
                None => Resolved::Unknown,
            },
        );
    }
    if token.starts_with("tsr_") {
        let Ok(parsed) = TokenString::parse_kind(token, TokenKind::AccessToken) else {
            return Ok(Resolved::Unknown);
        };
        let Some(record) = authority.store().get_access_token(parsed.selector).await? else {
            return Ok(Resolved::Unknown);
        };
        // SecretHash equality is constant time.
        return Ok(if record.hash == parsed.hash {
            Resolved::Opaque(record)
        } else {
            Resolved::Unknown
        });
    }
    if token.bytes().filter(|&b| b == b'.').count() == 2
        && let Ok(claims) = authority
            .keys()
            .verify::<AccessTokenClaims>(token, authority.issuer())
    {
        return Ok(Resolved::Jwt(claims));
    }
    Ok(Resolved::Unknown)
}
