//! Opaque tokens: RFC 7662 introspection with the resource server's own credentials, cached by
//! the token's SHA-256 for at most `introspection_cache_ttl` and never beyond the token's `exp`.
//! A token string whose checksum fails is refused locally, so garbage never costs a round trip.
use crate::expiring::{ExpiringMap, WhenFull};
use std::sync::Mutex;

use serde::Deserialize;
use tessera_proto::{SecretHash, TokenKind, TokenString};

use crate::claims::{Confirmation, TokenClaims, TokenFormat, split_scope};
use crate::config::{ClientCredentials, ValidateConfig};
use crate::error::{ErrorKind, Rejection};

/// Whether `token` looks like a Tessera opaque access token (rather than a JWT).
pub fn is_opaque(token: &str) -> bool {
    token.starts_with(TokenKind::AccessToken.prefix())
}

#[derive(Deserialize)]
struct Response {
    active: bool,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    aud: Option<serde_json::Value>,
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    exp: Option<u64>,
    #[serde(default)]
    iat: Option<u64>,
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    cnf: Option<Confirmation>,
    #[serde(default)]
    act: Option<tessera_proto::act::Act>,
}

/// The bounded cache of positive results.
pub struct IntrospectionCache {
    entries: Mutex<ExpiringMap<[u8; 32], TokenClaims>>,
}

impl IntrospectionCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self {
            // Full of live answers: start over rather than grow without bound.
            entries: Mutex::new(ExpiringMap::new(WhenFull::Clear)),
        }
    }

    /// Drops the entries of a revoked token (by id), as the revocation feed reports it.
    pub fn forget_id(&self, token_id: &str) {
        self.entries
            .lock()
            .expect("poisoned")
            .retain(|c| c.token_id != token_id);
    }

    /// Drops the entries of a client's tokens (disabled, deleted or given `tokens_not_before`).
    pub fn forget_client(&self, client_id: &str) {
        self.entries
            .lock()
            .expect("poisoned")
            .retain(|c| c.client_id != client_id);
    }

    fn get(&self, key: &[u8; 32], now: u64) -> Option<TokenClaims> {
        self.entries
            .lock()
            .expect("poisoned")
            .get(key, now)
            .cloned()
    }

    fn put(&self, key: [u8; 32], claims: TokenClaims, until: u64, now: u64, max: usize) {
        self.entries
            .lock()
            .expect("poisoned")
            .insert(key, claims, until, now, max);
    }
}

impl Default for IntrospectionCache {
    fn default() -> Self {
        Self::new()
    }
}

fn aud_contains(aud: &serde_json::Value, me: &str) -> bool {
    match aud {
        serde_json::Value::String(a) => a == me,
        serde_json::Value::Array(all) => all.iter().any(|a| a.as_str() == Some(me)),
        _ => false,
    }
}

/// Introspects `token` (or answers from the cache).
pub async fn introspect(
    config: &ValidateConfig,
    http: &reqwest::Client,
    endpoint: Option<&str>,
    cache: &IntrospectionCache,
    token: &str,
    now: u64,
) -> Result<TokenClaims, Rejection> {
    if TokenString::parse(token).is_err() {
        return Err(Rejection::invalid_token("the access token is malformed"));
    }
    let (Some(endpoint), Some(ClientCredentials { id, secret })) = (endpoint, &config.client)
    else {
        return Err(Rejection::invalid_token(
            "opaque access tokens are not accepted here",
        ));
    };
    let key = *SecretHash::of(token.as_bytes()).as_bytes();
    if let Some(claims) = cache.get(&key, now) {
        return Ok(claims);
    }
    // RFC 6749 §2.3.1: form-encode id and secret before Basic.
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let unavailable = |e: String| {
        Rejection::bearer(
            ErrorKind::Unavailable,
            "the authorization server is unavailable",
        )
        .detail(e)
    };
    let response = http
        .post(endpoint)
        .basic_auth(enc(id), Some(enc(secret.expose_secret())))
        .form(&[("token", token), ("token_type_hint", "access_token")])
        .send()
        .await
        .map_err(|e| unavailable(format!("introspection failed: {e}")))?;
    let r: Response = crate::outbound::json(response)
        .await
        .map_err(|e| unavailable(format!("introspection failed: {e}")))?;
    if !r.active {
        return Err(Rejection::invalid_token("the access token is not active"));
    }
    if r.iss.as_deref().is_some_and(|i| i != config.issuer) {
        return Err(Rejection::invalid_token(
            "the access token has the wrong issuer",
        ));
    }
    if !r
        .aud
        .as_ref()
        .is_some_and(|a| aud_contains(a, &config.audience))
    {
        return Err(Rejection::invalid_token(
            "the access token is not for this resource server",
        ));
    }
    let exp = r.exp.unwrap_or(now);
    if now >= exp {
        return Err(Rejection::invalid_token("the access token expired"));
    }
    let claims = TokenClaims {
        subject: r.sub.unwrap_or_default(),
        client_id: r.client_id.unwrap_or_default(),
        scopes: split_scope(r.scope.as_deref().unwrap_or("")),
        token_id: r.jti.unwrap_or_default(),
        expires_at: exp,
        issued_at: r.iat.unwrap_or(now),
        format: TokenFormat::Opaque,
        cnf: r.cnf.filter(|c| c.jkt.is_some() || c.x5t_s256.is_some()),
        act: r.act,
    };
    let until = exp.min(now + config.introspection_cache_ttl.as_secs());
    cache.put(
        key,
        claims.clone(),
        until,
        now,
        config.introspection_cache_size,
    );
    Ok(claims)
}
