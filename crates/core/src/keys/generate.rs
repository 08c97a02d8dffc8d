//! Generating a key pair and deriving its public JWK and `kid` (RFC 7638 thumbprint).
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use serde_json::json;

use super::provider::install_crypto_provider;
use tessera_proto::Secret;

use super::{KeyError, KeyState, Sealer, SigningAlg, StoredKey};

/// Generates a fresh key of `alg` in state `state`, sealed by `sealer` if one is given.
pub fn generate_key(
    alg: SigningAlg,
    state: KeyState,
    sealer: Option<&Sealer>,
    now: u64,
) -> Result<StoredKey, KeyError> {
    let rng = SystemRandom::new();
    let pkcs8 = match alg {
        SigningAlg::ES256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| KeyError::Generate("ES256 key generation failed"))?
            .as_ref()
            .to_vec(),
        SigningAlg::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| KeyError::Generate("Ed25519 key generation failed"))?
            .as_ref()
            .to_vec(),
        SigningAlg::RS256 => {
            use aws_lc_rs::encoding::AsDer;
            let pair = RsaKeyPair::generate(KeySize::Rsa2048)
                .map_err(|_| KeyError::Generate("RSA key generation failed"))?;
            pair.as_der()
                .map_err(|_| KeyError::Generate("RSA key encoding failed"))?
                .as_ref()
                .to_vec()
        }
    };
    let (kid, public_jwk) = public_jwk(alg, &pkcs8)?;
    let (private_key, sealed) = match sealer {
        Some(s) => (s.seal(&kid, &pkcs8)?, true),
        None => (pkcs8, false),
    };
    Ok(StoredKey {
        kid,
        alg,
        state,
        private_key: Secret::from_bytes(private_key),
        sealed,
        public_jwk,
        created_at: now,
        activated_at: (state == KeyState::Current).then_some(now),
        retired_at: None,
        revoked_at: None,
    })
}

/// The `kid` and public JWK (JSON text) of a PKCS#8 private key.
pub(super) fn public_jwk(alg: SigningAlg, pkcs8: &[u8]) -> Result<(String, String), KeyError> {
    let bad = |alg: &'static str| {
        move |e: aws_lc_rs::error::KeyRejected| KeyError::BadPrivateKey {
            alg,
            detail: e.to_string(),
        }
    };
    // Before any jsonwebtoken call: the thumbprint below would otherwise fix the crate's default
    // provider for the whole process.
    install_crypto_provider();
    let mut jwk = match alg {
        SigningAlg::ES256 => {
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                .map_err(bad("ES256"))?;
            let point = pair.public_key().as_ref();
            let (x, y) = point[1..].split_at(32);
            json!({"kty": "EC", "crv": "P-256", "x": B64.encode(x), "y": B64.encode(y)})
        }
        SigningAlg::EdDSA => {
            let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(bad("Ed25519"))?;
            json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode(pair.public_key().as_ref())})
        }
        SigningAlg::RS256 => {
            let pair = RsaKeyPair::from_pkcs8(pkcs8).map_err(bad("RSA"))?;
            let public = pair.public_key();
            json!({
                "kty": "RSA",
                "n": B64.encode(public.modulus().big_endian_without_leading_zero()),
                "e": B64.encode(public.exponent().big_endian_without_leading_zero()),
            })
        }
    };
    let parsed: Jwk =
        serde_json::from_value(jwk.clone()).map_err(|e| KeyError::Jwk(e.to_string()))?;
    let kid = parsed
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|e| KeyError::Jwk(e.to_string()))?;
    jwk["kid"] = json!(kid);
    jwk["alg"] = json!(alg.as_str());
    jwk["use"] = json!("sig");
    Ok((kid, jwk.to_string()))
}
