//! Administrative callers: a client authenticated like any other, allowed in by a scope it was
//! registered with (never one it requested for a token), so the same client registry and audit
//! trail cover the admin API.
use tessera_proto::{ErrorCode, OAuthError};

use crate::client::Client;

/// The scope an administrative client needs: the whole `/admin/*` API, the revocation feed, and
/// introspection of any token.
pub const ADMIN_SCOPE: &str = "tessera:admin";

/// The scope a resource server needs to report `token.used` events (`POST /admin/events`)
/// without the power to read or acknowledge alerts.
pub const EVENTS_SCOPE: &str = "tessera:events";

/// The scope that makes reported events evidence the monitor may act on by itself (revoke a
/// token, disable a client): off by default, since a reporter could otherwise revoke tokens.
pub const EVENTS_ACT_SCOPE: &str = "tessera:events:act";

/// The scope that lets a client introspect any token (RFC 7662 §4): an operator's tool or a
/// gateway in front of many APIs. Without it a client learns only about its own tokens and those
/// addressed to its resource URIs.
pub const INTROSPECT_SCOPE: &str = "tessera:introspect";

/// The scope a resource server needs to read the revocation feed (`GET /revocations`): it names
/// revoked tokens, disabled clients and withdrawn keys, which is none of a plain client's business.
pub const REVOCATIONS_SCOPE: &str = "tessera:revocations";

/// `Ok` when `caller` is registered with one of `scopes`; otherwise `unauthorized_client`
/// naming them.
pub fn require_any_scope(caller: &Client, scopes: &[&str]) -> Result<(), OAuthError> {
    if caller.scopes.iter().any(|s| scopes.contains(&s.as_str())) {
        return Ok(());
    }
    Err(OAuthError::new(
        ErrorCode::UnauthorizedClient,
        format!("this client lacks the {} scope", scopes.join(" or ")),
    ))
}
