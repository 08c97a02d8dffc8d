//! The refresh reuse grace window (`refresh.reuse_grace_secs`): a rotation's successor token
//! string, sealed so that a retry of the rotated token within the window can be answered with
//! that same successor.
//!
//! Why sealed, not derived. The store keeps only hashes, so something must reproduce the
//! successor's string for a retry. Deriving it, HMAC(server secret, predecessor), would make
//! every successor a function of its predecessor for the family's whole life: whoever held the
//! secret and one old token string (a rotated one, left in a log or a backup) could compute the
//! live one, and no wipe could end that. Sealing keeps successors random, like every token
//! string (`TokenString::generate_random`); the sealed copy exists only for the window and is
//! wiped after it (by the store, and by the janitor, which keeps no slack for it). It is sealed
//! with the machinery that seals signing keys ([`crate::keys::Sealer`], AES-256-GCM under the
//! key-encryption key, a fresh random nonce each time), so reading it needs the database *and*
//! the key that already guards the signing keys — which would let an attacker forge access
//! tokens anyway. The associated data binds a blob to its predecessor, and apart from signing
//! keys (whose associated data is a `kid`): a blob copied onto another row does not open.
use tessera_proto::{OAuthError, Secret, SecretHash};

use crate::authority::Authority;
use crate::store::SealedSuccessor;

/// The associated data of the successor of `predecessor`.
fn aad(predecessor: &SecretHash) -> String {
    format!("tessera refresh successor of {}", predecessor.to_hex())
}

/// Seals `successor` (the new refresh token of rotating `predecessor`) until `until`. `None`
/// when the window is off (`reuse_grace_secs = 0`): nothing is kept.
pub(super) fn seal(
    authority: &Authority,
    predecessor: &SecretHash,
    successor: &Secret,
    now: u64,
) -> Result<Option<SealedSuccessor>, OAuthError> {
    let window = authority.config().refresh.reuse_grace_secs;
    if window == 0 {
        return Ok(None);
    }
    let sealer = authority.sealer().ok_or_else(|| {
        OAuthError::server_error("refresh.reuse_grace_secs is set but keys are not sealed")
    })?;
    let sealed = sealer
        .seal(&aad(predecessor), successor.expose_secret().as_bytes())
        .map_err(|e| OAuthError::server_error(e.to_string()))?;
    Ok(Some(SealedSuccessor {
        sealed: Secret::from_bytes(sealed),
        until: now + window,
    }))
}

/// Opens the successor the rotation of `predecessor` kept, and checks it is the token the
/// store holds as that successor (`expected`): a blob that does not open, or opens to another
/// token, is a server fault, never an answer.
pub(super) fn open(
    authority: &Authority,
    predecessor: &SecretHash,
    sealed: &SealedSuccessor,
    expected: &SecretHash,
) -> Result<Secret, OAuthError> {
    let sealer = authority.sealer().ok_or_else(|| {
        OAuthError::server_error("a sealed refresh successor, but keys are not sealed")
    })?;
    let plain = sealer
        .open(&aad(predecessor), sealed.sealed.expose_secret())
        .map_err(|_| OAuthError::server_error("a sealed refresh successor does not open"))?;
    let token = String::from_utf8(plain)
        .map(Secret::new)
        .map_err(|_| OAuthError::server_error("a sealed refresh successor is not text"))?;
    if token.hash() != *expected {
        return Err(OAuthError::server_error(
            "a sealed refresh successor is not the stored successor",
        ));
    }
    Ok(token)
}
