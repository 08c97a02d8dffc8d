//! A client's JWK Set fetched from its registered `jwks_uri` (RFC 7591 §2) for `private_key_jwt`
//! (RFC 7523): which URIs are acceptable, the fetching contract (implemented by the HTTP edge,
//! since core does no I/O), and the cache — a bounded lifetime, one refetch when an assertion
//! names an unknown `kid` (key rotation), and at most one fetch per URI per interval whatever
//! happens, so made-up `kid`s or a dead URL cannot turn the server into a load generator.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use jsonwebtoken::jwk::{Jwk, JwkSet};

/// How long a fetched set is used before it is fetched again.
pub const CACHE_TTL_SECS: u64 = 300;
/// The least time between two fetches of one URI (a refetch for an unknown `kid`, a retry after
/// a failure).
pub const MIN_REFETCH_SECS: u64 = 10;
/// Largest JWK Set document accepted.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
/// Longest a fetch may take, connection included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(2);
/// Most URIs cached at once (one per registered client at most; a bound all the same).
const MAX_ENTRIES: usize = 10_000;

/// Why a fetch failed; each is an audit reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchError {
    /// Connection refused, timeout, TLS failure, a non-200 status (redirects are not followed).
    Unreachable,
    /// The document is larger than [`MAX_JWKS_BYTES`].
    TooLarge,
}

/// Fetches a JWK Set document: a GET of `uri` that follows no redirect, gives up after
/// [`FETCH_TIMEOUT`] and reads at most `max_bytes`. Implemented by the HTTP edge.
#[async_trait]
pub trait JwksFetcher: Send + Sync {
    /// The response body of a 200 answer.
    async fn fetch(&self, uri: &str, max_bytes: usize) -> Result<Vec<u8>, FetchError>;
}

/// Whether `uri` may be registered as a `jwks_uri`: `https`, or `http` on a loopback host only
/// (a set fetched in clear could be replaced on the way), no credentials and no fragment.
pub fn check_uri(uri: &str) -> Result<(), &'static str> {
    let url = url::Url::parse(uri).map_err(|_| "jwks_uri is not an absolute URL")?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("jwks_uri must not carry credentials");
    }
    if url.fragment().is_some() {
        return Err("jwks_uri must not have a fragment");
    }
    if url.host().is_none() {
        return Err("jwks_uri has no host");
    }
    tessera_proto::loopback::https_or_loopback_http(uri)
        .map_err(|_| "jwks_uri must be https (http only on a loopback host)")
}

/// Parses a fetched document. RFC 7517 §5: members other than `keys` and keys of an unknown
/// type are ignored; a set with any private key material is refused whole (the client published
/// secrets: trusting any part of it would be wrong).
pub fn parse_set(body: &[u8]) -> Result<JwkSet, &'static str> {
    let doc: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| "jwks_uri_not_a_jwk_set")?;
    let keys = doc
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or("jwks_uri_not_a_jwk_set")?;
    if keys.iter().any(crate::jose::has_private_members) {
        return Err("jwks_uri_private_key");
    }
    let keys: Vec<Jwk> = keys
        .iter()
        .filter_map(|k| serde_json::from_value(k.clone()).ok())
        .collect();
    if keys.is_empty() {
        return Err("jwks_uri_no_usable_key");
    }
    Ok(JwkSet { keys })
}

/// Whether `set` holds the key an assertion names: its `kid`, or without one the only key.
pub fn has_key(set: &JwkSet, kid: Option<&str>) -> bool {
    match kid {
        Some(kid) => set.find(kid).is_some(),
        None => set.keys.len() == 1,
    }
}

#[derive(Default)]
struct Entry {
    /// The last good set and when it was fetched.
    set: Option<(Arc<JwkSet>, u64)>,
    /// When the last fetch started, successful or not.
    last_attempt: Option<u64>,
    /// Why the last fetch failed, if it did.
    last_error: Option<&'static str>,
}

/// The per-URI cache of fetched JWK Sets, shared by every request of this node.
#[derive(Default)]
pub struct RemoteJwks {
    fetcher: OnceLock<Arc<dyn JwksFetcher>>,
    entries: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Entry>>>>,
}

impl RemoteJwks {
    /// Installs the fetcher (once; later calls are ignored and return `false`).
    pub fn set_fetcher(&self, fetcher: Arc<dyn JwksFetcher>) -> bool {
        self.fetcher.set(fetcher).is_ok()
    }

    fn entry(&self, uri: &str) -> Arc<tokio::sync::Mutex<Entry>> {
        let mut entries = self.entries.lock().expect("jwks cache lock poisoned");
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(uri) {
            entries.clear();
        }
        entries.entry(uri.to_string()).or_default().clone()
    }

    /// The JWK Set published at `uri` that should hold key `kid`, at time `now` (seconds). A
    /// fresh set holding the key is returned as is; a stale set, or one without the key, is
    /// fetched again if the last fetch of this URI is at least [`MIN_REFETCH_SECS`] old. A fresh
    /// set without the key is still returned (the caller then reports an unknown key); without a
    /// fresh set the error is the audit reason of the failed fetch.
    pub async fn keys(
        &self,
        uri: &str,
        kid: Option<&str>,
        now: u64,
    ) -> Result<Arc<JwkSet>, &'static str> {
        let entry = self.entry(uri);
        // One fetch per URI at a time: whoever waited finds the fresh set and fetches nothing.
        let mut entry = entry.lock().await;
        let fresh = entry
            .set
            .as_ref()
            .filter(|(_, fetched)| now < fetched + CACHE_TTL_SECS)
            .map(|(set, _)| set.clone());
        if let Some(set) = &fresh
            && has_key(set, kid)
        {
            return Ok(set.clone());
        }
        let may_fetch = entry
            .last_attempt
            .is_none_or(|t| now >= t + MIN_REFETCH_SECS || now < t);
        if !may_fetch {
            return fresh.ok_or(entry.last_error.unwrap_or("jwks_uri_unavailable"));
        }
        entry.last_attempt = Some(now);
        match self.fetch(uri).await {
            Ok(set) => {
                // Replace, never merge: a key the client stopped publishing is no longer trusted.
                let set = Arc::new(set);
                entry.set = Some((set.clone(), now));
                entry.last_error = None;
                Ok(set)
            }
            Err(reason) => {
                tracing::warn!(
                    jwks_uri = uri,
                    reason,
                    "fetching a client's jwks_uri failed"
                );
                entry.last_error = Some(reason);
                fresh.ok_or(reason)
            }
        }
    }

    async fn fetch(&self, uri: &str) -> Result<JwkSet, &'static str> {
        check_uri(uri).map_err(|_| "jwks_uri_not_allowed")?;
        let fetcher = self.fetcher.get().ok_or("jwks_uri_unsupported")?;
        let body =
            match tokio::time::timeout(FETCH_TIMEOUT, fetcher.fetch(uri, MAX_JWKS_BYTES)).await {
                Ok(Ok(body)) if body.len() <= MAX_JWKS_BYTES => body,
                Ok(Ok(_)) | Ok(Err(FetchError::TooLarge)) => return Err("jwks_uri_too_large"),
                Ok(Err(FetchError::Unreachable)) | Err(_) => return Err("jwks_uri_unreachable"),
            };
        parse_set(&body)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Serves whatever `body` holds and counts the fetches.
    struct Fake {
        body: Mutex<Result<Vec<u8>, FetchError>>,
        fetches: AtomicUsize,
    }

    #[async_trait]
    impl JwksFetcher for Fake {
        async fn fetch(&self, _uri: &str, _max: usize) -> Result<Vec<u8>, FetchError> {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            self.body.lock().unwrap().clone()
        }
    }

    fn set_of(kids: &[&str]) -> Vec<u8> {
        let keys: Vec<_> = kids
            .iter()
            .map(|k| serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": k}))
            .collect();
        serde_json::to_vec(&serde_json::json!({ "keys": keys })).unwrap()
    }

    fn cache(body: Result<Vec<u8>, FetchError>) -> (RemoteJwks, Arc<Fake>) {
        let fake = Arc::new(Fake {
            body: Mutex::new(body),
            fetches: AtomicUsize::new(0),
        });
        let cache = RemoteJwks::default();
        assert!(cache.set_fetcher(fake.clone()));
        (cache, fake)
    }

    const URI: &str = "https://client.example/jwks";

    #[tokio::test]
    async fn caches_refetches_on_unknown_kid_at_most_once_per_interval() {
        let (cache, fake) = cache(Ok(set_of(&["a"])));
        let fetches = || fake.fetches.load(Ordering::SeqCst);
        assert!(cache.keys(URI, Some("a"), 1000).await.is_ok());
        assert!(cache.keys(URI, Some("a"), 1001).await.is_ok());
        assert_eq!(fetches(), 1);
        // Rotation: "b" appears at the URI; within the interval the cached set is answered.
        *fake.body.lock().unwrap() = Ok(set_of(&["b"]));
        let set = cache.keys(URI, Some("b"), 1005).await.unwrap();
        assert!(!has_key(&set, Some("b")));
        assert_eq!(fetches(), 1);
        // After the interval one refetch picks "b" up, and "a" is gone (replaced, not merged).
        let set = cache.keys(URI, Some("b"), 1010).await.unwrap();
        assert!(has_key(&set, Some("b")) && !has_key(&set, Some("a")));
        assert_eq!(fetches(), 2);
        // A flood of made-up kids costs one fetch per interval.
        for i in 0..100 {
            let _ = cache.keys(URI, Some(&format!("made-up-{i}")), 1011).await;
        }
        assert_eq!(fetches(), 2);
        // The lifetime ends: fetched again even for a known kid.
        assert!(
            cache
                .keys(URI, Some("b"), 1010 + CACHE_TTL_SECS)
                .await
                .is_ok()
        );
        assert_eq!(fetches(), 3);
    }

    #[tokio::test]
    async fn failures_are_reasons_and_retried_only_after_the_interval() {
        let (cache, fake) = cache(Err(FetchError::Unreachable));
        let fetches = || fake.fetches.load(Ordering::SeqCst);
        assert_eq!(
            cache.keys(URI, None, 1000).await.unwrap_err(),
            "jwks_uri_unreachable"
        );
        assert_eq!(
            cache.keys(URI, None, 1001).await.unwrap_err(),
            "jwks_uri_unreachable"
        );
        assert_eq!(fetches(), 1);
        *fake.body.lock().unwrap() = Err(FetchError::TooLarge);
        assert_eq!(
            cache.keys(URI, None, 1010).await.unwrap_err(),
            "jwks_uri_too_large"
        );
        *fake.body.lock().unwrap() = Ok(br#"{"keys":[{"kty":"EC","d":"x"}]}"#.to_vec());
        assert_eq!(
            cache.keys(URI, None, 1020).await.unwrap_err(),
            "jwks_uri_private_key"
        );
        *fake.body.lock().unwrap() = Ok(b"<html>".to_vec());
        assert_eq!(
            cache.keys(URI, None, 1030).await.unwrap_err(),
            "jwks_uri_not_a_jwk_set"
        );
        *fake.body.lock().unwrap() = Ok(set_of(&["a"]));
        assert!(cache.keys(URI, None, 1040).await.is_ok());
        // A stale set is not used when the refetch fails.
        *fake.body.lock().unwrap() = Err(FetchError::Unreachable);
        assert_eq!(
            cache
                .keys(URI, None, 1040 + CACHE_TTL_SECS)
                .await
                .unwrap_err(),
            "jwks_uri_unreachable"
        );
    }

    #[tokio::test]
    async fn without_a_fetcher_or_with_a_refused_uri_nothing_is_fetched() {
        let empty = RemoteJwks::default();
        assert_eq!(
            empty.keys(URI, None, 1).await.unwrap_err(),
            "jwks_uri_unsupported"
        );
        let (cache, fake) = cache(Ok(set_of(&["a"])));
        assert_eq!(
            cache
                .keys("http://client.example/jwks", None, 1)
                .await
                .unwrap_err(),
            "jwks_uri_not_allowed"
        );
        assert_eq!(fake.fetches.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn https_or_loopback_http_only() {
        for ok in [
            "https://client.example/jwks.json",
            "http://127.0.0.1:8443/jwks",
            "http://localhost/jwks",
            "http://[::1]:9000/k",
        ] {
            assert_eq!(check_uri(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://client.example/jwks",
            "ftp://client.example/jwks",
            "https://user:pw@client.example/jwks",
            "https://client.example/jwks#frag",
            "/jwks",
            "file:///etc/passwd",
            "http://127.attacker.example/jwks",
            "http://localhost.attacker.example/jwks",
            "http://127.0.0.1@evil.example/jwks",
            "http://0x7f.1/jwks",
        ] {
            assert!(check_uri(bad).is_err(), "{bad}");
        }
    }
}
