//! `ClientStore` on SQLite.
use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, params};
use tessera_core::client::{Client, GrantType, TokenFormat};
use tessera_core::error::StoreError;
use tessera_core::keys::SigningAlg;
use tessera_core::store::{ClientStore, StoreResult};
use tessera_proto::SecretHash;

use super::SqliteStore;
use crate::client_row::{CredentialColumns, StoredCredential};

const COLUMNS: &str = "id, name, secret_hash, previous_secret_hash, previous_secret_expires_at, \
    grant_types, scopes, default_scopes, audiences, token_format, jwt_alg, auth_method, \
    access_token_ttl, disabled, created_at, updated_at, require_dpop, jwks, tls_client_auth, tokens_not_before, redirect_uris, jwks_uri, resource_uris, allow_impersonation, require_par";

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).expect("a string list serialises")
}

fn bad(what: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(0, what.to_string(), rusqlite::types::Type::Text)
}

fn list(text: String) -> rusqlite::Result<Vec<String>> {
    serde_json::from_str(&text).map_err(|_| bad("list"))
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Client> {
    let grant_types = list(r.get(5)?)?
        .iter()
        .map(|g| GrantType::parse(g).ok_or_else(|| bad("grant_type")))
        .collect::<rusqlite::Result<_>>()?;
    let credential = StoredCredential {
        auth_method: r.get(11)?,
        secret_hash: r.get(2)?,
        previous_secret_hash: r.get(3)?,
        previous_secret_expires_at: r.get(4)?,
        jwks: r.get(17)?,
        jwks_uri: r.get(21)?,
        tls_client_auth: r.get(18)?,
    }
    .into_credential()
    .map_err(bad)?;
    Ok(Client {
        id: r.get(0)?,
        name: r.get(1)?,
        credential,
        redirect_uris: list(r.get(20)?)?,
        grant_types,
        scopes: list(r.get(6)?)?,
        default_scopes: list(r.get(7)?)?,
        audiences: list(r.get(8)?)?,
        resource_uris: list(r.get(22)?)?,
        token_format: TokenFormat::parse(&r.get::<_, String>(9)?)
            .ok_or_else(|| bad("token_format"))?,
        jwt_alg: SigningAlg::parse(&r.get::<_, String>(10)?).ok_or_else(|| bad("jwt_alg"))?,
        access_token_ttl: r.get::<_, Option<i64>>(12)?.map(|t| t as u64),
        disabled: r.get(13)?,
        created_at: r.get::<_, i64>(14)? as u64,
        updated_at: r.get::<_, i64>(15)? as u64,
        require_dpop: r.get(16)?,
        allow_impersonation: r.get(23)?,
        require_par: r.get(24)?,
        tokens_not_before: r.get::<_, Option<i64>>(19)?.map(|t| t as u64),
    })
}

/// Records (or replaces) client `id`'s entry of the revocation feed, in the caller's transaction.
fn record_client_entry(
    conn: &rusqlite::Connection,
    id: &str,
    revoked_at: i64,
    not_before: Option<i64>,
    disabled: bool,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO revocation_entries (kind, id, revoked_at, not_before, disabled) \
         VALUES ('client', ?1, ?2, ?3, ?4) ON CONFLICT (kind, id) DO UPDATE SET \
         revoked_at = excluded.revoked_at, not_before = excluded.not_before, disabled = excluded.disabled",
    )?
    .execute(params![id, revoked_at, not_before, disabled])?;
    Ok(())
}

#[async_trait]
impl ClientStore for SqliteStore {
    async fn create_client(&self, c: &Client) -> StoreResult<()> {
        let c = c.clone();
        self.writer
            .run(move |conn| {
                let grants: Vec<String> = c.grant_types.iter().map(|g| g.as_str().to_string()).collect();
                let cred = CredentialColumns::of(&c.credential);
                conn.prepare_cached(&format!(
                    "INSERT INTO clients ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)"
                ))?
                .execute(params![
                    c.id,
                    c.name,
                    cred.secret_hash,
                    cred.previous.map(|(h, _)| h),
                    cred.previous.map(|(_, e)| e),
                    json_list(&grants),
                    json_list(&c.scopes),
                    json_list(&c.default_scopes),
                    json_list(&c.audiences),
                    c.token_format.as_str(),
                    c.jwt_alg.as_str(),
                    cred.auth_method,
                    c.access_token_ttl.map(|t| t as i64),
                    c.disabled,
                    c.created_at as i64,
                    c.updated_at as i64,
                    c.require_dpop,
                    cred.jwks,
                    cred.tls_client_auth,
                    c.tokens_not_before.map(|t| t as i64),
                    json_list(&c.redirect_uris),
                    cred.jwks_uri,
                    json_list(&c.resource_uris),
                    c.allow_impersonation,
                    c.require_par,
                ])?;
                // A client id reused after a deletion: its new tokens are valid again, those of
                // the deleted client stay refused (they were issued before it was created).
                let reused = conn
                    .prepare_cached("SELECT 1 FROM revocation_entries WHERE kind = 'client' AND id = ?1")?
                    .exists([&c.id])?;
                if reused {
                    let created = c.created_at as i64;
                    let not_before = c.tokens_not_before.map_or(created, |t| (t as i64).max(created));
                    record_client_entry(conn, &c.id, created, Some(not_before), c.disabled)?;
                }
                Ok(())
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => StoreError::Conflict("client id already exists".into()),
                other => other,
            })
    }

    async fn get_client(&self, id: &str) -> StoreResult<Option<Client>> {
        self.readers.with(|conn| {
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM clients WHERE id = ?1"))?
                .query_row([id], from_row)
                .optional()
        })
    }

    async fn list_clients(&self) -> StoreResult<Vec<Client>> {
        self.readers.with(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM clients ORDER BY created_at, id"
            ))?;
            stmt.query_map([], from_row)?.collect()
        })
    }

    async fn update_client(&self, c: &Client) -> StoreResult<bool> {
        let c = c.clone();
        self.writer
            .run(move |conn| {
                let grants: Vec<String> = c.grant_types.iter().map(|g| g.as_str().to_string()).collect();
                let cred = CredentialColumns::of(&c.credential);
                let before: Option<(bool, Option<i64>)> = conn
                    .prepare_cached("SELECT disabled, tokens_not_before FROM clients WHERE id = ?1")?
                    .query_row([&c.id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let n = conn
                    .prepare_cached(
                        "UPDATE clients SET name = ?2, grant_types = ?3, scopes = ?4, default_scopes = ?5, \
                         audiences = ?6, token_format = ?7, jwt_alg = ?8, auth_method = ?9, \
                         access_token_ttl = ?10, disabled = ?11, updated_at = ?12, require_dpop = ?13, jwks = ?14, tls_client_auth = ?15, tokens_not_before = ?16, redirect_uris = ?17, jwks_uri = ?18, resource_uris = ?19, allow_impersonation = ?21, require_par = ?22, \
                         secret_hash = CASE WHEN length(?20) = 0 OR length(secret_hash) = 0 THEN ?20 ELSE secret_hash END, \
                         previous_secret_hash = CASE WHEN length(?20) = 0 OR length(secret_hash) = 0 THEN NULL ELSE previous_secret_hash END, \
                         previous_secret_expires_at = CASE WHEN length(?20) = 0 OR length(secret_hash) = 0 THEN NULL ELSE previous_secret_expires_at END \
                         WHERE id = ?1",
                    )?
                    .execute(params![
                        c.id,
                        c.name,
                        json_list(&grants),
                        json_list(&c.scopes),
                        json_list(&c.default_scopes),
                        json_list(&c.audiences),
                        c.token_format.as_str(),
                        c.jwt_alg.as_str(),
                        cred.auth_method,
                        c.access_token_ttl.map(|t| t as i64),
                        c.disabled,
                        c.updated_at as i64,
                        c.require_dpop,
                        cred.jwks,
                        cred.tls_client_auth,
                        c.tokens_not_before.map(|t| t as i64),
                        json_list(&c.redirect_uris),
                        cred.jwks_uri,
                        json_list(&c.resource_uris),
                        cred.secret_hash,
                        c.allow_impersonation,
                        c.require_par,
                    ])?;
                let after = (c.disabled, c.tokens_not_before.map(|t| t as i64));
                if before.is_some_and(|b| b != after) {
                    record_client_entry(conn, &c.id, c.updated_at as i64, after.1, after.0)?;
                    // RFC 8693: what was exchanged from its tokens goes with them.
                    super::lineage::cascade_client(conn, &c.id, after.0, after.1, c.updated_at as i64)?;
                }
                Ok(n == 1)
            })
            .await
    }

    async fn delete_client(&self, id: &str, now: u64) -> StoreResult<bool> {
        let id = id.to_string();
        self.writer
            .run(move |conn| {
                let deleted = conn
                    .prepare_cached("DELETE FROM clients WHERE id = ?1")?
                    .execute([&id])?
                    == 1;
                if deleted {
                    record_client_entry(conn, &id, now as i64, None, true)?;
                    super::lineage::cascade_client(conn, &id, true, None, now as i64)?;
                }
                Ok(deleted)
            })
            .await
    }

    async fn rotate_client_secret(
        &self,
        id: &str,
        new: SecretHash,
        previous_expires_at: u64,
        now: u64,
    ) -> StoreResult<bool> {
        let id = id.to_string();
        self.writer
            .run(move |conn| {
                let n = conn
                    .prepare_cached(
                        "UPDATE clients SET previous_secret_hash = secret_hash, \
                         previous_secret_expires_at = ?3, secret_hash = ?2, updated_at = ?4 \
                         WHERE id = ?1 AND length(secret_hash) > 0",
                    )?
                    .execute(params![
                        id,
                        new.as_bytes().as_slice(),
                        previous_expires_at as i64,
                        now as i64
                    ])?;
                Ok(n == 1)
            })
            .await
    }
}
