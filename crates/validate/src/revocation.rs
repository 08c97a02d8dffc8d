//! The revocation feed: the layer polls `GET {issuer}/revocations?after=CURSOR` (default every
//! 2 s; wire format in `tessera_proto::revocation_feed`) and keeps what it learns until the
//! tokens concerned would have expired anyway, so a revoked JWT — or any JWT of a disabled or
//! deleted client, one issued before its client's `tokens_not_before`, or one signed by a
//! withdrawn key — is refused within one poll interval plus one round trip, without an
//! introspection call per request. Introspection-cache entries of revoked opaque tokens and of
//! revoked clients are dropped, so the next use asks the issuer again; so are the verified-JWT
//! cache's entries of revoked JWTs and clients (the per-request check refuses them regardless).
use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use tessera_proto::clock::Clock;
use tessera_proto::revocation_feed::{EntryType, Page};

use crate::config::ClientCredentials;
use crate::introspect::IntrospectionCache;
use crate::jwks::JwksCache;
use crate::jwt_cache::VerifiedJwtCache;

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
                    target.jwt_cache().forget_id(&r.id);
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
                    target.jwt_cache().forget_client(&r.id);
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
        .basic_auth(enc(&client.id), Some(enc(client.secret.expose_secret())))
        .send()
        .await
        .map_err(|e| format!("revocation feed poll failed: {e}"))?;
    let status = resp.status();
    if !status.is_success() {
        // The issuer's RFC 6749 error says what to fix (e.g. the missing tessera:revocations scope).
        let body: serde_json::Value = crate::outbound::body(resp)
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        return Err(format!(
            "revocation feed poll refused ({status}): {} {}",
            body["error"].as_str().unwrap_or(""),
            body["error_description"].as_str().unwrap_or("")
        ));
    }
    crate::outbound::json(resp)
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
    /// What "now" is when entries are applied (and expired).
    pub clock: Arc<dyn Clock>,
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
    /// The cache of verified JWTs.
    fn jwt_cache(&self) -> &VerifiedJwtCache;
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
            .apply(&page, target, feed.clock.now(), feed.keep.as_secs());
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tessera_proto::revocation_feed::{Entry, EntryType, Page};

    use super::{FeedTarget, RevokedSet};
    use crate::introspect::IntrospectionCache;
    use crate::jwks::JwksCache;
    use crate::jwt_cache::VerifiedJwtCache;

    struct Target {
        revoked: RevokedSet,
        cache: IntrospectionCache,
        jwks: JwksCache,
        jwts: VerifiedJwtCache,
    }

    impl FeedTarget for Target {
        fn revoked(&self) -> &RevokedSet {
            &self.revoked
        }
        fn introspection_cache(&self) -> &IntrospectionCache {
            &self.cache
        }
        fn jwks(&self) -> &JwksCache {
            &self.jwks
        }
        fn jwt_cache(&self) -> &VerifiedJwtCache {
            &self.jwts
        }
    }

    fn entry(kind: EntryType, id: &str, expires_at: u64) -> Entry {
        Entry {
            kind,
            id: id.into(),
            expires_at,
            revoked_at: 0,
            not_before: None,
            disabled: false,
        }
    }

    /// A JWK Set with one EC key, `k1`, served on 127.0.0.1:0.
    async fn jwks() -> JwksCache {
        let jwk = serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]});
        let app = axum::Router::new().route(
            "/jwks",
            axum::routing::get(move || async move { axum::Json(jwk) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        JwksCache::load(
            reqwest::Client::new(),
            url,
            Duration::ZERO,
            Duration::from_secs(60),
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn entries_refuse_jtis_clients_and_keys_until_they_expire() {
        let t = Target {
            revoked: RevokedSet::default(),
            cache: IntrospectionCache::new(),
            jwks: jwks().await,
            jwts: VerifiedJwtCache::new(10),
        };
        assert!(t.jwks.key("k1").await.is_some());
        let mut client = entry(EntryType::Client, "c1", 200);
        client.not_before = Some(150);
        let page = Page {
            revocations: vec![
                entry(EntryType::Jwt, "j1", 100),
                client,
                entry(EntryType::Key, "k1", 300),
                entry(EntryType::Unknown, "whatever", 300),
            ],
            cursor: Some("1".into()),
            next: 1,
            more: false,
        };
        t.revoked.apply(&page, &t, 50, 5);
        let r = &t.revoked;
        assert_eq!(
            r.refusal("j1", "c2", 160),
            Some("the access token was revoked")
        );
        assert_eq!(
            r.refusal("j2", "c1", 149),
            Some("the access token was revoked")
        );
        assert_eq!(r.refusal("j2", "c1", 150), None);
        // A withdrawn key is dropped and not fetched back in, though the issuer still lists it.
        assert!(t.jwks.is_revoked("k1"));
        assert!(t.jwks.key("k1").await.is_none());
        // The newest client state wins; entries are forgotten after expires_at plus the leeway.
        let mut disabled = entry(EntryType::Client, "c1", 200);
        disabled.disabled = true;
        let later = Page {
            revocations: vec![disabled],
            ..page
        };
        t.revoked.apply(&later, &t, 104, 5);
        assert_eq!(
            r.refusal("j2", "c1", 190),
            Some("the access token's client is disabled")
        );
        assert_eq!(
            r.refusal("j1", "c2", 0),
            Some("the access token was revoked")
        );
        t.revoked.apply(
            &Page {
                revocations: vec![],
                ..later
            },
            &t,
            106,
            5,
        );
        assert_eq!(r.refusal("j1", "c2", 0), None);
    }
}
