//! The layer's one HTTP client to the issuer (metadata, JWKS, introspection, the revocation
//! feed, usage events): a timeout, no redirects — a redirect would carry the resource server's
//! credentials, or send it for keys, wherever the answer points — and every answer body read
//! up to a cap, so an issuer (or whoever answers in its place) cannot exhaust memory.
use std::time::Duration;

use serde::de::DeserializeOwned;

/// Largest answer body read from the issuer. A JWK Set or a feed page is a few kilobytes; a
/// full revocation-feed page (1,000 entries) about 150 KB.
pub const MAX_BODY: usize = 1024 * 1024;

/// The client: rustls, a 5 s timeout, redirects never followed.
pub fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())
}

/// The body of `resp`, refused beyond [`MAX_BODY`] (announced or actual).
pub async fn body(mut resp: reqwest::Response) -> Result<Vec<u8>, String> {
    if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(format!("the answer is larger than {MAX_BODY} bytes"));
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        if out.len() + chunk.len() > MAX_BODY {
            return Err(format!("the answer is larger than {MAX_BODY} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A successful (2xx) answer's JSON body, capped. A redirect is an error like any other
/// non-2xx status.
pub async fn json<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T, String> {
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("the answer's status is {status}"));
    }
    let bytes = body(resp).await?;
    serde_json::from_slice(&bytes).map_err(|e| format!("the answer is not the expected JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::response::Redirect;
    use axum::routing::get;

    use super::*;

    async fn serve(app: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn answers_are_capped_and_redirects_not_followed() {
        let base = serve(
            Router::new()
                .route("/small", get(|| async { "{\"a\":1}" }))
                .route("/big", get(|| async { vec![b' '; MAX_BODY + 1] }))
                .route("/moved", get(|| async { Redirect::temporary("/small") })),
        )
        .await;
        let http = client().unwrap();
        let get = |p: &str| http.get(format!("{base}{p}")).send();
        let small: serde_json::Value = json(get("/small").await.unwrap()).await.unwrap();
        assert_eq!(small["a"], 1);
        let big = json::<serde_json::Value>(get("/big").await.unwrap()).await;
        assert!(big.unwrap_err().contains("larger than"));
        let chunked = body(http.get(chunked_server().await).send().await.unwrap()).await;
        assert!(chunked.unwrap_err().contains("larger than"));
        let moved = get("/moved").await.unwrap();
        assert_eq!(moved.status(), 307);
        let moved = json::<serde_json::Value>(moved).await;
        assert!(moved.unwrap_err().contains("307"));
    }

    /// An answer without a length, in chunks, that never ends within the cap.
    async fn chunked_server() -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = format!("10000\r\n{}\r\n", " ".repeat(0x10000));
            for _ in 0..64 {
                if s.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
        format!("http://{addr}/")
    }
}
