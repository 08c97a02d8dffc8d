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

/// RFC 9449 §4.3 (1)–(7): the proof's JOSE header (`typ`, an asymmetric `alg`, a public `jwk`)
/// and its signature by that key; returns the key and the claims. Pure, so it is property-tested
/// on arbitrary text: the proof is attacker-chosen.
fn parse(proof: &str) -> Result<(Jwk, Claims), OAuthError> {
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
    Ok((jwk, claims))
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
    let (jwk, claims) = parse(proof)?;
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

/// Property tests of the proof parser: junk headers, junk claims, junk signatures never panic;
/// a well-formed proof signed by its embedded key round-trips its claims.
#[cfg(test)]
mod proptests {
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use proptest::prelude::*;

    use super::parse;
    use crate::junk::json_junk;

    fn key() -> &'static Ed25519KeyPair {
        // As in production (the key ring installs it before any request): jsonwebtoken would
        // otherwise install its own provider on first use, and this test process's RS256
        // signing (keys::ring tests) would go through the wrong one.
        crate::keys::install_crypto_provider();
        static KEY: std::sync::OnceLock<Ed25519KeyPair> = std::sync::OnceLock::new();
        KEY.get_or_init(|| {
            let pkcs8 =
                Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new()).unwrap();
            Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
        })
    }

    fn header(extra_jwk: &str) -> String {
        let x = B64.encode(key().public_key().as_ref());
        format!(
            r#"{{"typ":"dpop+jwt","alg":"EdDSA","jwk":{{"kty":"OKP","crv":"Ed25519","x":"{x}"{extra_jwk}}}}}"#
        )
    }

    /// A compact JWS over arbitrary header and payload bytes, signed by the test key.
    fn signed(header: &[u8], payload: &[u8]) -> String {
        let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
        let sig = key().sign(input.as_bytes());
        format!("{input}.{}", B64.encode(sig.as_ref()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_text_never_panics(s in any::<String>(), dots in "[a-zA-Z0-9_\\-.é]{0,80}") {
            // jsonwebtoken fixes its crypto provider at first use: ours, as in a server.
            crate::keys::install_crypto_provider();
            let _ = parse(&s);
            let _ = parse(&dots);
        }

        #[test]
        fn junk_headers_never_panic(h in json_junk(), p in json_junk(), sig in "[A-Za-z0-9_-]{0,90}") {
            // jsonwebtoken fixes its crypto provider at first use: ours, as in a server.
            crate::keys::install_crypto_provider();
            let proof = format!("{}.{}.{sig}", B64.encode(&h), B64.encode(&p));
            prop_assert!(parse(&proof).is_err());
            let _ = parse(&signed(h.as_bytes(), p.as_bytes()));
        }

        #[test]
        fn junk_jwk_members_never_panic(extra in json_junk()) {
            // jsonwebtoken fixes its crypto provider at first use: ours, as in a server.
            crate::keys::install_crypto_provider();
            let h = header(&format!(r#","y":{extra},"e":{extra},"n":{extra}"#));
            let _ = parse(&signed(h.as_bytes(), br#"{"jti":"j","htm":"POST","htu":"https://as/t","iat":1}"#));
        }

        #[test]
        fn junk_claims_signed_by_the_embedded_key_never_panic(p in json_junk()) {
            // jsonwebtoken fixes its crypto provider at first use: ours, as in a server.
            crate::keys::install_crypto_provider();
            let _ = parse(&signed(header("").as_bytes(), p.as_bytes()));
        }

        #[test]
        fn well_formed_proofs_round_trip(
            jti in "[\\PC]{1,40}",
            htm in "[A-Z]{3,7}",
            htu in "https://[a-z]{1,10}\\.example/[a-z/]{0,20}",
            iat in 0u64..4_000_000_000,
        ) {
            let claims = serde_json::json!({"jti": jti, "htm": htm, "htu": htu, "iat": iat});
            let proof = signed(header("").as_bytes(), claims.to_string().as_bytes());
            let (_, parsed) = parse(&proof).unwrap();
            prop_assert_eq!(parsed.jti, jti);
            prop_assert_eq!(parsed.htm, htm);
            prop_assert_eq!(parsed.htu, htu);
            prop_assert_eq!(parsed.iat.as_u64(), Some(iat));
            // A private member in the jwk is refused, whatever else is right.
            let with_d = signed(header(r#","d":"AAAA""#).as_bytes(), claims.to_string().as_bytes());
            prop_assert!(parse(&with_d).is_err());
        }
    }
}
