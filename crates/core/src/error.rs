//! Errors of the core: protocol errors are [`OAuthError`]s; storage failures map onto them.
pub use tessera_proto::{ErrorCode, OAuthError};

/// A storage failure, as the store traits report it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness constraint refused the write (e.g. a client id already taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The backend is unreachable or busy; the request may be retried.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else the backend reported; a bug or a corrupted database.
    #[error("store error: {0}")]
    Backend(String),
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(d) => OAuthError::unavailable(d),
            other => OAuthError::server_error(other.to_string()),
        }
    }
}
