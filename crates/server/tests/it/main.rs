//! Integration tests of the HTTP edge: a real server on 127.0.0.1:0, a fresh SQLite file, real
//! OAuth client code (the `oauth2` crate) and plain reqwest for the hostile cases.
mod support;

mod admin_alerts;
mod authorization_code;
mod client_cache;
mod discovery;
mod dpop;
mod forwarded;
mod hostile_sweep;
mod hostile_tokens;
mod ingest;
mod introspect;
mod keys;
mod leaks;
mod login_flood;
mod login_pages;
mod login_throttle;
mod malformed;
mod mtls;
mod oversized;
mod par;
mod pg_outage;
mod pg_tls;
mod private_key_jwt;
mod refresh_grace;
mod refresh_token;
mod revocations;
mod revoke;
mod slow_clients;
mod tls;
mod token;
mod token_exchange;
