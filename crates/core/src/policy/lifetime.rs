//! Lifetime: short by default, the client's own setting capped by the server maximum.
use crate::client::Client;
use crate::config::TokenConfig;

/// Access-token lifetime in seconds for `client`.
pub fn access_token_ttl(client: &Client, tokens: &TokenConfig) -> u64 {
    client
        .access_token_ttl
        .unwrap_or(tokens.default_ttl)
        .clamp(1, tokens.max_ttl)
}
