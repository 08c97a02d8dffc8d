//! `GET /assets/tessera.css`: the pages' stylesheet, served from its own route so the pages'
//! Content-Security-Policy needs no `'unsafe-inline'` (`style-src 'self'`).
use axum::http::header;
use axum::response::IntoResponse;

/// The stylesheet, compiled into the binary.
pub const STYLESHEET: &str = include_str!("../../assets/tessera.css");

/// The route's path, as the templates link it.
pub const PATH: &str = "/assets/tessera.css";

/// Serves the stylesheet. It holds nothing secret, so browsers may cache it for an hour.
pub async fn handle() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        STYLESHEET,
    )
}
