//! Resource owners.
use async_trait::async_trait;
use tessera_core::error::StoreError;
use tessera_core::store::{StoreResult, UserRecord, UserStore};
use tessera_proto::Secret;

use tokio_postgres::Row;

use super::PgStore;

/// A subject's unrevoked grant families: through its refresh tokens, and through its codes (a
/// family whose code was never redeemed has no refresh token yet).
const LIVE_FAMILIES: &str = "\
SELECT id FROM grant_families WHERE revoked_at IS NULL AND id IN ( \
  SELECT family FROM refresh_tokens WHERE subject = $1 \
  UNION SELECT family FROM authorization_codes WHERE subject = $1)";

#[async_trait]
impl UserStore for PgStore {
    async fn create_user(&self, u: &UserRecord) -> StoreResult<()> {
        self.execute(
            "INSERT INTO users (username, password_hash, disabled, created_at) VALUES ($1, $2, $3, $4)",
            &[&u.username, &u.password_hash.expose_secret(), &u.disabled, &(u.created_at as i64)],
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
        password_hash: Secret::new(r.get::<_, String>(1)),
        disabled: r.get(2),
        created_at: r.get::<_, i64>(3) as u64,
    }
}
