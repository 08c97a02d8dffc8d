//! `KeyStore` on PostgreSQL. Every write is one transaction that first takes
//! `LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE`: key writers (rare) run one at a time
//! across every node, so the conditions a transaction reads (READ COMMITTED) still hold when it
//! writes. Readers (`list_keys`, the JWKS reload) are not blocked.
use async_trait::async_trait;
use deadpool_postgres::Transaction;
use tessera_core::keys::{KeyState, SigningAlg, StoredKey};
use tessera_core::store::{KeyRevocation, KeyStore, StoreResult};
use tessera_proto::Secret;

use super::{PgStore, corrupt, pool};

const LOCK: &str = "LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE";

async fn kid_in_state(
    tx: &Transaction<'_>,
    alg: &str,
    state: KeyState,
) -> Result<Option<String>, tokio_postgres::Error> {
    let stmt = tx
        .prepare_cached("SELECT kid FROM signing_keys WHERE alg = $1 AND state = $2")
        .await?;
    Ok(tx
        .query_opt(&stmt, &[&alg, &state.as_str()])
        .await?
        .map(|r| r.get(0)))
}

async fn insert(
    tx: &Transaction<'_>,
    k: &StoredKey,
    state: KeyState,
    activated_at: Option<u64>,
) -> Result<(), tokio_postgres::Error> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO signing_keys (kid, alg, state, private_key, sealed, public_jwk, created_at, activated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &k.kid,
            &k.alg.as_str(),
            &state.as_str(),
            &k.private_key.expose_secret(),
            &k.sealed,
            &k.public_jwk,
            &(k.created_at as i64),
            &activated_at.map(|t| t as i64),
        ],
    )
    .await?;
    Ok(())
}

async fn activate(tx: &Transaction<'_>, kid: &str, now: u64) -> Result<u64, tokio_postgres::Error> {
    let stmt = tx
        .prepare_cached(
            "UPDATE signing_keys SET state = 'current', activated_at = $2 WHERE kid = $1 AND state = 'next'",
        )
        .await?;
    tx.execute(&stmt, &[&kid, &(now as i64)]).await
}

#[async_trait]
impl KeyStore for PgStore {
    async fn list_keys(&self) -> StoreResult<Vec<StoredKey>> {
        let rows = self
            .query(
                "SELECT kid, alg, state, private_key, sealed, public_jwk, created_at, activated_at, retired_at, revoked_at \
                 FROM signing_keys ORDER BY created_at, kid",
                &[],
            )
            .await?;
        let get = |e| pool::map_err(e);
        let time = |r: &tokio_postgres::Row, i: usize| {
            r.try_get::<_, Option<i64>>(i)
                .map(|t| t.map(|t| t as u64))
                .map_err(get)
        };
        rows.iter()
            .map(|r| {
                Ok(StoredKey {
                    kid: r.try_get(0).map_err(get)?,
                    alg: SigningAlg::parse(r.try_get(1).map_err(get)?)
                        .ok_or_else(|| corrupt("signing_keys", "alg"))?,
                    state: KeyState::parse(r.try_get(2).map_err(get)?)
                        .ok_or_else(|| corrupt("signing_keys", "state"))?,
                    private_key: Secret::from_bytes(r.try_get(3).map_err(get)?),
                    sealed: r.try_get(4).map_err(get)?,
                    public_jwk: r.try_get(5).map_err(get)?,
                    created_at: r.try_get::<_, i64>(6).map_err(get)? as u64,
                    activated_at: time(r, 7)?,
                    retired_at: time(r, 8)?,
                    revoked_at: time(r, 9)?,
                })
            })
            .collect()
    }

    async fn rotate_in_key(&self, k: StoredKey, now: u64) -> StoreResult<()> {
        let mut conn = pool::get(&self.pool).await?;
        let run = async {
            let tx = conn.transaction().await?;
            tx.batch_execute(LOCK).await?;
            let retire = tx
                .prepare_cached(
                    "UPDATE signing_keys SET state = 'retired', retired_at = $2 \
                     WHERE alg = $1 AND state = 'current'",
                )
                .await?;
            tx.execute(&retire, &[&k.alg.as_str(), &(now as i64)])
                .await?;
            insert(&tx, &k, KeyState::Current, Some(now)).await?;
            tx.commit().await
        };
        run.await.map_err(pool::map_err)
    }

    async fn insert_key(&self, k: StoredKey) -> StoreResult<bool> {
        if !matches!(k.state, KeyState::Next | KeyState::Current) {
            return Err(tessera_core::error::StoreError::Backend(format!(
                "insert_key takes a next or current key, not {}",
                k.state.as_str()
            )));
        }
        let mut conn = pool::get(&self.pool).await?;
        let run = async {
            let tx = conn.transaction().await?;
            tx.batch_execute(LOCK).await?;
            if kid_in_state(&tx, k.alg.as_str(), k.state).await?.is_some() {
                return Ok(false);
            }
            insert(&tx, &k, k.state, k.activated_at).await?;
            tx.commit().await?;
            Ok(true)
        };
        run.await.map_err(pool::map_err)
    }

    async fn promote_key(&self, next: &str, current: Option<&str>, now: u64) -> StoreResult<bool> {
        let mut conn = pool::get(&self.pool).await?;
        let run = async {
            let tx = conn.transaction().await?;
            tx.batch_execute(LOCK).await?;
            let find = tx
                .prepare_cached("SELECT alg FROM signing_keys WHERE kid = $1 AND state = 'next'")
                .await?;
            let Some(alg) = tx
                .query_opt(&find, &[&next])
                .await?
                .map(|r| r.get::<_, String>(0))
            else {
                return Ok(false);
            };
            if kid_in_state(&tx, &alg, KeyState::Current).await?.as_deref() != current {
                return Ok(false);
            }
            if let Some(c) = current {
                let retire = tx
                    .prepare_cached(
                        "UPDATE signing_keys SET state = 'retired', retired_at = $2 WHERE kid = $1",
                    )
                    .await?;
                tx.execute(&retire, &[&c, &(now as i64)]).await?;
            }
            activate(&tx, next, now).await?;
            tx.commit().await?;
            Ok(true)
        };
        run.await.map_err(pool::map_err)
    }

    async fn revoke_key(
        &self,
        kid: &str,
        replacement: StoredKey,
        now: u64,
    ) -> StoreResult<KeyRevocation> {
        let mut conn = pool::get(&self.pool).await?;
        let tx = conn.transaction().await.map_err(pool::map_err)?;
        tx.batch_execute(LOCK).await.map_err(pool::map_err)?;
        let row = tx
            .query_opt(
                "SELECT alg, state, revoked_at FROM signing_keys WHERE kid = $1",
                &[&kid],
            )
            .await
            .map_err(pool::map_err)?;
        let Some(row) = row else {
            return Ok(KeyRevocation::NotFound);
        };
        let alg = SigningAlg::parse(row.get(0)).ok_or_else(|| corrupt("signing_keys", "alg"))?;
        let previous =
            KeyState::parse(row.get(1)).ok_or_else(|| corrupt("signing_keys", "state"))?;
        if previous == KeyState::Revoked {
            let at: Option<i64> = row.get(2);
            return Ok(KeyRevocation::AlreadyRevoked {
                revoked_at: at.unwrap_or(0) as u64,
            });
        }
        if previous == KeyState::Current && replacement.alg != alg {
            return Err(corrupt("signing_keys", "replacement alg"));
        }
        let run = async {
            tx.execute(
                "UPDATE signing_keys SET state = 'revoked', revoked_at = $2 WHERE kid = $1",
                &[&kid, &(now as i64)],
            )
            .await?;
            // The revocation feed tells validators at once (docs/validate.md), instead of on
            // their next JWKS refresh.
            tx.execute(
                "INSERT INTO revocation_entries (kind, id, revoked_at) VALUES ('key', $1, $2) \
                 ON CONFLICT (kind, id) DO NOTHING",
                &[&kid, &(now as i64)],
            )
            .await?;
            let successor = if previous == KeyState::Current {
                match kid_in_state(&tx, alg.as_str(), KeyState::Next).await? {
                    Some(next) => {
                        activate(&tx, &next, now).await?;
                        Some(next)
                    }
                    None => {
                        insert(&tx, &replacement, KeyState::Current, Some(now)).await?;
                        Some(replacement.kid.clone())
                    }
                }
            } else {
                None
            };
            tx.commit().await?;
            Ok(successor)
        };
        let successor = run.await.map_err(pool::map_err)?;
        Ok(KeyRevocation::Revoked {
            alg,
            previous,
            successor,
        })
    }

    async fn prune_keys(&self, cutoff: u64) -> StoreResult<Vec<String>> {
        let rows = self
            .query(
                "DELETE FROM signing_keys \
                 WHERE (state = 'retired' AND retired_at <= $1) OR (state = 'revoked' AND revoked_at <= $1) \
                 RETURNING kid",
                &[&(cutoff as i64)],
            )
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn reseal_key(&self, kid: &str, old: &[u8], sealed: &[u8]) -> StoreResult<bool> {
        let conn = pool::get(&self.pool).await?;
        let run = async {
            let stmt = conn
                .prepare_cached(
                    "UPDATE signing_keys SET private_key = $2, sealed = TRUE \
                     WHERE kid = $1 AND private_key = $3",
                )
                .await?;
            Ok(conn.execute(&stmt, &[&kid, &sealed, &old]).await? == 1)
        };
        run.await.map_err(pool::map_err)
    }
}
