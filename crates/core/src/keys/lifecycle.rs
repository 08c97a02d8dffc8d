//! Carrying out the signing-key lifecycle on the store: the scheduled steps every node runs
//! ([`run_schedule`]), `tessera keys rotate` ([`begin_rotation`], [`rotate_key`]) and
//! `tessera keys revoke` ([`revoke_key`]), each recording its audit events. The plan itself is
//! pure ([`super::plan`]); every store write here is conditional, so several nodes may run
//! the same step at once and exactly one of them acts (and records the event).
use super::{
    KeyError, KeyPolicy, KeyState, Sealer, SigningAlg, Step, StoredKey, generate_key, plan,
};
use crate::audit::{AuditEvent, EventKind};
use crate::store::{KeyRevocation, Store};

/// A change this node made to the keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyChange {
    /// A `next` key was published.
    Created {
        /// Its algorithm.
        alg: SigningAlg,
        /// Its id.
        kid: String,
    },
    /// A key became current, retiring `retired`.
    Rotated {
        /// Its algorithm.
        alg: SigningAlg,
        /// The new current key.
        kid: String,
        /// The key it replaced.
        retired: Option<String>,
    },
    /// A retired or revoked key was removed.
    Removed {
        /// Its id.
        kid: String,
    },
}

fn event(
    kind: EventKind,
    kid: &str,
    alg: SigningAlg,
    reason: Option<&str>,
    now: u64,
) -> AuditEvent {
    let mut e = AuditEvent::new(kind, now * 1000);
    e.token_id = Some(kid.to_string());
    e.format = Some(alg.as_str().to_string());
    e.reason = reason.map(str::to_string);
    e
}

async fn record_rotation(
    store: &dyn Store,
    alg: SigningAlg,
    kid: &str,
    retired: Option<&str>,
    reason: &str,
    now: u64,
) {
    store
        .record_event(event(EventKind::KeyRotated, kid, alg, Some(reason), now))
        .await;
    if let Some(old) = retired {
        store
            .record_event(event(EventKind::KeyRetired, old, alg, Some(reason), now))
            .await;
    }
}

/// Carries out every step that is due at `now` (see [`plan`]); returns what this node changed
/// (nothing, for the steps another node won).
pub async fn run_schedule(
    store: &dyn Store,
    sealer: Option<&Sealer>,
    policy: &KeyPolicy,
    now: u64,
) -> Result<Vec<KeyChange>, KeyError> {
    let keys = store.list_keys().await?;
    let mut changes = Vec::new();
    for step in plan(&keys, policy, now) {
        match step {
            Step::CreateCurrent(alg) => {
                let key = generate_key(alg, KeyState::Current, sealer, now)?;
                let kid = key.kid.clone();
                if store.insert_key(key).await? {
                    record_rotation(store, alg, &kid, None, "initial", now).await;
                    changes.push(KeyChange::Rotated {
                        alg,
                        kid,
                        retired: None,
                    });
                }
            }
            Step::CreateNext(alg) => {
                if let Some(kid) = publish_next(store, alg, sealer, "scheduled", now).await? {
                    changes.push(KeyChange::Created { alg, kid });
                }
            }
            Step::Promote { alg, next, current } => {
                let won = store.promote_key(&next, current.as_deref(), now).await?;
                if won {
                    record_rotation(store, alg, &next, current.as_deref(), "scheduled", now).await;
                    changes.push(KeyChange::Rotated {
                        alg,
                        kid: next,
                        retired: current,
                    });
                }
            }
            Step::Prune { cutoff } => {
                let removed = store.prune_keys(cutoff).await?;
                for kid in removed {
                    if let Some(k) = keys.iter().find(|k| k.kid == kid) {
                        store
                            .record_event(event(
                                EventKind::KeyRemoved,
                                &kid,
                                k.alg,
                                Some("expired"),
                                now,
                            ))
                            .await;
                    }
                    changes.push(KeyChange::Removed { kid });
                }
            }
        }
    }
    Ok(changes)
}

/// Generates a `next` key of `alg` and publishes it unless the algorithm has one already;
/// `None` then.
async fn publish_next(
    store: &dyn Store,
    alg: SigningAlg,
    sealer: Option<&Sealer>,
    reason: &str,
    now: u64,
) -> Result<Option<String>, KeyError> {
    let key = generate_key(alg, KeyState::Next, sealer, now)?;
    let kid = key.kid.clone();
    if !store.insert_key(key).await? {
        return Ok(None);
    }
    store
        .record_event(event(EventKind::KeyCreated, &kid, alg, Some(reason), now))
        .await;
    Ok(Some(kid))
}

/// The safe rotation (`tessera keys rotate`): publishes a `next` key of `alg` that becomes
/// current once it has been published for `publish_before_use` (a running node's schedule
/// promotes it). If `alg` already has a `next` key, that one is returned with `false`.
pub async fn begin_rotation(
    store: &dyn Store,
    alg: SigningAlg,
    sealer: Option<&Sealer>,
    now: u64,
) -> Result<(StoredKey, bool), KeyError> {
    let existing = |keys: Vec<StoredKey>| {
        keys.into_iter()
            .find(|k| k.alg == alg && k.state == KeyState::Next)
    };
    let keys = store.list_keys().await?;
    if let Some(k) = existing(keys) {
        return Ok((k, false));
    }
    let created = publish_next(store, alg, sealer, "manual", now).await?;
    let keys = store.list_keys().await?;
    let key = existing(keys).ok_or(KeyError::Vanished)?;
    let ours = created.is_some_and(|kid| kid == key.kid);
    Ok((key, ours))
}

/// The immediate rotation (`tessera keys rotate --now`): the algorithm's `next` key becomes
/// current at once if it has one (it is already published), else a fresh key does. Validators
/// whose cached JWK Set lacks the new key refetch it on its first token (the `kid` is unknown
/// to them); those that do not refetch refuse its tokens until their cache expires.
pub async fn rotate_key(
    store: &dyn Store,
    alg: SigningAlg,
    sealer: Option<&Sealer>,
    now: u64,
) -> Result<String, KeyError> {
    let keys = store.list_keys().await?;
    let of = |state| keys.iter().find(|k| k.alg == alg && k.state == state);
    if let Some(next) = of(KeyState::Next) {
        let current = of(KeyState::Current).map(|k| k.kid.clone());
        let won = store
            .promote_key(&next.kid, current.as_deref(), now)
            .await?;
        if won {
            record_rotation(store, alg, &next.kid, current.as_deref(), "manual", now).await;
            return Ok(next.kid.clone());
        }
        // Another node promoted or revoked it meanwhile: fall through to a fresh key.
    }
    let current = store
        .list_keys()
        .await?
        .into_iter()
        .find(|k| k.alg == alg && k.state == KeyState::Current)
        .map(|k| k.kid);
    let key = generate_key(alg, KeyState::Current, sealer, now)?;
    let kid = key.kid.clone();
    store.rotate_in_key(key, now).await?;
    record_rotation(store, alg, &kid, current.as_deref(), "manual", now).await;
    Ok(kid)
}

/// Why `tessera keys revoke` did nothing.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RevokeKeyError {
    /// No key has that id.
    #[error("unknown key id {0:?} (see `tessera keys list`)")]
    UnknownKid(String),
    /// The store failed.
    #[error("{0}")]
    Store(String),
}

/// Revokes a compromised key (`tessera keys revoke`): it leaves the JWK Set at once (every node
/// reloads within `change_poll_ms`) and every token it signed stops verifying, so introspection
/// answers inactive. If it was current, the `next` key or a fresh one signs instead at once.
/// Revoking a revoked key changes nothing and records nothing (`AlreadyRevoked`).
pub async fn revoke_key(
    store: &dyn Store,
    kid: &str,
    reason: Option<&str>,
    sealer: Option<&Sealer>,
    now: u64,
) -> Result<KeyRevocation, RevokeKeyError> {
    let keys = store
        .list_keys()
        .await
        .map_err(|e| RevokeKeyError::Store(e.to_string()))?;
    let Some(key) = keys.iter().find(|k| k.kid == kid) else {
        return Err(RevokeKeyError::UnknownKid(kid.to_string()));
    };
    // Made before the transaction (generation is slow for RSA); used only if `kid` is current.
    let replacement = generate_key(key.alg, KeyState::Current, sealer, now)
        .map_err(|e| RevokeKeyError::Store(e.to_string()))?;
    let outcome = store
        .revoke_key(kid, replacement, now)
        .await
        .map_err(|e| RevokeKeyError::Store(e.to_string()))?;
    match &outcome {
        KeyRevocation::Revoked { alg, successor, .. } => {
            store
                .record_event(event(EventKind::KeyRevoked, kid, *alg, reason, now))
                .await;
            if let Some(s) = successor {
                store
                    .record_event(event(EventKind::KeyRotated, s, *alg, Some("revoked"), now))
                    .await;
            }
        }
        KeyRevocation::NotFound => return Err(RevokeKeyError::UnknownKid(kid.to_string())),
        KeyRevocation::AlreadyRevoked { .. } => {}
    }
    Ok(outcome)
}

/// The start-up migration of private keys at rest: with a key-encryption key, every stored key
/// that is unsealed (a database from before sealing was the default) or sealed without its kid
/// as associated data (before blobs were bound to their kid) is re-sealed bound to its kid, each
/// one a conditional store write (several nodes may run it at once). Returns how many this node
/// re-sealed. A sealed blob that opens neither way (wrong key-encryption key, or a blob moved to
/// another kid) is left alone: the key ring refuses it when it signs.
pub async fn reseal_keys(store: &dyn Store, sealer: &Sealer) -> Result<usize, KeyError> {
    let keys = store.list_keys().await?;
    let mut done = 0;
    for k in keys {
        let plain = match k.sealed {
            false => k.private_key.expose_secret().to_vec(),
            true if sealer.open(&k.kid, k.private_key.expose_secret()).is_ok() => continue,
            true => match sealer.open_unbound(k.private_key.expose_secret()) {
                Ok(plain) => plain,
                Err(_) => continue,
            },
        };
        let sealed = sealer.seal(&k.kid, &plain)?;
        if store
            .reseal_key(&k.kid, k.private_key.expose_secret(), &sealed)
            .await?
        {
            done += 1;
        }
    }
    Ok(done)
}
