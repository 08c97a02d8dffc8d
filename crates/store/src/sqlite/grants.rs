//! `GrantStore` on SQLite. Every method runs as one job of the single writer thread (inside its
//! own savepoint), so check-then-update sequences cannot interleave: two redemptions of one
//! code, or two rotations of one refresh token, have exactly one winner, and a replay revokes
//! its family in the job that found it.
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use tessera_core::client::TokenFormat;
use tessera_core::store::{
    AuthorizationCodeRecord, FamilyToken, GrantStore, RedeemOutcome, RefreshTokenRecord,
    RotateOutcome, SealedSuccessor, StoreResult,
};
use tessera_proto::{Secret, SecretHash};

use super::SqliteStore;

const CODE_COLUMNS: &str = "hash, family, client_id, subject, scope, audience, redirect_uri, \
    code_challenge, dpop_jkt, issued_at, expires_at, used_at";

const REFRESH_COLUMNS: &str = "hash, family, client_id, subject, scope, audience, cnf_jkt, \
    issued_at, expires_at, used_at, revoked_at";

fn hash_of(bytes: Vec<u8>) -> rusqlite::Result<SecretHash> {
    SecretHash::from_bytes(&bytes).ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(0, "hash".into(), rusqlite::types::Type::Blob)
    })
}

fn opt_u64(v: Option<i64>) -> Option<u64> {
    v.map(|t| t as u64)
}

fn code_from_row(r: &Row<'_>) -> rusqlite::Result<AuthorizationCodeRecord> {
    Ok(AuthorizationCodeRecord {
        hash: hash_of(r.get(0)?)?,
        family: r.get(1)?,
        client_id: r.get(2)?,
        subject: r.get(3)?,
        scope: r.get(4)?,
        audience: r.get(5)?,
        redirect_uri: r.get(6)?,
        code_challenge: r.get(7)?,
        dpop_jkt: r.get(8)?,
        issued_at: r.get::<_, i64>(9)? as u64,
        expires_at: r.get::<_, i64>(10)? as u64,
        used_at: opt_u64(r.get(11)?),
    })
}

fn refresh_from_row(r: &Row<'_>) -> rusqlite::Result<RefreshTokenRecord> {
    Ok(RefreshTokenRecord {
        hash: hash_of(r.get(0)?)?,
        family: r.get(1)?,
        client_id: r.get(2)?,
        subject: r.get(3)?,
        scope: r.get(4)?,
        audience: r.get(5)?,
        cnf_jkt: r.get(6)?,
        issued_at: r.get::<_, i64>(7)? as u64,
        expires_at: r.get::<_, i64>(8)? as u64,
        used_at: opt_u64(r.get(9)?),
        revoked_at: opt_u64(r.get(10)?),
    })
}

fn insert_refresh(conn: &Connection, t: &RefreshTokenRecord) -> rusqlite::Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO refresh_tokens ({REFRESH_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))?
    .execute(params![
        t.hash.as_bytes().as_slice(),
        t.family,
        t.client_id,
        t.subject,
        t.scope,
        t.audience,
        t.cnf_jkt,
        t.issued_at as i64,
        t.expires_at as i64,
        t.used_at.map(|v| v as i64),
        t.revoked_at.map(|v| v as i64),
    ])?;
    Ok(())
}

fn get_refresh(
    conn: &Connection,
    hash: &SecretHash,
) -> rusqlite::Result<Option<RefreshTokenRecord>> {
    conn.prepare_cached(&format!(
        "SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE hash = ?1"
    ))?
    .query_row([hash.as_bytes().as_slice()], refresh_from_row)
    .optional()
}

fn kind_name(kind: TokenFormat) -> &'static str {
    match kind {
        TokenFormat::Jwt => "jwt",
        TokenFormat::Opaque => "opaque",
    }
}

/// Revokes one access token issued from a family (inside the caller's transaction).
pub(super) fn revoke_linked(
    conn: &Connection,
    kind: &str,
    token_id: &str,
    client_id: &str,
    expires_at: i64,
    now: i64,
) -> rusqlite::Result<()> {
    if kind == "jwt" {
        conn.prepare_cached(
            "INSERT INTO revoked_jtis (jti, client_id, expires_at, revoked_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (jti) DO NOTHING",
        )?
        .execute(params![token_id, client_id, expires_at, now])?;
    } else if let Ok(id) = token_id.parse::<i64>() {
        conn.prepare_cached(
            "UPDATE access_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        )?
        .execute(params![id, now])?;
    }
    Ok(())
}

/// The revocation cascade inside the caller's transaction: the family, its refresh tokens and
/// every access token linked to it. `true` if this call revoked the family.
fn revoke_family_in(conn: &Connection, family: &str, now: u64) -> rusqlite::Result<bool> {
    let now = now as i64;
    let n = conn
        .prepare_cached(
            "UPDATE grant_families SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        )?
        .execute(params![family, now])?;
    conn.prepare_cached(
        "UPDATE refresh_tokens SET revoked_at = ?2 WHERE family = ?1 AND revoked_at IS NULL",
    )?
    .execute(params![family, now])?;
    let linked: Vec<(String, String, String, i64)> = conn
        .prepare_cached(
            "SELECT kind, token_id, client_id, expires_at FROM family_tokens WHERE family = ?1",
        )?
        .query_map([family], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (kind, id, client, exp) in linked {
        revoke_linked(conn, &kind, &id, &client, exp, now)?;
        // RFC 8693: what was exchanged from a family's token goes with it.
        super::lineage::cascade(conn, &kind, &id, now)?;
    }
    Ok(n == 1)
}

/// The successor the rotation of `old` kept, if that rotation's grace window is open at `now`
/// and the successor may still be handed out: unused, unrevoked and unexpired.
fn successor_within_grace(
    conn: &Connection,
    old: &SecretHash,
    now: u64,
) -> rusqlite::Result<Option<(SecretHash, SealedSuccessor)>> {
    let kept = conn
        .prepare_cached(
            "SELECT successor, sealed, expires_at FROM refresh_successors WHERE hash = ?1 AND expires_at > ?2",
        )?
        .query_row(params![old.as_bytes().as_slice(), now as i64], |r| {
            Ok((
                hash_of(r.get(0)?)?,
                SealedSuccessor {
                    sealed: Secret::from_bytes(r.get(1)?),
                    until: r.get::<_, i64>(2)? as u64,
                },
            ))
        })
        .optional()?;
    let Some((successor, sealed)) = kept else {
        return Ok(None);
    };
    Ok(get_refresh(conn, &successor)?
        .filter(|t| t.used_at.is_none() && t.revoked_at.is_none() && now < t.expires_at)
        .map(|t| (t.hash, sealed)))
}

/// Wipes the sealed successor of `old`, once it can no longer be handed out.
fn forget_successor(conn: &Connection, old: &SecretHash) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM refresh_successors WHERE hash = ?1")?
        .execute([old.as_bytes().as_slice()])?;
    Ok(())
}

#[async_trait]
impl GrantStore for SqliteStore {
    async fn insert_authorization_code(&self, c: AuthorizationCodeRecord) -> StoreResult<()> {
        self.writer
            .run(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO grant_families (id, client_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![c.family, c.client_id, c.issued_at as i64, c.expires_at as i64])?;
                conn.prepare_cached(&format!(
                    "INSERT INTO authorization_codes ({CODE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                ))?
                .execute(params![
                    c.hash.as_bytes().as_slice(),
                    c.family,
                    c.client_id,
                    c.subject,
                    c.scope,
                    c.audience,
                    c.redirect_uri,
                    c.code_challenge,
                    c.dpop_jkt,
                    c.issued_at as i64,
                    c.expires_at as i64,
                    c.used_at.map(|v| v as i64),
                ])?;
                Ok(())
            })
            .await
    }

    async fn redeem_code(&self, hash: SecretHash, now: u64) -> StoreResult<RedeemOutcome> {
        self.writer
            .run(move |conn| {
                let key = hash.as_bytes().to_vec();
                let Some(before) = conn
                    .prepare_cached(&format!(
                        "SELECT {CODE_COLUMNS} FROM authorization_codes WHERE hash = ?1"
                    ))?
                    .query_row([&key], code_from_row)
                    .optional()?
                else {
                    return Ok(RedeemOutcome::NotFound);
                };
                if before.used_at.is_some() {
                    let revoked = revoke_family_in(conn, &before.family, now)?;
                    return Ok(RedeemOutcome::AlreadyUsed {
                        code: before,
                        revoked,
                    });
                }
                if now >= before.expires_at {
                    return Ok(RedeemOutcome::Expired);
                }
                let revoked: Option<i64> = conn
                    .prepare_cached("SELECT revoked_at FROM grant_families WHERE id = ?1")?
                    .query_row([&before.family], |r| r.get(0))
                    .optional()?
                    .flatten();
                if revoked.is_some() {
                    return Ok(RedeemOutcome::Revoked);
                }
                let n = conn
                    .prepare_cached(
                        "UPDATE authorization_codes SET used_at = ?2 WHERE hash = ?1 AND used_at IS NULL",
                    )?
                    .execute(params![key, now as i64])?;
                if n == 1 {
                    return Ok(RedeemOutcome::Redeemed(before));
                }
                let revoked = revoke_family_in(conn, &before.family, now)?;
                Ok(RedeemOutcome::AlreadyUsed {
                    code: before,
                    revoked,
                })
            })
            .await
    }

    async fn insert_refresh_token(&self, t: RefreshTokenRecord) -> StoreResult<()> {
        self.writer
            .run(move |conn| {
                insert_refresh(conn, &t)?;
                // The family now lives as long as its refresh tokens (rotations keep this
                // expiry), the janitor's cue.
                conn.prepare_cached(
                    "UPDATE grant_families SET expires_at = MAX(COALESCE(expires_at, 0), ?2) WHERE id = ?1",
                )?
                .execute(params![t.family, t.expires_at as i64])?;
                Ok(())
            })
            .await
    }

    async fn get_refresh_token(&self, hash: SecretHash) -> StoreResult<Option<RefreshTokenRecord>> {
        self.readers.with(|conn| get_refresh(conn, &hash))
    }

    async fn rotate_refresh(
        &self,
        old: SecretHash,
        new: RefreshTokenRecord,
        grace: Option<SealedSuccessor>,
        now: u64,
    ) -> StoreResult<RotateOutcome> {
        self.writer
            .run(move |conn| {
                let Some(before) = get_refresh(conn, &old)? else {
                    return Ok(RotateOutcome::NotFound);
                };
                if before.revoked_at.is_some() || now >= before.expires_at {
                    return Ok(RotateOutcome::Inactive);
                }
                let n = if before.used_at.is_some() {
                    0
                } else {
                    conn.prepare_cached(
                        "UPDATE refresh_tokens SET used_at = ?2 WHERE hash = ?1 AND used_at IS NULL AND revoked_at IS NULL",
                    )?
                    .execute(params![old.as_bytes().as_slice(), now as i64])?
                };
                if n != 1 {
                    if let Some((successor, sealed)) = successor_within_grace(conn, &old, now)? {
                        return Ok(RotateOutcome::WithinGrace {
                            token: before,
                            successor,
                            sealed,
                        });
                    }
                    forget_successor(conn, &old)?;
                    let revoked = revoke_family_in(conn, &before.family, now)?;
                    return Ok(RotateOutcome::Reused {
                        token: before,
                        revoked,
                    });
                }
                insert_refresh(conn, &new)?;
                if let Some(grace) = grace {
                    conn.prepare_cached(
                        "INSERT INTO refresh_successors (hash, successor, sealed, expires_at) VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![
                        old.as_bytes().as_slice(),
                        new.hash.as_bytes().as_slice(),
                        grace.sealed.expose_secret(),
                        grace.until as i64
                    ])?;
                }
                Ok(RotateOutcome::Rotated(before))
            })
            .await
    }

    async fn revoke_family(&self, family: &str, now: u64) -> StoreResult<bool> {
        let family = family.to_string();
        self.writer
            .run(move |conn| revoke_family_in(conn, &family, now))
            .await
    }

    async fn link_family_token(
        &self,
        family: &str,
        token: &FamilyToken,
        client_id: &str,
    ) -> StoreResult<bool> {
        let (family, client_id) = (family.to_string(), client_id.to_string());
        let (kind, id, exp) = (
            kind_name(token.kind),
            token.id.clone(),
            token.expires_at as i64,
        );
        self.writer
            .run(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO family_tokens (family, kind, token_id, client_id, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![family, kind, id, client_id, exp])?;
                let revoked: Option<Option<i64>> = conn
                    .prepare_cached("SELECT revoked_at FROM grant_families WHERE id = ?1")?
                    .query_row([&family], |r| r.get(0))
                    .optional()?;
                match revoked {
                    Some(Some(at)) => {
                        revoke_linked(conn, kind, &id, &client_id, exp, at)?;
                        Ok(false)
                    }
                    _ => Ok(true),
                }
            })
            .await
    }
}
