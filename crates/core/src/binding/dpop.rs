//! DPoP proof validation (RFC 9449 §4.3) at the token endpoint: `typ`, an asymmetric `alg`, a
//! public embedded `jwk`, the signature, `htm`, `htu`, a fresh `iat`, an unseen `jti` (the
//! replay guard lives in the store, so it holds across nodes) and, when required, the nonce.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{DecodingKey, Validation};
use serde::Deserialize;
use tessera_proto::{ErrorCode, OAuthError, SecretHash};

use crate::authority::Authority;
use crate::jose;

/// RFC 9449 §5: the algorithms accepted in proofs (advertised as `dpop_signing_alg_values_supported`).
pub const DPOP_ALGS: [&str; 6] = jose::ASYMMETRIC_ALGS;

/// Longest `jti` accepted (it is attacker-chosen and stored until the proof would expire).
const MAX_JTI: usize = 256;

/// A validated proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpopProof {
    /// RFC 7638 SHA-256 thumbprint of the proof key.
    pub jkt: String,
}

#[derive(Deserialize)]
struct Claims {
    jti: String,
    htm: String,
    htu: String,
    iat: serde_json::Number,
    #[serde(default)]
    nonce: Option<String>,
}

fn invalid(description: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidDpopProof, description)
}

/// RFC 9449 §4.3 (9): compare `htu` without query and fragment, after RFC 3986 §6.2.2/§6.2.3
/// normalisation (case of scheme and host, default port, dot segments).
pub fn normalize_htu(uri: &str) -> Option<String> {
    let mut url = url::Url::parse(uri).ok()?;
    url.set_query(None);
    url.set_fragment(None);
    Some(url.to_string())
}

/// Validates the `DPoP` header value `proof` for a `method` request to `url`. `Ok(None)` when
/// there is no proof. A replayed proof, a bad nonce or any failed rule is an error.
pub async fn verify(
    authority: &Authority,
    proof: Option<&str>,
    method: &str,
    url: &str,
) -> Result<Option<DpopProof>, OAuthError> {
    let Some(proof) = proof else { return Ok(None) };
    let config = &authority.config().dpop;
    let header = jsonwebtoken::decode_header(proof)
        .map_err(|_| invalid("the DPoP proof is not a valid JWT"))?;
    // RFC 9449 §4.3 (4): typ is dpop+jwt.
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err(invalid("the DPoP proof's typ must be dpop+jwt"));
    }
    // (5): an asymmetric algorithm we support; never none, never a MAC.
    if !jose::alg_allowed(header.alg, &DPOP_ALGS) {
        return Err(invalid("the DPoP proof's alg is not supported"));
    }
    // (7): the jwk is a public key.
    let raw_header: serde_json::Value = proof
        .split('.')
        .next()
        .and_then(|h| B64.decode(h).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| invalid("the DPoP proof header is malformed"))?;
    let raw_jwk = raw_header
        .get("jwk")
        .and_then(|j| j.as_object())
        .ok_or_else(|| invalid("the DPoP proof has no jwk"))?;
    if jose::has_private_members(&serde_json::Value::Object(raw_jwk.clone())) {
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
    // (8), (9): method and URI of this request.
    if claims.htm != method {
        return Err(invalid(
            "the DPoP proof's htm does not match the request method",
        ));
    }
    let htu = normalize_htu(&claims.htu);
    if htu.is_none() || htu != normalize_htu(url) {
        return Err(invalid(
            "the DPoP proof's htu does not match the request URI",
        ));
    }
    // (11): issued within the acceptable window.
    let now = authority.clock().now();
    let iat = claims
        .iat
        .as_f64()
        .filter(|t| t.is_finite() && *t >= 0.0)
        .map(|t| t as u64)
        .ok_or_else(|| invalid("the DPoP proof's iat is not a number"))?;
    if iat > now + config.max_clock_skew_secs || iat + config.max_age_secs < now {
        return Err(invalid(
            "the DPoP proof's iat is outside the acceptable window",
        ));
    }
    if claims.jti.is_empty() || claims.jti.len() > MAX_JTI {
        return Err(invalid("the DPoP proof's jti is missing or too long"));
    }
    // (10): the server-provided nonce, when required.
    if config.require_nonce {
        let fresh = claims
            .nonce
            .as_deref()
            .is_some_and(|n| authority.dpop_nonces().accepts(n, now));
        if !fresh {
            return Err(OAuthError::new(
                ErrorCode::UseDpopNonce,
                "authorization server requires nonce in DPoP proof",
            ));
        }
    }
    let jkt = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|_| invalid("the DPoP proof's jwk has no thumbprint"))?;
    // (12): not seen before — the guard is keyed by key and jti, kept until the proof expires.
    let guard = SecretHash::of(format!("dpop:{jkt}:{}", claims.jti).as_bytes()).to_hex();
    let expires = iat.max(now) + config.max_age_secs + config.max_clock_skew_secs;
    if !authority
        .store()
        .insert_replay_guard(&guard, expires, now)
        .await?
    {
        return Err(invalid("the DPoP proof was already used"));
    }
    Ok(Some(DpopProof { jkt }))
}

#[cfg(test)]
mod tests {
    use super::normalize_htu;

    #[test]
    fn htu_normalisation_ignores_query_fragment_case_and_default_port() {
        let a = normalize_htu("HTTPS://AS.Example.com:443/token?x=1#f");
        assert_eq!(a.as_deref(), Some("https://as.example.com/token"));
        assert_eq!(normalize_htu("https://as.example.com/a/../token"), a);
        assert_ne!(normalize_htu("https://as.example.com/token2"), a);
        assert!(normalize_htu("not a url").is_none());
    }
}
