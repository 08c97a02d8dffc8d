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
    /// The host is, or resolves only to, addresses the [`AddressPolicy`] refuses.
    AddressNotAllowed,
}

/// Which addresses a `jwks_uri` fetch may connect to. A client registration names the URL, so
/// without this anyone who can register a client could make the server request its internal
/// network or the cloud metadata service (server-side request forgery). The fetcher checks
/// every address the host resolves to, at connection time (so a DNS answer that changes
/// between a check and the connection cannot slip through), and IP-literal hosts before that.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// Loopback (127/8, ::1) may be fetched: when the issuer itself is on loopback
    /// (development), or with `client_auth.insecure_jwks_uri_private_addresses`.
    pub loopback: bool,
    /// Private networks (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) may be fetched:
    /// only with `client_auth.insecure_jwks_uri_private_addresses`.
    pub private: bool,
}

/// Where an address belongs, for [`AddressPolicy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressClass {
    /// A global unicast address.
    Public,
    /// 127/8 or ::1.
    Loopback,
    /// RFC 1918, RFC 6598 shared space, RFC 4193 unique local (and deprecated site-local).
    Private,
    /// Never fetched: unspecified, link-local (169.254/16 holds cloud metadata services,
    /// fe80::/10), multicast, broadcast, reserved, documentation and benchmarking ranges.
    Forbidden,
}

impl AddressPolicy {
    /// Whether a connection to `ip` is allowed.
    pub fn allows(&self, ip: std::net::IpAddr) -> bool {
        match classify(ip) {
            AddressClass::Public => true,
            AddressClass::Loopback => self.loopback,
            AddressClass::Private => self.private,
            AddressClass::Forbidden => false,
        }
    }
}

/// Classifies an address; IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64
/// 64:ff9b::/96, 6to4 2002::/16) are judged by that IPv4 address.
pub fn classify(ip: std::net::IpAddr) -> AddressClass {
    use std::net::{IpAddr, Ipv4Addr};
    let v6 = match ip {
        IpAddr::V4(v4) => return classify_v4(v4),
        IpAddr::V6(v6) => v6,
    };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let seg = v6.segments();
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let o = v6.octets();
        return classify_v4(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if seg[0] == 0x2002 {
        let o = v6.octets();
        return classify_v4(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    if v6.is_loopback() {
        AddressClass::Loopback
    } else if v6.is_unspecified()
        || seg[0] & 0xffc0 == 0xfe80 // link-local
        || seg[0] & 0xff00 == 0xff00 // multicast
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
        || seg[..6] == [0, 0, 0, 0, 0, 0]
    // IPv4-compatible (deprecated) and the like
    {
        AddressClass::Forbidden
    } else if seg[0] & 0xfe00 == 0xfc00 || seg[0] & 0xffc0 == 0xfec0 {
        AddressClass::Private
    } else {
        AddressClass::Public
    }
}

fn classify_v4(ip: std::net::Ipv4Addr) -> AddressClass {
    let o = ip.octets();
    if o[0] == 127 {
        AddressClass::Loopback
    } else if o[0] == 0
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || o[0] >= 240
        || ip.is_documentation()
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
    {
        AddressClass::Forbidden
    } else if ip.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64) {
        AddressClass::Private
    } else {
        AddressClass::Public
    }
}

/// Fetches a JWK Set document: a GET of `uri` that follows no redirect, connects only to
/// addresses its [`AddressPolicy`] allows, gives up after [`FETCH_TIMEOUT`] and reads at most
/// `max_bytes`. Implemented by the HTTP edge.
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
                Ok(Err(FetchError::AddressNotAllowed)) => {
                    return Err("jwks_uri_address_not_allowed");
                }
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
    fn only_public_addresses_unless_allowed() {
        use std::net::IpAddr;
        let strict = AddressPolicy::default();
        let dev = AddressPolicy {
            loopback: true,
            private: false,
        };
        let internal = AddressPolicy {
            loopback: true,
            private: true,
        };
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "172.32.0.1",
            "100.128.0.1",
        ] {
            assert!(strict.allows(ip(public)), "{public}");
        }
        for loopback in ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"] {
            assert!(!strict.allows(ip(loopback)), "{loopback}");
            assert!(dev.allows(ip(loopback)), "{loopback}");
        }
        for private in [
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:10.1.2.3",
            "64:ff9b::a00:1",
            "2002:c0a8:0101::1",
        ] {
            assert!(!strict.allows(ip(private)), "{private}");
            assert!(!dev.allows(ip(private)), "{private}");
            assert!(internal.allows(ip(private)), "{private}");
        }
        for never in [
            "169.254.169.254",
            "::ffff:169.254.169.254",
            "fe80::1",
            "0.0.0.0",
            "::",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.1",
            "2001:db8::1",
            "ff02::1",
            "::a00:1",
        ] {
            assert!(!internal.allows(ip(never)), "{never}");
        }
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
