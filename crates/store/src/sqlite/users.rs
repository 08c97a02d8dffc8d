//! Resource owners and the login page's failed-login counters.
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use tessera_core::error::StoreError;
use tessera_core::store::{FailureRule, StoreResult, UserRecord, UserStore};

use super::SqliteStore;

/// One failed login, in one statement (so concurrent failures all count): ?1 key, ?2 now,
/// ?3 window, ?4 max failures, ?5 lockout. `expires_at` bounds when the row can matter: its
/// window ends by `now + window` and its lock by `now + lockout`.
const RECORD_FAILURE: &str = "\
INSERT INTO login_failures (key, failures, window_start, locked_until, expires_at) \
VALUES (?1, 1, ?2, CASE WHEN ?4 <= 1 THEN ?2 + ?5 ELSE 0 END, ?2 + ?3 + ?5) \
ON CONFLICT (key) DO UPDATE SET \
  failures = CASE WHEN login_failures.window_start + ?3 <= ?2 THEN 1 \
                  ELSE login_failures.failures + 1 END, \
  window_start = CASE WHEN login_failures.window_start + ?3 <= ?2 THEN ?2 \
                      ELSE login_failures.window_start END, \
  locked_until = CASE WHEN (CASE WHEN login_failures.window_start + ?3 <= ?2 THEN 1 \
                                 ELSE login_failures.failures + 1 END) >= ?4 THEN ?2 + ?5 \
                      ELSE login_failures.locked_until END, \
  expires_at = ?2 + ?3 + ?5 \
RETURNING locked_until";

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, u: &UserRecord) -> StoreResult<()> {
        let u = u.clone();
        self.writer
            .run_statement(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO users (username, password_hash, disabled, created_at) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![u.username, u.password_hash, u.disabled, u.created_at as i64])?;
                Ok(())
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => StoreError::Conflict("user name already exists".into()),
                other => other,
            })
    }

    async fn get_user(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        self.readers.with(|conn| {
            conn.prepare_cached(
                "SELECT username, password_hash, disabled, created_at FROM users WHERE username = ?1",
            )?
            .query_row([username], |r| {
                Ok(UserRecord {
                    username: r.get(0)?,
                    password_hash: r.get(1)?,
                    disabled: r.get(2)?,
                    created_at: r.get::<_, i64>(3)? as u64,
                })
            })
            .optional()
        })
    }

    async fn record_login_failure(
        &self,
        key: &str,
        now: u64,
        rule: &FailureRule,
    ) -> StoreResult<u64> {
        let key = key.to_string();
        let rule = *rule;
        self.writer
            .run_statement(move |conn| {
                conn.prepare_cached(RECORD_FAILURE)?.query_row(
                    params![
                        key,
                        now as i64,
                        rule.window as i64,
                        i64::from(rule.max_failures),
                        rule.lockout as i64
                    ],
                    |r| r.get::<_, i64>(0),
                )
            })
            .await
            .map(|t| t as u64)
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
