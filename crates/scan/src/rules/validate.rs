//! Checks a regex cannot express: checksums, JSON headers, entropy, placeholders.
//!
//! Every validator sees only the candidate secret's bytes and answers yes or no; none of them
//! performs I/O. Checksummed formats (Tessera's, GitHub's) are trusted once the checksum holds —
//! a random string passes a CRC32 with probability 2⁻³² — so only they skip the placeholder list.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tessera_proto::{TokenKind, TokenString, TokenStringError};

/// Which extra check a rule's candidates must pass.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Validator {
    /// Not a known example or placeholder; nothing more.
    NotPlaceholder,
    /// A Tessera token string of this kind whose checksum verifies.
    Tessera(TokenKind),
    /// A Tessera-shaped string (`tsr_<kind>_` + 60 base62) whose checksum does NOT verify: a typo,
    /// a truncation or a hand-made example.
    TesseraMalformed,
    /// GitHub's token format: the last 6 base62 characters are the CRC32 of the random part.
    GithubChecksum,
    /// A JWT whose header and payload are base64url JSON objects and the header names an `alg`.
    Jwt,
    /// A PEM private-key block with a real base64 body (not `...` or a placeholder).
    PrivateKey,
    /// Not a placeholder, at least this many bits of Shannon entropy per character, and both
    /// letters and digits (identifiers and English words rarely have both at high entropy).
    Entropy(f64),
    /// A value assigned to a password-like name: people choose passwords, so no entropy bar —
    /// instead 8–128 characters, at least two of lower/upper/digit/symbol, not a placeholder and
    /// not the name of something else (a variable, an environment variable, a member path, a URL).
    Password,
}

impl Validator {
    /// Whether a pass proves the format (a checksum): such findings are reported even in files
    /// marked as test fixtures, because a checksummed token is a token wherever it sits.
    pub fn verifies_format(self) -> bool {
        matches!(
            self,
            Self::Tessera(_) | Self::TesseraMalformed | Self::GithubChecksum
        )
    }

    /// Whether `secret` passes this check.
    pub fn accepts(self, secret: &[u8]) -> bool {
        self.accepts_in(secret, true)
    }

    /// Whether `secret` passes this check, knowing whether it stood inside quotes: an unquoted
    /// `dbPassword` or `db_password` after `password =` is a variable in code, while a quoted
    /// one is a string literal (in YAML and `.env` files, quoting is optional either way).
    pub fn accepts_in(self, secret: &[u8], quoted: bool) -> bool {
        let Ok(text) = std::str::from_utf8(secret) else {
            return false;
        };
        if is_known_example(text) {
            return false;
        }
        match self {
            Self::Tessera(kind) => TokenString::parse_kind(text, kind).is_ok(),
            Self::TesseraMalformed => matches!(
                TokenString::parse(text),
                Err(TokenStringError::Checksum | TokenStringError::Length)
            ),
            Self::GithubChecksum => github_checksum_ok(text),
            Self::NotPlaceholder => !is_placeholder(text),
            Self::Jwt => !is_placeholder(text) && jwt_shape_ok(text),
            Self::PrivateKey => private_key_body_ok(text),
            Self::Password => !has_format_prefix(text) && password_ok(text, quoted),
            Self::Entropy(min) => {
                !has_format_prefix(text)
                    && !is_placeholder(text)
                    && !looks_like_reference(text)
                    && shannon_entropy(text) >= min
                    && text.bytes().any(|b| b.is_ascii_digit())
                    && text.bytes().any(|b| b.is_ascii_alphabetic())
            }
        }
    }
}

/// Values published in vendors' documentation: real-looking but never real. Split with
/// `concat!` so that this file does not trip the scanner itself.
const KNOWN_EXAMPLES: &[&str] = &[
    // AWS documentation's access key pair.
    concat!("AKIA", "IOSFODNN7EXAMPLE"),
    concat!("wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYEXAMPLEKEY"),
    // Stripe's documentation test key.
    concat!("sk_test_", "4eC39HqLyjWDarjtT1zdp7dc"),
    // jwt.io's default token.
    concat!(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.",
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.",
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    ),
];

fn is_known_example(text: &str) -> bool {
    KNOWN_EXAMPLES.contains(&text)
}

/// Prefixes of formats that have their own rule. A value carrying one is judged by that rule
/// alone: when it fails there (a bad checksum, a wrong length) it is a near miss, and the
/// assignment rules must not report it as a high-entropy secret instead.
const FORMAT_PREFIXES: &[&str] = &[
    "tsr_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "sk_live_",
    "rk_live_",
    "sk_test_",
    "rk_test_",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxr-",
    "xoxs-",
    "AKIA",
    "ASIA",
    "AIza",
    "eyJ",
];

fn has_format_prefix(text: &str) -> bool {
    FORMAT_PREFIXES.iter().any(|p| text.starts_with(p))
}

/// Words that mark a value as a stand-in. Matched case-insensitively anywhere in the value.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "your_",
    "your-",
    "yourtoken",
    "yoursecret",
    "dummy",
    "redacted",
    "sample",
    "notreal",
    "not_real",
    "not-a-real",
    "fake",
    "xxxx",
    "****",
    "....",
    "${",
    "{{",
    "<",
    ">",
    "%(",
    "$(",
    "replace_me",
    "replace-me",
    "replaceme",
    "insert_",
    "insert-",
    "_here",
    "-here",
    "todo",
];

/// Words that mark a line (or, in a file's first lines, the whole file) as test data: values
/// there that only look like secrets (no checksum) are not reported. Matched case-insensitively.
pub const FIXTURE_MARKERS: &[&str] = &[
    "test fixture",
    "fixture:",
    "fixtures only",
    "not a real secret",
    "not a real password",
    "not a real key",
    "not a real credential",
    "fake credential",
    "fake secret",
    "fake password",
    "dummy credential",
    "dummy password",
    "tessera-scan:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
];

/// Whether `text` (a line or a file's head) carries a [`FIXTURE_MARKERS`] marker.
pub fn has_fixture_marker(text: &[u8]) -> bool {
    let lower = text.to_ascii_lowercase();
    FIXTURE_MARKERS
        .iter()
        .any(|m| memchr::memmem::find(&lower, m.as_bytes()).is_some())
}

/// Parts of an assigned name that say the value is about a secret, not the secret itself:
/// `password_hash`, `token_url`, `password_min_length`, `secret_name`, `PASSWORD_FILE`, …
const NON_SECRET_NAME_PARTS: &[&str] = &[
    "hash",
    "regex",
    "pattern",
    "label",
    "prompt",
    "message",
    "msg",
    "hint",
    "field",
    "policy",
    "length",
    "len",
    "min",
    "max",
    "reset",
    "url",
    "uri",
    "path",
    "file",
    "dir",
    "placeholder",
    "format",
    "type",
    "strength",
    "expiry",
    "expires",
    "rule",
    "rules",
    "name",
    "env",
    "var",
    "ref",
    "header",
    "param",
    "id",
    "count",
    "enabled",
    "required",
    "input",
    "endpoint",
];

/// Whether an assigned name (`DB_PASSWORD_FILE`, `tokenUrl`, `password.min-length`) has a
/// part from [`NON_SECRET_NAME_PARTS`]; parts split at `_ . -` and lower-to-upper case changes.
pub fn is_non_secret_name(name: &[u8]) -> bool {
    let Ok(name) = std::str::from_utf8(name) else {
        return false;
    };
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if matches!(c, '_' | '.' | '-' | '"' | '\'') {
            parts.push(std::mem::take(&mut current));
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower {
            parts.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_lowercase());
    }
    parts.push(current);
    parts
        .iter()
        .any(|p| NON_SECRET_NAME_PARTS.contains(&p.as_str()))
}

/// See [`Validator::Password`].
fn password_ok(text: &str, quoted: bool) -> bool {
    if !(8..=128).contains(&text.len())
        || is_placeholder(text)
        || names_something(text)
        || (!quoted && is_identifier(text))
    {
        return false;
    }
    let classes = [
        text.bytes().any(|b| b.is_ascii_lowercase()),
        text.bytes().any(|b| b.is_ascii_uppercase()),
        text.bytes().any(|b| b.is_ascii_digit()),
        text.bytes().any(|b| !b.is_ascii_alphanumeric()),
    ];
    let distinct = {
        let mut seen = [false; 256];
        text.bytes()
            .filter(|&b| !std::mem::replace(&mut seen[b as usize], true))
            .count()
    };
    classes.iter().filter(|&&c| c).count() >= 2 && distinct >= 5
}

/// Whether a value assigned to a password name is the name of something else: a URL, an
/// absolute path, an environment variable (`DB_PASSWORD_V2`) or a member path
/// (`settings.DB_PASSWORD`, `self.password`, `params->secret`, `Config::KEY`).
fn names_something(text: &str) -> bool {
    if text.contains("://") || (text.starts_with('/') && text.matches('/').count() >= 2) {
        return true;
    }
    let is_ident = |p: &str| {
        !p.is_empty()
            && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !p.as_bytes()[0].is_ascii_digit()
    };
    if is_ident(text) {
        return text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            && text.contains('_')
            && text.as_bytes()[0].is_ascii_uppercase();
    }
    let parts: Vec<&str> = text
        .split(['.', ':'])
        .flat_map(|p| p.split("->"))
        .filter(|p| !p.is_empty())
        .collect();
    parts.len() >= 2
        && parts.iter().all(|p| is_ident(p))
        && parts
            .iter()
            .all(|p| !mixes_letters_and_digits(p) || p.contains('_'))
}

/// A variable's name: no digit, and each `_`-separated part is all capitals or words
/// (`db`, `dbPassword`, `DbPassword`) — a capital always starts a lower-case run. Random
/// mixed-case strings almost never have that shape.
fn is_identifier(text: &str) -> bool {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_') {
        return false;
    }
    text.split('_').filter(|p| !p.is_empty()).all(|part| {
        let b = part.as_bytes();
        b.iter().all(u8::is_ascii_uppercase)
            || b.iter().enumerate().all(|(i, c)| {
                !c.is_ascii_uppercase() || b.get(i + 1).is_some_and(u8::is_ascii_lowercase)
            })
    })
}

fn mixes_letters_and_digits(part: &str) -> bool {
    part.bytes().any(|b| b.is_ascii_digit()) && part.bytes().any(|b| b.is_ascii_alphabetic())
}

/// Whether the value looks like a placeholder: a marker word, a template reference, one
/// repeated character, or a run such as `0123456789` / `abcdefgh`.
pub fn is_placeholder(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w)) || lower.starts_with('$') {
        return true;
    }
    let distinct = {
        let mut seen = [false; 256];
        text.bytes()
            .filter(|&b| !std::mem::replace(&mut seen[b as usize], true))
            .count()
    };
    if distinct <= 3 {
        return true;
    }
    ["0123456789", "abcdefghij", "1234567890"]
        .iter()
        .any(|run| lower.contains(run))
}

/// Whether a value assigned to a secret-sounding name is really a reference to one or a name: a
/// URL, a path (`projects/1/secrets/db/versions/2`), or an identifier such as
/// `OPENWEATHER_API_KEY_V2`, `user-session-4821`, `MLKEM512_SECRET_KEY_BYTES` or
/// `params->secret_key_len` (every part between `_ . - > :` is a word, a number, a word then a
/// number, or at most 3 characters — random strings mix letters and digits within a part).
pub fn looks_like_reference(text: &str) -> bool {
    if text.contains("://") {
        return true;
    }
    if text.matches('/').count() >= 2 && !text.bytes().any(|b| b.is_ascii_uppercase()) {
        return true;
    }
    let separator = |c: char| matches!(c, '_' | '.' | '-' | '>' | ':');
    if !text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || separator(c))
    {
        return false;
    }
    let parts: Vec<&str> = text.split(separator).filter(|p| !p.is_empty()).collect();
    parts.len() >= 2 && parts.iter().all(|p| p.len() <= 3 || is_word_then_number(p))
}

/// `SECRET`, `2024`, `SHA256`, `MLKEM512`: letters then digits, the shape of names, not of noise.
fn is_word_then_number(part: &str) -> bool {
    let digits = part
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(part.len());
    part[..digits].bytes().all(|b| b.is_ascii_alphabetic())
        && part[digits..].bytes().all(|b| b.is_ascii_digit())
}

/// Shannon entropy in bits per character.
pub fn shannon_entropy(text: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in text.bytes() {
        counts[b as usize] += 1;
    }
    let len = text.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// GitHub's 2021 token format: after the last `_`, the final 6 characters are the base62 CRC32
/// (IEEE) of the characters before them, left-padded with `0`.
pub fn github_checksum_ok(text: &str) -> bool {
    let Some((_, last)) = text.rsplit_once('_') else {
        return false;
    };
    if last.len() <= 6 || !last.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (payload, check) = last.split_at(last.len() - 6);
    let mut value: u64 = 0;
    for b in check.bytes() {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'A'..=b'Z' => b - b'A' + 10,
            _ => b - b'a' + 36,
        };
        value = value * 62 + u64::from(digit);
    }
    value == u64::from(crc32fast::hash(payload.as_bytes()))
}

/// A JWT: three base64url parts; the header is a JSON object with `alg`, the payload a JSON object.
fn jwt_shape_ok(text: &str) -> bool {
    let mut parts = text.split('.');
    let (Some(header), Some(payload)) = (parts.next(), parts.next()) else {
        return false;
    };
    let decode = |part: &str| -> Option<serde_json::Map<String, serde_json::Value>> {
        let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
        match serde_json::from_slice(&bytes).ok()? {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        }
    };
    let Some(header) = decode(header) else {
        return false;
    };
    header
        .get("alg")
        .and_then(|a| a.as_str())
        .is_some_and(|a| a != "none")
        && decode(payload).is_some()
}

/// The body between the BEGIN and END lines holds at least 64 base64 characters and no placeholder.
/// The block may sit inside a string literal with escaped line breaks (`\n`, `\\n`, `\r\n`) —
/// a GCP service-account JSON's `"private_key"` — so escapes are turned back into lines first.
fn private_key_body_ok(block: &str) -> bool {
    let unescaped = block
        .replace("\\\\n", "\n")
        .replace("\\\\r", "")
        .replace("\\n", "\n")
        .replace("\\r", "")
        .replace('\r', "");
    // Only what lies between the BEGIN and END markers' closing dashes.
    let inner = unescaped.split_once("-----\n").map_or("", |(_, rest)| rest);
    let inner = inner
        .rsplit_once("-----END")
        .map_or(inner, |(body, _)| body);
    let body = inner
        .lines()
        .filter(|l| !l.contains("-----") && !l.contains(':'))
        .collect::<String>();
    let b64 = body
        .bytes()
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        .count();
    b64 >= 64 && !is_placeholder(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_checksum_matches_published_test_vectors() {
        // Public test vectors from other scanners' suites (tokens long revoked or never issued).
        let valid = concat!("ghp_", "M7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V4");
        let padded = concat!("b62_", "QdwULL38u41vs1OcAjhKqcaSZ9W63r0Zu4ln");
        assert!(github_checksum_ok(valid));
        assert!(github_checksum_ok(padded));
        assert!(!github_checksum_ok(concat!(
            "ghp_",
            "M7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V3"
        )));
        assert!(!github_checksum_ok("ghp_T4V4"));
    }

    #[test]
    fn entropy_and_placeholders() {
        assert!(shannon_entropy("aaaaaaaa") < 0.01);
        assert!(shannon_entropy("q8Zr2LmX4vT9pK1w") > 3.5);
        for p in [
            "your_token_here",
            "${DB_PASSWORD}",
            "xxxxxxxxxxxx",
            "changeme123456",
            "<secret>",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        assert!(!is_placeholder("q8Zr2LmX4vT9pK1w"));
        for r in [
            "https://login.example.net/oauth2/v2.0/token",
            "projects/123/secrets/db/versions/4",
            "OPENWEATHER_API_KEY_V2",
            "settings.auth.token",
            "user-session-4821",
            "MLKEM512_SECRET_KEY_BYTES",
            "params->secret_key_len",
        ] {
            assert!(looks_like_reference(r), "{r}");
        }
        assert!(!looks_like_reference("kN3_x9QzP7mA-w2Lr8Tb"));
    }
}
