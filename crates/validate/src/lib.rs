//! `tessera-validate`: access-token validation for resource servers, as a tower layer.
//!
//! The layer validates Tessera's access tokens on every request: RFC 9068 JWTs locally against
//! the issuer's cached JWK Set, opaque `tsr_at_` tokens by RFC 7662 introspection (cached), the
//! RFC 9449 DPoP and RFC 8705 certificate sender constraints, revocation through the issuer's
//! revocation feed, and per-route scopes. Refusals follow RFC 6750 §3 and RFC 9449 §7.1.
//! Handlers receive the validated [`TokenClaims`] as an axum extractor.
//!
//! ```no_run
//! use axum::{Json, Router, routing::{get, post}};
//! use tessera_validate::{TokenClaims, ValidateConfig, ValidateTokenLayer};
//!
//! async fn whoami(claims: TokenClaims) -> Json<TokenClaims> {
//!     Json(claims)
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ValidateConfig::new("https://auth.example.com", "https://api.example.com")
//!     // Needed for opaque tokens, the revocation feed and usage events.
//!     .with_client("api-rs", "tsr_cs_…")
//!     .require_route_scope("POST /deploys", "deploy:write")?;
//! let layer = ValidateTokenLayer::new(config).await?;
//! let app = Router::new()
//!     .route("/whoami", get(whoami))
//!     .route("/deploys", post(|| async { "deployed" }))
//!     .route(
//!         "/admin",
//!         get(|| async { "admin" }).route_layer(layer.requiring(&["deploy:admin"])),
//!     )
//!     .layer(layer);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(
//!     listener,
//!     app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
//! )
//! .await?;
//! # Ok(())
//! # }
//! ```
//!
//! **Certificate-bound tokens** (`cnf.x5t#S256`) need the client certificate of the TLS
//! connection: the embedding server inserts a [`ClientCertificate`] into each request's
//! extensions (as `tessera-server`'s TLS listener does). Without it such tokens are refused.
//! **DPoP** needs the origin clients use, [`ValidateConfig::external_origin`]: without it
//! DPoP-bound tokens are refused (the `Host` header is the client's to choose). Route scopes are
//! matched on the path in normal form ([`path::normalize`]), and the request is handed on with
//! that path. The caller's IP in usage events comes from axum's `ConnectInfo<SocketAddr>`.
//! Expiry, DPoP freshness, caches and the revocation feed read the time from a [`Clock`].
#![warn(missing_docs)]

mod claims;
mod config;
mod discovery;
pub mod dpop;
mod error;
mod expiring;
mod introspect;
mod jwks;
mod jwt;
mod jwt_cache;
mod layer;
mod outbound;
pub mod path;
pub mod revocation;
mod usage;
mod validator;

pub use claims::{Confirmation, TokenClaims, TokenFormat};
pub use config::{ClientCredentials, DEFAULT_ALGS, RouteScope, ValidateConfig};
pub use error::{ErrorKind, Rejection, Scheme};
pub use jwt_cache::JwtCacheStats;
pub use layer::{ResponseFuture, ValidateToken, ValidateTokenLayer};
pub use tessera_proto::certificate::ClientCertificate;
/// Time as an argument: the layer reads the time from a [`Clock`] ([`SystemClock`] unless
/// given one with [`ValidateTokenLayer::with_clock`]), so tests pin it instead of sleeping.
pub use tessera_proto::clock::{Clock, FixedClock, SystemClock};
pub use validator::{Presented, Validator};
