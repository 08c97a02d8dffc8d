//! DPoP at the resource server (RFC 9449 §7): the proof in the `DPoP` header must be valid for
//! this request (`typ`, asymmetric `alg`, public `jwk`, signature, `htm`, `htu`, fresh `iat`),
//! bound to the token (`ath` = base64url SHA-256 of the access token), signed by the key the
//! token names (`cnf.jkt`) and never seen before (a bounded in-memory `jti` cache).
use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{DecodingKey, Validation};
use serde::Deserialize;
use tessera_core::binding::dpop::DPOP_ALGS;

use crate::error::{ErrorKind, Rejection};

/// Longest `jti` accepted.
const MAX_JTI: usize = 256;

/// The algorithms a proof may use, space-separated, for the `algs` challenge parameter.
pub fn algs() -> String {
    DPOP_ALGS.join(" ")
}

fn invalid(description: &'static str) -> Rejection {
    Rejection::bearer(ErrorKind::InvalidDpopProof, description).dpop()
}

#[derive(Deserialize)]
struct Claims {
    jti: String,
    htm: String,
    htu: String,
    iat: serde_json::Number,
    #[serde(default)]
    ath: Option<String>,
}

/// Proof `jti`s seen, each kept until its proof could no longer be accepted.
pub struct ReplayCache {
    seen: Mutex<HashMap<String, u64>>,
    max: usize,
}

impl ReplayCache {
    /// A cache remembering at most `max` proofs.
    pub fn new(max: usize) -> Self {
        Self {
            seen: Mutex::new(HashMap::new()),
            max,
        }
    }

    /// Records `key` until `expires`; `false` for a replay, or when full of live entries
    /// (failing closed: forgetting a `jti` early would let its proof be replayed).
    fn insert(&self, key: String, expires: u64, now: u64) -> bool {
        let mut seen = self.seen.lock().expect("poisoned");
        if seen.get(&key).is_some_and(|e| *e > now) {
            return false;
        }
        if seen.len() >= self.max {
            seen.retain(|_, e| *e > now);
            if seen.len() >= self.max {
                return false;
            }
        }
        seen.insert(key, expires);
        true
    }
}

/// What a proof is checked against.
pub struct Request<'a> {
    /// The proof (the one `DPoP` header).
    pub proof: &'a str,
    /// The request method.
    pub method: &'a str,
    /// The request URI: the configured external origin and the path in normal form.
    pub url: &'a str,
    /// The access token presented with it.
    pub access_token: &'a str,
    /// The token's `cnf.jkt`.
    pub jkt: &'a str,
}

/// RFC 9449 §4.3 (9): the `htu` without query and fragment, after RFC 3986 §6 syntax-based
/// normalisation — the origin as `url` serialises it, the path in the layer's normal form
/// ([`crate::path::normalize`]), so a proof names the request however either side spelled it.
fn htu_form(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let path = crate::path::normalize(url.path()).ok()?;
    Some(format!("{}{path}", url.origin().ascii_serialization()))
}

/// Validates a proof for a DPoP-bound token.
pub fn verify(
    req: &Request<'_>,
    replay: &ReplayCache,
    now: u64,
    max_age: u64,
    skew: u64,
) -> Result<(), Rejection> {
    let header = jsonwebtoken::decode_header(req.proof)
        .map_err(|_| invalid("the DPoP proof is not a valid JWT"))?;
    // RFC 9449 §4.3 (4), (5): typ dpop+jwt, an asymmetric algorithm.
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err(invalid("the DPoP proof's typ must be dpop+jwt"));
    }
    if !tessera_core::jose::alg_allowed(header.alg, &DPOP_ALGS) {
        return Err(invalid("the DPoP proof's alg is not supported"));
    }
    // (7): the embedded jwk is public.
    let raw_header: serde_json::Value = req
        .proof
        .split('.')
        .next()
        .and_then(|h| B64.decode(h).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| invalid("the DPoP proof header is malformed"))?;
    let private = raw_header
        .get("jwk")
        .and_then(|j| j.as_object())
        .is_none_or(|jwk| {
            tessera_core::jose::has_private_members(&serde_json::Value::Object(jwk.clone()))
        });
    if private {
        return Err(invalid("the DPoP proof's jwk is missing or private"));
    }
    let jwk: Jwk = header
        .jwk
        .clone()
        .ok_or_else(|| invalid("the DPoP proof has no jwk"))?;
    let key = DecodingKey::from_jwk(&jwk)
        .map_err(|_| invalid("the DPoP proof's jwk is not a usable public key"))?;
    // §7.1: the proof key must be the one the token is bound to.
    let jkt = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|_| invalid("the DPoP proof's jwk has no thumbprint"))?;
    if jkt != req.jkt {
        return Err(invalid("the DPoP proof's key is not the token's key"));
    }
    // (6): the signature.
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Claims>(req.proof, &key, &validation)
        .map_err(|_| invalid("the DPoP proof's signature or claims are invalid"))?
        .claims;
    // (8), (9): this request.
    if claims.htm != req.method {
        return Err(invalid(
            "the DPoP proof's htm does not match the request method",
        ));
    }
    let htu = htu_form(&claims.htu);
    if htu.is_none() || htu != htu_form(req.url) {
        return Err(invalid(
            "the DPoP proof's htu does not match the request URI",
        ));
    }
    // §4.3 (12) / §7.1: ath is the hash of this very token.
    let ath = B64.encode(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, req.access_token.as_bytes()).as_ref(),
    );
    if claims.ath.as_deref() != Some(ath.as_str()) {
        return Err(invalid(
            "the DPoP proof's ath does not match the access token",
        ));
    }
    // (11): fresh.
    let iat = claims
        .iat
        .as_f64()
        .filter(|t| t.is_finite() && *t >= 0.0)
        .map(|t| t as u64)
        .ok_or_else(|| invalid("the DPoP proof's iat is not a number"))?;
    if iat > now + skew || iat + max_age < now {
        return Err(invalid(
            "the DPoP proof's iat is outside the acceptable window",
        ));
    }
    if claims.jti.is_empty() || claims.jti.len() > MAX_JTI {
        return Err(invalid("the DPoP proof's jti is missing or too long"));
    }
    // (12): unseen.
    if !replay.insert(
        format!("{jkt}:{}", claims.jti),
        iat.max(now) + max_age + skew,
        now,
    ) {
        return Err(invalid("the DPoP proof was already used"));
    }
    Ok(())
}
