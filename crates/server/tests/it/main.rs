//! Integration tests of the HTTP edge: a real server on 127.0.0.1:0, a fresh SQLite file, real
//! OAuth client code (the `oauth2` crate) and plain reqwest for the hostile cases.
mod support;

mod admin_alerts;
mod client_cache;
mod discovery;
mod dpop;
mod ingest;
mod introspect;
mod leaks;
mod malformed;
mod mtls;
mod private_key_jwt;
mod revocations;
mod revoke;
mod tls;
mod token;
