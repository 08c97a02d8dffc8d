//! The Tessera authorization server without HTTP or SQL.
//!
//! A request flows: `client_auth` (who is calling) → `grant` (what is asked) → `policy` (scope,
//! audience, lifetime) → `mint` (JWT or opaque) → `store` (traits; backends in `tessera-store`) →
//! `audit` (typed events). `introspect` and `revoke` resolve presented tokens via `resolve`.
//! Operations beside the request path (admin scopes, alerts, ingest, the janitor, leaks) are
//! in `ops`; the signing-key lifecycle is `keys::lifecycle`.
#![warn(missing_docs)]

pub mod audit;
pub mod authority;
pub mod authorize;
pub mod binding;
pub mod client;
pub mod client_auth;
pub mod client_cache;
pub mod config;
pub mod discovery;
pub mod error;
pub mod grant;
pub mod introspect;
#[cfg(test)]
mod junk;
pub mod keys;
pub mod lineage;
pub mod mint;
pub mod ops;
pub mod params;
pub mod password_gate;
pub mod policy;
#[cfg(test)]
mod proptests;
pub mod resolve;
pub mod revoke;
pub mod store;
pub mod token;
pub mod token_id;
pub mod user;

/// Time as an argument (proto's, shared with resource servers).
pub use tessera_proto::clock;
/// The JOSE allow-list (proto's, shared with resource servers).
pub use tessera_proto::jose;

pub use authority::Authority;
pub use config::Config;
