//! PKCE (RFC 7636 §4.6): the token request's `code_verifier`, hashed with SHA-256 and base64url
//! encoded, must equal the authorization request's `code_challenge`.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tessera_proto::SecretHash;

use super::is_pkce_string;

/// Whether `verifier` is well-formed and its S256 transform equals `challenge`. The comparison
/// runs on SHA-256 hashes of both strings, in constant time.
pub fn verify_s256(verifier: &str, challenge: &str) -> bool {
    if !is_pkce_string(verifier) {
        return false;
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    let computed = URL_SAFE_NO_PAD.encode(digest.as_ref());
    SecretHash::of(computed.as_bytes()) == SecretHash::of(challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify_s256(verifier, challenge));
        assert!(!verify_s256(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX",
            challenge
        ));
        assert!(!verify_s256("short", challenge));
        assert!(!verify_s256(challenge, challenge), "plain is not S256");
    }
}
