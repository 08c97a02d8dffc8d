//! The login page's failed-login counters.
use async_trait::async_trait;
use tessera_core::store::{
    FailureRule, LoginAttempt, LoginThrottleStore, Reservation, StoreResult,
};

use super::PgStore;

/// One login attempt reserved, in one statement (so concurrent attempts all count and none
/// slips past the limit): $1 key, $2 now, $3 window, $4 max failures, $5 lockout. The
/// conflict update's `WHERE` leaves a locked key alone, and then no row is returned. `expires_at`
/// bounds when the row can matter: its window ends by `now + window` and its lock by
/// `now + lockout`.
const RESERVE_ATTEMPT: &str = "\
INSERT INTO login_failures (key, failures, window_start, locked_until, expires_at) \
VALUES ($1, 1, $2::BIGINT, CASE WHEN $4::BIGINT <= 1 THEN $2::BIGINT + $5::BIGINT ELSE 0 END, $2::BIGINT + $3::BIGINT + $5::BIGINT) \
ON CONFLICT (key) DO UPDATE SET \
  failures = CASE WHEN login_failures.window_start + $3::BIGINT <= $2::BIGINT THEN 1 \
                  ELSE login_failures.failures + 1 END, \
  window_start = CASE WHEN login_failures.window_start + $3::BIGINT <= $2::BIGINT THEN $2::BIGINT \
                      ELSE login_failures.window_start END, \
  locked_until = CASE WHEN (CASE WHEN login_failures.window_start + $3::BIGINT <= $2::BIGINT THEN 1 \
                                 ELSE login_failures.failures + 1 END) >= $4::BIGINT THEN $2::BIGINT + $5::BIGINT \
                      ELSE 0 END, \
  expires_at = $2::BIGINT + $3::BIGINT + $5::BIGINT \
WHERE login_failures.locked_until <= $2::BIGINT \
RETURNING failures, window_start, locked_until";

/// One reserved attempt handed back: $1 key, $2 the reservation's window, $3 the lock it
/// set (`-1`: none). Within the same window only, so a refund never lowers a later window's count.
const REFUND_ATTEMPT: &str = "\
UPDATE login_failures SET failures = failures - 1, \
  locked_until = CASE WHEN locked_until = $3::BIGINT THEN 0 ELSE locked_until END \
WHERE key = $1 AND window_start = $2::BIGINT AND failures > 0";

#[async_trait]
impl LoginThrottleStore for PgStore {
    async fn reserve_login_attempt(
        &self,
        key: &str,
        now: u64,
        rule: &FailureRule,
    ) -> StoreResult<LoginAttempt> {
        let row = self
            .query_opt(
                RESERVE_ATTEMPT,
                &[
                    &key,
                    &(now as i64),
                    &(rule.window as i64),
                    &i64::from(rule.max_failures),
                    &(rule.lockout as i64),
                ],
            )
            .await?;
        Ok(match row {
            Some(r) => LoginAttempt::Reserved(Reservation {
                failures: r.get::<_, i64>(0) as u64,
                window_start: r.get::<_, i64>(1) as u64,
                locked_until: r.get::<_, i64>(2) as u64,
            }),
            None => LoginAttempt::Locked,
        })
    }

    async fn refund_login_attempt(&self, key: &str, reservation: &Reservation) -> StoreResult<()> {
        let lock = match reservation.locked_until {
            0 => -1,
            t => t as i64,
        };
        self.execute(
            REFUND_ATTEMPT,
            &[&key, &(reservation.window_start as i64), &lock],
        )
        .await
        .map(drop)
    }

    async fn login_locked_until(&self, key: &str) -> StoreResult<u64> {
        let row = self
            .query_opt(
                "SELECT locked_until FROM login_failures WHERE key = $1",
                &[&key],
            )
            .await?;
        Ok(row.map_or(0, |r| r.get::<_, i64>(0) as u64))
    }

    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        self.execute("DELETE FROM login_failures WHERE key = $1", &[&key])
            .await
            .map(drop)
    }
}
