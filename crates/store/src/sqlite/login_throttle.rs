//! The login page's failed-login counters.
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use tessera_core::store::{
    FailureRule, LoginAttempt, LoginThrottleStore, Reservation, StoreResult,
};

use super::SqliteStore;

/// One login attempt reserved, in one statement (so concurrent attempts all count and none
/// slips past the limit): ?1 key, ?2 now, ?3 window, ?4 max failures, ?5 lockout. The
/// conflict update's `WHERE` leaves a locked key alone, and then no row is returned. `expires_at`
/// bounds when the row can matter: its window ends by `now + window` and its lock by
/// `now + lockout`.
const RESERVE_ATTEMPT: &str = "\
INSERT INTO login_failures (key, failures, window_start, locked_until, expires_at) \
VALUES (?1, 1, ?2, CASE WHEN ?4 <= 1 THEN ?2 + ?5 ELSE 0 END, ?2 + ?3 + ?5) \
ON CONFLICT (key) DO UPDATE SET \
  failures = CASE WHEN login_failures.window_start + ?3 <= ?2 THEN 1 \
                  ELSE login_failures.failures + 1 END, \
  window_start = CASE WHEN login_failures.window_start + ?3 <= ?2 THEN ?2 \
                      ELSE login_failures.window_start END, \
  locked_until = CASE WHEN (CASE WHEN login_failures.window_start + ?3 <= ?2 THEN 1 \
                                 ELSE login_failures.failures + 1 END) >= ?4 THEN ?2 + ?5 \
                      ELSE 0 END, \
  expires_at = ?2 + ?3 + ?5 \
WHERE login_failures.locked_until <= ?2 \
RETURNING failures, window_start, locked_until";

/// One reserved attempt handed back: ?1 key, ?2 the reservation's window, ?3 the lock it
/// set (`-1`: none). Within the same window only, so a refund never lowers a later window's count.
const REFUND_ATTEMPT: &str = "\
UPDATE login_failures SET failures = failures - 1, \
  locked_until = CASE WHEN locked_until = ?3 THEN 0 ELSE locked_until END \
WHERE key = ?1 AND window_start = ?2 AND failures > 0";

#[async_trait]
impl LoginThrottleStore for SqliteStore {
    async fn reserve_login_attempt(
        &self,
        key: &str,
        now: u64,
        rule: &FailureRule,
    ) -> StoreResult<LoginAttempt> {
        let key = key.to_string();
        let rule = *rule;
        let row = self
            .writer
            .run_statement(move |conn| {
                conn.prepare_cached(RESERVE_ATTEMPT)?
                    .query_row(
                        params![
                            key,
                            now as i64,
                            rule.window as i64,
                            i64::from(rule.max_failures),
                            rule.lockout as i64
                        ],
                        |r| {
                            Ok((
                                r.get::<_, i64>(0)?,
                                r.get::<_, i64>(1)?,
                                r.get::<_, i64>(2)?,
                            ))
                        },
                    )
                    .optional()
            })
            .await?;
        Ok(match row {
            Some((failures, window_start, locked_until)) => LoginAttempt::Reserved(Reservation {
                window_start: window_start as u64,
                failures: failures as u64,
                locked_until: locked_until as u64,
            }),
            None => LoginAttempt::Locked,
        })
    }

    async fn refund_login_attempt(&self, key: &str, reservation: &Reservation) -> StoreResult<()> {
        let key = key.to_string();
        let window_start = reservation.window_start as i64;
        let lock = match reservation.locked_until {
            0 => -1,
            t => t as i64,
        };
        self.writer
            .run_statement(move |conn| {
                conn.prepare_cached(REFUND_ATTEMPT)?
                    .execute(params![key, window_start, lock])?;
                Ok(())
            })
            .await
    }

    async fn login_locked_until(&self, key: &str) -> StoreResult<u64> {
        self.readers.with(|conn| {
            conn.prepare_cached("SELECT locked_until FROM login_failures WHERE key = ?1")?
                .query_row([key], |r| r.get::<_, i64>(0))
                .optional()
                .map(|t| t.unwrap_or(0) as u64)
        })
    }

    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        let key = key.to_string();
        self.writer
            .run_statement(move |conn| {
                conn.prepare_cached("DELETE FROM login_failures WHERE key = ?1")?
                    .execute([key])?;
                Ok(())
            })
            .await
    }
}
