//! Resource owners.
use async_trait::async_trait;

use super::StoreResult;

/// A resource owner who logs in on the built-in login page.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The login name (unique).
    pub username: String,
    /// The argon2id PHC string of the password.
    pub password_hash: String,
    /// A disabled user cannot log in.
    pub disabled: bool,
    /// Creation time, seconds since the epoch.
    pub created_at: u64,
}

impl std::fmt::Debug for UserRecord {
    /// The password hash is left out: it is slow to attack, not harmless.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("username", &self.username)
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .finish()
    }
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
