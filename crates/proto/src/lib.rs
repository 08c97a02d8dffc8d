//! Tessera's wire vocabulary: everything that crosses the wire or a trust boundary, with no I/O.
//!
//! - [`error`]: RFC error codes with their exact strings, and the public/private split of an error.
//! - [`secret`]: newtypes for secrets and their hashes (redacted `Debug`, constant-time equality).
//! - [`loopback`]: the one "https, or http only on a loopback host" rule for every URL.
//! - [`token_string`]: the prefixed, checksummed `tsr_<kind>_…` format shared by every Tessera secret.
//! - [`metadata`] and [`response`]: RFC 8414 metadata and the JSON bodies of the token, introspection
//!   and error responses.
//! - [`revocation_feed`]: the pages of `GET /revocations` that resource servers poll.
#![warn(missing_docs)]

pub mod error;
pub mod loopback;
pub mod metadata;
pub mod response;
pub mod revocation_feed;
pub mod secret;
pub mod token_string;

pub use error::{ErrorCode, OAuthError};
pub use secret::{Secret, SecretHash};
pub use token_string::{TokenKind, TokenString, TokenStringError};
