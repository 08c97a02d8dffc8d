//! A `jsonwebtoken` crypto provider that keeps each private key parsed.
//!
//! `jsonwebtoken` builds a signer from the key bytes on every `encode`, which re-parses the PKCS#8
//! key each time (13–17 µs of a ~48 µs token request, DESIGN.md "Measured on this machine"). This
//! provider caches the parsed aws-lc-rs key pair per key and delegates everything else —
//! verification, JWK utilities — to the crate's own aws-lc-rs provider. JOSE stays the library's.
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Once, RwLock};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, aws_lc};
use jsonwebtoken::errors::{ErrorKind, Result as JwtResult};
use jsonwebtoken::{Algorithm, EncodingKey};

enum Pair {
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    Rsa(RsaKeyPair),
}

struct CachedSigner {
    alg: Algorithm,
    pair: Arc<Pair>,
}

impl jsonwebtoken::signature::Signer<Vec<u8>> for CachedSigner {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, jsonwebtoken::signature::Error> {
        let rng = SystemRandom::new();
        let err = |_| jsonwebtoken::signature::Error::new();
        match &*self.pair {
            Pair::Ec(p) => Ok(p.sign(&rng, msg).map_err(err)?.as_ref().to_vec()),
            Pair::Ed(p) => Ok(p.sign(msg).as_ref().to_vec()),
            Pair::Rsa(p) => {
                let mut sig = vec![0; p.public_modulus_len()];
                p.sign(&RSA_PKCS1_SHA256, &rng, msg, &mut sig)
                    .map_err(err)?;
                Ok(sig)
            }
        }
    }
}

impl JwtSigner for CachedSigner {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

static PAIRS: LazyLock<RwLock<HashMap<Vec<u8>, Arc<Pair>>>> = LazyLock::new(Default::default);

fn parse(alg: Algorithm, der: &[u8]) -> JwtResult<Pair> {
    Ok(match alg {
        Algorithm::ES256 => Pair::Ec(
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                .map_err(|_| ErrorKind::InvalidEcdsaKey)?,
        ),
        Algorithm::EdDSA => {
            Pair::Ed(Ed25519KeyPair::from_pkcs8(der).map_err(|_| ErrorKind::InvalidKeyFormat)?)
        }
        Algorithm::RS256 => Pair::Rsa(
            RsaKeyPair::from_pkcs8(der).map_err(|e| ErrorKind::InvalidRsaKey(e.to_string()))?,
        ),
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    })
}

fn cached_signer(alg: &Algorithm, key: &EncodingKey) -> JwtResult<Box<dyn JwtSigner>> {
    if !matches!(alg, Algorithm::ES256 | Algorithm::EdDSA | Algorithm::RS256) {
        return (aws_lc::DEFAULT_PROVIDER.signer_factory)(alg, key);
    }
    let der = key.as_bytes();
    if let Some(pair) = PAIRS.read().expect("key cache poisoned").get(der) {
        return Ok(Box::new(CachedSigner {
            alg: *alg,
            pair: pair.clone(),
        }));
    }
    let pair = Arc::new(parse(*alg, der)?);
    PAIRS
        .write()
        .expect("key cache poisoned")
        .insert(der.to_vec(), pair.clone());
    Ok(Box::new(CachedSigner { alg: *alg, pair }))
}

static PROVIDER: LazyLock<CryptoProvider> = LazyLock::new(|| CryptoProvider {
    signer_factory: cached_signer,
    ..aws_lc::DEFAULT_PROVIDER.clone()
});

/// Installs the caching provider as `jsonwebtoken`'s process default (once; later calls no-op).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only if another provider was installed first; then that one is used.
        let _ = PROVIDER.install_default();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_pkcs8_signs() {
        use aws_lc_rs::encoding::AsDer;
        let pair = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der = pair.as_der().unwrap().as_ref().to_vec();
        let parsed = RsaKeyPair::from_pkcs8(&der).unwrap();
        let mut sig = vec![0; parsed.public_modulus_len()];
        let r = parsed.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), b"msg", &mut sig);
        assert!(r.is_ok(), "{r:?}");
    }
}
