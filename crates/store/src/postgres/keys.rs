//! `KeyStore` on PostgreSQL.
use async_trait::async_trait;
use tessera_core::keys::{KeyState, SigningAlg, StoredKey};
use tessera_core::store::{KeyStore, StoreResult};

use super::{PgStore, corrupt, pool};

#[async_trait]
impl KeyStore for PgStore {
    async fn list_keys(&self) -> StoreResult<Vec<StoredKey>> {
        let rows = self
            .query(
                "SELECT kid, alg, state, private_key, sealed, public_jwk, created_at, activated_at, retired_at \
                 FROM signing_keys ORDER BY created_at, kid",
                &[],
            )
            .await?;
        let get = |e| pool::map_err(e);
        rows.iter()
            .map(|r| {
                Ok(StoredKey {
                    kid: r.try_get(0).map_err(get)?,
                    alg: SigningAlg::parse(r.try_get(1).map_err(get)?)
                        .ok_or_else(|| corrupt("signing_keys", "alg"))?,
                    state: KeyState::parse(r.try_get(2).map_err(get)?)
                        .ok_or_else(|| corrupt("signing_keys", "state"))?,
                    private_key: r.try_get(3).map_err(get)?,
                    sealed: r.try_get(4).map_err(get)?,
                    public_jwk: r.try_get(5).map_err(get)?,
                    created_at: r.try_get::<_, i64>(6).map_err(get)? as u64,
                    activated_at: r
                        .try_get::<_, Option<i64>>(7)
                        .map_err(get)?
                        .map(|t| t as u64),
                    retired_at: r
                        .try_get::<_, Option<i64>>(8)
                        .map_err(get)?
                        .map(|t| t as u64),
                })
            })
            .collect()
    }

    async fn rotate_in_key(&self, k: StoredKey, now: u64) -> StoreResult<()> {
        let mut conn = pool::get(&self.pool).await?;
        let run = async {
            let tx = conn.transaction().await?;
            // Two nodes rotating at once would each retire the committed current key and insert
            // their own, leaving two current keys (READ COMMITTED cannot see the other's
            // uncommitted row). The table lock serialises key writers; keys change rarely.
            tx.batch_execute("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
                .await?;
            let retire = tx
                .prepare_cached(
                    "UPDATE signing_keys SET state = 'retired', retired_at = $2 \
                     WHERE alg = $1 AND state = 'current'",
                )
                .await?;
            tx.execute(&retire, &[&k.alg.as_str(), &(now as i64)])
                .await?;
            let insert = tx
                .prepare_cached(
                    "INSERT INTO signing_keys (kid, alg, state, private_key, sealed, public_jwk, created_at, activated_at) \
                     VALUES ($1, $2, 'current', $3, $4, $5, $6, $7)",
                )
                .await?;
            tx.execute(
                &insert,
                &[
                    &k.kid,
                    &k.alg.as_str(),
                    &k.private_key,
                    &k.sealed,
                    &k.public_jwk,
                    &(k.created_at as i64),
                    &(now as i64),
                ],
            )
            .await?;
            tx.commit().await
        };
        run.await.map_err(pool::map_err)
    }
}
