//! Integration tests: the real Tessera server in-process on 127.0.0.1:0, and an axum app
//! protected by the layer on 127.0.0.1:0, driven over HTTP.
mod support;

mod dpop;
mod jwt;
mod jwt_cache;
mod mtls;
mod opaque;
mod revocation;
mod usage;
