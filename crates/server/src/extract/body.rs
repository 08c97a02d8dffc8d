//! A request body read with both bounds a hostile client can stretch: its size and how long it
//! takes to arrive (a body sent one byte a minute would otherwise hold its task forever).
use std::time::Duration;

use axum::body::{Body, Bytes};
use tessera_proto::OAuthError;

/// Reads `body`: at most `max_bytes`, within `timeout`; either failure is `invalid_request`.
pub async fn read(body: Body, max_bytes: usize, timeout: Duration) -> Result<Bytes, OAuthError> {
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, max_bytes)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(OAuthError::invalid_request(format!(
            "the request body exceeds {max_bytes} bytes or could not be read"
        ))),
        Err(_) => Err(OAuthError::invalid_request(format!(
            "the request body did not arrive within {} s",
            timeout.as_secs()
        ))),
    }
}
