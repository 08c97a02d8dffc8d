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

/// Why an authorization server could not open (`Authority::open`): the node refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The reuse grace window keeps successors sealed, so it needs the key-encryption key.
    #[error(
        "refresh.reuse_grace_secs needs keys.encryption_key: successors are kept sealed under it for the window"
    )]
    GraceWithoutKek,
    /// The configured key-encryption key is unusable.
    #[error(transparent)]
    Seal(#[from] crate::keys::SealError),
    /// Loading, sealing or scheduling the signing keys failed.
    #[error(transparent)]
    Key(#[from] crate::keys::KeyError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A start-up task (the login page's dummy hash) did not finish.
    #[error("{0}")]
    Task(String),
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(d) => OAuthError::unavailable(d),
            other => OAuthError::server_error(other.to_string()),
        }
    }
}
