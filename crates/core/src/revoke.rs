//! Token revocation (RFC 7009). Only the client a token was issued to may revoke it. An opaque
//! token's row is marked revoked; a JWT's `jti` is recorded so introspection reports it inactive.
use tessera_proto::{ErrorCode, OAuthError};

use crate::audit::{EventKind, RequestContext};
use crate::authority::Authority;
use crate::client_auth::{self, PresentedCredentials};
use crate::params::Params;
use crate::resolve::{Resolved, resolve};

/// Handles one revocation request. `Ok` is answered 200 with an empty body.
#[tracing::instrument(level = "debug", skip_all, fields(client_id))]
pub async fn revoke(
    authority: &Authority,
    presented: &PresentedCredentials,
    params: &Params,
    ctx: &RequestContext,
) -> Result<(), OAuthError> {
    // RFC 7009 §2.1: token is required; the hint may be ignored (we search every kind).
    let token = params.require("token")?;
    params.get("token_type_hint")?;
    let caller = client_auth::authenticate(authority, presented, ctx).await?;
    tracing::Span::current().record("client_id", caller.id.as_str());
    let now = authority.clock().now();

    let (owner, token_id, scope, audience, target) = match resolve(authority, token).await? {
        // RFC 7009 §2.2: "invalid tokens do not cause an error response".
        Resolved::Unknown => return Ok(()),
        Resolved::Opaque(t) => (
            t.client_id,
            crate::token_id::opaque(t.id, &t.hash),
            t.scope,
            t.audience,
            Target::Row(t.id),
        ),
        Resolved::Jwt(c) => (c.client_id, c.jti, c.scope, Some(c.aud), Target::Jti(c.exp)),
        // RFC 7009 §2.1: revoking a refresh token invalidates the access tokens of the same
        // authorization grant too: the whole family goes.
        Resolved::Refresh(r) => (
            r.client_id,
            r.family.clone(),
            r.scope,
            Some(r.audience),
            Target::Family(r.family),
        ),
    };
    // RFC 7009 §2.1: "verifies whether the token was issued to the client making the revocation
    // request. If this validation fails, the request is refused".
    if owner != caller.id {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "the token was not issued to this client",
        ));
    }
    let is_family = matches!(target, Target::Family(_));
    let revoked = match target {
        Target::Row(id) => authority.store().revoke_access_token(id, now).await?,
        // An expired JWT is dead already; a live one is remembered until it would expire.
        Target::Jti(exp) if exp > now => {
            authority
                .store()
                .revoke_jti(&token_id, &owner, exp, now)
                .await?
        }
        Target::Jti(_) => false,
        Target::Family(family) => authority.store().revoke_family(&family, now).await?,
    };
    if revoked {
        let mut event = ctx.event(EventKind::TokenRevoked, authority.clock().now_ms());
        event.client_id = Some(owner);
        event.token_id = Some(token_id);
        event.scope = Some(scope);
        event.resource = audience;
        event.reason = Some("client_request".to_string());
        if is_family {
            event.format = Some("refresh_token".to_string());
        }
        // RFC 7009 §2.2: the 200 says the token is revoked; its event is durable before it.
        authority.record_durable(event).await?;
    }
    Ok(())
}

/// What revoking a resolved token writes.
enum Target {
    /// An opaque token's row.
    Row(u64),
    /// A JWT's `jti`, remembered until its `exp`.
    Jti(u64),
    /// A refresh token's grant family: its refresh and access tokens.
    Family(String),
}
