//! Bounds on what unauthenticated `GET /authorize` requests may store. Each valid request
//! stores a pending authorization (the login form's server-side half) for `PENDING_TTL`; with
//! no bound, anyone who knows a public client id could fill the store. Two bounds, both in the
//! store so every node shares them: a per-address rate (`login.max_authorize_per_ip` per
//! `login.authorize_window_secs`, counted like failed logins, in one atomic statement) and a
//! global cap on unexpired pending requests (`login.max_pending`, checked atomically with the
//! insert). Past either, the user gets an error page (429), never a 5xx.
//!
//! (A signed, stateless request in the form would store nothing, but the form must still be
//! single-use and work on every node, which needs a shared key and a used-ids record anyway;
//! bounding the rows keeps one mechanism for the form and its replay protection.)
use std::net::IpAddr;

use tessera_proto::{ErrorCode, OAuthError};

use super::throttle::address_block;
use crate::authority::Authority;
use crate::error::StoreError;
use crate::store::{FailureRule, LoginAttempt};

/// The answer past a bound: `temporarily_unavailable` (RFC 6749 §4.1.2.1: "the authorization
/// server is currently unable to handle the request due to a temporary overloading"), shown on
/// the error page with 429.
pub fn too_many(description: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::TemporarilyUnavailable, description)
}

/// Counts one login form opened by `ip`; `false` once the address is over its rate.
pub async fn admit(authority: &Authority, ip: Option<IpAddr>) -> Result<bool, StoreError> {
    let config = &authority.config().login;
    let Some(ip) = ip.filter(|_| config.max_authorize_per_ip > 0) else {
        return Ok(true);
    };
    let rule = FailureRule {
        max_failures: config.max_authorize_per_ip,
        window: config.authorize_window_secs,
        // Locked until the window the limit was reached in is over, at most.
        lockout: config.authorize_window_secs,
    };
    let key = format!("authorize:ip:{}", address_block(ip));
    let attempt = authority
        .store()
        .reserve_login_attempt(&key, authority.clock().now(), &rule)
        .await?;
    Ok(matches!(attempt, LoginAttempt::Reserved(_)))
}
