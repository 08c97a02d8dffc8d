//! The revocation feed: the layer polls `GET {issuer}/revocations?after=CURSOR` (default every
//! 2 s; wire format in `tessera_proto::revocation_feed`) and keeps what it learns until the
//! tokens concerned would have expired anyway, so a revoked JWT — or any JWT of a disabled or
//! deleted client, one issued before its client's `tokens_not_before`, or one signed by a
//! withdrawn key — is refused within one poll interval plus one round trip, without an
//! introspection call per request. Introspection-cache entries of revoked opaque tokens and of
//! revoked clients are dropped, so the next use asks the issuer again.
use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use tessera_proto::revocation_feed::{EntryType, Page};

use crate::config::ClientCredentials;
use crate::introspect::IntrospectionCache;
use crate::jwks::JwksCache;

/// Most pages read in one poll after start-up; a larger burst is read over the next polls.
const MAX_PAGES_PER_POLL: usize = 100;

/// What the feed said about a client.
#[derive(Clone, Copy, Debug)]
struct ClientState {
    disabled: bool,
    not_before: Option<u64>,
    until: u64,
}

#[derive(Default)]
struct State {
    jtis: HashMap<String, u64>,
    clients: HashMap<String, ClientState>,
}

/// The revoked `jti`s and client states known to this resource server.
#[derive(Default)]
pub struct RevokedSet {
    state: RwLock<State>,
}

impl RevokedSet {
    /// Why a JWT with id `jti`, of `client_id`, issued at `iat`, is refused; `None` if it is not.
    pub fn refusal(&self, jti: &str, client_id: &str, iat: u64) -> Option<&'static str> {
        let state = self.state.read().expect("poisoned");
        if state.jtis.contains_key(jti) {
            return Some("the access token was revoked");
        }
        match state.clients.get(client_id) {
            Some(c) if c.disabled => Some("the access token's client is disabled"),
            Some(c) if c.not_before.is_some_and(|t| iat < t) => {
                Some("the access token was revoked")
            }
            _ => None,
        }
    }

    /// Whether `jti` was revoked.
    pub fn contains(&self, jti: &str) -> bool {
        self.state.read().expect("poisoned").jtis.contains_key(jti)
    }

    /// Applies a page. Entries are kept `keep` seconds past their `expires_at`: the leeway with
    /// which the layer still accepts an expired token.
    fn apply<T: FeedTarget + ?Sized>(&self, page: &Page, target: &T, now: u64, keep: u64) {
        let mut state = self.state.write().expect("poisoned");
        state.jtis.retain(|_, until| *until > now);
        state.clients.retain(|_, c| c.until > now);
        for r in &page.revocations {
            let until = r.expires_at.saturating_add(keep);
            match r.kind {
                EntryType::Jwt => {
                    state.jtis.insert(r.id.clone(), until);
                }
                EntryType::Opaque => target.introspection_cache().forget_id(&r.id),
                // The newest state of a client replaces the older one.
                EntryType::Client => {
                    state.clients.insert(
                        r.id.clone(),
                        ClientState {
                            disabled: r.disabled,
                            not_before: r.not_before,
                            until,
                        },
                    );
                    target.introspection_cache().forget_client(&r.id);
                }
                EntryType::Key => target.jwks().revoke(&r.id, until, now),
                EntryType::Unknown => {}
            }
        }
    }
}

/// Fetches one page after `cursor`.
pub async fn poll(
    http: &reqwest::Client,
    url: &str,
    client: &ClientCredentials,
    cursor: &str,
) -> Result<Page, String> {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let resp = http
        .get(url)
        .query(&[("after", cursor)])
        .basic_auth(enc(&client.id), Some(enc(&client.secret)))
        .send()
        .await
        .map_err(|e| format!("revocation feed poll failed: {e}"))?;
    let status = resp.status();
    if !status.is_success() {
        // The issuer's RFC 6749 error says what to fix (e.g. the missing tessera:revocations scope).
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        return Err(format!(
            "revocation feed poll refused ({status}): {} {}",
            body["error"].as_str().unwrap_or(""),
            body["error_description"].as_str().unwrap_or("")
        ));
    }
    resp.json()
        .await
        .map_err(|e| format!("revocation feed answer is invalid: {e}"))
}

/// Everything the poller needs; it stops when the validator is dropped.
pub struct Feed {
    /// The HTTP client.
    pub http: reqwest::Client,
    /// `{issuer}/revocations`.
    pub url: String,
    /// The resource server's credentials.
    pub client: ClientCredentials,
    /// The poll interval.
    pub every: Duration,
    /// How long past `expires_at` entries are kept (the validation leeway).
    pub keep: Duration,
}

/// What the poller updates, held weakly.
pub trait FeedTarget: Send + Sync + 'static {
    /// The revoked set.
    fn revoked(&self) -> &RevokedSet;
    /// The introspection cache.
    fn introspection_cache(&self) -> &IntrospectionCache;
    /// The issuer's keys.
    fn jwks(&self) -> &JwksCache;
}

/// Reads pages from `cursor` while the issuer says more follow (at most `max_pages`); returns
/// the cursor to poll next.
async fn drain<T: FeedTarget>(
    feed: &Feed,
    target: &T,
    mut cursor: String,
    max_pages: usize,
) -> Result<String, String> {
    for _ in 0..max_pages {
        let page = poll(&feed.http, &feed.url, &feed.client, &cursor).await?;
        target
            .revoked()
            .apply(&page, target, crate::now(), feed.keep.as_secs());
        cursor = page.cursor.clone().unwrap_or_else(|| page.next.to_string());
        if !page.more {
            break;
        }
    }
    Ok(cursor)
}

/// Reads the whole feed now (so the set is filled before the first request), then polls every
/// `feed.every`.
pub async fn start<T: FeedTarget>(feed: Feed, target: &Arc<T>) -> Result<(), String> {
    let mut cursor = drain(&feed, target.as_ref(), "0".into(), usize::MAX).await?;
    let weak: Weak<T> = Arc::downgrade(target);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(feed.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(target) = weak.upgrade() else { return };
            match drain(&feed, target.as_ref(), cursor.clone(), MAX_PAGES_PER_POLL).await {
                Ok(next) => cursor = next,
                Err(e) => tracing::warn!(error = %e, "revocation feed"),
            }
        }
    });
    Ok(())
}
