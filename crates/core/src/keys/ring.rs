//! The keys a node holds in memory: one parsed current signer per algorithm, the verifiers of
//! every published key, and the JWK Set document, rebuilt whenever the stored keys change.
use std::collections::HashMap;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::provider::install_crypto_provider;
use super::{KeyError, KeyState, Sealer, SigningAlg, StoredKey};

/// The current signing key of one algorithm, parsed once.
pub struct ActiveSigner {
    /// Its key id.
    pub kid: String,
    /// When it became current (seconds since the epoch), for the key-age metric.
    pub activated_at: u64,
    key: EncodingKey,
    header: Header,
}

/// Why a JWT did not verify.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not a JWT, or a header we cannot read.
    #[error("malformed JWT")]
    Malformed,
    /// Its `kid` is not one of our published keys.
    #[error("unknown key")]
    UnknownKey,
    /// Wrong `typ`, `alg`, issuer or signature.
    #[error("invalid JWT: {0}")]
    Invalid(String),
}

/// Signers, verifiers and the published JWK Set.
pub struct KeyRing {
    signers: HashMap<SigningAlg, ActiveSigner>,
    verifiers: HashMap<String, (SigningAlg, DecodingKey)>,
    jwks: String,
}

impl KeyRing {
    /// Builds the ring from stored keys: current keys sign; current, next and retired keys whose
    /// tokens may still be alive (`retired_at + publish_retired_for > now`) are published.
    /// Revoked keys are neither published nor trusted: their tokens no longer verify.
    pub fn load(
        keys: &[StoredKey],
        sealer: Option<&Sealer>,
        now: u64,
        publish_retired_for: u64,
    ) -> Result<Self, KeyError> {
        install_crypto_provider();
        let mut signers = HashMap::new();
        let mut verifiers = HashMap::new();
        let mut published = Vec::new();
        for k in keys {
            let live = match k.state {
                KeyState::Current | KeyState::Next => true,
                KeyState::Retired => k.retired_at.unwrap_or(0) + publish_retired_for > now,
                KeyState::Revoked => false,
            };
            if !live {
                continue;
            }
            let jwk: Jwk =
                serde_json::from_str(&k.public_jwk).map_err(|e| KeyError::StoredJwk {
                    kid: k.kid.clone(),
                    detail: e.to_string(),
                })?;
            let decoding =
                DecodingKey::from_jwk(&jwk).map_err(|e| KeyError::Decoding(e.to_string()))?;
            verifiers.insert(k.kid.clone(), (k.alg, decoding));
            published
                .push(serde_json::from_str::<serde_json::Value>(&k.public_jwk).expect("valid"));
            if k.state == KeyState::Current {
                let der = match (k.sealed, sealer) {
                    (false, _) => k.private_key.expose_secret().to_vec(),
                    (true, Some(s)) => s.open(&k.kid, k.private_key.expose_secret())?,
                    (true, None) => {
                        return Err(KeyError::SealedWithoutKek(k.kid.clone()));
                    }
                };
                let key = match k.alg {
                    SigningAlg::ES256 => EncodingKey::from_ec_der(&der),
                    SigningAlg::EdDSA => EncodingKey::from_ed_der(&der),
                    SigningAlg::RS256 => EncodingKey::from_rsa_der(&der),
                };
                let mut header = Header::new(k.alg.jwt_algorithm());
                header.typ = Some("at+jwt".into());
                header.kid = Some(k.kid.clone());
                let activated_at = k.activated_at.unwrap_or(k.created_at);
                let newer = signers
                    .get(&k.alg)
                    .is_none_or(|s: &ActiveSigner| s.activated_at <= activated_at);
                if newer {
                    signers.insert(
                        k.alg,
                        ActiveSigner {
                            kid: k.kid.clone(),
                            activated_at,
                            key,
                            header,
                        },
                    );
                }
            }
        }
        let jwks = serde_json::json!({ "keys": published }).to_string();
        Ok(Self {
            signers,
            verifiers,
            jwks,
        })
    }

    /// The current signer of `alg`.
    pub fn signer(&self, alg: SigningAlg) -> Option<&ActiveSigner> {
        self.signers.get(&alg)
    }

    /// Algorithms with a current key.
    pub fn algorithms(&self) -> Vec<SigningAlg> {
        SigningAlg::ALL
            .into_iter()
            .filter(|a| self.signers.contains_key(a))
            .collect()
    }

    /// Signs `claims` as an RFC 9068 JWT (`typ: at+jwt`) with the current key of `alg`.
    pub fn sign<T: Serialize>(&self, alg: SigningAlg, claims: &T) -> Result<String, KeyError> {
        let signer = self
            .signer(alg)
            .ok_or(KeyError::NoCurrentKey(alg.as_str()))?;
        jsonwebtoken::encode(&signer.header, claims, &signer.key)
            .map_err(|e| KeyError::Sign(e.to_string()))
    }

    /// Verifies a JWT signed by one of our published keys: `typ` `at+jwt`, the key's own `alg`,
    /// the signature and `iss`. Time claims are the caller's to check, against its clock.
    pub fn verify<T: DeserializeOwned>(&self, token: &str, issuer: &str) -> Result<T, VerifyError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
        if header
            .typ
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
            != Some("at+jwt")
        {
            return Err(VerifyError::Invalid("typ is not at+jwt".into()));
        }
        let kid = header.kid.as_deref().ok_or(VerifyError::UnknownKey)?;
        let (alg, key) = self.verifiers.get(kid).ok_or(VerifyError::UnknownKey)?;
        if header.alg != alg.jwt_algorithm() {
            return Err(VerifyError::Invalid("alg does not match the key".into()));
        }
        let mut validation = Validation::new(alg.jwt_algorithm());
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.set_issuer(&[issuer]);
        jsonwebtoken::decode::<T>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(|e| VerifyError::Invalid(e.to_string()))
    }

    /// The JWK Set document (RFC 7517 §5).
    pub fn jwks_json(&self) -> &str {
        &self.jwks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::generate_key;

    #[test]
    fn every_algorithm_signs_and_verifies() {
        for alg in SigningAlg::ALL {
            let key = generate_key(alg, KeyState::Current, None, 1000).unwrap();
            let ring = KeyRing::load(&[key], None, 1000, 60).unwrap();
            let claims = serde_json::json!({"iss": "https://as", "sub": "s"});
            let jwt = ring
                .sign(alg, &claims)
                .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
            let back: serde_json::Value = ring.verify(&jwt, "https://as").unwrap();
            assert_eq!(back["sub"], "s", "{alg:?}");
            assert!(
                ring.verify::<serde_json::Value>(&jwt, "https://other")
                    .is_err()
            );
        }
    }
}
