//! `GrantStore` on PostgreSQL. Redemption and rotation are conditional UPDATEs: under READ
//! COMMITTED a concurrent caller, on any node, waits for the row lock and re-checks
//! `used_at IS NULL` against the committed row, so exactly one wins; a loser that finds the row
//! used revokes the family in the same transaction. The family row's lock orders a revocation
//! cascade against tokens being linked to the family at the same moment.
use async_trait::async_trait;
use deadpool_postgres::Transaction;
use tessera_core::client::TokenFormat;
use tessera_core::store::{
    AuthorizationCodeRecord, FamilyToken, GrantStore, RedeemOutcome, RefreshTokenRecord,
    RotateOutcome, SealedSuccessor, StoreResult,
};
use tessera_proto::{Secret, SecretHash};
use tokio_postgres::Row;

use super::{PgStore, corrupt, pool};

const CODE_COLUMNS: &str = "hash, family, client_id, subject, scope, audience, redirect_uri, \
    code_challenge, dpop_jkt, issued_at, expires_at, used_at";

const REFRESH_COLUMNS: &str = "hash, family, client_id, subject, scope, audience, cnf_jkt, \
    issued_at, expires_at, used_at, revoked_at";

fn opt_u64(v: Option<i64>) -> Option<u64> {
    v.map(|t| t as u64)
}

fn code_from_row(r: &Row) -> StoreResult<AuthorizationCodeRecord> {
    let get = |e| pool::map_err(e);
    let hash: &[u8] = r.try_get(0).map_err(get)?;
    Ok(AuthorizationCodeRecord {
        hash: SecretHash::from_bytes(hash).ok_or_else(|| corrupt("authorization_codes", "hash"))?,
        family: r.try_get(1).map_err(get)?,
        client_id: r.try_get(2).map_err(get)?,
        subject: r.try_get(3).map_err(get)?,
        scope: r.try_get(4).map_err(get)?,
        audience: r.try_get(5).map_err(get)?,
        redirect_uri: r.try_get(6).map_err(get)?,
        code_challenge: r.try_get(7).map_err(get)?,
        dpop_jkt: r.try_get(8).map_err(get)?,
        issued_at: r.try_get::<_, i64>(9).map_err(get)? as u64,
        expires_at: r.try_get::<_, i64>(10).map_err(get)? as u64,
        used_at: opt_u64(r.try_get(11).map_err(get)?),
    })
}

fn refresh_from_row(r: &Row) -> StoreResult<RefreshTokenRecord> {
    let get = |e| pool::map_err(e);
    let hash: &[u8] = r.try_get(0).map_err(get)?;
    Ok(RefreshTokenRecord {
        hash: SecretHash::from_bytes(hash).ok_or_else(|| corrupt("refresh_tokens", "hash"))?,
        family: r.try_get(1).map_err(get)?,
        client_id: r.try_get(2).map_err(get)?,
        subject: r.try_get(3).map_err(get)?,
        scope: r.try_get(4).map_err(get)?,
        audience: r.try_get(5).map_err(get)?,
        cnf_jkt: r.try_get(6).map_err(get)?,
        issued_at: r.try_get::<_, i64>(7).map_err(get)? as u64,
        expires_at: r.try_get::<_, i64>(8).map_err(get)? as u64,
        used_at: opt_u64(r.try_get(9).map_err(get)?),
        revoked_at: opt_u64(r.try_get(10).map_err(get)?),
    })
}

async fn insert_refresh(
    tx: &Transaction<'_>,
    t: &RefreshTokenRecord,
) -> Result<u64, tokio_postgres::Error> {
    let stmt = tx
        .prepare_cached(&format!(
            "INSERT INTO refresh_tokens ({REFRESH_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .await?;
    tx.execute(
        &stmt,
        &[
            &t.hash.as_bytes().as_slice(),
            &t.family,
            &t.client_id,
            &t.subject,
            &t.scope,
            &t.audience,
            &t.cnf_jkt,
            &(t.issued_at as i64),
            &(t.expires_at as i64),
            &t.used_at.map(|v| v as i64),
            &t.revoked_at.map(|v| v as i64),
        ],
    )
    .await
}

/// Revokes one access token issued from a family, inside the caller's transaction.
pub(super) async fn revoke_linked(
    tx: &Transaction<'_>,
    kind: &str,
    token_id: &str,
    client_id: &str,
    expires_at: i64,
    now: i64,
) -> Result<(), tokio_postgres::Error> {
    if kind == "jwt" {
        tx.execute(
            "INSERT INTO revoked_jtis (jti, client_id, expires_at, revoked_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (jti) DO NOTHING",
            &[&token_id, &client_id, &expires_at, &now],
        )
        .await?;
    } else if let Ok(id) = token_id.parse::<i64>() {
        tx.execute(
            "UPDATE access_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&id, &now],
        )
        .await?;
    }
    Ok(())
}

/// The revocation cascade inside the caller's transaction: the family, its refresh tokens and
/// every access token linked to it. `true` if this call revoked the family.
async fn revoke_family_in(
    tx: &Transaction<'_>,
    family: &str,
    now: u64,
) -> Result<bool, tokio_postgres::Error> {
    let now = now as i64;
    let n = tx
        .execute(
            "UPDATE grant_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&family, &now],
        )
        .await?;
    // Take the family row's lock even when it was revoked before, so links made
    // concurrently are either seen below or see the revocation themselves.
    tx.execute(
        "SELECT 1 FROM grant_families WHERE id = $1 FOR UPDATE",
        &[&family],
    )
    .await?;
    tx.execute(
        "UPDATE refresh_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL",
        &[&family, &now],
    )
    .await?;
    let linked = tx
        .query(
            "SELECT kind, token_id, client_id, expires_at FROM family_tokens WHERE family = $1",
            &[&family],
        )
        .await?;
    for r in &linked {
        revoke_linked(tx, r.get(0), r.get(1), r.get(2), r.get(3), now).await?;
        // RFC 8693: what was exchanged from a family's token goes with it.
        super::lineage::cascade(tx, r.get(0), r.get(1), now).await?;
    }
    Ok(n == 1)
}

/// The successor the rotation of `old` kept, if that rotation's grace window is open at `now`
/// and the successor may still be handed out: unused, unrevoked and unexpired.
async fn successor_within_grace(
    tx: &Transaction<'_>,
    old: &[u8],
    now: u64,
) -> StoreResult<Option<(SecretHash, SealedSuccessor)>> {
    let Some(kept) = tx
        .query_opt(
            "SELECT successor, sealed, expires_at FROM refresh_successors \
             WHERE hash = $1 AND expires_at > $2",
            &[&old, &(now as i64)],
        )
        .await
        .map_err(pool::map_err)?
    else {
        return Ok(None);
    };
    let sealed = SealedSuccessor {
        sealed: Secret::from_bytes(kept.try_get(1).map_err(pool::map_err)?),
        until: kept.try_get::<_, i64>(2).map_err(pool::map_err)? as u64,
    };
    let successor: &[u8] = kept.try_get(0).map_err(pool::map_err)?;
    let Some(row) = tx
        .query_opt(
            &format!("SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE hash = $1"),
            &[&successor],
        )
        .await
        .map_err(pool::map_err)?
    else {
        return Ok(None);
    };
    let next = refresh_from_row(&row)?;
    let usable = next.used_at.is_none() && next.revoked_at.is_none() && now < next.expires_at;
    Ok(usable.then_some((next.hash, sealed)))
}

#[async_trait]
impl GrantStore for PgStore {
    async fn insert_authorization_code(&self, c: AuthorizationCodeRecord) -> StoreResult<()> {
        let mut conn = pool::get(&self.pool).await?;
        let run = async {
            let tx = conn.transaction().await?;
            tx.execute(
                "INSERT INTO grant_families (id, client_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                &[&c.family, &c.client_id, &(c.issued_at as i64), &(c.expires_at as i64)],
            )
            .await?;
            let stmt = tx
                .prepare_cached(&format!(
                    "INSERT INTO authorization_codes ({CODE_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                ))
                .await?;
            tx.execute(
                &stmt,
                &[
                    &c.hash.as_bytes().as_slice(),
                    &c.family,
                    &c.client_id,
                    &c.subject,
                    &c.scope,
                    &c.audience,
                    &c.redirect_uri,
                    &c.code_challenge,
                    &c.dpop_jkt,
                    &(c.issued_at as i64),
                    &(c.expires_at as i64),
                    &c.used_at.map(|v| v as i64),
                ],
            )
            .await?;
            tx.commit().await
        };
        run.await.map_err(pool::map_err)
    }

    async fn redeem_code(&self, hash: SecretHash, now: u64) -> StoreResult<RedeemOutcome> {
        let mut conn = pool::get(&self.pool).await?;
        let key = hash.as_bytes().as_slice();
        let tx = conn.transaction().await.map_err(pool::map_err)?;
        let redeemed = tx
            .query_opt(
                &format!(
                    "UPDATE authorization_codes SET used_at = $2 \
                     WHERE hash = $1 AND used_at IS NULL AND expires_at > $2 \
                     AND NOT EXISTS (SELECT 1 FROM grant_families f \
                                     WHERE f.id = authorization_codes.family AND f.revoked_at IS NOT NULL) \
                     RETURNING {CODE_COLUMNS}"
                ),
                &[&key, &(now as i64)],
            )
            .await
            .map_err(pool::map_err)?;
        let outcome = if let Some(row) = redeemed {
            let mut before = code_from_row(&row)?;
            before.used_at = None;
            RedeemOutcome::Redeemed(before)
        } else {
            let current = tx
                .query_opt(
                    &format!("SELECT {CODE_COLUMNS} FROM authorization_codes WHERE hash = $1"),
                    &[&key],
                )
                .await
                .map_err(pool::map_err)?;
            match current.as_ref().map(code_from_row).transpose()? {
                None => RedeemOutcome::NotFound,
                Some(code) if code.used_at.is_some() => {
                    let revoked = revoke_family_in(&tx, &code.family, now)
                        .await
                        .map_err(pool::map_err)?;
                    RedeemOutcome::AlreadyUsed { code, revoked }
                }
                Some(code) if code.expires_at <= now => RedeemOutcome::Expired,
                Some(_) => RedeemOutcome::Revoked,
            }
        };
        tx.commit().await.map_err(pool::map_err)?;
        Ok(outcome)
    }

    async fn insert_refresh_token(&self, t: RefreshTokenRecord) -> StoreResult<()> {
        let mut conn = pool::get(&self.pool).await?;
        let run = async {
            let tx = conn.transaction().await?;
            insert_refresh(&tx, &t).await?;
            // The family now lives as long as its refresh tokens (rotations keep this expiry),
            // the janitor's cue.
            tx.execute(
                "UPDATE grant_families SET expires_at = GREATEST(COALESCE(expires_at, 0), $2) WHERE id = $1",
                &[&t.family, &(t.expires_at as i64)],
            )
            .await?;
            tx.commit().await
        };
        run.await.map_err(pool::map_err)
    }

    async fn get_refresh_token(&self, hash: SecretHash) -> StoreResult<Option<RefreshTokenRecord>> {
        self.query_opt(
            &format!("SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE hash = $1"),
            &[&hash.as_bytes().as_slice()],
        )
        .await?
        .map(|r| refresh_from_row(&r))
        .transpose()
    }

    async fn rotate_refresh(
        &self,
        old: SecretHash,
        new: RefreshTokenRecord,
        grace: Option<SealedSuccessor>,
        now: u64,
    ) -> StoreResult<RotateOutcome> {
        let mut conn = pool::get(&self.pool).await?;
        let key = old.as_bytes().as_slice();
        let tx = conn.transaction().await.map_err(pool::map_err)?;
        // Every rotation and reuse of a family's tokens queues on the family row's lock, taken
        // before any refresh-token row lock: the order the revocation cascade takes them in.
        // Otherwise a loser's failed conditional UPDATE, which keeps the token row's lock under
        // READ COMMITTED, would wait for the family's lock held by another loser revoking the
        // family, who waits for that token row: a deadlock PostgreSQL breaks by failing one.
        // Holding it also means the successor checked for the grace window below cannot be
        // rotated or revoked before this transaction ends (both take the same lock).
        tx.execute(
            "SELECT 1 FROM grant_families f JOIN refresh_tokens r ON r.family = f.id \
             WHERE r.hash = $1 FOR UPDATE OF f",
            &[&key],
        )
        .await
        .map_err(pool::map_err)?;
        let rotated = tx
            .query_opt(
                &format!(
                    "UPDATE refresh_tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL \
                     AND revoked_at IS NULL AND expires_at > $2 RETURNING {REFRESH_COLUMNS}"
                ),
                &[&key, &(now as i64)],
            )
            .await
            .map_err(pool::map_err)?;
        let outcome = if let Some(row) = rotated {
            insert_refresh(&tx, &new).await.map_err(pool::map_err)?;
            if let Some(grace) = grace {
                tx.execute(
                    "INSERT INTO refresh_successors (hash, successor, sealed, expires_at) \
                     VALUES ($1, $2, $3, $4)",
                    &[
                        &key,
                        &new.hash.as_bytes().as_slice(),
                        &grace.sealed.expose_secret(),
                        &(grace.until as i64),
                    ],
                )
                .await
                .map_err(pool::map_err)?;
            }
            let mut before = refresh_from_row(&row)?;
            before.used_at = None;
            RotateOutcome::Rotated(before)
        } else {
            let current = tx
                .query_opt(
                    &format!("SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE hash = $1"),
                    &[&key],
                )
                .await
                .map_err(pool::map_err)?;
            match current.as_ref().map(refresh_from_row).transpose()? {
                None => RotateOutcome::NotFound,
                Some(t) if t.revoked_at.is_some() || now >= t.expires_at => RotateOutcome::Inactive,
                Some(token) => match successor_within_grace(&tx, key, now).await? {
                    Some((successor, sealed)) => RotateOutcome::WithinGrace {
                        token,
                        successor,
                        sealed,
                    },
                    None => {
                        tx.execute("DELETE FROM refresh_successors WHERE hash = $1", &[&key])
                            .await
                            .map_err(pool::map_err)?;
                        let revoked = revoke_family_in(&tx, &token.family, now)
                            .await
                            .map_err(pool::map_err)?;
                        RotateOutcome::Reused { token, revoked }
                    }
                },
            }
        };
        tx.commit().await.map_err(pool::map_err)?;
        Ok(outcome)
    }

    async fn revoke_family(&self, family: &str, now: u64) -> StoreResult<bool> {
        let mut conn = pool::get(&self.pool).await?;
        let run = async {
            let tx = conn.transaction().await?;
            let revoked = revoke_family_in(&tx, family, now).await?;
            tx.commit().await?;
            Ok(revoked)
        };
        run.await.map_err(pool::map_err)
    }

    async fn link_family_token(
        &self,
        family: &str,
        token: &FamilyToken,
        client_id: &str,
    ) -> StoreResult<bool> {
        let mut conn = pool::get(&self.pool).await?;
        let kind = match token.kind {
            TokenFormat::Jwt => "jwt",
            TokenFormat::Opaque => "opaque",
        };
        let exp = token.expires_at as i64;
        let run = async {
            let tx = conn.transaction().await?;
            let revoked: Option<Option<i64>> = tx
                .query_opt(
                    "SELECT revoked_at FROM grant_families WHERE id = $1 FOR SHARE",
                    &[&family],
                )
                .await?
                .map(|r| r.get(0));
            tx.execute(
                "INSERT INTO family_tokens (family, kind, token_id, client_id, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[&family, &kind, &token.id, &client_id, &exp],
            )
            .await?;
            let live = match revoked {
                Some(Some(at)) => {
                    revoke_linked(&tx, kind, &token.id, client_id, exp, at).await?;
                    false
                }
                _ => true,
            };
            tx.commit().await?;
            Ok(live)
        };
        run.await.map_err(pool::map_err)
    }
}
