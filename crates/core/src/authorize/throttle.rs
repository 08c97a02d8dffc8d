//! Brute-force protection of the login page (`[login]`): login attempts are counted per user
//! name and per client address in the store, so a guesser spreading attempts over many nodes
//! is counted once, and past a limit the name or address is locked out for a while.
//!
//! Each attempt is *reserved* — counted as a failure in advance, in one atomic statement —
//! before its password is checked, and handed back only once the check shows it was not a
//! failure. So concurrent guesses cannot all pass the gate while none of them is counted yet:
//! however many arrive at once, at most the limit reach the password check. An attempt whose
//! request is dropped mid-check stays counted (fail closed).
//!
//! A name's counter exists whether or not the user does, and a locked-out submission gets the
//! same answer either way, so the lock tells an attacker nothing about which names are real.
//! A locked submission does no argon2id work.
use std::net::IpAddr;

use crate::authority::Authority;
use crate::error::StoreError;
use crate::store::{FailureRule, LoginAttempt, Reservation};
use crate::user;

/// The message of a locked-out login (no word on whether the name exists).
pub const LOCKED_OUT: &str = "Too many failed sign-in attempts. Try again in a few minutes.";

/// What a submission is counted against.
pub struct LoginKeys {
    user: Option<String>,
    ip: Option<String>,
}

/// Which key is locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locked {
    /// The user name.
    User,
    /// The client address.
    Ip,
}

impl Locked {
    /// The audit event's `reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Ip => "ip",
        }
    }
}

/// An attempt let through the gate: its reservations, to settle once the password is checked.
/// Dropping it unsettled leaves them counted as failures.
#[must_use]
pub struct Admission {
    user: Option<(String, Reservation)>,
    ip: Option<(String, Reservation)>,
}

fn rule(authority: &Authority, max_failures: u32) -> FailureRule {
    let config = &authority.config().login;
    FailureRule {
        max_failures,
        window: config.failure_window_secs,
        lockout: config.lockout_secs,
    }
}

impl LoginKeys {
    /// The keys of a submission of `username` from `ip`; a limit set to `0` has no key.
    pub fn new(authority: &Authority, username: &str, ip: Option<IpAddr>) -> Self {
        let config = &authority.config().login;
        Self {
            user: (config.max_failures_per_user > 0).then(|| user_key(username)),
            ip: ip
                .filter(|_| config.max_failures_per_ip > 0)
                .map(|ip| format!("ip:{}", address_block(ip))),
        }
    }

    /// Reserves the attempt against the address, then the name: `Err` names the locked key
    /// (and nothing stays counted for this attempt).
    pub async fn reserve(
        self,
        authority: &Authority,
    ) -> Result<Result<Admission, Locked>, StoreError> {
        let config = &authority.config().login;
        let now = authority.clock().now();
        let mut admission = Admission {
            user: None,
            ip: None,
        };
        if let Some(key) = self.ip {
            match authority
                .store()
                .reserve_login_attempt(&key, now, &rule(authority, config.max_failures_per_ip))
                .await?
            {
                LoginAttempt::Reserved(r) => admission.ip = Some((key, r)),
                LoginAttempt::Locked => return Ok(Err(Locked::Ip)),
            }
        }
        if let Some(key) = self.user {
            match authority
                .store()
                .reserve_login_attempt(&key, now, &rule(authority, config.max_failures_per_user))
                .await?
            {
                LoginAttempt::Reserved(r) => admission.user = Some((key, r)),
                LoginAttempt::Locked => {
                    // A locked name's submission is not a guess the address made.
                    admission.refund(authority).await?;
                    return Ok(Err(Locked::User));
                }
            }
        }
        Ok(Ok(admission))
    }
}

impl Admission {
    /// The password was wrong: the reservations stand as failures.
    pub fn failed(self, authority: &Authority) {
        let now = authority.clock().now();
        for (r, which) in [(&self.ip, Locked::Ip), (&self.user, Locked::User)] {
            if let Some((_, r)) = r
                && r.locked_until > now
            {
                tracing::warn!(
                    until = r.locked_until,
                    locked = which.as_str(),
                    "login locked out"
                );
            }
        }
    }

    /// The password was right: the name's failures are forgotten, and the address gets its
    /// attempt back (it keeps its other failures: one good password does not excuse an
    /// address trying many names).
    pub async fn succeeded(self, authority: &Authority) -> Result<(), StoreError> {
        if let Some((key, _)) = &self.user {
            authority.store().clear_login_failures(key).await?;
        }
        if let Some((key, r)) = &self.ip {
            authority.store().refund_login_attempt(key, r).await?;
        }
        Ok(())
    }

    /// The password could not be checked (no check slot): both attempts are handed back.
    pub async fn refund(self, authority: &Authority) -> Result<(), StoreError> {
        for (key, r) in [&self.ip, &self.user].into_iter().flatten() {
            authority.store().refund_login_attempt(key, r).await?;
        }
        Ok(())
    }
}

/// The store key of a user name's failures (`tessera user unlock` clears it).
pub fn user_key(username: &str) -> String {
    let name: String = username.chars().take(user::MAX_USERNAME).collect();
    format!("user:{name}")
}

/// An IPv4 address itself; an IPv6 address's /64 (one host usually holds a whole /64).
pub(crate) fn address_block(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::address_block;

    #[test]
    fn ipv6_addresses_are_counted_per_64_and_mapped_ipv4_as_ipv4() {
        let a = address_block("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = address_block("2001:db8:1:2:bbbb::2".parse().unwrap());
        let c = address_block("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            address_block("::ffff:10.0.0.1".parse().unwrap()),
            "10.0.0.1"
        );
        assert_eq!(address_block("10.0.0.1".parse().unwrap()), "10.0.0.1");
    }
}
