//! Verified JWT access tokens, cached by the SHA-256 of the token string.
//!
//! Why: verifying the signature is nearly the whole cost of a request carrying a JWT (an ES256
//! verify is ≈ 35 µs of a core), and a client sends the same access token on every call until it
//! expires, so `tessera proxy` and any API behind the layer paid that verify again and again for
//! bytes it had already checked.
//!
//! What is cached is only what the signed bytes and the key that verified them establish: the
//! JOSE header checks, the signature, the parsed claims, `iss` and `aud` — the output of
//! [`crate::jwt::verify_signed`], with the `kid` and the very [`Key`] that verified it. Everything
//! else is checked on every request, hit or miss, by the caller: the key is still the issuer's
//! (not withdrawn by the revocation feed, and the JWK Set — refetched when stale — still holds
//! that same key under that `kid`; otherwise the token is verified again), `exp`/`nbf`/`iat`
//! against the clock with the leeway, the revocation feed (`jti`, client disabled, deleted or
//! `tokens_not_before`), the DPoP proof and `cnf.jkt`, the certificate binding, the scopes.
//!
//! Bounded: at most `max` entries (0 turns the cache off). An entry is never served at or after
//! its token's `exp`. When the cache is full, expired entries are swept, then, if it is still
//! full, an arbitrary sixteenth of the entries is dropped (so one sweep pays for many inserts).
//! The raw token is never kept: the key is its SHA-256. A token that fails verification, the
//! time check or the revocation check is never cached. Like the introspection cache, entries of
//! a token or client the revocation feed reports are dropped (the per-request check refuses them
//! regardless); entries of a withdrawn key are refused by the key check and dropped at their next
//! use.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::expiring::{ExpiringMap, WhenFull};
use crate::jwt::Verified;

/// The SHA-256 of a token string: the cache key.
pub type Digest = [u8; 32];

/// The cache key of `token`.
pub fn digest(token: &str) -> Digest {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Counters of the JWT path, for tests and monitoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JwtCacheStats {
    /// Requests whose JWT was taken from the cache (no signature verification).
    pub hits: u64,
    /// Full verifications of a JWT's signature and claims (cache misses, or every JWT when the
    /// cache is off), failed ones included.
    pub verifications: u64,
    /// Entries held now.
    pub entries: usize,
}

/// The bounded cache of verified JWTs.
pub struct VerifiedJwtCache {
    max: usize,
    entries: RwLock<ExpiringMap<Digest, Arc<Verified>>>,
    hits: AtomicU64,
    verifications: AtomicU64,
}

impl VerifiedJwtCache {
    /// An empty cache of at most `max` entries; 0 caches nothing.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            // Full of live entries: drop an arbitrary sixteenth, so the next inserts find
            // room without another sweep.
            entries: RwLock::new(ExpiringMap::new(WhenFull::DropFraction(16))),
            hits: AtomicU64::new(0),
            verifications: AtomicU64::new(0),
        }
    }

    /// Whether the cache is on.
    pub fn enabled(&self) -> bool {
        self.max > 0
    }

    /// The verification of the token whose digest is `key`, unless absent or its `exp` passed.
    pub fn get(&self, key: &Digest, now: u64) -> Option<Arc<Verified>> {
        if !self.enabled() {
            return None;
        }
        self.entries
            .read()
            .expect("poisoned")
            .get(key, now)
            .cloned()
    }

    /// Caches a verification that passed every check, unless its token's `exp` has passed.
    pub fn put(&self, key: Digest, verified: Arc<Verified>, now: u64) {
        if !self.enabled() || now >= verified.claims.expires_at {
            return;
        }
        let until = verified.claims.expires_at;
        self.entries
            .write()
            .expect("poisoned")
            .insert(key, verified, until, now, self.max);
    }

    /// Drops one entry (its key check failed).
    pub fn remove(&self, key: &Digest) {
        self.entries.write().expect("poisoned").remove(key);
    }

    /// Drops the entry of a revoked token (by `jti`), as the revocation feed reports it.
    pub fn forget_id(&self, token_id: &str) {
        if self.enabled() {
            self.entries
                .write()
                .expect("poisoned")
                .retain(|v| v.claims.token_id != token_id);
        }
    }

    /// Drops the entries of a client's tokens (disabled, deleted or given `tokens_not_before`).
    pub fn forget_client(&self, client_id: &str) {
        if self.enabled() {
            self.entries
                .write()
                .expect("poisoned")
                .retain(|v| v.claims.client_id != client_id);
        }
    }

    /// Counts a request answered from the cache.
    pub fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a full verification.
    pub fn verified(&self) {
        self.verifications.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters.
    pub fn stats(&self) -> JwtCacheStats {
        JwtCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            verifications: self.verifications.load(Ordering::Relaxed),
            entries: self.entries.read().expect("poisoned").len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use jsonwebtoken::DecodingKey;

    use super::{VerifiedJwtCache, digest};
    use crate::claims::{TokenClaims, TokenFormat};
    use crate::jwks::Key;
    use crate::jwt::Verified;

    fn verified(jti: &str, client: &str, exp: u64) -> Arc<Verified> {
        Arc::new(Verified {
            claims: TokenClaims {
                subject: "alice".into(),
                client_id: client.into(),
                scopes: vec![],
                token_id: jti.into(),
                expires_at: exp,
                issued_at: 0,
                format: TokenFormat::Jwt,
                cnf: None,
                act: None,
            },
            nbf: None,
            kid: "k1".into(),
            key: Arc::new(Key {
                alg: None,
                key: DecodingKey::from_secret(b"unused"),
            }),
        })
    }

    #[test]
    fn entries_are_keyed_by_digest_and_never_served_past_exp() {
        let cache = VerifiedJwtCache::new(10);
        let key = digest("a.b.c");
        assert_ne!(key, digest("a.b.d"));
        cache.put(key, verified("j1", "c1", 100), 50);
        assert!(cache.get(&key, 99).is_some());
        assert!(cache.get(&key, 100).is_none());
        assert!(cache.get(&digest("a.b.d"), 50).is_none());
        // An expired token is not cached at all.
        cache.put(digest("x"), verified("j2", "c1", 100), 100);
        assert_eq!(cache.stats().entries, 1);
    }

    #[test]
    fn the_cache_stays_within_its_bound_expired_entries_going_first() {
        let cache = VerifiedJwtCache::new(32);
        for i in 0..16 {
            cache.put(digest(&format!("old{i}")), verified("j", "c", 60), 10);
        }
        for i in 0..16 {
            cache.put(digest(&format!("live{i}")), verified("j", "c", 1000), 10);
        }
        assert_eq!(cache.stats().entries, 32);
        // Full: the expired ones are swept first, every live one stays.
        cache.put(digest("new"), verified("j", "c", 1000), 70);
        assert_eq!(cache.stats().entries, 17);
        assert!((0..16).all(|i| cache.get(&digest(&format!("live{i}")), 70).is_some()));
        // Full of live entries: some are dropped, never more than the bound kept.
        for i in 0..1000 {
            cache.put(digest(&format!("more{i}")), verified("j", "c", 1000), 70);
            assert!(cache.stats().entries <= 32);
        }
        assert!(cache.get(&digest("more999"), 70).is_some());
    }

    #[test]
    fn revoked_tokens_and_clients_are_forgotten() {
        let cache = VerifiedJwtCache::new(10);
        cache.put(digest("1"), verified("j1", "c1", 100), 0);
        cache.put(digest("2"), verified("j2", "c1", 100), 0);
        cache.put(digest("3"), verified("j3", "c2", 100), 0);
        cache.forget_id("j3");
        assert!(cache.get(&digest("3"), 0).is_none());
        cache.forget_client("c1");
        assert_eq!(cache.stats().entries, 0);
    }

    #[test]
    fn zero_entries_turns_it_off() {
        let cache = VerifiedJwtCache::new(0);
        assert!(!cache.enabled());
        cache.put(digest("1"), verified("j1", "c1", 100), 0);
        assert!(cache.get(&digest("1"), 0).is_none());
        assert_eq!(cache.stats().entries, 0);
    }
}
