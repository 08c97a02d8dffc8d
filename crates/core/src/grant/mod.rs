//! Grants: one file per grant type and one line in [`GRANTS`]. The token endpoint decodes the
//! shared request once, looks `grant_type` up here, and each grant reads its own parameters.
mod authorization_code;
mod client_credentials;
mod family;
mod refresh_token;
mod successor;
mod token_exchange;

use async_trait::async_trait;
use tessera_proto::OAuthError;

use crate::audit::RequestContext;
use crate::authority::Authority;
use crate::binding::SenderBinding;
use crate::client::{Client, GrantType};
use crate::mint::IssuedToken;
use crate::params::Params;

/// A grant type's handler.
#[async_trait]
pub trait Grant: Sync {
    /// The grant type it handles.
    fn grant_type(&self) -> GrantType;

    /// Validates the grant's own parameters and mints the token for an authenticated client
    /// that may use this grant.
    async fn issue(
        &self,
        authority: &Authority,
        client: &Client,
        params: &Params,
        binding: &SenderBinding,
        ctx: &RequestContext,
    ) -> Result<IssuedToken, OAuthError>;
}

/// Every grant the token endpoint serves.
pub static GRANTS: &[&dyn Grant] = &[
    &client_credentials::ClientCredentials,
    &authorization_code::AuthorizationCode,
    &refresh_token::RefreshToken,
    &token_exchange::TokenExchange,
];

/// The grant for a `grant_type` value.
pub fn find(grant_type: &str) -> Option<&'static dyn Grant> {
    GRANTS
        .iter()
        .copied()
        .find(|g| g.grant_type().as_str() == grant_type)
}
