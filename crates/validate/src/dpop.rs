//! DPoP at the resource server (RFC 9449 §7): proto's [`check`] validates the proof for this
//! request (`typ`, asymmetric `alg`, public `jwk`, signature, `htm`, `htu`, fresh `iat`); this
//! layer adds the binding to the token (`cnf.jkt` is the proof key's thumbprint, `ath` the
//! base64url SHA-256 of the access token) and its own replay guard (a bounded in-memory `jti`
//! cache). A resource server sets no nonce policy.
use crate::expiring::{ExpiringMap, WhenFull};
use std::sync::Mutex;

use tessera_proto::OAuthError;
use tessera_proto::dpop::{DPOP_ALGS, Limits, ath, check};

use crate::error::{ErrorKind, Rejection};

/// The algorithms a proof may use, space-separated, for the `algs` challenge parameter.
pub fn algs() -> String {
    DPOP_ALGS.join(" ")
}

fn invalid(description: &'static str) -> Rejection {
    Rejection::bearer(ErrorKind::InvalidDpopProof, description).dpop()
}

/// Proof `jti`s seen, each kept until its proof could no longer be accepted.
pub struct ReplayCache {
    seen: Mutex<ExpiringMap<String, ()>>,
    max: usize,
}

impl ReplayCache {
    /// A cache remembering at most `max` proofs.
    pub fn new(max: usize) -> Self {
        Self {
            seen: Mutex::new(ExpiringMap::new(WhenFull::Refuse)),
            max,
        }
    }

    /// Records `key` until `expires`; `false` for a replay, or when full of live entries
    /// (failing closed: forgetting a `jti` early would let its proof be replayed).
    fn insert(&self, key: String, expires: u64, now: u64) -> bool {
        let mut seen = self.seen.lock().expect("poisoned");
        if seen.get(&key, now).is_some() {
            return false;
        }
        seen.insert(key, (), expires, now, self.max)
    }
}

/// What a proof is checked against.
pub struct Request<'a> {
    /// The proof (the one `DPoP` header).
    pub proof: &'a str,
    /// The request method.
    pub method: &'a str,
    /// The request URI: the configured external origin and the path in normal form.
    pub url: &'a str,
    /// The access token presented with it.
    pub access_token: &'a str,
    /// The token's `cnf.jkt`.
    pub jkt: &'a str,
}

/// A refusal of proto's check, with the DPoP challenge (its code is always `invalid_dpop_proof`).
fn refused(e: OAuthError) -> Rejection {
    let mut r = Rejection::bearer(ErrorKind::InvalidDpopProof, "").dpop();
    r.description = e.description;
    r
}

/// Validates a proof for a DPoP-bound token at `now` (seconds).
pub fn verify(
    req: &Request<'_>,
    replay: &ReplayCache,
    now: u64,
    limits: Limits,
) -> Result<(), Rejection> {
    let proof = check(req.proof, req.method, req.url, now, limits).map_err(refused)?;
    // §7.1: the proof key must be the one the token is bound to.
    if proof.jkt != req.jkt {
        return Err(invalid("the DPoP proof's key is not the token's key"));
    }
    // §4.3 (12) / §7.1: ath is the hash of this very token.
    if proof.ath.as_deref() != Some(ath(req.access_token).as_str()) {
        return Err(invalid(
            "the DPoP proof's ath does not match the access token",
        ));
    }
    // §4.3 (12): unseen.
    if !replay.insert(proof.replay_key(), proof.replay_until, now) {
        return Err(invalid("the DPoP proof was already used"));
    }
    Ok(())
}
