//! The DPoP proof check (RFC 9449 §4.3), one pure function for the token endpoint and for
//! resource servers alike: [`check`] validates the proof's header, signature and claims against
//! the request and the clock, and returns what each caller's own policy needs — the key
//! thumbprint, the `jti` for its replay guard (a store at the authorization server, a bounded
//! cache at a resource server), the `nonce` and the `ath`. No I/O, no state: the replay guard and
//! the nonce policy stay with the caller.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{DecodingKey, Validation};
use serde::Deserialize;

use crate::error::{ErrorCode, OAuthError};
use crate::jose;

/// RFC 9449 §5: the algorithms accepted in proofs (advertised as
/// `dpop_signing_alg_values_supported`, listed in the `algs` of a resource server's challenge).
pub const DPOP_ALGS: [&str; 6] = jose::ASYMMETRIC_ALGS;

/// Longest `jti` accepted (it is attacker-chosen and remembered until the proof would expire).
const MAX_JTI: usize = 256;

/// How far a proof's `iat` may stray from the verifier's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Oldest acceptable proof, in seconds.
    pub max_age: u64,
    /// Clock skew tolerated on a proof from the future, in seconds.
    pub max_skew: u64,
}

/// A proof that passed [`check`]: what the caller's replay guard and policies work with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// RFC 7638 SHA-256 thumbprint of the proof key (a token's `cnf.jkt`).
    pub jkt: String,
    /// The proof's `jti` (1 to 256 characters).
    pub jti: String,
    /// The proof's `iat`, whole seconds.
    pub iat: u64,
    /// The `ath` claim (RFC 9449 §4.2), if any: for a resource server to compare with [`ath`].
    pub ath: Option<String>,
    /// The `nonce` claim (RFC 9449 §8), if any: for a server that requires one.
    pub nonce: Option<String>,
    /// Until when (seconds) a replay guard must remember the proof: past it, [`check`] refuses
    /// the proof as too old anyway.
    pub replay_until: u64,
}

impl Proof {
    /// RFC 9449 §11.1: the key a replay guard records — the `jti` of *this key's* proofs, so one
    /// client cannot block another's `jti`.
    pub fn replay_key(&self) -> String {
        format!("{}:{}", self.jkt, self.jti)
    }
}

#[derive(Deserialize)]
struct Claims {
    jti: String,
    htm: String,
    htu: String,
    iat: serde_json::Number,
    #[serde(default)]
    ath: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

fn invalid(description: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidDpopProof, description)
}

/// RFC 9449 §4.2: `ath` is "the base64url encoding of the SHA-256 hash of the ASCII encoding
/// of the associated access token's value".
pub fn ath(access_token: &str) -> String {
    B64.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        access_token.as_bytes(),
    ))
}

/// RFC 9449 §4.3 (9): the `htu` "without query and fragment parts", after RFC 3986 §6
/// syntax-based normalisation — the origin as the `url` crate serialises it (lower-case scheme
/// and host, no default port), the path in [`crate::path::normalize`]'s form (dot segments
/// removed, unreserved characters decoded) — so a proof names the request however either side
/// spelled it. `None` for anything but an absolute `http`/`https` URI with a normalisable path.
pub fn normalize_htu(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let path = crate::path::normalize(url.path()).ok()?;
    Some(format!("{}{path}", url.origin().ascii_serialization()))
}

/// RFC 9449 §4.3 (1)–(7): the proof's JOSE header (`typ`, an asymmetric `alg`, a public `jwk`)
/// and its signature by that key; returns the key and the claims.
fn parse(proof: &str) -> Result<(Jwk, Claims), OAuthError> {
    let header = jsonwebtoken::decode_header(proof)
        .map_err(|_| invalid("the DPoP proof is not a valid JWT"))?;
    // (4): typ is dpop+jwt.
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err(invalid("the DPoP proof's typ must be dpop+jwt"));
    }
    // (5): an asymmetric algorithm we support; never none, never a MAC.
    if !jose::alg_allowed(header.alg, &DPOP_ALGS) {
        return Err(invalid("the DPoP proof's alg is not supported"));
    }
    // (7): the jwk is a public key — read from the raw header, as `Jwk` drops private members.
    let raw_header: serde_json::Value = proof
        .split('.')
        .next()
        .and_then(|h| B64.decode(h).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| invalid("the DPoP proof header is malformed"))?;
    let raw_jwk = raw_header
        .get("jwk")
        .filter(|j| j.is_object())
        .ok_or_else(|| invalid("the DPoP proof has no jwk"))?;
    if jose::has_private_members(raw_jwk) {
        return Err(invalid("the DPoP proof's jwk contains a private key"));
    }
    let jwk: Jwk = header
        .jwk
        .clone()
        .ok_or_else(|| invalid("the DPoP proof has no jwk"))?;
    let key = DecodingKey::from_jwk(&jwk)
        .map_err(|_| invalid("the DPoP proof's jwk is not a usable public key"))?;
    // (6): the signature, with the embedded key.
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Claims>(proof, &key, &validation)
        .map_err(|_| invalid("the DPoP proof's signature or claims are invalid"))?
        .claims;
    Ok((jwk, claims))
}

/// Checks the `DPoP` header value `proof` for a `method` request to `url` at `now` (seconds):
/// RFC 9449 §4.3 checks (1)–(9) and (11), in that order. What is left to the caller: (10) the
/// nonce, when it requires one ([`Proof::nonce`]); (12) the replay guard ([`Proof::replay_key`]
/// until [`Proof::replay_until`]); and at a resource server, §7.1's binding to the token
/// (`cnf.jkt` = [`Proof::jkt`], [`Proof::ath`] = [`ath`] of the token). Every refusal is
/// `invalid_dpop_proof`; the proof is attacker-chosen, so nothing here panics on any input.
pub fn check(
    proof: &str,
    method: &str,
    url: &str,
    now: u64,
    limits: Limits,
) -> Result<Proof, OAuthError> {
    let (jwk, claims) = parse(proof)?;
    // (8): "The htm claim matches the HTTP method of the current request."
    if claims.htm != method {
        return Err(invalid(
            "the DPoP proof's htm does not match the request method",
        ));
    }
    // (9): "The htu claim matches the HTTP URI value for the HTTP request in which the JWT was
    // received, ignoring any query and fragment parts."
    let htu = normalize_htu(&claims.htu);
    if htu.is_none() || htu != normalize_htu(url) {
        return Err(invalid(
            "the DPoP proof's htu does not match the request URI",
        ));
    }
    // (11): "The creation time of the JWT, as determined by ... the iat claim, is within an
    // acceptable window."
    let iat = claims
        .iat
        .as_f64()
        .filter(|t| t.is_finite() && *t >= 0.0)
        .map(|t| t as u64)
        .ok_or_else(|| invalid("the DPoP proof's iat is not a number"))?;
    if iat > now.saturating_add(limits.max_skew) || iat.saturating_add(limits.max_age) < now {
        return Err(invalid(
            "the DPoP proof's iat is outside the acceptable window",
        ));
    }
    if claims.jti.is_empty() || claims.jti.len() > MAX_JTI {
        return Err(invalid("the DPoP proof's jti is missing or too long"));
    }
    let jkt = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|_| invalid("the DPoP proof's jwk has no thumbprint"))?;
    Ok(Proof {
        jkt,
        jti: claims.jti,
        iat,
        ath: claims.ath,
        nonce: claims.nonce,
        replay_until: iat
            .max(now)
            .saturating_add(limits.max_age)
            .saturating_add(limits.max_skew),
    })
}

#[cfg(test)]
mod tests;
