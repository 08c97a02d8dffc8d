//! The token endpoint (RFC 6749 §3.2): authenticate the client, dispatch on `grant_type`; the
//! grant mints through `mint::mint`, which records `token.issued` before the answer leaves.
use tessera_proto::{ErrorCode, OAuthError};

use crate::audit::RequestContext;
use crate::authority::Authority;
use crate::binding::{SenderBinding, dpop};
use crate::client::GrantType;
use crate::client_auth::{self, PresentedCredentials};
use crate::grant;
use crate::mint::IssuedToken;
use crate::params::Params;

/// Handles one token request; the result is the response body or the RFC error.
#[tracing::instrument(level = "debug", skip_all, fields(grant_type, client_id))]
pub async fn token(
    authority: &Authority,
    presented: &PresentedCredentials,
    params: &Params,
    dpop_proof: Option<&str>,
    ctx: &RequestContext,
) -> Result<IssuedToken, OAuthError> {
    let grant_type = params.require("grant_type")?;
    tracing::Span::current().record("grant_type", grant_type);
    let client = client_auth::authenticate(authority, presented, ctx).await?;
    tracing::Span::current().record("client_id", client.id.as_str());
    let grant = grant::find(grant_type).ok_or_else(|| {
        OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "this grant type is not supported",
        )
    })?;
    // RFC 6749 §4.4: client_credentials is for confidential clients only; so is token exchange
    // (RFC 8693 §2.1: the client is the actor the new token names).
    let public_misuse = client.is_public()
        && matches!(
            grant.grant_type(),
            GrantType::ClientCredentials | GrantType::TokenExchange
        );
    if !client.allows_grant(grant.grant_type()) || public_misuse {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use this grant type",
        ));
    }
    // RFC 9449 §5: a proof binds the token to the client's key; a client registered with
    // require_dpop gets no bearer token.
    let proof = dpop::verify(authority, dpop_proof, "POST", authority.token_endpoint()).await?;
    if proof.is_none() && client.require_dpop {
        return Err(OAuthError::new(
            ErrorCode::InvalidDpopProof,
            "this client must present a DPoP proof",
        ));
    }
    // RFC 8705 §3: a token requested over a connection with a client certificate is bound to it.
    let binding = SenderBinding {
        dpop_jkt: proof.map(|p| p.jkt),
        x5t_s256: ctx.client_cert.as_ref().map(|c| c.x5t_s256()),
    };
    // The grant mints through `mint::mint`, which records `token.issued` durably.
    grant.issue(authority, &client, params, &binding, ctx).await
}
