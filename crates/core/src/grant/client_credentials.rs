//! RFC 6749 §4.4: the client credentials grant, for machine clients acting on their own behalf.
use async_trait::async_trait;
use tessera_proto::OAuthError;

use super::Grant;
use crate::audit::RequestContext;
use crate::authority::Authority;
use crate::binding::SenderBinding;
use crate::client::{Client, GrantType};
use crate::mint::{self, IssuedToken, TokenSpec};
use crate::params::Params;
use crate::policy;

/// The client credentials grant.
pub struct ClientCredentials;

#[async_trait]
impl Grant for ClientCredentials {
    fn grant_type(&self) -> GrantType {
        GrantType::ClientCredentials
    }

    async fn issue(
        &self,
        authority: &Authority,
        client: &Client,
        params: &Params,
        binding: &SenderBinding,
        ctx: &RequestContext,
    ) -> Result<IssuedToken, OAuthError> {
        // RFC 6749 §4.4.2: grant_type and an optional scope; RFC 8707 §2: optional resource(s).
        let scope = policy::scope::grant(client, params.get("scope")?)?;
        let audience = policy::audience::select(client, &params.all("resource"))?;
        let spec = TokenSpec {
            client_id: client.id.clone(),
            subject: client.id.clone(),
            scope,
            audience,
            ttl: policy::lifetime::access_token_ttl(client, &authority.config().tokens),
            format: client.token_format,
            alg: client.jwt_alg,
            binding: binding.clone(),
            reason: None,
            act: None,
        };
        mint::mint(authority, spec, ctx).await
    }
}
