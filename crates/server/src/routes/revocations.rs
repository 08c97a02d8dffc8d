//! `GET /revocations?after=CURSOR`: the revocation feed resource servers poll so a revoked JWT,
//! a disabled or deleted client, a client's `tokens_not_before` and a withdrawn signing key reach
//! them within seconds, without an introspection call per request (docs/validate.md). The caller
//! is a registered resource server (a client with `--resource-uri`) or a client holding
//! `tessera:revocations` (or `tessera:admin`), authenticated like the admin API. Every reader gets
//! the whole feed — tokens named only by `jti` or opaque public id (unguessable, never the token),
//! clients by id, keys by `kid`: a resource server cannot tell which tokens are for it before it
//! sees them, and the entries carry no claims.
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use tessera_core::ops::admin::{ADMIN_SCOPE, REVOCATIONS_SCOPE, require_any_scope};
use tessera_core::store::{FeedPosition, RevocationEntry, RevokedKind};
use tessera_proto::OAuthError;
use tessera_proto::revocation_feed::{Entry, EntryType, Page};

use super::finish;
use crate::admin::caller::{self, BodyKind};
use crate::state::App;

/// Most entries per page.
const PAGE: u32 = 1000;

/// Once a reader has caught up, its next cursor re-reads the last seconds, so a revocation
/// committed late by another node (or stamped by a clock slightly behind) is still seen. Entries
/// are idempotent for readers.
const OVERLAP_SECS: u64 = 2;

/// Longest id a cursor may carry (jtis, client ids and kids are far shorter).
const MAX_CURSOR_ID: usize = 512;

fn kind_code(kind: RevokedKind) -> char {
    match kind {
        RevokedKind::Client => 'c',
        RevokedKind::Jwt => 'j',
        RevokedKind::Key => 'k',
        RevokedKind::Opaque => 'o',
    }
}

/// The cursor's text: `SECONDS` (before every entry of that second — also the first feed
/// version's integer cursor) or `SECONDS.KIND.BASE64URL(ID)` (just after that entry).
pub(crate) fn encode_cursor(p: &FeedPosition) -> String {
    match &p.after {
        None => p.revoked_at.to_string(),
        Some((kind, id)) => format!(
            "{}.{}.{}",
            p.revoked_at,
            kind_code(*kind),
            B64.encode(id.as_bytes())
        ),
    }
}

pub(crate) fn decode_cursor(text: &str) -> Option<FeedPosition> {
    let mut parts = text.splitn(3, '.');
    let secs = parts.next()?;
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let revoked_at = secs.parse().ok()?;
    let after = match (parts.next(), parts.next()) {
        (None, _) => None,
        (Some(kind), Some(id)) => {
            let kind = match kind {
                "c" => RevokedKind::Client,
                "j" => RevokedKind::Jwt,
                "k" => RevokedKind::Key,
                "o" => RevokedKind::Opaque,
                _ => return None,
            };
            let id = String::from_utf8(B64.decode(id).ok()?).ok()?;
            if id.is_empty() || id.len() > MAX_CURSOR_ID {
                return None;
            }
            Some((kind, id))
        }
        (Some(_), None) => return None,
    };
    Some(FeedPosition { revoked_at, after })
}

fn cursor(query: Option<&str>) -> Result<FeedPosition, OAuthError> {
    let mut after = FeedPosition::default();
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if k == "after" {
            after = decode_cursor(&v).ok_or_else(|| {
                OAuthError::invalid_request("after is not a revocation feed cursor")
            })?;
        }
    }
    Ok(after)
}

/// The wire form of an entry; client and key entries last the server's longest token lifetime
/// after they took effect. `None` once nothing it concerns can still be valid.
fn wire(e: &RevocationEntry, max_ttl: u64, now: u64) -> Option<Entry> {
    let expires_at = e
        .expires_at
        .unwrap_or_else(|| e.revoked_at.max(e.not_before.unwrap_or(0)) + max_ttl);
    if expires_at <= now {
        return None;
    }
    Some(Entry {
        kind: match e.kind {
            RevokedKind::Client => EntryType::Client,
            RevokedKind::Jwt => EntryType::Jwt,
            RevokedKind::Key => EntryType::Key,
            RevokedKind::Opaque => EntryType::Opaque,
        },
        id: e.id.clone(),
        expires_at,
        revoked_at: e.revoked_at,
        not_before: e.not_before,
        disabled: e.disabled,
    })
}

pub async fn handle(State(app): State<App>, req: Request<Body>) -> Response {
    let started = Instant::now();
    let mut basic = false;
    let result = async {
        let query = req.uri().query().map(str::to_string);
        let admin = caller::read(&app, req, BodyKind::Empty, &mut basic).await?;
        if admin.caller.resource_uris.is_empty() {
            require_any_scope(&admin.caller, &[ADMIN_SCOPE, REVOCATIONS_SCOPE])?;
        }
        let after = cursor(query.as_deref())?;
        let now = app.authority.clock().now();
        let list = app
            .authority
            .store()
            .list_revocations(&after, now, PAGE)
            .await?;
        let more = list.len() as u32 >= PAGE;
        let last = list.last().map_or_else(|| after.clone(), |e| e.position());
        // A full page continues exactly after its last entry; a reader that caught up re-reads
        // the last OVERLAP_SECS next time (never more, however old its last entry).
        let next = if more {
            last
        } else {
            last.min(FeedPosition::at(now.saturating_sub(OVERLAP_SECS)))
        };
        let max_ttl = app.authority.config().tokens.max_ttl;
        let page = Page {
            revocations: list.iter().filter_map(|e| wire(e, max_ttl, now)).collect(),
            cursor: Some(encode_cursor(&next)),
            next: next.revoked_at,
            more,
        };
        Ok(axum::Json(page).into_response())
    }
    .await;
    finish(&app, "revocations", started, basic, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        for p in [
            FeedPosition::at(0),
            FeedPosition::at(1_700_000_000),
            FeedPosition {
                revoked_at: 5,
                after: Some((RevokedKind::Jwt, "a.b/c=d".into())),
            },
            FeedPosition {
                revoked_at: 5,
                after: Some((RevokedKind::Client, "ci-deploy".into())),
            },
        ] {
            assert_eq!(decode_cursor(&encode_cursor(&p)), Some(p));
        }
        assert_eq!(encode_cursor(&FeedPosition::at(7)), "7");
        for bad in ["", "x", "-1", "1.", "1.j", "1.x.YQ", "1.j.", "1.j.!!", "+1"] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn client_entries_live_the_longest_token_lifetime_after_they_take_effect() {
        let e = RevocationEntry {
            kind: RevokedKind::Client,
            id: "c".into(),
            expires_at: None,
            revoked_at: 100,
            not_before: Some(150),
            disabled: false,
        };
        assert_eq!(wire(&e, 3600, 100).unwrap().expires_at, 3750);
        assert_eq!(wire(&e, 3600, 3750), None);
    }
}
