//! `KeyStore` on SQLite. Every write runs inside the writer's `BEGIN IMMEDIATE` transaction,
//! which holds the database's write lock: the conditions a job reads cannot change before it
//! commits, in this process or any other sharing the file.
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use tessera_core::keys::{KeyState, SigningAlg, StoredKey};
use tessera_core::store::{KeyRevocation, KeyStore, StoreResult};
use tessera_proto::Secret;

use super::SqliteStore;

fn bad(what: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(0, what.to_string(), rusqlite::types::Type::Text)
}

/// The kid of `alg`'s key in `state`, if any.
fn kid_in_state(conn: &Connection, alg: &str, state: KeyState) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT kid FROM signing_keys WHERE alg = ?1 AND state = ?2")?
        .query_row(params![alg, state.as_str()], |r| r.get(0))
        .optional()
}

fn insert(
    conn: &Connection,
    k: &StoredKey,
    state: KeyState,
    activated_at: Option<u64>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO signing_keys (kid, alg, state, private_key, sealed, public_jwk, created_at, activated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        k.kid,
        k.alg.as_str(),
        state.as_str(),
        k.private_key.expose_secret(),
        k.sealed,
        k.public_jwk,
        k.created_at as i64,
        activated_at.map(|t| t as i64),
    ])?;
    Ok(())
}

/// Makes `kid` (in state `from`) current at `now`.
fn activate(conn: &Connection, kid: &str, now: u64) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "UPDATE signing_keys SET state = 'current', activated_at = ?2 WHERE kid = ?1 AND state = 'next'",
    )?
    .execute(params![kid, now as i64])
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn list_keys(&self) -> StoreResult<Vec<StoredKey>> {
        self.readers.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT kid, alg, state, private_key, sealed, public_jwk, created_at, activated_at, retired_at, revoked_at \
                 FROM signing_keys ORDER BY created_at, kid",
            )?;
            stmt.query_map([], |r| {
                Ok(StoredKey {
                    kid: r.get(0)?,
                    alg: SigningAlg::parse(&r.get::<_, String>(1)?).ok_or_else(|| bad("alg"))?,
                    state: KeyState::parse(&r.get::<_, String>(2)?).ok_or_else(|| bad("state"))?,
                    private_key: Secret::from_bytes(r.get(3)?),
                    sealed: r.get(4)?,
                    public_jwk: r.get(5)?,
                    created_at: r.get::<_, i64>(6)? as u64,
                    activated_at: r.get::<_, Option<i64>>(7)?.map(|t| t as u64),
                    retired_at: r.get::<_, Option<i64>>(8)?.map(|t| t as u64),
                    revoked_at: r.get::<_, Option<i64>>(9)?.map(|t| t as u64),
                })
            })?
            .collect()
        })
    }

    async fn rotate_in_key(&self, k: StoredKey, now: u64) -> StoreResult<()> {
        self.writer
            .run(move |conn| {
                conn.prepare_cached(
                    "UPDATE signing_keys SET state = 'retired', retired_at = ?2 WHERE alg = ?1 AND state = 'current'",
                )?
                .execute(params![k.alg.as_str(), now as i64])?;
                insert(conn, &k, KeyState::Current, Some(now))
            })
            .await
    }

    async fn insert_key(&self, k: StoredKey) -> StoreResult<bool> {
        if !matches!(k.state, KeyState::Next | KeyState::Current) {
            return Err(tessera_core::error::StoreError::Backend(format!(
                "insert_key takes a next or current key, not {}",
                k.state.as_str()
            )));
        }
        self.writer
            .run(move |conn| {
                if kid_in_state(conn, k.alg.as_str(), k.state)?.is_some() {
                    return Ok(false);
                }
                insert(conn, &k, k.state, k.activated_at)?;
                Ok(true)
            })
            .await
    }

    async fn promote_key(&self, next: &str, current: Option<&str>, now: u64) -> StoreResult<bool> {
        let (next, current) = (next.to_string(), current.map(str::to_string));
        self.writer
            .run(move |conn| {
                let alg: Option<String> = conn
                    .prepare_cached(
                        "SELECT alg FROM signing_keys WHERE kid = ?1 AND state = 'next'",
                    )?
                    .query_row([&next], |r| r.get(0))
                    .optional()?;
                let Some(alg) = alg else { return Ok(false) };
                if kid_in_state(conn, &alg, KeyState::Current)? != current {
                    return Ok(false);
                }
                if let Some(c) = &current {
                    conn.prepare_cached(
                        "UPDATE signing_keys SET state = 'retired', retired_at = ?2 WHERE kid = ?1",
                    )?
                    .execute(params![c, now as i64])?;
                }
                activate(conn, &next, now)?;
                Ok(true)
            })
            .await
    }

    async fn revoke_key(
        &self,
        kid: &str,
        replacement: StoredKey,
        now: u64,
    ) -> StoreResult<KeyRevocation> {
        let kid = kid.to_string();
        self.writer
            .run(move |conn| {
                let row: Option<(String, String, Option<i64>)> = conn
                    .prepare_cached(
                        "SELECT alg, state, revoked_at FROM signing_keys WHERE kid = ?1",
                    )?
                    .query_row([&kid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()?;
                let Some((alg, state, revoked_at)) = row else {
                    return Ok(KeyRevocation::NotFound);
                };
                let alg = SigningAlg::parse(&alg).ok_or_else(|| bad("alg"))?;
                let previous = KeyState::parse(&state).ok_or_else(|| bad("state"))?;
                if previous == KeyState::Revoked {
                    return Ok(KeyRevocation::AlreadyRevoked {
                        revoked_at: revoked_at.unwrap_or(0) as u64,
                    });
                }
                conn.prepare_cached(
                    "UPDATE signing_keys SET state = 'revoked', revoked_at = ?2 WHERE kid = ?1",
                )?
                .execute(params![kid, now as i64])?;
                // The revocation feed tells validators at once (docs/validate.md), instead of on
                // their next JWKS refresh.
                conn.prepare_cached(
                    "INSERT INTO revocation_entries (kind, id, revoked_at) VALUES ('key', ?1, ?2) \
                     ON CONFLICT (kind, id) DO NOTHING",
                )?
                .execute(params![kid, now as i64])?;
                let successor = if previous == KeyState::Current {
                    match kid_in_state(conn, alg.as_str(), KeyState::Next)? {
                        Some(next) => {
                            activate(conn, &next, now)?;
                            Some(next)
                        }
                        None => {
                            if replacement.alg != alg {
                                return Err(bad("replacement alg"));
                            }
                            insert(conn, &replacement, KeyState::Current, Some(now))?;
                            Some(replacement.kid)
                        }
                    }
                } else {
                    None
                };
                Ok(KeyRevocation::Revoked {
                    alg,
                    previous,
                    successor,
                })
            })
            .await
    }

    async fn prune_keys(&self, cutoff: u64) -> StoreResult<Vec<String>> {
        self.writer
            .run(move |conn| {
                conn.prepare_cached(
                    "DELETE FROM signing_keys \
                     WHERE (state = 'retired' AND retired_at <= ?1) OR (state = 'revoked' AND revoked_at <= ?1) \
                     RETURNING kid",
                )?
                .query_map([cutoff as i64], |r| r.get(0))?
                .collect()
            })
            .await
    }

    async fn reseal_key(&self, kid: &str, old: &[u8], sealed: &[u8]) -> StoreResult<bool> {
        let (kid, old, sealed) = (kid.to_string(), old.to_vec(), sealed.to_vec());
        self.writer
            .run(move |conn| {
                let n = conn
                    .prepare_cached(
                        "UPDATE signing_keys SET private_key = ?2, sealed = 1 \
                         WHERE kid = ?1 AND private_key = ?3",
                    )?
                    .execute(params![kid, sealed, old])?;
                Ok(n == 1)
            })
            .await
    }
}
