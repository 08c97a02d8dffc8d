//! Brute-force protection of the login page (`[login]`): failed logins are counted per user
//! name and per client address in the store, so a guesser spreading attempts over many nodes
//! is counted once, and past a limit the name or address is locked out for a while.
//!
//! A name's counter exists whether or not the user does, and a locked-out submission gets the
//! same answer either way, so the lock tells an attacker nothing about which names are real.
//! The lock is checked before the password: an attacker cannot make a node do argon2id work
//! for a locked name or address.
use std::net::IpAddr;

use crate::authority::Authority;
use crate::error::StoreError;
use crate::store::FailureRule;
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

    /// Whether either key is locked now.
    pub async fn locked(&self, authority: &Authority) -> Result<Option<Locked>, StoreError> {
        let now = authority.clock().now();
        for (key, which) in [(&self.ip, Locked::Ip), (&self.user, Locked::User)] {
            if let Some(key) = key
                && authority.store().login_locked_until(key).await? > now
            {
                return Ok(Some(which));
            }
        }
        Ok(None)
    }

    /// Counts a failed login against both keys.
    pub async fn failed(&self, authority: &Authority) -> Result<(), StoreError> {
        let config = &authority.config().login;
        let now = authority.clock().now();
        let rule = |max_failures| FailureRule {
            max_failures,
            window: config.failure_window_secs,
            lockout: config.lockout_secs,
        };
        let keys = [
            (&self.user, config.max_failures_per_user, Locked::User),
            (&self.ip, config.max_failures_per_ip, Locked::Ip),
        ];
        for (key, max_failures, which) in keys {
            let Some(key) = key else { continue };
            let until = authority
                .store()
                .record_login_failure(key, now, &rule(max_failures))
                .await?;
            if until > now {
                tracing::warn!(until, locked = which.as_str(), "login locked out");
            }
        }
        Ok(())
    }

    /// Forgets the name's failures after a successful login (the address keeps its count: one
    /// good password does not excuse an address trying many names).
    pub async fn succeeded(&self, authority: &Authority) -> Result<(), StoreError> {
        match &self.user {
            Some(key) => authority.store().clear_login_failures(key).await,
            None => Ok(()),
        }
    }
}

/// The store key of a user name's failures (`tessera user unlock` clears it).
pub fn user_key(username: &str) -> String {
    let name: String = username.chars().take(user::MAX_USERNAME).collect();
    format!("user:{name}")
}

/// An IPv4 address itself; an IPv6 address's /64 (one host usually holds a whole /64).
fn address_block(ip: IpAddr) -> String {
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
