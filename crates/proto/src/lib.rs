//! Tessera's wire vocabulary: everything that crosses the wire or a trust boundary, with no I/O.
//!
//! - [`error`]: RFC error codes with their exact strings, and the public/private split of an error.
//! - [`secret`]: newtypes for secrets and their hashes (redacted `Debug`, constant-time equality).
//! - [`loopback`]: the one "https, or http only on a loopback host" rule for every URL.
//! - [`token_string`]: the prefixed, checksummed `tsr_<kind>_…` format shared by every Tessera secret.
//! - [`metadata`] and [`response`]: RFC 8414 metadata and the JSON bodies of the token, introspection
//!   and error responses.
//! - [`revocation_feed`]: the pages of `GET /revocations` that resource servers poll.
//! - What the authorization server and resource servers (`tessera-validate`) share, so a
//!   resource server compiles this crate and not the server: [`jose`] (the algorithm allow-list),
//!   [`dpop`] (the one RFC 9449 proof check), [`path`] (the normal form of a request path),
//!   [`certificate`] (the RFC 8705 thumbprint), [`audit`] (the event type) and [`clock`].
#![warn(missing_docs)]

pub mod act;
pub mod audit;
pub mod certificate;
pub mod clock;
pub mod dpop;
pub mod error;
pub mod jose;
pub mod loopback;
pub mod metadata;
pub mod path;
pub mod response;
pub mod revocation_feed;
pub mod secret;
pub mod token_string;

pub use error::{ErrorCode, OAuthError};
pub use secret::{Secret, SecretHash};
pub use token_string::{TokenKind, TokenString, TokenStringError};
