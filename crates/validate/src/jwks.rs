//! The issuer's JWK Set, cached: refetched when a token names an unknown `kid` (so key rotation
//! never breaks validation), at most once per `jwks_refetch_interval` (so a flood of made-up
//! `kid`s cannot turn the resource server into a load generator against the issuer), and once
//! the cached set is older than `jwks_max_age` (so a key the issuer revoked — dropped from its
//! JWK Set — stops being trusted; while the issuer is unreachable the old set is kept).
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};

/// One verification key.
pub struct Key {
    /// The `alg` the JWK declares, if any: a token must then use exactly it.
    pub alg: Option<Algorithm>,
    /// The parsed key.
    pub key: DecodingKey,
}

/// The cache.
pub struct JwksCache {
    http: reqwest::Client,
    uri: String,
    keys: RwLock<Arc<HashMap<String, Arc<Key>>>>,
    refetch: tokio::sync::Mutex<Option<Instant>>,
    min_interval: Duration,
    fetched_at: RwLock<Instant>,
    max_age: Duration,
    /// Keys the revocation feed withdrew, until their tokens would have expired: never used,
    /// even if the issuer still publishes them.
    revoked: RwLock<HashMap<String, u64>>,
}

fn algorithm(alg: KeyAlgorithm) -> Option<Algorithm> {
    Some(match alg {
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        _ => return None,
    })
}

fn parse(set: JwkSet) -> HashMap<String, Arc<Key>> {
    let mut keys = HashMap::new();
    for jwk in set.keys {
        let Jwk { common, .. } = &jwk;
        let Some(kid) = common.key_id.clone() else {
            continue;
        };
        // Symmetric keys never belong in a public JWK Set; skip anything unusable.
        if matches!(
            jwk.algorithm,
            jsonwebtoken::jwk::AlgorithmParameters::OctetKey(_)
        ) {
            continue;
        }
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        let alg = common.key_algorithm.and_then(algorithm);
        keys.insert(kid, Arc::new(Key { alg, key }));
    }
    keys
}

impl JwksCache {
    /// Fetches the set once.
    pub async fn load(
        http: reqwest::Client,
        uri: String,
        min_interval: Duration,
        max_age: Duration,
    ) -> Result<Self, String> {
        let cache = Self {
            http,
            uri,
            keys: RwLock::new(Arc::new(HashMap::new())),
            refetch: tokio::sync::Mutex::new(None),
            min_interval,
            fetched_at: RwLock::new(Instant::now()),
            max_age,
            revoked: RwLock::new(HashMap::new()),
        };
        let keys = cache.fetch().await?;
        *cache.keys.write().expect("poisoned") = Arc::new(keys);
        Ok(cache)
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<Key>>, String> {
        let response = self
            .http
            .get(&self.uri)
            .send()
            .await
            .map_err(|e| format!("JWKS fetch from {} failed: {e}", self.uri))?;
        let set: JwkSet = crate::outbound::json(response)
            .await
            .map_err(|e| format!("JWKS fetch from {} failed: {e}", self.uri))?;
        Ok(parse(set))
    }

    /// Withdraws `kid` until `until` (seconds since the epoch), as the revocation feed says.
    pub fn revoke(&self, kid: &str, until: u64, now: u64) {
        let mut revoked = self.revoked.write().expect("poisoned");
        revoked.retain(|_, u| *u > now);
        revoked.insert(kid.to_string(), until);
        drop(revoked);
        let mut keys = self.keys.write().expect("poisoned");
        if keys.contains_key(kid) {
            let mut without = HashMap::clone(&keys);
            without.remove(kid);
            *keys = Arc::new(without);
        }
    }

    /// Whether the revocation feed withdrew `kid`.
    pub fn is_revoked(&self, kid: &str) -> bool {
        let revoked = self.revoked.read().expect("poisoned");
        !revoked.is_empty() && revoked.contains_key(kid)
    }

    fn cached(&self, kid: &str) -> Option<Arc<Key>> {
        self.keys.read().expect("poisoned").get(kid).cloned()
    }

    fn fresh(&self) -> bool {
        self.fetched_at.read().expect("poisoned").elapsed() < self.max_age
    }

    /// The key `kid`, refetching the set if it is unknown or the cached set is older than
    /// `max_age`, and the rate limit allows.
    pub async fn key(&self, kid: &str) -> Option<Arc<Key>> {
        if self.fresh()
            && let Some(k) = self.cached(kid)
        {
            return Some(k);
        }
        // One refetch at a time; whoever waited re-checks first.
        let mut last = self.refetch.lock().await;
        if self.fresh()
            && let Some(k) = self.cached(kid)
        {
            return Some(k);
        }
        if last.is_some_and(|t| t.elapsed() < self.min_interval) {
            // A stale set still serves (the issuer may be down); an unknown kid waits.
            return self.cached(kid);
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok(mut keys) => {
                keys.retain(|kid, _| !self.is_revoked(kid));
                // Replace, do not merge: a key the issuer stopped publishing is no longer trusted.
                *self.keys.write().expect("poisoned") = Arc::new(keys);
                *self.fetched_at.write().expect("poisoned") = Instant::now();
            }
            Err(e) => tracing::warn!(error = %e, "JWKS refetch failed"),
        }
        self.cached(kid)
    }
}
