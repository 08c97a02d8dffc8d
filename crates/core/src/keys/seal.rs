//! Private keys at rest: AES-256-GCM under the key-encryption key (`keys.encryption_key`, or
//! the key file of [`super::kek_file`]), each blob bound to its key id as associated data, so a
//! sealed key copied onto another row (another `kid`) does not open.
use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::SealError;

/// Seals and opens private keys.
pub struct Sealer(LessSafeKey);

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

impl Sealer {
    /// Builds a sealer from a base64 (standard alphabet) 32-byte key.
    pub fn from_base64(b64: &str) -> Result<Self, SealError> {
        let bytes = STANDARD
            .decode(b64.trim())
            .map_err(|_| SealError::NotBase64)?;
        if bytes.len() != 32 {
            return Err(SealError::WrongLength);
        }
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| SealError::BadKey)?;
        Ok(Self(LessSafeKey::new(key)))
    }

    /// `nonce || ciphertext || tag`, with `kid` as the AEAD associated data.
    pub fn seal(&self, kid: &str, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| SealError::Rng)?;
        let mut buf = plaintext.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut buf,
            )
            .map_err(|_| SealError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// Opens what [`Sealer::seal`] produced for `kid`; fails on a wrong key, tampering, or a
    /// blob sealed for another kid.
    pub fn open(&self, kid: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        self.open_with(Aad::from(kid.as_bytes()), sealed)
    }

    /// Opens a blob sealed before blobs were bound to their kid (empty associated data). Only
    /// the start-up migration calls it, to re-seal such blobs with their kid
    /// (`keys::lifecycle::reseal_keys`); the key ring never accepts them.
    pub fn open_unbound(&self, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        self.open_with(Aad::from(&[][..]), sealed)
    }

    fn open_with(&self, aad: Aad<&[u8]>, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < NONCE_LEN {
            return Err(SealError::TooShort);
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::BadNonce)?;
        let mut buf = rest.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, aad, &mut buf)
            .map_err(|_| SealError::DoesNotOpen)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_detects_the_wrong_key() {
        let a = Sealer::from_base64(&STANDARD.encode([7u8; 32])).unwrap();
        let b = Sealer::from_base64(&STANDARD.encode([8u8; 32])).unwrap();
        let sealed = a.seal("kid-1", b"pkcs8").unwrap();
        assert_eq!(a.open("kid-1", &sealed).unwrap(), b"pkcs8");
        assert!(b.open("kid-1", &sealed).is_err());
        // Bound to its kid: the same blob under another kid does not open.
        assert!(a.open("kid-2", &sealed).is_err());
        assert!(a.open_unbound(&sealed).is_err());
        assert!(Sealer::from_base64("short").is_err());
    }
}
