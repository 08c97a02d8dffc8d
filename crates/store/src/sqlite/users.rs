//! Resource owners.
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use tessera_core::error::StoreError;
use tessera_core::store::{StoreResult, UserRecord, UserStore};
use tessera_proto::Secret;

use super::SqliteStore;

/// A subject's unrevoked grant families: through its refresh tokens, and through its codes (a
/// family whose code was never redeemed has no refresh token yet).
const LIVE_FAMILIES: &str = "\
SELECT id FROM grant_families WHERE revoked_at IS NULL AND id IN ( \
  SELECT family FROM refresh_tokens WHERE subject = ?1 \
  UNION SELECT family FROM authorization_codes WHERE subject = ?1)";

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, u: &UserRecord) -> StoreResult<()> {
        let u = u.clone();
        self.writer
            .run_statement(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO users (username, password_hash, disabled, created_at) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![u.username, u.password_hash.expose_secret(), u.disabled, u.created_at as i64])?;
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
            .query_row([username], user_row)
            .optional()
        })
    }

    async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        self.readers.with(|conn| {
            conn.prepare_cached(
                "SELECT username, password_hash, disabled, created_at FROM users ORDER BY username",
            )?
            .query_map([], user_row)?
            .collect()
        })
    }

    async fn set_user_disabled(&self, username: &str, disabled: bool) -> StoreResult<bool> {
        let username = username.to_string();
        self.writer
            .run_statement(move |conn| {
                conn.prepare_cached("UPDATE users SET disabled = ?2 WHERE username = ?1")?
                    .execute(params![username, disabled])
                    .map(|n| n == 1)
            })
            .await
    }

    async fn set_user_password(&self, username: &str, password_hash: &str) -> StoreResult<bool> {
        let (username, hash) = (username.to_string(), password_hash.to_string());
        self.writer
            .run_statement(move |conn| {
                conn.prepare_cached("UPDATE users SET password_hash = ?2 WHERE username = ?1")?
                    .execute(params![username, hash])
                    .map(|n| n == 1)
            })
            .await
    }

    async fn delete_user(&self, username: &str) -> StoreResult<bool> {
        let username = username.to_string();
        self.writer
            .run_statement(move |conn| {
                conn.prepare_cached("DELETE FROM users WHERE username = ?1")?
                    .execute([username])
                    .map(|n| n == 1)
            })
            .await
    }

    async fn live_families_of(&self, subject: &str) -> StoreResult<Vec<String>> {
        self.readers.with(|conn| {
            conn.prepare_cached(LIVE_FAMILIES)?
                .query_map([subject], |r| r.get(0))?
                .collect()
        })
    }
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        username: r.get(0)?,
        password_hash: Secret::new(r.get::<_, String>(1)?),
        disabled: r.get(2)?,
        created_at: r.get::<_, i64>(3)? as u64,
    })
}
