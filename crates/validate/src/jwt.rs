//! RFC 9068 §4 validation of JWT access tokens: `typ` `at+jwt`, an allowed asymmetric `alg`
//! matching the key, the signature (jsonwebtoken), `iss` exact, `aud` containing this resource
//! server, `exp`/`nbf`/`iat` within the leeway, and the required claims present.
//!
//! Split in two: [`verify_signed`] checks what the signed bytes and the key establish (its
//! result may be cached, see `jwt_cache`), [`check_time`] what depends on the clock (run on
//! every request).
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::Algorithm;
use serde::Deserialize;

use crate::claims::{Confirmation, TokenClaims, TokenFormat, split_scope};
use crate::config::ValidateConfig;
use crate::error::Rejection;
use crate::jwks::{JwksCache, Key};

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, aud: &str) -> bool {
        match self {
            Self::One(a) => a == aud,
            Self::Many(all) => all.iter().any(|a| a == aud),
        }
    }
}

/// RFC 9068 §2.2: every claim is required, except `scope` and `cnf`.
#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: u64,
    iat: u64,
    #[serde(default)]
    nbf: Option<u64>,
    jti: String,
    client_id: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    cnf: Option<Confirmation>,
    #[serde(default)]
    act: Option<tessera_proto::act::Act>,
}

fn is_mac(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

/// The JOSE header members the layer reads (RFC 7515 §4.1); others are ignored, as by
/// `jsonwebtoken`. An `alg` it cannot represent (`none` among them) fails to parse.
#[derive(Deserialize)]
struct JoseHeader<'a> {
    alg: Algorithm,
    #[serde(default, borrow)]
    typ: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    kid: Option<std::borrow::Cow<'a, str>>,
}

fn malformed(detail: impl ToString) -> Rejection {
    Rejection::invalid_token("the access token is malformed").detail(detail.to_string())
}

/// What verifying a JWT's signature and claims established: a property of the token's bytes
/// and of the key that verified them, so it may be cached for as long as that key is trusted.
pub struct Verified {
    /// The claims (`iss` and `aud` checked).
    pub claims: TokenClaims,
    /// `nbf`, for [`check_time`].
    pub nbf: Option<u64>,
    /// The header's `kid`.
    pub kid: String,
    /// The key that verified the signature.
    pub key: Arc<Key>,
}

/// Verifies `token`'s header, signature, issuer and audience and returns its claims; the time
/// claims are left to [`check_time`].
///
/// The token is split and each part decoded exactly once (the hot path of every uncached
/// request: `jsonwebtoken::decode` would parse the header three times and the claims twice);
/// the signature is verified by `jsonwebtoken`'s crypto provider (aws-lc-rs) over the signing
/// input.
pub async fn verify_signed(
    config: &ValidateConfig,
    jwks: &JwksCache,
    token: &str,
) -> Result<Verified, Rejection> {
    // RFC 7515 §7.1: the compact serialization is exactly three base64url parts.
    let (signing_input, signature) = token
        .rsplit_once('.')
        .ok_or_else(|| malformed("not a JWS"))?;
    let (header_b64, payload_b64) = signing_input
        .split_once('.')
        .filter(|(_, p)| !p.contains('.'))
        .ok_or_else(|| malformed("not a JWS"))?;
    let header_json = B64.decode(header_b64).map_err(malformed)?;
    let header: JoseHeader<'_> = serde_json::from_slice(&header_json).map_err(malformed)?;
    // RFC 9068 §4: typ must be at+jwt (the media type, case-insensitively, with or without the
    // application/ prefix), so an ID token or any other JWT of the issuer is not accepted.
    let typ = header.typ.as_deref().unwrap_or("");
    if !(typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt")) {
        return Err(Rejection::invalid_token(
            "the access token is not an at+jwt",
        ));
    }
    if is_mac(header.alg) || !config.algorithms.contains(&header.alg) {
        return Err(Rejection::invalid_token(
            "the access token's algorithm is not accepted",
        ));
    }
    let kid = header
        .kid
        .as_deref()
        .ok_or_else(|| Rejection::invalid_token("the access token names no key"))?;
    if jwks.is_revoked(kid) {
        return Err(Rejection::invalid_token(
            "the access token's signing key was revoked",
        ));
    }
    let key = jwks
        .key(kid)
        .await
        .ok_or_else(|| Rejection::invalid_token("the access token's key is unknown"))?;
    if key.alg.is_some_and(|a| a != header.alg) {
        return Err(Rejection::invalid_token(
            "the access token's algorithm does not match its key",
        ));
    }
    let invalid_signature = |detail: String| {
        Rejection::invalid_token("the access token's signature is invalid").detail(detail)
    };
    match jsonwebtoken::crypto::verify(signature, signing_input.as_bytes(), &key.key, header.alg) {
        Ok(true) => {}
        Ok(false) => return Err(invalid_signature("signature mismatch".into())),
        Err(e) => return Err(invalid_signature(e.to_string())),
    }
    // Only now, the signature being the issuer's, are the claims read: time, issuer and
    // audience against our clock with our leeway.
    let payload = B64.decode(payload_b64).map_err(malformed)?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|e| {
        Rejection::invalid_token("the access token lacks required claims").detail(e.to_string())
    })?;
    if claims.iss != config.issuer {
        return Err(Rejection::invalid_token(
            "the access token has the wrong issuer",
        ));
    }
    if !claims.aud.contains(&config.audience) {
        return Err(Rejection::invalid_token(
            "the access token is not for this resource server",
        ));
    }
    Ok(Verified {
        claims: TokenClaims {
            subject: claims.sub,
            client_id: claims.client_id,
            scopes: split_scope(&claims.scope),
            token_id: claims.jti,
            expires_at: claims.exp,
            issued_at: claims.iat,
            format: TokenFormat::Jwt,
            cnf: claims
                .cnf
                .filter(|c| c.jkt.is_some() || c.x5t_s256.is_some()),
            act: claims.act,
        },
        nbf: claims.nbf,
        kid: kid.to_string(),
        key,
    })
}

/// `exp`, `nbf` and `iat` of a verified token against `now` (seconds since the epoch), with
/// the configured leeway.
pub fn check_time(config: &ValidateConfig, v: &Verified, now: u64) -> Result<(), Rejection> {
    let leeway = config.leeway.as_secs();
    let (exp, iat) = (v.claims.expires_at, v.claims.issued_at);
    if now >= exp + leeway {
        return Err(Rejection::invalid_token("the access token expired"));
    }
    if v.nbf.unwrap_or(iat) > now + leeway || iat > now + leeway {
        return Err(Rejection::invalid_token(
            "the access token is not yet valid",
        ));
    }
    Ok(())
}
