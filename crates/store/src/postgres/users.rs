//! Resource owners and the login page's failed-login counters.
use async_trait::async_trait;
use tessera_core::error::StoreError;
use tessera_core::store::{
    FailureRule, LoginAttempt, Reservation, StoreResult, UserRecord, UserStore,
};

use tokio_postgres::Row;

use super::PgStore;

/// A subject's unrevoked grant families: through its refresh tokens, and through its codes (a
/// family whose code was never redeemed has no refresh token yet).
const LIVE_FAMILIES: &str = "\
SELECT id FROM grant_families WHERE revoked_at IS NULL AND id IN ( \
  SELECT family FROM refresh_tokens WHERE subject = $1 \
  UNION SELECT family FROM authorization_codes WHERE subject = $1)";

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
impl UserStore for PgStore {
    async fn create_user(&self, u: &UserRecord) -> StoreResult<()> {
        self.execute(
            "INSERT INTO users (username, password_hash, disabled, created_at) VALUES ($1, $2, $3, $4)",
            &[&u.username, &u.password_hash, &u.disabled, &(u.created_at as i64)],
        )
        .await
        .map(drop)
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict("user name already exists".into()),
            other => other,
        })
    }

    async fn get_user(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let Some(r) = self
            .query_opt(
                "SELECT username, password_hash, disabled, created_at FROM users WHERE username = $1",
                &[&username],
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(user_row(&r)))
    }

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

    async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        let rows = self
            .query(
                "SELECT username, password_hash, disabled, created_at FROM users ORDER BY username",
                &[],
            )
            .await?;
        Ok(rows.iter().map(user_row).collect())
    }

    async fn set_user_disabled(&self, username: &str, disabled: bool) -> StoreResult<bool> {
        self.execute(
            "UPDATE users SET disabled = $2 WHERE username = $1",
            &[&username, &disabled],
        )
        .await
        .map(|n| n == 1)
    }

    async fn set_user_password(&self, username: &str, password_hash: &str) -> StoreResult<bool> {
        self.execute(
            "UPDATE users SET password_hash = $2 WHERE username = $1",
            &[&username, &password_hash],
        )
        .await
        .map(|n| n == 1)
    }

    async fn delete_user(&self, username: &str) -> StoreResult<bool> {
        self.execute("DELETE FROM users WHERE username = $1", &[&username])
            .await
            .map(|n| n == 1)
    }

    async fn live_families_of(&self, subject: &str) -> StoreResult<Vec<String>> {
        let rows = self.query(LIVE_FAMILIES, &[&subject]).await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

fn user_row(r: &Row) -> UserRecord {
    UserRecord {
        username: r.get(0),
        password_hash: r.get(1),
        disabled: r.get(2),
        created_at: r.get::<_, i64>(3) as u64,
    }
}
