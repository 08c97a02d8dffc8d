//! Resource owners and their passwords: argon2id (RFC 9106) PHC strings, never logged. Only the
//! built-in login page checks passwords, never the token path (argon2id costs ~12 ms a check).
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tessera_proto::Secret;

/// Longest accepted user name, in bytes.
pub const MAX_USERNAME: usize = 128;
/// Longest accepted password, in bytes (bounds the hashing work an attacker can cause).
pub const MAX_PASSWORD: usize = 1024;

/// Hashes a password with argon2id (default parameters: 19 MiB, 2 passes, 1 lane; OWASP's
/// minimum) and a fresh 128-bit salt.
pub fn hash_password(password: &Secret) -> Result<String, String> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| "the system RNG failed".to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the PHC string `hash` (false for a malformed hash).
pub fn verify_password(hash: &str, password: &Secret) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.expose_secret().as_bytes(), &parsed)
        .is_ok()
}

/// A user name is 1–128 printable characters without spaces at either end.
pub fn valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_USERNAME
        && name.trim() == name
        && !name.chars().any(char::is_control)
}

/// Revokes every grant of `subject` (each of its grant families: refresh tokens and the access
/// tokens issued from them), as disabling or deleting the user must: a user locked out of the
/// login page must not stay signed in to applications through refresh tokens. Returns how
/// many families were revoked.
pub async fn revoke_grants(
    store: &dyn crate::store::Store,
    subject: &str,
    now: u64,
) -> Result<usize, crate::error::StoreError> {
    let mut revoked = 0;
    for family in store.live_families_of(subject).await? {
        if store.revoke_family(&family, now).await? {
            revoked += 1;
        }
    }
    Ok(revoked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password(&Secret::new("correct horse")).unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, &Secret::new("correct horse")));
        assert!(!verify_password(&hash, &Secret::new("wrong")));
        assert!(!verify_password("garbage", &Secret::new("correct horse")));
        assert_ne!(hash, hash_password(&Secret::new("correct horse")).unwrap());
    }

    #[test]
    fn user_names_are_bounded_and_trimmed() {
        assert!(valid_username("alice"));
        assert!(!valid_username(""));
        assert!(!valid_username(" alice"));
        assert!(!valid_username("a\nb"));
        assert!(!valid_username(&"a".repeat(129)));
    }
}
