//! Resource owners and the login page's failed-login counters.
use async_trait::async_trait;
use tessera_core::error::StoreError;
use tessera_core::store::{FailureRule, StoreResult, UserRecord, UserStore};

use super::PgStore;

/// One failed login, in one statement (so concurrent failures all count): $1 key, $2 now,
/// $3 window, $4 max failures, $5 lockout. `expires_at` bounds when the row can matter: its
/// window ends by `now + window` and its lock by `now + lockout`.
const RECORD_FAILURE: &str = "\
INSERT INTO login_failures (key, failures, window_start, locked_until, expires_at) \
VALUES ($1, 1, $2::BIGINT, CASE WHEN $4::BIGINT <= 1 THEN $2::BIGINT + $5::BIGINT ELSE 0 END, $2::BIGINT + $3::BIGINT + $5::BIGINT) \
ON CONFLICT (key) DO UPDATE SET \
  failures = CASE WHEN login_failures.window_start + $3::BIGINT <= $2::BIGINT THEN 1 \
                  ELSE login_failures.failures + 1 END, \
  window_start = CASE WHEN login_failures.window_start + $3::BIGINT <= $2::BIGINT THEN $2::BIGINT \
                      ELSE login_failures.window_start END, \
  locked_until = CASE WHEN (CASE WHEN login_failures.window_start + $3::BIGINT <= $2::BIGINT THEN 1 \
                                 ELSE login_failures.failures + 1 END) >= $4::BIGINT THEN $2::BIGINT + $5::BIGINT \
                      ELSE login_failures.locked_until END, \
  expires_at = $2::BIGINT + $3::BIGINT + $5::BIGINT \
RETURNING locked_until";

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
        Ok(Some(UserRecord {
            username: r.get(0),
            password_hash: r.get(1),
            disabled: r.get(2),
            created_at: r.get::<_, i64>(3) as u64,
        }))
    }

    async fn record_login_failure(
        &self,
        key: &str,
        now: u64,
        rule: &FailureRule,
    ) -> StoreResult<u64> {
        let row = self
            .query_opt(
                RECORD_FAILURE,
                &[
                    &key,
                    &(now as i64),
                    &(rule.window as i64),
                    &i64::from(rule.max_failures),
                    &(rule.lockout as i64),
                ],
            )
            .await?
            .ok_or_else(|| StoreError::Backend("login failure upsert returned no row".into()))?;
        Ok(row.get::<_, i64>(0) as u64)
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
