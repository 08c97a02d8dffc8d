//! `KeyStore` on SQLite.
use async_trait::async_trait;
use rusqlite::params;
use tessera_core::keys::{KeyState, SigningAlg, StoredKey};
use tessera_core::store::{KeyStore, StoreResult};

use super::SqliteStore;

fn bad(what: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(0, what.to_string(), rusqlite::types::Type::Text)
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn list_keys(&self) -> StoreResult<Vec<StoredKey>> {
        self.readers.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT kid, alg, state, private_key, sealed, public_jwk, created_at, activated_at, retired_at \
                 FROM signing_keys ORDER BY created_at, kid",
            )?;
            stmt.query_map([], |r| {
                Ok(StoredKey {
                    kid: r.get(0)?,
                    alg: SigningAlg::parse(&r.get::<_, String>(1)?).ok_or_else(|| bad("alg"))?,
                    state: KeyState::parse(&r.get::<_, String>(2)?).ok_or_else(|| bad("state"))?,
                    private_key: r.get(3)?,
                    sealed: r.get(4)?,
                    public_jwk: r.get(5)?,
                    created_at: r.get::<_, i64>(6)? as u64,
                    activated_at: r.get::<_, Option<i64>>(7)?.map(|t| t as u64),
                    retired_at: r.get::<_, Option<i64>>(8)?.map(|t| t as u64),
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
                conn.prepare_cached(
                    "INSERT INTO signing_keys (kid, alg, state, private_key, sealed, public_jwk, created_at, activated_at) \
                     VALUES (?1, ?2, 'current', ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    k.kid,
                    k.alg.as_str(),
                    k.private_key,
                    k.sealed,
                    k.public_jwk,
                    k.created_at as i64,
                    now as i64,
                ])?;
                Ok(())
            })
            .await
    }
}
