//! The revocation feed's cursor as SQL parameters, shared by both backends. Core defines the
//! feed's order ([`FeedPosition`]); how a position becomes the bounds of a row-value comparison
//! is SQL, so it lives here.
use tessera_core::store::FeedPosition;

/// The (`kind`, `id`) bounds of `(revoked_at, kind, id) > (?, ?, ?)`: a position that names no
/// entry binds empty strings, which sort before every entry of its second.
pub(crate) fn sql_bounds(position: &FeedPosition) -> (&str, &str) {
    match &position.after {
        Some((kind, id)) => (kind.as_str(), id.as_str()),
        None => ("", ""),
    }
}
