//! Token introspection (RFC 7662) for authenticated clients, for opaque tokens and JWTs alike.
//!
//! A caller learns about a token only when it is allowed to know (RFC 7662 §4): the token's own
//! client, a resource server the token is addressed to (its `aud` is one of the caller's
//! registered resource URIs), or a caller registered with `tessera:introspect` (or
//! `tessera:admin`). Everyone else gets `{"active": false}`, exactly as for an unknown token.
use tessera_proto::response::{Confirmation, IntrospectionResponse};
use tessera_proto::{ErrorCode, OAuthError};

use crate::audit::{EventKind, RequestContext};
use crate::authority::Authority;
use crate::client::{Client, GrantType, TokenFormat};
use crate::client_auth::{self, PresentedCredentials};
use crate::lineage::{client_allows, live_ancestors};
use crate::ops::admin::{ADMIN_SCOPE, INTROSPECT_SCOPE};
use crate::params::Params;
use crate::resolve::{Resolved, resolve};
use crate::store::LineageToken;

/// Handles one introspection request.
#[tracing::instrument(level = "debug", skip_all, fields(client_id))]
pub async fn introspect(
    authority: &Authority,
    presented: &PresentedCredentials,
    params: &Params,
    ctx: &RequestContext,
) -> Result<IntrospectionResponse, OAuthError> {
    // RFC 7662 §2.1: the token is required; token_type_hint is optional and may be ignored.
    let token = params.require("token")?;
    params.get("token_type_hint")?;
    let caller = client_auth::authenticate(authority, presented, ctx).await?;
    tracing::Span::current().record("client_id", caller.id.as_str());
    // RFC 7662 §2.1: the endpoint needs an authorized caller; a public client proves nothing.
    if caller.is_public() {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "public clients may not introspect tokens",
        ));
    }

    let now = authority.clock().now();
    // An exchanged token's name in the lineage (RFC 8693), to check its ancestors' clients.
    let mut lineage = None;
    let (response, token_id) = match resolve(authority, token).await? {
        Resolved::Opaque(t) => {
            let active = t.revoked_at.is_none() && now < t.expires_at;
            let response = IntrospectionResponse {
                active,
                scope: Some(t.scope),
                client_id: Some(t.client_id),
                token_type: Some(if t.cnf_jkt.is_some() {
                    "DPoP"
                } else {
                    "Bearer"
                }),
                exp: Some(t.expires_at),
                iat: Some(t.issued_at),
                nbf: Some(t.issued_at),
                sub: Some(t.subject),
                aud: t.audience,
                iss: Some(authority.issuer().to_string()),
                jti: Some(crate::token_id::opaque(t.id, &t.hash)),
                cnf: (t.cnf_jkt.is_some() || t.cnf_x5t.is_some()).then(|| Confirmation {
                    jkt: t.cnf_jkt.clone(),
                    x5t_s256: t.cnf_x5t,
                }),
                act: t.act,
            };
            let id = response.jti.clone();
            lineage = Some(LineageToken {
                kind: TokenFormat::Opaque,
                id: t.id.to_string(),
            });
            (response, id)
        }
        Resolved::Jwt(c) => {
            let active =
                now < c.exp && c.nbf <= now && !authority.store().is_jti_revoked(&c.jti).await?;
            let jti = c.jti.clone();
            let response = IntrospectionResponse {
                active,
                scope: Some(c.scope),
                client_id: Some(c.client_id),
                token_type: Some(if c.cnf.is_some() { "DPoP" } else { "Bearer" }),
                exp: Some(c.exp),
                iat: Some(c.iat),
                nbf: Some(c.nbf),
                sub: Some(c.sub),
                aud: Some(c.aud),
                iss: Some(c.iss),
                jti: Some(c.jti),
                cnf: c.cnf.map(|c| Confirmation {
                    jkt: c.jkt,
                    x5t_s256: c.x5t_s256,
                }),
                act: c.act,
            };
            lineage = Some(LineageToken {
                kind: TokenFormat::Jwt,
                id: jti.clone(),
            });
            (response, Some(jti))
        }
        // Refresh tokens are described only to the client holding them (RFC 7662 §2.1 leaves
        // the authorization of the caller to the server).
        Resolved::Refresh(r) if r.client_id == caller.id => {
            let active = r.revoked_at.is_none() && r.used_at.is_none() && now < r.expires_at;
            let response = IntrospectionResponse {
                active,
                scope: Some(r.scope),
                client_id: Some(r.client_id),
                token_type: Some("refresh_token"),
                exp: Some(r.expires_at),
                iat: Some(r.issued_at),
                nbf: None,
                sub: Some(r.subject),
                aud: Some(r.audience),
                iss: Some(authority.issuer().to_string()),
                jti: None,
                cnf: r.cnf_jkt.map(|jkt| Confirmation {
                    jkt: Some(jkt),
                    x5t_s256: None,
                }),
                act: None,
            };
            (response, Some(r.family))
        }
        Resolved::Refresh(_) | Resolved::Unknown => (IntrospectionResponse::inactive(), None),
    };
    // RFC 7662 §2.2: "If the introspection call is properly authorized but the token is not
    // active, does not exist on this server, or the protected resource is not allowed to
    // introspect this particular token, then the authorization server MUST return an
    // introspection response with the "active" field set to "false"."
    let allowed = response
        .client_id
        .as_deref()
        .is_none_or(|owner| may_know(caller.as_ref(), owner, response.aud.as_deref()));
    // A token of a deleted or disabled client, or issued before the client's tokens_not_before,
    // is no longer active.
    let response = match &response.client_id {
        Some(_) if !allowed => IntrospectionResponse {
            active: false,
            ..response
        },
        Some(owner) if response.active => {
            let client = authority.client(owner).await?;
            // RFC 8693: a token exchanged from one whose client has since been disabled (or
            // had its tokens revoked) is no more active than that ancestor. The client change
            // already revoked it in the store; this walk up the lineage checks again, for the
            // tokens that can have ancestors only (ordinary introspections pay nothing).
            let exchanged = response.act.is_some()
                || client.as_deref().is_some_and(|c| {
                    c.allow_impersonation || c.allows_grant(GrantType::TokenExchange)
                });
            let ancestors_live = match &lineage {
                Some(token) if exchanged => live_ancestors(authority, token).await?.is_some(),
                _ => true,
            };
            if client_allows(client.as_deref(), response.iat.unwrap_or(0)) && ancestors_live {
                response
            } else {
                IntrospectionResponse::inactive()
            }
        }
        _ => response,
    };

    let mut event = ctx.event(EventKind::TokenIntrospected, authority.clock().now_ms());
    event.client_id = response.client_id.clone();
    event.caller_id = Some(caller.id.clone());
    event.token_id = token_id;
    event.scope = response.scope.clone();
    event.resource = response.aud.clone();
    event.reason = Some(
        if !allowed {
            "caller_not_allowed"
        } else if response.active {
            "active"
        } else {
            "inactive"
        }
        .to_string(),
    );
    authority.record(event).await;

    Ok(if response.active {
        response
    } else {
        IntrospectionResponse::inactive()
    })
}

/// Whether `caller` may learn about a token of `owner` addressed to `aud`: its own token, a token
/// addressed to one of its resource URIs, or any token with `tessera:introspect` (or
/// `tessera:admin`) — scopes it was registered with, as for every administrative caller.
pub fn may_know(caller: &Client, owner: &str, aud: Option<&str>) -> bool {
    caller.id == owner
        || aud.is_some_and(|a| caller.is_resource_server_for(a))
        || caller
            .scopes
            .iter()
            .any(|s| s == INTROSPECT_SCOPE || s == ADMIN_SCOPE)
}
