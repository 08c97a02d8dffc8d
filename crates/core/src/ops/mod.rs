//! Operations: what runs beside the request path rather than on it — the administrative callers
//! and their scopes (`admin`), the monitor's stored alerts (`alerts`), events reported by resource
//! servers (`ingest`), the retention janitor (`janitor`) and leaked-credential handling for the
//! scanner (`leaks`). The server's `admin/` routes and the CLI call these; a token request never
//! does. The signing-key lifecycle lives with the keys (`keys::lifecycle`).
pub mod admin;
pub mod alerts;
pub mod ingest;
pub mod janitor;
pub mod leaks;
