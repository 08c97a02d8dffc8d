//! Scope (RFC 6749 §3.3): requested ⊆ allowed, or the client's default when none is requested.
use tessera_proto::{ErrorCode, OAuthError};

use crate::client::Client;

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// Splits a scope string on spaces, refusing characters RFC 6749 §3.3 does not allow.
pub fn parse(scope: &str) -> Result<Vec<&str>, OAuthError> {
    let mut out: Vec<&str> = Vec::new();
    for token in scope.split(' ').filter(|t| !t.is_empty()) {
        if !is_scope_token(token) {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                "scope contains an invalid character",
            ));
        }
        if !out.contains(&token) {
            out.push(token);
        }
    }
    Ok(out)
}

/// The scope to grant: the request's when it is a subset of what the client may have
/// (`invalid_scope` otherwise), else the client's default scope.
pub fn grant(client: &Client, requested: Option<&str>) -> Result<String, OAuthError> {
    let Some(requested) = requested else {
        return Ok(client.default_scopes.join(" "));
    };
    let wanted = parse(requested)?;
    if wanted.is_empty() {
        return Ok(client.default_scopes.join(" "));
    }
    if let Some(denied) = wanted
        .iter()
        .find(|s| !client.scopes.iter().any(|a| a == *s))
    {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "the requested scope exceeds what this client may have",
        )
        .with_detail(format!("scope {denied:?} not allowed")));
    }
    Ok(wanted.join(" "))
}
