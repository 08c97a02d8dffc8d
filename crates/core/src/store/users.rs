//! Resource owners.
use async_trait::async_trait;
use tessera_proto::Secret;

use super::StoreResult;

/// A resource owner who logs in on the built-in login page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// The login name (unique).
    pub username: String,
    /// The argon2id PHC string of the password: slow to attack, not harmless, so never printed.
    pub password_hash: Secret,
    /// A disabled user cannot log in.
    pub disabled: bool,
    /// Creation time, seconds since the epoch.
    pub created_at: u64,
}

/// Resource owners.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user; `Conflict` if the name is taken.
    async fn create_user(&self, user: &UserRecord) -> StoreResult<()>;
    /// One user by name.
    async fn get_user(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    /// Every user, by name.
    async fn list_users(&self) -> StoreResult<Vec<UserRecord>>;
    /// Disables or enables a user; `false` if there is no such user.
    async fn set_user_disabled(&self, username: &str, disabled: bool) -> StoreResult<bool>;
    /// Replaces a user's password hash; `false` if there is no such user.
    async fn set_user_password(&self, username: &str, password_hash: &str) -> StoreResult<bool>;
    /// Deletes a user; `false` if there was no such user.
    async fn delete_user(&self, username: &str) -> StoreResult<bool>;
    /// The grant families (authorizations) of `subject` that are not revoked yet: what
    /// disabling or deleting the user revokes.
    async fn live_families_of(&self, subject: &str) -> StoreResult<Vec<String>>;
}
