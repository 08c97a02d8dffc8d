//! `private_key_jwt` (RFC 7523 §2.2, RFC 7521 §4.2): the client signs a short-lived JWT with a
//! key whose public half it registered (`--jwks-file`) or publishes at its `jwks_uri` (RFC 7591
//! §2, fetched and cached by [`super::jwks_uri`]). Checked: an asymmetric `alg`, the
//! signature with the registered key, `iss` = `sub` = client_id, `aud` the issuer identifier alone,
//! `exp` in the future and not too far, and a `jti` used once (the same store-backed replay
//! guard as DPoP).
use std::sync::Arc;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde::Deserialize;
use tessera_proto::SecretHash;

use crate::authority::Authority;
use crate::client::{Client, ClientKeys};

/// Algorithms accepted for client assertions (`token_endpoint_auth_signing_alg_values_supported`).
pub const ASSERTION_ALGS: [&str; 6] = crate::jose::ASYMMETRIC_ALGS;

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
const LEEWAY: u64 = 5;

/// RFC 7523 §3: the claims of a client assertion.
#[derive(Deserialize)]
pub struct AssertionClaims {
    /// Issuer: the client id.
    pub iss: String,
    /// Subject: the client id.
    pub sub: String,
    /// Audience: this server.
    pub aud: Audience,
    /// Expiry.
    pub exp: u64,
    /// Single-use identifier.
    #[serde(default)]
    pub jti: Option<String>,
    /// Not before.
    #[serde(default)]
    pub nbf: Option<u64>,
}

/// `aud` may be a string or an array (RFC 7519 §4.1.3).
#[derive(Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// One audience.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl Audience {
    /// RFC 7523bis §4 and the 2025 OpenID audience-injection advisory: `aud` is the issuer
    /// identifier alone — a string, or an array holding that one value. An array that also
    /// names other parties would let an assertion made for one of them be played here (and the
    /// token endpoint URL, unlike the issuer, is something a malicious server can claim as its
    /// own), so `endpoint` (the token endpoint URL) counts only when the server's
    /// `insecure_accept_endpoint_audience` switch passes it.
    fn is_only(&self, issuer: &str, endpoint: Option<&str>) -> bool {
        let ok = |a: &String| a == issuer || endpoint.is_some_and(|e| a == e);
        match self {
            Self::One(a) => ok(a),
            Self::Many(v) if endpoint.is_none() => v.len() == 1 && ok(&v[0]),
            Self::Many(v) => !v.is_empty() && v.iter().all(ok),
        }
    }
}

/// The audit reason of an assertion whose `aud` is not this server's issuer alone; the token
/// endpoint names the expected audience in its `error_description` so the client can be fixed.
pub const AUDIENCE_MISMATCH: &str = "assertion_audience_mismatch";

/// The `iss` of an unverified assertion: which client claims to have signed it.
pub fn claimed_client_id(assertion: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Iss {
        iss: String,
    }
    jsonwebtoken::dangerous::insecure_decode_claims::<Iss>(assertion)
        .ok()
        .map(|c| c.iss)
}

/// Verifies `assertion` for `client`; the error is the audit reason.
pub(super) async fn verify(
    authority: &Authority,
    client: &Client,
    assertion: &str,
) -> Result<(), &'static str> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| "malformed_assertion")?;
    if !crate::jose::alg_allowed(header.alg, &ASSERTION_ALGS) {
        return Err("assertion_alg_not_allowed");
    }
    let jwks: Arc<JwkSet> = match client.credential.keys() {
        Some(ClientKeys::Jwks(jwks)) => {
            Arc::new(serde_json::from_str(jwks).map_err(|_| "no_registered_keys")?)
        }
        // Only a well-formed assertion with an allowed alg gets as far as a fetch.
        Some(ClientKeys::JwksUri(uri)) => {
            authority
                .remote_jwks()
                .keys(uri, header.kid.as_deref(), authority.clock().now())
                .await?
        }
        None => return Err("no_registered_keys"),
    };
    let jwk = match header.kid.as_deref() {
        Some(kid) => jwks.find(kid),
        None if jwks.keys.len() == 1 => jwks.keys.first(),
        None => None,
    }
    .ok_or("unknown_assertion_key")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| "unusable_registered_key")?;
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &validation)
        .map_err(|_| "invalid_assertion_signature")?
        .claims;
    // RFC 7523 §3: iss and sub are the client id; aud identifies this server.
    if claims.iss != client.id || claims.sub != client.id {
        return Err("assertion_subject_mismatch");
    }
    let settings = &authority.config().client_auth;
    let endpoint = settings
        .insecure_accept_endpoint_audience
        .then(|| authority.token_endpoint());
    if !claims.aud.is_only(authority.issuer(), endpoint) {
        return Err(AUDIENCE_MISMATCH);
    }
    let now = authority.clock().now();
    // `exp` is the client's number: saturate, never overflow (a panic under overflow checks).
    if claims.exp.saturating_add(LEEWAY) <= now {
        return Err("assertion_expired");
    }
    // The jti guard below lives until `exp`, so a long lifetime costs storage, not safety.
    if claims.exp > now.saturating_add(settings.max_assertion_lifetime_secs) {
        return Err("assertion_lifetime_too_long");
    }
    if claims
        .nbf
        .is_some_and(|nbf| nbf > now.saturating_add(LEEWAY))
    {
        return Err("assertion_not_yet_valid");
    }
    // RFC 7523 §3 (7): the jti is single-use, remembered until the assertion expires.
    let jti = claims
        .jti
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or("assertion_without_jti")?;
    let guard = SecretHash::of(format!("assertion:{}:{jti}", client.id).as_bytes()).to_hex();
    match authority
        .store()
        .insert_replay_guard(&guard, claims.exp.saturating_add(LEEWAY), now)
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err("assertion_replayed"),
        Err(_) => Err("replay_guard_unavailable"),
    }
}
