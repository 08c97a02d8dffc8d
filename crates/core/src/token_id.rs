//! The public identifier of an opaque access token: what events, introspection answers (`jti`),
//! alerts and the monitor's revoke action name it by — never its sequential selector alone.
//!
//! The selector keys the token's row but is sequential, so an id that is just the selector is
//! guessable: anything that acts on an id (the monitor's revoke-by-token-id) could be aimed at
//! tokens 1..N. The public id is `<selector>.<tag>`, the tag being 96 bits of a SHA-256 over the
//! token's stored hash (itself over 256 random bits): it cannot be computed without the token,
//! and checking it needs only the row the selector finds — no extra column or index on the
//! issuance path. A JWT's id is its `jti`, already 128 random bits.
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use tessera_proto::SecretHash;

/// Domain separation: the tag is not a prefix of the stored hash, or of any other digest.
const DOMAIN: &[u8] = b"tessera/opaque-token-id/v1\0";

/// Tag bytes (96 bits): far beyond guessing over a network, short enough to read in a log.
const TAG_BYTES: usize = 12;

fn tag(hash: &SecretHash) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(DOMAIN);
    ctx.update(hash.as_bytes());
    B64.encode(&ctx.finish().as_ref()[..TAG_BYTES])
}

/// The public id of the opaque token whose row is keyed by `selector` and stores `hash`.
pub fn opaque(selector: u64, hash: &SecretHash) -> String {
    format!("{selector}.{}", tag(hash))
}

/// The selector an id names, if it has the opaque-token shape (`<digits>.<tag>`); the caller
/// fetches that row and confirms with [`opaque_matches`]. A bare number is not an id.
pub fn opaque_selector(id: &str) -> Option<u64> {
    let (selector, tag) = id.split_once('.')?;
    if selector.is_empty()
        || !selector.bytes().all(|b| b.is_ascii_digit())
        || tag.len() != B64.encode([0u8; TAG_BYTES]).len()
    {
        return None;
    }
    selector.parse().ok()
}

/// Whether `id` is the public id of the token stored with `selector` and `hash` (the tag is
/// compared in constant time).
pub fn opaque_matches(id: &str, selector: u64, hash: &SecretHash) -> bool {
    let expected = opaque(selector, hash);
    aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), id.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_carry_an_unguessable_tag_checked_against_the_row() {
        let h = SecretHash::of(b"tsr_at_example");
        let id = opaque(7, &h);
        assert!(id.starts_with("7.") && id.len() == 2 + 16, "{id}");
        assert_eq!(opaque_selector(&id), Some(7));
        assert!(opaque_matches(&id, 7, &h));
        assert!(!opaque_matches(&id, 7, &SecretHash::of(b"other")));
        assert!(!opaque_matches(&id, 8, &h));
        for bad in [
            "7",
            "",
            ".",
            "7.",
            "x.AAAAAAAAAAAAAAAA",
            "7.short",
            "-1.AAAAAAAAAAAAAAAA",
        ] {
            assert_eq!(opaque_selector(bad), None, "{bad}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn parsing_any_string_never_panics(s in "\\PC{0,40}") {
            let _ = opaque_selector(&s);
            let _ = opaque_matches(&s, 1, &SecretHash::of(b"x"));
        }
    }
}
