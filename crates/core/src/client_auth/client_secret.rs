//! `client_secret_basic` and `client_secret_post` (RFC 6749 §2.3.1): one SHA-256 of the presented
//! secret, compared in constant time with the stored hash(es). The secrets are 256-bit random
//! token strings, so a slow password hash would add latency and no strength.
use tessera_proto::Secret;

use crate::client::{AuthMethod, Client};

/// Checks a presented secret; the error is the audit reason.
pub(super) fn verify(
    client: &Client,
    method: AuthMethod,
    secret: &Secret,
    now: u64,
) -> Result<(), &'static str> {
    // Hash first, whatever the outcome, so every path costs the same.
    let accepted = client.secrets.accepts(&secret.hash(), now);
    if client.disabled {
        return Err("client_disabled");
    }
    if client.auth_method != method {
        return Err("auth_method_not_allowed");
    }
    if !accepted {
        return Err("wrong_secret");
    }
    Ok(())
}
