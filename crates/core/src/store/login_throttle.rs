//! The login page's failed-login counters (`authorize::throttle`), by user name and by address.
use async_trait::async_trait;

use super::StoreResult;

/// Failed-login counters and locks. Kept apart from [`super::UserStore`]: a key is a user name
/// *or* a client address, it exists whether or not the user does, and every login attempt
/// writes it, while users change only by the CLI's hand.
#[async_trait]
pub trait LoginThrottleStore: Send + Sync {
    /// Reserves one login attempt against `key` (a user name or an address, see
    /// `authorize::throttle`) *before* its password is checked, in one atomic statement: if the
    /// key is locked at `now` nothing changes and [`LoginAttempt::Locked`] is returned;
    /// otherwise the attempt is counted as a failure in advance (a new window starts when the
    /// last one is over), and the attempt that reaches `rule.max_failures` in a window locks
    /// the key until `now + rule.lockout`. Because the count is taken before the check, no
    /// number of concurrent attempts gets more than `max_failures` checks through the gate; an
    /// attempt that turns out not to be a failure is handed back with
    /// [`LoginThrottleStore::refund_login_attempt`] or
    /// [`LoginThrottleStore::clear_login_failures`].
    async fn reserve_login_attempt(
        &self,
        key: &str,
        now: u64,
        rule: &FailureRule,
    ) -> StoreResult<LoginAttempt>;
    /// Hands back one reserved attempt that was not a failure (a good password from an
    /// address, or an attempt whose password could not be checked): the count drops by one
    /// within the reservation's window (nothing changes once a new window started), and the
    /// lock this reservation set, if it set one, is lifted.
    async fn refund_login_attempt(&self, key: &str, reservation: &Reservation) -> StoreResult<()>;
    /// The time `key` is locked until (`0` if it has no record).
    async fn login_locked_until(&self, key: &str) -> StoreResult<u64>;
    /// Forgets `key`'s failures (after a successful login).
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()>;
}

/// What [`LoginThrottleStore::reserve_login_attempt`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginAttempt {
    /// The attempt is counted: its password may be checked.
    Reserved(Reservation),
    /// The key is locked: the attempt was not counted and its password must not be checked.
    Locked,
}

/// One counted login attempt, as the store saw it after counting it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reservation {
    /// The start of the window it was counted in.
    pub window_start: u64,
    /// Attempts counted in that window, this one included.
    pub failures: u64,
    /// When this attempt reached the limit: the time it locked the key until; else `0`.
    pub locked_until: u64,
}

/// When failed logins lock a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureRule {
    /// Failures in one window that lock the key (at least 1).
    pub max_failures: u32,
    /// Seconds a window lasts from its first failure.
    pub window: u64,
    /// Seconds a lock lasts.
    pub lockout: u64,
}
