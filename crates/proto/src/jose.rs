//! JOSE policy shared by every place that accepts a JWT signed by someone else (DPoP proofs,
//! client assertions, registered JWK Sets, resource-server validation): which algorithms are
//! acceptable and what makes a JWK private. The JOSE work itself is `jsonwebtoken`'s.
use jsonwebtoken::Algorithm;

/// Asymmetric algorithms accepted in proofs and assertions; never `none`, never a MAC.
pub const ASYMMETRIC_ALGS: [&str; 6] = ["ES256", "ES384", "EdDSA", "RS256", "PS256", "PS384"];

/// Members only a private (or symmetric) JWK has.
pub const PRIVATE_JWK_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Whether `alg` is one of `allowed` and not an HMAC (so a public key can never be used as a
/// MAC secret: the classic algorithm-confusion attack).
pub fn alg_allowed(alg: Algorithm, allowed: &[&str]) -> bool {
    let name = format!("{alg:?}");
    allowed.contains(&name.as_str())
        && !matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

/// Whether a JWK (as JSON) carries private key material.
pub fn has_private_members(jwk: &serde_json::Value) -> bool {
    PRIVATE_JWK_MEMBERS.iter().any(|m| jwk.get(m).is_some())
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::Algorithm;
    use serde_json::json;

    use super::*;

    #[test]
    fn macs_are_refused_even_when_listed_and_private_keys_are_recognised() {
        assert!(alg_allowed(Algorithm::ES256, &ASYMMETRIC_ALGS));
        assert!(!alg_allowed(Algorithm::ES256, &["EdDSA"]));
        assert!(!alg_allowed(Algorithm::HS256, &["HS256", "ES256"]));
        let public = json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"});
        assert!(!has_private_members(&public));
        assert!(has_private_members(&json!({"kty": "EC", "d": "AA"})));
        assert!(has_private_members(&json!({"kty": "oct", "k": "AA"})));
    }
}
