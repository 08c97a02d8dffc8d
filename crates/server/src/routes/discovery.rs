//! RFC 8414 metadata and the JWK Set (RFC 7517).
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::App;

pub async fn metadata(State(app): State<App>) -> impl IntoResponse {
    axum::Json(tessera_core::discovery::metadata(&app.authority))
}

pub async fn jwks(State(app): State<App>) -> impl IntoResponse {
    let keys = app.authority.keys();
    (
        [
            (header::CONTENT_TYPE, "application/jwk-set+json"),
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        keys.jwks_json().to_string(),
    )
}
