//! `ClientStore` on PostgreSQL.
use async_trait::async_trait;
use tessera_core::client::{Client, GrantType, TokenFormat};
use tessera_core::error::StoreError;
use tessera_core::keys::SigningAlg;
use tessera_core::store::{ClientStore, StoreResult};
use tessera_proto::SecretHash;
use tokio_postgres::Row;

use super::{PgStore, corrupt, pool, pool::map_err};
use crate::client_row::{CredentialColumns, StoredCredential};

/// Records (or replaces) a client's entry of the revocation feed ($1 id, $2 revoked_at,
/// $3 not_before, $4 disabled).
const CLIENT_ENTRY: &str = "INSERT INTO revocation_entries (kind, id, revoked_at, not_before, disabled) \
     VALUES ('client', $1, $2, $3, $4) ON CONFLICT (kind, id) DO UPDATE SET \
     revoked_at = excluded.revoked_at, not_before = excluded.not_before, disabled = excluded.disabled";

const COLUMNS: &str = "id, name, secret_hash, previous_secret_hash, previous_secret_expires_at, \
    grant_types, scopes, default_scopes, audiences, token_format, jwt_alg, auth_method, \
    access_token_ttl, disabled, created_at, updated_at, require_dpop, jwks, tls_client_auth, tokens_not_before, redirect_uris, jwks_uri, resource_uris, allow_impersonation, require_par";

fn from_row(r: &Row) -> StoreResult<Client> {
    let get = |e| map_err(e);
    let grant_types = r
        .try_get::<_, Vec<String>>(5)
        .map_err(get)?
        .iter()
        .map(|g| GrantType::parse(g).ok_or_else(|| corrupt("clients", "grant_types")))
        .collect::<StoreResult<_>>()?;
    let token_format: &str = r.try_get(9).map_err(get)?;
    let jwt_alg: &str = r.try_get(10).map_err(get)?;
    let credential = StoredCredential {
        auth_method: r.try_get(11).map_err(get)?,
        secret_hash: r.try_get(2).map_err(get)?,
        previous_secret_hash: r.try_get(3).map_err(get)?,
        previous_secret_expires_at: r.try_get(4).map_err(get)?,
        jwks: r.try_get(17).map_err(get)?,
        jwks_uri: r.try_get(21).map_err(get)?,
        tls_client_auth: r.try_get(18).map_err(get)?,
    }
    .into_credential()
    .map_err(|column| corrupt("clients", column))?;
    Ok(Client {
        id: r.try_get(0).map_err(get)?,
        name: r.try_get(1).map_err(get)?,
        credential,
        redirect_uris: r.try_get(20).map_err(get)?,
        grant_types,
        scopes: r.try_get(6).map_err(get)?,
        default_scopes: r.try_get(7).map_err(get)?,
        audiences: r.try_get(8).map_err(get)?,
        resource_uris: r.try_get(22).map_err(get)?,
        token_format: TokenFormat::parse(token_format)
            .ok_or_else(|| corrupt("clients", "token_format"))?,
        jwt_alg: SigningAlg::parse(jwt_alg).ok_or_else(|| corrupt("clients", "jwt_alg"))?,
        access_token_ttl: r
            .try_get::<_, Option<i64>>(12)
            .map_err(get)?
            .map(|t| t as u64),
        disabled: r.try_get(13).map_err(get)?,
        created_at: r.try_get::<_, i64>(14).map_err(get)? as u64,
        updated_at: r.try_get::<_, i64>(15).map_err(get)? as u64,
        require_dpop: r.try_get(16).map_err(get)?,
        allow_impersonation: r.try_get(23).map_err(get)?,
        require_par: r.try_get(24).map_err(get)?,
        tokens_not_before: r
            .try_get::<_, Option<i64>>(19)
            .map_err(get)?
            .map(|t| t as u64),
    })
}

fn grant_names(c: &Client) -> Vec<&'static str> {
    c.grant_types.iter().map(|g| g.as_str()).collect()
}

#[async_trait]
impl ClientStore for PgStore {
    async fn create_client(&self, c: &Client) -> StoreResult<()> {
        // A client id reused after a deletion: its new tokens are valid again, those of the
        // deleted client stay refused (they were issued before it was created). One statement.
        let sql = format!(
            "WITH created AS (INSERT INTO clients ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25) \
             RETURNING id, created_at, tokens_not_before, disabled) \
             UPDATE revocation_entries e SET revoked_at = c.created_at, \
             not_before = GREATEST(c.created_at, COALESCE(c.tokens_not_before, c.created_at)), disabled = c.disabled \
             FROM created c WHERE e.kind = 'client' AND e.id = c.id"
        );
        let cred = CredentialColumns::of(&c.credential);
        self.execute(
            &sql,
            &[
                &c.id,
                &c.name,
                &cred.secret_hash,
                &cred.previous.map(|(h, _)| h),
                &cred.previous.map(|(_, e)| e),
                &grant_names(c),
                &c.scopes,
                &c.default_scopes,
                &c.audiences,
                &c.token_format.as_str(),
                &c.jwt_alg.as_str(),
                &cred.auth_method,
                &c.access_token_ttl.map(|t| t as i64),
                &c.disabled,
                &(c.created_at as i64),
                &(c.updated_at as i64),
                &c.require_dpop,
                &cred.jwks,
                &cred.tls_client_auth,
                &c.tokens_not_before.map(|t| t as i64),
                &c.redirect_uris,
                &cred.jwks_uri,
                &c.resource_uris,
                &c.allow_impersonation,
                &c.require_par,
            ],
        )
        .await
        .map(drop)
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict("client id already exists".into()),
            other => other,
        })
    }

    async fn get_client(&self, id: &str) -> StoreResult<Option<Client>> {
        let sql = format!("SELECT {COLUMNS} FROM clients WHERE id = $1");
        self.query_opt(&sql, &[&id])
            .await?
            .as_ref()
            .map(from_row)
            .transpose()
    }

    async fn list_clients(&self) -> StoreResult<Vec<Client>> {
        let sql = format!("SELECT {COLUMNS} FROM clients ORDER BY created_at, id");
        self.query(&sql, &[]).await?.iter().map(from_row).collect()
    }

    async fn update_client(&self, c: &Client) -> StoreResult<bool> {
        let cred = CredentialColumns::of(&c.credential);
        let mut conn = pool::get(&self.pool).await?;
        let run = async {
            let tx = conn.transaction().await?;
            let before = tx
                .query_opt(
                    "SELECT disabled, tokens_not_before FROM clients WHERE id = $1 FOR UPDATE",
                    &[&c.id],
                )
                .await?
                .map(|r| (r.get::<_, bool>(0), r.get::<_, Option<i64>>(1)));
            let update = tx
                .prepare_cached(
                    "UPDATE clients SET name = $2, grant_types = $3, scopes = $4, default_scopes = $5, \
                     audiences = $6, token_format = $7, jwt_alg = $8, auth_method = $9, \
                     access_token_ttl = $10, disabled = $11, updated_at = $12, require_dpop = $13, \
                     jwks = $14, tls_client_auth = $15, tokens_not_before = $16, \
                     redirect_uris = $17, jwks_uri = $18, resource_uris = $19, allow_impersonation = $21, require_par = $22, \
                     secret_hash = CASE WHEN length($20::bytea) = 0 OR length(secret_hash) = 0 THEN $20 ELSE secret_hash END, \
                     previous_secret_hash = CASE WHEN length($20::bytea) = 0 OR length(secret_hash) = 0 THEN NULL ELSE previous_secret_hash END, \
                     previous_secret_expires_at = CASE WHEN length($20::bytea) = 0 OR length(secret_hash) = 0 THEN NULL ELSE previous_secret_expires_at END \
                     WHERE id = $1",
                )
                .await?;
            let n = tx
                .execute(
                    &update,
                    &[
                        &c.id,
                        &c.name,
                        &grant_names(c),
                        &c.scopes,
                        &c.default_scopes,
                        &c.audiences,
                        &c.token_format.as_str(),
                        &c.jwt_alg.as_str(),
                        &cred.auth_method,
                        &c.access_token_ttl.map(|t| t as i64),
                        &c.disabled,
                        &(c.updated_at as i64),
                        &c.require_dpop,
                        &cred.jwks,
                        &cred.tls_client_auth,
                        &c.tokens_not_before.map(|t| t as i64),
                        &c.redirect_uris,
                        &cred.jwks_uri,
                        &c.resource_uris,
                        &cred.secret_hash,
                        &c.allow_impersonation,
                        &c.require_par,
                    ],
                )
                .await?;
            let after = (c.disabled, c.tokens_not_before.map(|t| t as i64));
            if before.is_some_and(|b| b != after) {
                let entry = tx.prepare_cached(CLIENT_ENTRY).await?;
                tx.execute(&entry, &[&c.id, &(c.updated_at as i64), &after.1, &after.0])
                    .await?;
                // RFC 8693: what was exchanged from its tokens goes with them.
                let now = c.updated_at as i64;
                super::lineage::cascade_client(&tx, &c.id, after.0, after.1, now).await?;
            }
            tx.commit().await?;
            Ok(n == 1)
        };
        run.await.map_err(map_err)
    }

    async fn delete_client(&self, id: &str, now: u64) -> StoreResult<bool> {
        let mut conn = pool::get(&self.pool).await?;
        let run = async {
            let tx = conn.transaction().await?;
            let deleted = tx
                .execute("DELETE FROM clients WHERE id = $1", &[&id])
                .await?
                == 1;
            if deleted {
                let entry = tx.prepare_cached(CLIENT_ENTRY).await?;
                tx.execute(&entry, &[&id, &(now as i64), &None::<i64>, &true])
                    .await?;
                super::lineage::cascade_client(&tx, id, true, None, now as i64).await?;
            }
            tx.commit().await?;
            Ok(deleted)
        };
        run.await.map_err(map_err)
    }

    async fn rotate_client_secret(
        &self,
        id: &str,
        new: SecretHash,
        previous_expires_at: u64,
        now: u64,
    ) -> StoreResult<bool> {
        // One statement: the old current secret becomes the previous one atomically, so two
        // concurrent rotations cannot lose a secret between them.
        let n = self
            .execute(
                "UPDATE clients SET previous_secret_hash = secret_hash, \
                 previous_secret_expires_at = $3, secret_hash = $2, updated_at = $4 \
                 WHERE id = $1 AND length(secret_hash) > 0",
                &[
                    &id,
                    &new.as_bytes().as_slice(),
                    &(previous_expires_at as i64),
                    &(now as i64),
                ],
            )
            .await?;
        Ok(n == 1)
    }
}
