//! Types that hold secrets: a raw secret and the hash stored in its place.
//!
//! `Debug` prints `[redacted]`, there is no `Display`, the raw value is reached only through
//! [`Secret::expose_secret`], and hashes compare in constant time (oauth2-rs and kanidm do the same).
use std::fmt;

use aws_lc_rs::digest;
use subtle::ConstantTimeEq;

/// A raw secret: a client secret, an opaque token, a configured key, a private key's encoding
/// (`Secret<Vec<u8>>`). The one type for every secret field, so no struct holding one needs a
/// hand-written `Debug`: derive it, and this prints `Secret([redacted])`.
#[derive(Clone)]
pub struct Secret<T = String>(T);

impl Secret {
    /// Wraps a raw secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw value: call it only where the secret must leave the process (a response body).
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The SHA-256 of the secret, the only form in which it is stored.
    pub fn hash(&self) -> SecretHash {
        SecretHash::of(self.0.as_bytes())
    }

    /// For `#[serde(serialize_with)]` on the one field of a response body where a secret leaves
    /// the server (`Secret` itself has no `Serialize`, so it cannot be written by accident).
    pub fn serialize_exposed<S: serde::Serializer>(
        secret: &Secret,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(secret.expose_secret())
    }
}

impl Secret<Vec<u8>> {
    /// Wraps secret bytes: a private key, a sealed token.
    pub fn from_bytes(value: Vec<u8>) -> Self {
        Self(value)
    }

    /// The raw bytes: for the store, and for the one place that opens or uses them.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

impl<T: AsRef<[u8]>> PartialEq for Secret<T> {
    /// Constant time (for equal lengths): comparing secrets must not leak how much of one matched.
    fn eq(&self, other: &Self) -> bool {
        self.0.as_ref().ct_eq(other.0.as_ref()).into()
    }
}

impl<T: AsRef<[u8]>> Eq for Secret<T> {}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    /// From a configuration file or a request body: a plain string.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

/// The SHA-256 hash of a high-entropy secret. A slow hash would buy nothing: the secrets carry
/// ≥256 bits of randomness, so one SHA-256 is as strong as any password hash here and far faster.
#[derive(Clone, Copy)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// Hashes the given bytes.
    pub fn of(bytes: &[u8]) -> Self {
        let d = digest::digest(&digest::SHA256, bytes);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Self(out)
    }

    /// Rebuilds a stored hash; `None` unless exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Some(Self(bytes.try_into().ok()?))
    }

    /// The hash bytes, for storage.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, for the scanner's lookup API and logs (a hash is not a secret).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses lower- or upper-case hex of 32 bytes.
    pub fn from_hex(hex: &str) -> Option<Self> {
        // Byte by byte: `u8::from_str_radix` would accept a sign (`+f`), and slicing a `str` of
        // outside text can split a character.
        let hex = hex.as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let digit = |b: u8| char::from(b).to_digit(16);
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
            *byte = u8::try_from(digit(pair[0])? << 4 | digit(pair[1])?).ok()?;
        }
        Some(Self(out))
    }
}

impl PartialEq for SecretHash {
    /// Constant time: comparing a presented secret's hash must not leak how much of it matched.
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecretHash {}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretHash({}…)", &self.to_hex()[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let s = Secret::new("tsr_cs_supersecret");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        let bytes = Secret::from_bytes(b"private key".to_vec());
        assert_eq!(format!("{bytes:?}"), "Secret([redacted])");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            secret: Option<Secret>,
        }
        let holder = Holder {
            secret: Some(Secret::new("tsr_cs_supersecret")),
        };
        assert!(!format!("{holder:?}").contains("supersecret"));
    }

    #[test]
    fn secrets_compare_by_value() {
        assert_eq!(Secret::new("one"), Secret::new("one"));
        assert_ne!(Secret::new("one"), Secret::new("onf"));
        assert_ne!(Secret::new("one"), Secret::new("one "));
        assert_eq!(
            Secret::from_bytes(vec![1, 2]),
            Secret::from_bytes(vec![1, 2])
        );
        assert_ne!(
            Secret::from_bytes(vec![1, 2]),
            Secret::from_bytes(vec![1, 3])
        );
    }

    #[test]
    fn secrets_deserialize_from_strings_and_serialize_only_on_purpose() {
        let s: Secret = serde_json::from_str("\"k3y\"").unwrap();
        assert_eq!(s.expose_secret(), "k3y");
        #[derive(serde::Serialize)]
        struct Body {
            #[serde(serialize_with = "Secret::serialize_exposed")]
            token: Secret,
        }
        let json = serde_json::to_string(&Body { token: s }).unwrap();
        assert_eq!(json, r#"{"token":"k3y"}"#);
    }

    #[test]
    fn hashes_compare_by_value_and_round_trip_hex() {
        let a = Secret::new("one").hash();
        assert_eq!(a, Secret::new("one").hash());
        assert_ne!(a, Secret::new("two").hash());
        assert_eq!(SecretHash::from_hex(&a.to_hex()), Some(a));
        assert_eq!(SecretHash::from_hex("zz"), None);
        // A sign is not a hex digit (`u8::from_str_radix` would take `+f`).
        assert_eq!(SecretHash::from_hex(&"+f".repeat(32)), None);
        assert_eq!(SecretHash::from_hex(&"é".repeat(32)), None);
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn from_hex_never_panics(s in any::<String>(), hexish in "[0-9a-fA-F+é€-]{60,68}") {
                let _ = SecretHash::from_hex(&s);
                let _ = SecretHash::from_hex(&hexish);
            }

            #[test]
            fn hex_round_trips_in_both_cases(bytes in any::<[u8; 32]>()) {
                let hash = SecretHash(bytes);
                prop_assert_eq!(SecretHash::from_hex(&hash.to_hex()), Some(hash));
                prop_assert_eq!(SecretHash::from_hex(&hash.to_hex().to_uppercase()), Some(hash));
            }
        }
    }
}
