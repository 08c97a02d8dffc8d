//! Secrets made at run time: valid Tessera tokens from tessera-proto, third-party shapes from a
//! small deterministic generator (with GitHub's CRC32 checksum computed here).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tessera_proto::{TokenKind, TokenString};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` characters of `alphabet`, determined by `seed` (xorshift).
pub fn random(seed: u64, len: usize, alphabet: &[u8]) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet[(x % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

pub fn tessera(kind: TokenKind, selector: u64) -> String {
    TokenString::generate(kind, selector)
        .expose_secret()
        .to_owned()
}

/// The same token with one body character changed: a typo the checksum catches.
pub fn typo(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let i = token.len() - 20;
    bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
    String::from_utf8(bytes).unwrap()
}

fn base62_fixed(mut n: u64, width: usize) -> String {
    let mut digits = vec![b'0'; width];
    for d in digits.iter_mut().rev() {
        *d = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(digits).unwrap()
}

pub fn github(seed: u64) -> String {
    let body = random(seed, 30, BASE62);
    format!(
        "ghp_{body}{}",
        base62_fixed(u64::from(crc32fast::hash(body.as_bytes())), 6)
    )
}

pub fn github_bad_checksum(seed: u64) -> String {
    let good = github(seed);
    let last = if good.ends_with('A') { 'B' } else { 'A' };
    format!("{}{last}", &good[..good.len() - 1])
}

pub fn aws_key_id(seed: u64) -> String {
    format!(
        "AKIA{}",
        random(seed, 16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    )
}

pub fn aws_secret(seed: u64) -> String {
    random(
        seed,
        40,
        b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/",
    )
}

pub fn stripe_live(seed: u64) -> String {
    format!("sk_live_{}", random(seed, 24, BASE62))
}

pub fn slack_bot(seed: u64) -> String {
    format!(
        "xoxb-{}-{}-{}",
        random(seed, 12, b"0123456789"),
        random(seed + 1, 13, b"0123456789"),
        random(seed + 2, 24, BASE62)
    )
}

pub fn google_key(seed: u64) -> String {
    format!("AIza{}", random(seed, 35, BASE62))
}

pub fn jwt(seed: u64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"svc-{seed}","exp":1893456000}}"#));
    format!(
        "{header}.{payload}.{}",
        random(
            seed,
            86,
            b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
        )
    )
}

pub fn pem(seed: u64) -> String {
    let lines: Vec<String> = (0..4)
        .map(|i| {
            random(
                seed + i,
                64,
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            )
        })
        .collect();
    format!(
        "-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

/// A 20-character high-entropy password (always letters and digits).
pub fn password(seed: u64) -> String {
    format!("{}7q", random(seed, 18, BASE62))
}

pub fn slack_webhook(seed: u64) -> String {
    let upper = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    format!(
        "https://hooks.slack.com/services/T{}/B{}/{}",
        random(seed, 10, upper),
        random(seed + 1, 10, upper),
        random(seed + 2, 24, BASE62)
    )
}

pub fn stripe_test(seed: u64) -> String {
    format!("rk_test_{}", random(seed, 32, BASE62))
}

pub fn openssh_key(seed: u64) -> String {
    let lines: Vec<String> = (0..5)
        .map(|i| {
            random(
                seed + i,
                70,
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            )
        })
        .collect();
    format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
        lines.join("\n")
    )
}
