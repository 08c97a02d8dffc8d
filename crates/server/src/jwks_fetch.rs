//! Fetching clients' `jwks_uri` documents (RFC 7591 §2) over HTTP for core's JWK Set cache:
//! a GET that follows no redirect, times out, and stops reading past the size limit.
use async_trait::async_trait;
use tessera_core::client_auth::jwks_uri::{FETCH_TIMEOUT, FetchError, JwksFetcher};

/// The reqwest-backed fetcher.
pub struct HttpJwksFetcher {
    http: reqwest::Client,
}

impl HttpJwksFetcher {
    /// A client that follows no redirect (the registered URI is the one trusted, not wherever it
    /// points) and gives up after [`FETCH_TIMEOUT`].
    pub fn new() -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("building the jwks_uri HTTP client: {e}"))?;
        Ok(Self { http })
    }
}

#[async_trait]
impl JwksFetcher for HttpJwksFetcher {
    async fn fetch(&self, uri: &str, max_bytes: usize) -> Result<Vec<u8>, FetchError> {
        let mut response = self
            .http
            .get(uri)
            .header(
                reqwest::header::ACCEPT,
                "application/jwk-set+json, application/json",
            )
            .send()
            .await
            .map_err(|_| FetchError::Unreachable)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(FetchError::Unreachable);
        }
        if response
            .content_length()
            .is_some_and(|n| n > max_bytes as u64)
        {
            return Err(FetchError::TooLarge);
        }
        // Read chunk by chunk: a missing or lying Content-Length must not make us buffer more.
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| FetchError::Unreachable)?
        {
            if body.len() + chunk.len() > max_bytes {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}
