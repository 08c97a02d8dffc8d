//! DPoP at the token endpoint (RFC 9449 §4.3, §8): proto's [`check`] validates the proof
//! (`typ`, an asymmetric `alg`, a public embedded `jwk`, the signature, `htm`, `htu`, a fresh
//! `iat`); this server adds its own policy — the nonce when required, and the replay guard, which
//! lives in the store so it holds across nodes.
use tessera_proto::dpop::{Limits, check};
use tessera_proto::{ErrorCode, OAuthError, SecretHash};

use crate::authority::Authority;

pub use tessera_proto::dpop::DPOP_ALGS;

/// A validated proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpopProof {
    /// RFC 7638 SHA-256 thumbprint of the proof key.
    pub jkt: String,
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
    let now = authority.clock().now();
    let limits = Limits {
        max_age: config.max_age_secs,
        max_skew: config.max_clock_skew_secs,
    };
    let proof = check(proof, method, url, now, limits)?;
    // RFC 9449 §4.3 (10): the server-provided nonce, when required.
    if config.require_nonce {
        let fresh = proof
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
    // (12): not seen before — the guard is keyed by key and jti, kept until the proof expires.
    let guard = SecretHash::of(format!("dpop:{}", proof.replay_key()).as_bytes()).to_hex();
    if !authority
        .store()
        .insert_replay_guard(&guard, proof.replay_until, now)
        .await?
    {
        return Err(OAuthError::new(
            ErrorCode::InvalidDpopProof,
            "the DPoP proof was already used",
        ));
    }
    Ok(Some(DpopProof { jkt: proof.jkt }))
}

/// Property tests of the proof check this server calls (proto's, where the hostile-JSON
/// generators of core's parsers are not): junk headers, junk claims, junk signatures never
/// panic; a well-formed proof signed by its embedded key passes with its claims.
#[cfg(test)]
mod proptests {
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use proptest::prelude::*;
    use tessera_proto::OAuthError;
    use tessera_proto::dpop::{Limits, Proof, check};

    use crate::junk::json_junk;

    const LIMITS: Limits = Limits {
        max_age: 60,
        max_skew: 5,
    };

    /// The check for a `POST https://as/t` at time 1.
    fn parse(proof: &str) -> Result<Proof, OAuthError> {
        check(proof, "POST", "https://as/t", 1, LIMITS)
    }

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
            let parsed = check(&proof, &htm, &htu, iat, LIMITS).unwrap();
            prop_assert_eq!(parsed.jti, jti);
            prop_assert_eq!(parsed.iat, iat);
            // A private member in the jwk is refused, whatever else is right.
            let with_d = signed(header(r#","d":"AAAA""#).as_bytes(), claims.to_string().as_bytes());
            prop_assert!(check(&with_d, &htm, &htu, iat, LIMITS).is_err());
        }
    }
}
