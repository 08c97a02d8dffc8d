//! Leaked-credential handling for `tessera scan --server`: given the SHA-256 of tokens and
//! secrets found in code (never the values), say which are live and, when asked, kill them: a
//! leaked access token is revoked; a leaked client secret is replaced at once (the owner gets the
//! new one through `tessera client rotate-secret`) and every token the client holds stops
//! working (`tokens_not_before`). Every live hit is a `token.leaked` audit event.
use serde::{Deserialize, Serialize};
use tessera_proto::{ErrorCode, OAuthError, SecretHash, TokenKind, TokenString};

use crate::audit::{EventKind, RequestContext};
use crate::authority::Authority;
use crate::client::Client;

use super::admin::ADMIN_SCOPE;

/// Most leaks in one request.
const MAX_LEAKS: usize = 1000;

/// One leak report.
#[derive(Debug, Deserialize)]
pub struct Leak {
    /// Hex SHA-256 of the whole token string.
    pub sha256: String,
    /// The token kind's tag (`at`, `rt`, `cs`, `ac`, `rat`).
    pub kind: String,
    /// The selector from the token string.
    #[serde(default)]
    pub selector: u64,
    /// Where it was found.
    #[serde(default)]
    pub location: Option<String>,
}

/// The request body.
#[derive(Debug, Deserialize)]
pub struct LeakReport {
    /// Revoke (or rotate) what is live.
    #[serde(default)]
    pub revoke: bool,
    /// The findings.
    pub leaks: Vec<Leak>,
}

/// The answer for one leak.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct LeakResult {
    /// The hash reported.
    pub sha256: String,
    /// Whether it is a live credential of this server.
    pub live: bool,
    /// `none`, `revoked` or `secret_rotated`.
    pub action: &'static str,
}

/// Checks (and with `revoke`, kills) reported leaks for an admin `caller`.
pub async fn handle(
    authority: &Authority,
    caller: &Client,
    report: LeakReport,
    ctx: &RequestContext,
) -> Result<Vec<LeakResult>, OAuthError> {
    if !caller.scopes.iter().any(|s| s == ADMIN_SCOPE) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client lacks the tessera:admin scope",
        ));
    }
    if report.leaks.len() > MAX_LEAKS {
        return Err(OAuthError::invalid_request("too many leaks in one request"));
    }
    let now = authority.clock().now();
    let mut results = Vec::with_capacity(report.leaks.len());
    for leak in report.leaks {
        let hash = SecretHash::from_hex(&leak.sha256)
            .ok_or_else(|| OAuthError::invalid_request("sha256 must be 64 hex digits"))?;
        let (live, owner, token_id, action) = match leak.kind.as_str() {
            "at" => {
                let row = authority.store().get_access_token(leak.selector).await?;
                match row.filter(|r| r.hash == hash && r.revoked_at.is_none() && now < r.expires_at)
                {
                    Some(r) => {
                        let action = if report.revoke
                            && authority.store().revoke_access_token(r.id, now).await?
                        {
                            "revoked"
                        } else {
                            "none"
                        };
                        (
                            true,
                            Some(r.client_id),
                            Some(crate::token_id::opaque(r.id, &r.hash)),
                            action,
                        )
                    }
                    None => (false, None, None, "none"),
                }
            }
            "cs" => match client_with_secret(authority, &hash, now).await? {
                Some(mut client) => {
                    let action = if report.revoke {
                        let replacement = TokenString::generate_random(TokenKind::ClientSecret);
                        authority
                            .store()
                            .rotate_client_secret(&client.id, replacement.hash(), now, now)
                            .await?;
                        client.tokens_not_before = Some(now + 1);
                        client.updated_at = now;
                        authority.store().update_client(&client).await?;
                        authority.invalidate_clients();
                        "secret_rotated"
                    } else {
                        "none"
                    };
                    (true, Some(client.id), None, action)
                }
                None => (false, None, None, "none"),
            },
            // Refresh tokens, codes and registration tokens are not issued by this version.
            _ => (false, None, None, "none"),
        };
        if live {
            let mut event = ctx.event(EventKind::TokenLeaked, authority.clock().now_ms());
            event.client_id = owner;
            event.caller_id = Some(caller.id.clone());
            event.token_id = token_id.or_else(|| Some(format!("sha256:{}", &leak.sha256[..16])));
            event.format = Some(leak.kind.clone());
            event.path = leak.location.map(|l| l.chars().take(512).collect());
            event.reason = Some(action.to_string());
            authority.record_durable(event).await?;
        }
        results.push(LeakResult {
            sha256: leak.sha256,
            live,
            action,
        });
    }
    Ok(results)
}

/// The client whose current (or still-valid previous) secret has this hash.
async fn client_with_secret(
    authority: &Authority,
    hash: &SecretHash,
    now: u64,
) -> Result<Option<Client>, OAuthError> {
    let clients = authority.store().list_clients().await?;
    Ok(clients
        .into_iter()
        .find(|c| c.credential.secrets().is_some_and(|s| s.accepts(hash, now))))
}
