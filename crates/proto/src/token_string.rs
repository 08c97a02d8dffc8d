//! The one string format of every Tessera secret: `tsr_<kind>_<body><checksum>`.
//!
//! `body` is 54 base62 characters encoding 40 bytes: an 8-byte big-endian *selector* followed by
//! 32 random bytes (256 bits). `checksum` is 6 base62 characters of the CRC32 (IEEE) of everything
//! before it, prefix included. So a scanner recognises a real Tessera secret with no database
//! (a random string passes the checksum with probability 2⁻³²) and tells a typo from a token.
//!
//! The selector lets the store find a token's row by a sequential key (fast, ordered B-tree inserts)
//! while only the SHA-256 of the whole string is stored and compared in constant time. For client
//! secrets the selector is random too: the client id already names the row. docs/token-format.md
//! is the specification.
use std::fmt;

use crate::secret::{Secret, SecretHash};

/// Which kind of secret a token string is; its tag is the `<kind>` in `tsr_<kind>_`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// `tsr_at_`: an opaque access token.
    AccessToken,
    /// `tsr_rt_`: a refresh token.
    RefreshToken,
    /// `tsr_cs_`: a client secret.
    ClientSecret,
    /// `tsr_ac_`: an authorization code.
    AuthorizationCode,
    /// `tsr_rat_`: a registration access token (RFC 7592).
    RegistrationToken,
}

impl TokenKind {
    /// Every kind, in a fixed order (the scanner's list of prefixes).
    pub const ALL: [TokenKind; 5] = [
        Self::AccessToken,
        Self::RefreshToken,
        Self::ClientSecret,
        Self::AuthorizationCode,
        Self::RegistrationToken,
    ];

    /// The tag between `tsr_` and the body.
    pub const fn tag(self) -> &'static str {
        match self {
            Self::AccessToken => "at",
            Self::RefreshToken => "rt",
            Self::ClientSecret => "cs",
            Self::AuthorizationCode => "ac",
            Self::RegistrationToken => "rat",
        }
    }

    /// The full prefix, e.g. `tsr_at_`.
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::AccessToken => "tsr_at_",
            Self::RefreshToken => "tsr_rt_",
            Self::ClientSecret => "tsr_cs_",
            Self::AuthorizationCode => "tsr_ac_",
            Self::RegistrationToken => "tsr_rat_",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.tag() == tag)
    }
}

/// Length of the base62 body (40 bytes).
pub const BODY_LEN: usize = 54;
/// Length of the base62 checksum (a CRC32).
pub const CHECKSUM_LEN: usize = 6;
const PAYLOAD_BYTES: usize = 40;
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Why a string is not a valid Tessera token string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenStringError {
    /// It does not start with `tsr_<known kind>_`.
    #[error("not a Tessera token string")]
    NotTessera,
    /// The prefix is right but the length is not.
    #[error("wrong length")]
    Length,
    /// A character outside base62.
    #[error("invalid character")]
    Character,
    /// The checksum does not match: a typo, a truncation or a forgery.
    #[error("checksum mismatch")]
    Checksum,
}

/// A parsed, checksum-verified token string. Holds the selector and the hash, never the raw string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenString {
    /// The kind named by the prefix.
    pub kind: TokenKind,
    /// The 64-bit selector (a row id for tokens; random for client secrets).
    pub selector: u64,
    /// SHA-256 of the whole string, the stored form.
    pub hash: SecretHash,
}

impl TokenString {
    /// Generates a fresh token string of `kind` carrying `selector` and 256 random bits.
    pub fn generate(kind: TokenKind, selector: u64) -> Secret {
        let mut payload = [0u8; PAYLOAD_BYTES];
        payload[..8].copy_from_slice(&selector.to_be_bytes());
        aws_lc_rs::rand::fill(&mut payload[8..]).expect("the system RNG failed");
        Secret::new(encode(kind, &payload))
    }

    /// Generates a token string whose selector is random too (client secrets).
    pub fn generate_random(kind: TokenKind) -> Secret {
        let mut selector = [0u8; 8];
        aws_lc_rs::rand::fill(&mut selector).expect("the system RNG failed");
        Self::generate(kind, u64::from_be_bytes(selector))
    }

    /// Parses and verifies a token string (prefix, length, alphabet, checksum).
    pub fn parse(s: &str) -> Result<Self, TokenStringError> {
        let rest = s.strip_prefix("tsr_").ok_or(TokenStringError::NotTessera)?;
        let (tag, tail) = rest.split_once('_').ok_or(TokenStringError::NotTessera)?;
        let kind = TokenKind::from_tag(tag).ok_or(TokenStringError::NotTessera)?;
        // Byte-safe from here on: the input is outside text, and a multi-byte character may sit
        // anywhere, so split and slice bytes, never `str` (a `str` split inside a character
        // panics). Any non-ASCII byte then fails the base62 alphabet check.
        let tail = tail.as_bytes();
        if tail.len() != BODY_LEN + CHECKSUM_LEN {
            return Err(TokenStringError::Length);
        }
        let (body, check) = tail.split_at(BODY_LEN);
        let payload = base62_decode::<PAYLOAD_BYTES>(body)?;
        let expected = checksum(&s.as_bytes()[..s.len() - CHECKSUM_LEN]);
        if check != expected {
            return Err(TokenStringError::Checksum);
        }
        let mut selector = [0u8; 8];
        selector.copy_from_slice(&payload[..8]);
        let selector = u64::from_be_bytes(selector);
        Ok(Self {
            kind,
            selector,
            hash: SecretHash::of(s.as_bytes()),
        })
    }

    /// Parses a string that must be of `kind`.
    pub fn parse_kind(s: &str, kind: TokenKind) -> Result<Self, TokenStringError> {
        let parsed = Self::parse(s)?;
        if parsed.kind != kind {
            return Err(TokenStringError::NotTessera);
        }
        Ok(parsed)
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

fn encode(kind: TokenKind, payload: &[u8; PAYLOAD_BYTES]) -> String {
    let mut out = String::with_capacity(kind.prefix().len() + BODY_LEN + CHECKSUM_LEN);
    out.push_str(kind.prefix());
    out.push_str(&base62_encode(payload, BODY_LEN));
    let check = checksum(out.as_bytes());
    out.push_str(std::str::from_utf8(&check).expect("base62 is ASCII"));
    out
}

/// CRC32 (IEEE) of `text`, as 6 base62 characters.
fn checksum(text: &[u8]) -> [u8; CHECKSUM_LEN] {
    let crc = crc32fast::hash(text);
    let encoded = base62_encode(&crc.to_be_bytes(), CHECKSUM_LEN);
    encoded.as_bytes().try_into().expect("fixed width")
}

/// Digits of base 62 that fit one `u64` chunk: 62^10 < 2^64.
const CHUNK_DIGITS: usize = 10;
/// Most bytes a base62 number here holds (the 40-byte payload; 64 leaves room).
const MAX_BYTES: usize = 64;

/// Big-endian base62 of `bytes`, left-padded with `0` to `width` characters.
///
/// Works on 64-bit limbs, ten digits per long division, instead of one digit per pass over
/// the bytes: parsing tokens is on the introspection and revocation hot paths.
fn base62_encode(bytes: &[u8], width: usize) -> String {
    assert!(bytes.len() <= MAX_BYTES, "base62 input too long");
    let mut limbs = [0u64; MAX_BYTES / 8];
    let n = to_limbs(bytes, &mut limbs);
    let limbs = &mut limbs[..n];
    let mut digits = Vec::with_capacity(width + CHUNK_DIGITS);
    while limbs.iter().any(|&l| l != 0) {
        // Divide by 62^10, most significant limb first; the remainder is ten digits.
        let divisor = u128::from(62u64.pow(CHUNK_DIGITS as u32));
        let mut rem = 0u128;
        for limb in limbs.iter_mut().rev() {
            let acc = (rem << 64) | u128::from(*limb);
            *limb = (acc / divisor) as u64;
            rem = acc % divisor;
        }
        let mut chunk = rem as u64;
        for _ in 0..CHUNK_DIGITS {
            digits.push(ALPHABET[(chunk % 62) as usize]);
            chunk /= 62;
        }
    }
    while digits.len() > width && digits.last() == Some(&b'0') {
        digits.pop();
    }
    debug_assert!(digits.len() <= width, "base62 width too small");
    digits.resize(width, b'0');
    digits.reverse();
    String::from_utf8(digits).expect("base62 is ASCII")
}

/// Inverse of [`base62_encode`]; rejects characters outside the alphabet and overflow.
fn base62_decode<const N: usize>(text: &[u8]) -> Result<[u8; N], TokenStringError> {
    const { assert!(N <= MAX_BYTES) };
    let mut limbs = [0u64; MAX_BYTES / 8];
    let n = N.div_ceil(8);
    for chunk in text.chunks(CHUNK_DIGITS) {
        let mut value = 0u64;
        for &c in chunk {
            let digit = match c {
                b'0'..=b'9' => c - b'0',
                b'A'..=b'Z' => c - b'A' + 10,
                b'a'..=b'z' => c - b'a' + 36,
                _ => return Err(TokenStringError::Character),
            };
            value = value * 62 + u64::from(digit);
        }
        // limbs = limbs * 62^len + value, least significant limb first.
        let factor = u128::from(62u64.pow(chunk.len() as u32));
        let mut carry = u128::from(value);
        for limb in limbs[..n].iter_mut() {
            let acc = u128::from(*limb) * factor + carry;
            *limb = acc as u64;
            carry = acc >> 64;
        }
        if carry != 0 {
            return Err(TokenStringError::Length);
        }
    }
    // The top limb may hold more bytes than N leaves room for.
    let spare = n * 8 - N;
    if spare > 0 && limbs[n - 1] >> (64 - 8 * spare) != 0 {
        return Err(TokenStringError::Length);
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().rev().enumerate() {
        *byte = (limbs[i / 8] >> (8 * (i % 8))) as u8;
    }
    Ok(out)
}

/// Big-endian `bytes` as little-endian 64-bit limbs; returns how many limbs it filled.
fn to_limbs(bytes: &[u8], limbs: &mut [u64]) -> usize {
    for (i, &b) in bytes.iter().rev().enumerate() {
        limbs[i / 8] |= u64::from(b) << (8 * (i % 8));
    }
    bytes.len().div_ceil(8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_strings_parse_back_with_their_selector() {
        for kind in TokenKind::ALL {
            let s = TokenString::generate(kind, 42);
            let raw = s.expose_secret();
            assert!(raw.starts_with(kind.prefix()));
            assert_eq!(raw.len(), kind.prefix().len() + BODY_LEN + CHECKSUM_LEN);
            let parsed = TokenString::parse(raw).unwrap();
            assert_eq!(parsed.kind, kind);
            assert_eq!(parsed.selector, 42);
            assert_eq!(parsed.hash, s.hash());
        }
        let max = TokenString::generate(TokenKind::AccessToken, u64::MAX);
        assert_eq!(
            TokenString::parse(max.expose_secret()).unwrap().selector,
            u64::MAX
        );
    }

    /// The digit-at-a-time algorithm the limb version replaced, as the reference.
    fn reference_encode(bytes: &[u8], width: usize) -> String {
        let mut num = bytes.to_vec();
        let mut digits = Vec::new();
        while num.iter().any(|&b| b != 0) {
            let mut rem = 0u32;
            for byte in num.iter_mut() {
                let acc = (rem << 8) | u32::from(*byte);
                *byte = (acc / 62) as u8;
                rem = acc % 62;
            }
            digits.push(ALPHABET[rem as usize]);
        }
        digits.resize(width, b'0');
        digits.reverse();
        String::from_utf8(digits).unwrap()
    }

    #[test]
    fn limb_base62_matches_the_reference_both_ways() {
        let mut samples: Vec<[u8; PAYLOAD_BYTES]> =
            vec![[0; PAYLOAD_BYTES], [0xff; PAYLOAD_BYTES], {
                let mut one = [0; PAYLOAD_BYTES];
                one[PAYLOAD_BYTES - 1] = 1;
                one
            }];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200 {
            let mut b = [0u8; PAYLOAD_BYTES];
            for byte in b.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *byte = x as u8;
            }
            samples.push(b);
        }
        for b in samples {
            let text = base62_encode(&b, BODY_LEN);
            assert_eq!(text, reference_encode(&b, BODY_LEN));
            assert_eq!(base62_decode::<PAYLOAD_BYTES>(text.as_bytes()), Ok(b));
        }
        for crc in [0u32, 1, 61, 62, u32::MAX, 0xdead_beef] {
            let b = crc.to_be_bytes();
            let text = base62_encode(&b, CHECKSUM_LEN);
            assert_eq!(text, reference_encode(&b, CHECKSUM_LEN));
            assert_eq!(base62_decode::<4>(text.as_bytes()), Ok(b));
        }
        // 62^6 - 1 does not fit four bytes.
        assert_eq!(base62_decode::<4>(b"zzzzzz"), Err(TokenStringError::Length));
    }

    #[test]
    fn every_single_character_typo_is_caught() {
        let s = TokenString::generate(TokenKind::ClientSecret, 7);
        let raw = s.expose_secret();
        let start = TokenKind::ClientSecret.prefix().len();
        for i in start..raw.len() {
            let mut bytes = raw.as_bytes().to_vec();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let typo = String::from_utf8(bytes).unwrap();
            assert!(TokenString::parse(&typo).is_err(), "typo at {i} accepted");
        }
    }

    #[test]
    fn malformed_strings_are_refused_with_the_reason() {
        let s = TokenString::generate(TokenKind::AccessToken, 1);
        let raw = s.expose_secret();
        assert_eq!(
            TokenString::parse("ghp_abc"),
            Err(TokenStringError::NotTessera)
        );
        assert_eq!(
            TokenString::parse("tsr_zz_abc"),
            Err(TokenStringError::NotTessera)
        );
        assert_eq!(
            TokenString::parse(&raw[..raw.len() - 1]),
            Err(TokenStringError::Length)
        );
        let bad = format!("{}!{}", &raw[..10], &raw[11..]);
        assert_eq!(TokenString::parse(&bad), Err(TokenStringError::Character));
        let other_kind = raw.replacen("tsr_at_", "tsr_rt_", 1);
        assert_eq!(
            TokenString::parse(&other_kind),
            Err(TokenStringError::Checksum)
        );
        assert!(TokenString::parse_kind(raw, TokenKind::RefreshToken).is_err());
        let overflow = format!("tsr_at_{}", "z".repeat(BODY_LEN + CHECKSUM_LEN));
        assert_eq!(TokenString::parse(&overflow), Err(TokenStringError::Length));
    }

    /// Issue 13, finding 7: a multi-byte character where the body/checksum split falls used to
    /// panic (`str::split_at` inside a character). It is refused as a bad character instead.
    #[test]
    fn a_multi_byte_character_at_the_split_is_refused_not_a_panic() {
        let reported = format!("tsr_rt_{}é{}", "A".repeat(53), "B".repeat(5));
        assert_eq!(reported.len(), "tsr_rt_".len() + BODY_LEN + CHECKSUM_LEN);
        assert_eq!(
            TokenString::parse(&reported),
            Err(TokenStringError::Character)
        );
        // The same character in the checksum, and at the very end.
        let in_check = format!("tsr_at_{}{}é", "A".repeat(BODY_LEN), "B".repeat(4));
        assert!(TokenString::parse(&in_check).is_err());
        let four_bytes = format!("tsr_ac_{}😀{}", "A".repeat(52), "B".repeat(4));
        assert!(TokenString::parse(&four_bytes).is_err());
    }
}

/// Property tests: no input panics the parser; generated strings round-trip; any change is caught.
#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn kind() -> impl Strategy<Value = TokenKind> {
        prop::sample::select(TokenKind::ALL.to_vec())
    }

    /// Text around the right length built from ASCII, base62 and multi-byte characters, so the
    /// length check passes while the byte/character boundaries fall anywhere.
    fn near_token_tail() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec!['A', 'z', '0', '_', '!', 'é', '€', '😀', '\0', 'ß']),
            50..66,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_text_never_panics(s in any::<String>()) {
            let _ = TokenString::parse(&s);
        }

        #[test]
        fn any_prefix_with_hostile_tail_never_panics(kind in kind(), tail in near_token_tail()) {
            let s = format!("{}{tail}", kind.prefix());
            prop_assert!(TokenString::parse(&s).is_err());
            let _ = TokenString::parse_kind(&s, kind);
        }

        #[test]
        fn generated_strings_round_trip(kind in kind(), selector in any::<u64>()) {
            let secret = TokenString::generate(kind, selector);
            let parsed = TokenString::parse_kind(secret.expose_secret(), kind).unwrap();
            prop_assert_eq!(parsed.kind, kind);
            prop_assert_eq!(parsed.selector, selector);
            prop_assert_eq!(parsed.hash, secret.hash());
        }

        #[test]
        fn any_one_character_change_is_refused(
            kind in kind(),
            at in any::<prop::sample::Index>(),
            c in any::<char>(),
        ) {
            let secret = TokenString::generate(kind, 9);
            let raw = secret.expose_secret();
            let mut chars: Vec<char> = raw.chars().collect();
            let i = at.index(chars.len());
            prop_assume!(chars[i] != c);
            chars[i] = c;
            let changed: String = chars.into_iter().collect();
            prop_assert!(TokenString::parse(&changed).is_err());
        }
    }
}
