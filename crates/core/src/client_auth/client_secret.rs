//! `client_secret_basic` and `client_secret_post` (RFC 6749 §2.3.1): one SHA-256 of the presented
//! secret, compared in constant time with the stored hash(es). The secrets are 256-bit random
//! token strings, so a slow password hash would add latency and no strength.
use tessera_proto::Secret;

use crate::client::Client;

/// Checks a presented secret; the error is the audit reason.
pub(super) fn verify(client: &Client, secret: &Secret, now: u64) -> Result<(), &'static str> {
    if client
        .credential
        .secrets()
        .is_some_and(|s| s.accepts(&secret.hash(), now))
    {
        Ok(())
    } else {
        Err("wrong_secret")
    }
}
