//! A finding: what was found where, identified by a fingerprint and shown by a redacted preview.
//!
//! The raw secret never enters a [`Finding`]: it is hashed into the fingerprint (and, for a
//! Tessera token, into the SHA-256 the authorization server stores) and cut down to a preview the
//! moment a match is accepted. So every output format can serialise a `Finding` freely.

use serde::Serialize;
use tessera_proto::{SecretHash, TokenString};

use crate::matcher::Hit;
use crate::rules::Severity;

/// One secret at one location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's id (see docs/scan.md for the table).
    pub rule: &'static str,
    /// The rule's one-line description.
    pub description: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// Path relative to the scanned root (or to the repository, for git sources), `/`-separated.
    pub path: String,
    /// 1-based line of the first character of the secret.
    pub line: usize,
    /// 1-based column (Unicode scalar values) of the first character of the secret.
    pub column: usize,
    /// For git sources: the commit that introduced the secret at this path (full hex id).
    pub commit: Option<String>,
    /// For history scans: whether the same secret is still in the tree at HEAD.
    pub at_head: Option<bool>,
    /// Stable identifier of the secret under this rule: the first 32 hex digits of
    /// SHA-256(`tessera-scan/v1` ‖ rule ‖ secret). Baselines suppress by it; it moves with the
    /// secret, not with the line.
    pub fingerprint: String,
    /// The secret cut down so that it can be recognised but not used.
    pub preview: String,
    /// For Tessera tokens with a valid checksum: what the authorization server needs to look it up.
    pub tessera: Option<TesseraLeak>,
    /// The authorization server's verdict, when `--server` was given.
    pub server: Option<ServerVerdict>,
}

/// The identifiers of a leaked Tessera token that may be sent to the authorization server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TesseraLeak {
    /// The token kind's tag: `at`, `rt`, `cs`, `ac` or `rat`.
    pub kind: &'static str,
    /// The selector carried in the token string.
    pub selector: u64,
    /// Lower-case hex SHA-256 of the whole token string (the form the server stores).
    pub sha256: String,
}

/// What the authorization server said about a leaked Tessera token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServerVerdict {
    /// Whether the token was live (known, unexpired, unrevoked) when checked.
    pub live: bool,
    /// `none`, `revoked` or `secret_rotated`.
    pub action: String,
}

/// Where a scanned buffer came from.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    /// Display path, `/`-separated.
    pub path: String,
    /// Introducing commit, for git sources.
    pub commit: Option<String>,
}

impl Finding {
    /// Builds a finding from a validated hit; the secret is hashed and redacted here.
    pub(crate) fn from_hit(hit: &Hit<'_>, origin: &Origin) -> Self {
        let secret = String::from_utf8_lossy(hit.secret);
        let tessera = TokenString::parse(&secret).ok().map(|t| TesseraLeak {
            kind: t.kind.tag(),
            selector: t.selector,
            sha256: t.hash.to_hex(),
        });
        Self {
            rule: hit.rule.id,
            description: hit.rule.description,
            severity: hit.rule.severity,
            path: origin.path.clone(),
            line: hit.line,
            column: hit.column,
            commit: origin.commit.clone(),
            at_head: None,
            fingerprint: fingerprint(hit.rule.id, hit.secret),
            preview: redact(&secret),
            tessera,
            server: None,
        }
    }

    /// `path:line` plus the commit's short id when there is one: the location sent to the server
    /// and shown in text output.
    pub fn location(&self) -> String {
        match &self.commit {
            Some(c) => format!(
                "{}:{} (commit {})",
                self.path,
                self.line,
                &c[..c.len().min(12)]
            ),
            None => format!("{}:{}", self.path, self.line),
        }
    }
}

/// See [`Finding::fingerprint`].
pub fn fingerprint(rule: &str, secret: &[u8]) -> String {
    let mut input = Vec::with_capacity(32 + rule.len() + secret.len());
    input.extend_from_slice(b"tessera-scan/v1\0");
    input.extend_from_slice(rule.as_bytes());
    input.push(0);
    input.extend_from_slice(secret);
    let mut hex = SecretHash::of(&input).to_hex();
    hex.truncate(32);
    hex
}

/// A preview that identifies without revealing: the public prefix (up to the last `_`/`-` in the
/// first 12 characters, e.g. `ghp_`, `tsr_cs_`, `sk_live_`), at most 4 more characters — fewer
/// for short secrets — then `…` and the length. A PEM block shows only its BEGIN line.
pub fn redact(secret: &str) -> String {
    let total = secret.chars().count();
    if secret.starts_with("-----BEGIN") {
        let first = secret.lines().next().unwrap_or("");
        return format!("{first}…({total} chars)");
    }
    let chars: Vec<char> = secret.chars().collect();
    let head = chars
        .iter()
        .take(12)
        .rposition(|&c| c == '_' || c == '-')
        .map_or(0, |i| i + 1);
    let rest = total - head;
    let extra = match rest {
        r if r >= 24 => 4,
        r if r >= 12 => 2,
        _ => 0,
    };
    let shown: String = chars[..head + extra].iter().collect();
    format!("{shown}…({total} chars)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_never_hold_the_secret() {
        let gh = concat!("ghp_", "Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y3gm1IL");
        assert_eq!(redact(gh), "ghp_Ky9P…(40 chars)");
        assert_eq!(redact("q8Zr2LmX4vT9pK1w"), "q8…(16 chars)");
        assert_eq!(redact("short"), "…(5 chars)");
        assert_eq!(
            redact("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----"),
            "-----BEGIN RSA PRIVATE KEY-----…(66 chars)"
        );
    }

    #[test]
    fn fingerprints_depend_on_rule_and_secret_only() {
        assert_eq!(fingerprint("jwt", b"abc"), fingerprint("jwt", b"abc"));
        assert_ne!(fingerprint("jwt", b"abc"), fingerprint("jwt", b"abd"));
        assert_ne!(
            fingerprint("jwt", b"abc"),
            fingerprint("private-key", b"abc")
        );
        assert_eq!(fingerprint("jwt", b"abc").len(), 32);
    }
}
