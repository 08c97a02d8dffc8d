//! The revocation feed: the layer polls `GET {issuer}/revocations?after=CURSOR` (default every
//! 2 s) and keeps the revoked JWT `jti`s until those tokens would have expired anyway, so a
//! revoked JWT is refused within one poll interval plus one round trip — without an
//! introspection call per request. Revoked opaque tokens are dropped from the introspection cache.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde::Deserialize;

use crate::config::ClientCredentials;
use crate::introspect::IntrospectionCache;

/// One entry of the feed.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Revocation {
    /// `jwt` (the id is a `jti`) or `opaque` (the id is the token's selector).
    #[serde(rename = "type")]
    pub kind: String,
    /// The token id.
    pub id: String,
    /// When the token would have expired: it can be forgotten after.
    pub expires_at: u64,
}

/// A page of the feed.
#[derive(Debug, Deserialize)]
pub struct Page {
    /// The entries.
    pub revocations: Vec<Revocation>,
    /// The cursor for the next poll.
    pub next: u64,
}

/// The revoked `jti`s known to this resource server.
#[derive(Default)]
pub struct RevokedSet {
    jtis: Mutex<HashMap<String, u64>>,
}

impl RevokedSet {
    /// Whether `jti` was revoked.
    pub fn contains(&self, jti: &str) -> bool {
        self.jtis.lock().expect("poisoned").contains_key(jti)
    }

    fn apply(&self, page: &Page, cache: &IntrospectionCache, now: u64) {
        let mut jtis = self.jtis.lock().expect("poisoned");
        jtis.retain(|_, exp| *exp > now);
        for r in &page.revocations {
            match r.kind.as_str() {
                "jwt" => {
                    jtis.insert(r.id.clone(), r.expires_at);
                }
                _ => cache.forget_id(&r.id),
            }
        }
    }
}

/// Fetches one page after `cursor`.
pub async fn poll(
    http: &reqwest::Client,
    url: &str,
    client: &ClientCredentials,
    cursor: u64,
) -> Result<Page, String> {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    http.get(url)
        .query(&[("after", cursor)])
        .basic_auth(enc(&client.id), Some(enc(&client.secret)))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("revocation feed poll failed: {e}"))?
        .json()
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
}

/// What the poller updates, held weakly.
pub trait FeedTarget: Send + Sync + 'static {
    /// The revoked set.
    fn revoked(&self) -> &RevokedSet;
    /// The introspection cache.
    fn introspection_cache(&self) -> &IntrospectionCache;
}

/// Polls once now (so the set is filled before the first request), then every `feed.every`.
pub async fn start<T: FeedTarget>(feed: Feed, target: &Arc<T>) -> Result<(), String> {
    let now = crate::now();
    let page = poll(&feed.http, &feed.url, &feed.client, 0).await?;
    target
        .revoked()
        .apply(&page, target.introspection_cache(), now);
    let weak: Weak<T> = Arc::downgrade(target);
    let mut cursor = page.next;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(feed.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(target) = weak.upgrade() else { return };
            match poll(&feed.http, &feed.url, &feed.client, cursor).await {
                Ok(page) => {
                    target
                        .revoked()
                        .apply(&page, target.introspection_cache(), crate::now());
                    cursor = page.next.max(cursor);
                }
                Err(e) => tracing::warn!(error = %e, "revocation feed"),
            }
        }
    });
    Ok(())
}
