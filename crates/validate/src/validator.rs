//! The decision for one request, independent of tower: read the credentials from the request
//! head, validate the token (JWT locally, opaque by introspection), check revocation, the sender
//! constraint and the scopes. The layer calls it; other integrations may too.
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, MatchedPath};
use axum::http::{HeaderMap, Method, Uri, header};
use tessera_proto::ErrorCode;
use tessera_proto::audit::{AuditEvent, EventKind};
use tessera_proto::certificate::ClientCertificate;
use tessera_proto::clock::{Clock, SystemClock};
use tessera_proto::dpop::Limits;

use crate::claims::TokenClaims;
use crate::config::ValidateConfig;
use crate::discovery::{self, Endpoints};
use crate::dpop::{self, ReplayCache};
use crate::error::{ErrorKind, Rejection};
use crate::introspect::{self, IntrospectionCache};
use crate::jwks::JwksCache;
use crate::jwt::{self, Verified};
use crate::jwt_cache::{self, JwtCacheStats, VerifiedJwtCache};
use crate::revocation::{self, FeedTarget, RevokedSet};
use crate::usage::UsageReporter;

/// The `Authorization` scheme the token came with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AuthScheme {
    Bearer,
    Dpop,
}

/// What the request presented, copied out of its head so validation owns its data.
pub struct Presented {
    method: String,
    /// The path in normal form ([`crate::path::normalize`]): scopes are matched on it and the
    /// layer hands the request on with it. A path that cannot be normalised is refused.
    path: Result<String, Rejection>,
    /// The route's path template, when the framework matched one (axum's `MatchedPath`).
    template: Option<MatchedPath>,
    /// The URL the DPoP `htu` must name: the configured external origin and the normal path.
    /// `None` without an external origin (the request's own `Host` is the client's to choose).
    url: Option<String>,
    credentials: Result<Option<(AuthScheme, String)>, Rejection>,
    dpop_proofs: Vec<String>,
    cert_x5t: Option<String>,
    ip: Option<std::net::IpAddr>,
    user_agent: Option<String>,
}

/// RFC 6750 §2.3: a token in the URI is refused — URIs end up in logs, histories and referrers.
fn query_has_token(uri: &Uri) -> bool {
    uri.query()
        .is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "access_token"))
}

fn credentials(headers: &HeaderMap) -> Result<Option<(AuthScheme, String)>, Rejection> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Rejection::bearer(
            ErrorKind::InvalidRequest,
            "more than one Authorization header",
        ));
    }
    let value = value.to_str().map_err(|_| {
        Rejection::bearer(
            ErrorKind::InvalidRequest,
            "the Authorization header is malformed",
        )
    })?;
    let Some((scheme, token)) = value.split_once(' ') else {
        return Ok(None);
    };
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        AuthScheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        AuthScheme::Dpop
    } else {
        // Another scheme (Basic, say) is no token at all: answer with our challenge.
        return Ok(None);
    };
    let token = token.trim();
    // RFC 6750 §2.1: b64token syntax.
    let b64token = !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b) || b == b'=');
    if !b64token {
        return Err(Rejection::invalid_token("the access token is malformed"));
    }
    Ok(Some((scheme, token.to_string())))
}

impl Presented {
    /// Reads the request head. `origin` is the configured external origin, if any.
    pub fn of(
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        extensions: &axum::http::Extensions,
        origin: Option<&str>,
    ) -> Self {
        let credentials = if query_has_token(uri) {
            Err(Rejection::bearer(
                ErrorKind::InvalidRequest,
                "access tokens are not accepted in the query string",
            ))
        } else {
            credentials(headers)
        };
        let path = crate::path::normalize(uri.path()).map_err(|e| {
            Rejection::bearer(
                ErrorKind::InvalidRequest,
                "the request path cannot be normalised",
            )
            .detail(e.to_string())
        });
        Self {
            method: method.as_str().to_string(),
            // RFC 9449 §4.3 (9): htu is compared with the URI of this request — as this
            // resource server is configured to be reached, never as the client's headers say.
            url: match (origin, &path) {
                (Some(origin), Ok(path)) => Some(format!("{origin}{path}")),
                _ => None,
            },
            path,
            template: extensions.get::<MatchedPath>().cloned(),
            credentials,
            dpop_proofs: headers
                .get_all("dpop")
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_string))
                .collect(),
            cert_x5t: extensions.get::<ClientCertificate>().map(|c| c.x5t_s256()),
            ip: extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
            user_agent: headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(256).collect()),
        }
    }

    /// The request path in normal form, or why it has none. The layer replaces the request's
    /// path with it, so what comes after the layer sees the path the scopes were checked on.
    pub fn path(&self) -> Result<&str, &Rejection> {
        self.path.as_ref().map(String::as_str)
    }
}

/// The shared state behind every clone of the layer.
pub struct Validator {
    config: ValidateConfig,
    http: reqwest::Client,
    endpoints: Endpoints,
    jwks: JwksCache,
    cache: IntrospectionCache,
    jwts: VerifiedJwtCache,
    revoked: RevokedSet,
    replay: ReplayCache,
    usage: Option<UsageReporter>,
    algs: String,
    clock: Arc<dyn Clock>,
}

impl FeedTarget for Validator {
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

impl Validator {
    /// Discovers the issuer's metadata, loads its JWKS, and starts the revocation feed and the
    /// usage reporter when configured. Call within a Tokio runtime.
    pub async fn start(config: ValidateConfig) -> Result<Arc<Self>, String> {
        Self::start_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`Validator::start`] with the time read from `clock`.
    pub async fn start_with_clock(
        config: ValidateConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>, String> {
        let http = crate::outbound::client()?;
        if config.external_origin.is_none() {
            tracing::warn!(
                "no external origin configured: DPoP-bound access tokens will be refused \
                 (the DPoP htu is checked against the configured origin, never the Host header)"
            );
        }
        let endpoints = discovery::discover(&http, &config.issuer).await?;
        let jwks = JwksCache::load(
            http.clone(),
            endpoints.jwks_uri.clone(),
            config.jwks_refetch_interval,
            config.jwks_max_age,
        )
        .await?;
        let usage = match (&config.client, config.usage_events) {
            (Some(client), true) => Some(UsageReporter::start(
                http.clone(),
                endpoints.events.clone(),
                client.clone(),
                config.usage_batch.0,
                config.usage_batch.1,
            )),
            _ => None,
        };
        let validator = Arc::new(Self {
            replay: ReplayCache::new(config.dpop_replay_cache_size),
            http: http.clone(),
            endpoints,
            jwks,
            cache: IntrospectionCache::new(),
            jwts: VerifiedJwtCache::new(config.jwt_cache_size),
            revoked: RevokedSet::default(),
            usage,
            algs: dpop::algs(),
            clock: clock.clone(),
            config,
        });
        if let (Some(client), Some(every)) =
            (&validator.config.client, validator.config.revocation_poll)
        {
            let feed = revocation::Feed {
                http,
                url: validator.endpoints.revocations.clone(),
                client: client.clone(),
                every,
                clock,
                keep: validator.config.leeway,
            };
            revocation::start(feed, &validator).await?;
        }
        Ok(validator)
    }

    /// The configuration.
    pub fn config(&self) -> &ValidateConfig {
        &self.config
    }

    /// How many JWTs were answered from the cache of verified tokens, how many were verified in
    /// full, and how many the cache holds.
    pub fn jwt_cache_stats(&self) -> JwtCacheStats {
        self.jwts.stats()
    }

    /// The `algs` of DPoP challenges.
    pub fn dpop_algs(&self) -> &str {
        &self.algs
    }

    /// Decides one request; `extra_scopes` are those of the layer instance (per route).
    pub async fn validate(
        &self,
        presented: &Presented,
        extra_scopes: &[String],
    ) -> Result<TokenClaims, Rejection> {
        let result = self.decide(presented, extra_scopes).await;
        if let Err(r) = &result {
            tracing::debug!(error = ?r.kind, detail = ?r.detail, "access token refused");
        }
        if let Some(usage) = &self.usage {
            let token = match &presented.credentials {
                Ok(Some((_, token))) => Some(token.clone()),
                _ => None,
            };
            usage.report(self.event(presented, &result), token);
        }
        result
    }

    fn event(&self, p: &Presented, result: &Result<TokenClaims, Rejection>) -> AuditEvent {
        let mut e = AuditEvent::new(EventKind::TokenUsed, self.clock.now_ms());
        e.resource = Some(self.config.audience.clone());
        e.method = Some(p.method.clone());
        // The path template, not the raw path: ids in paths are not the monitor's business and
        // would make every request look new.
        e.path = match (&p.template, &p.path) {
            (Some(t), _) => Some(t.as_str().to_string()),
            (None, Ok(path)) => Some(
                self.config
                    .route_template(&p.method, path)
                    .unwrap_or_else(|| path.clone()),
            ),
            // A path that has no normal form is not worth keeping.
            (None, Err(_)) => None,
        };
        e.ip = p.ip;
        e.user_agent = p.user_agent.clone();
        match result {
            Ok(c) => {
                e.token_id = Some(c.token_id.clone());
                e.client_id = Some(c.client_id.clone());
                e.scope = Some(c.scope());
                e.reason = Some("accepted".into());
            }
            Err(r) => {
                e.reason = Some(
                    r.kind
                        .code()
                        .map_or("missing_token", ErrorCode::as_str)
                        .into(),
                )
            }
        }
        e
    }

    /// The verification of a JWT: from the cache when the same token was verified before and
    /// the key that verified it is still the issuer's — not withdrawn by the revocation feed,
    /// and the JWK Set (refetched once stale) still holds that very key under its `kid` —
    /// otherwise verified now. The digest comes back on a miss, for caching once the token
    /// passed the per-request checks.
    async fn verified_jwt(
        &self,
        token: &str,
        now: u64,
    ) -> Result<(Arc<Verified>, Option<jwt_cache::Digest>), Rejection> {
        let digest = self.jwts.enabled().then(|| jwt_cache::digest(token));
        if let Some(d) = &digest
            && let Some(v) = self.jwts.get(d, now)
        {
            let key_trusted = !self.jwks.is_revoked(&v.kid)
                && self
                    .jwks
                    .key(&v.kid)
                    .await
                    .is_some_and(|k| Arc::ptr_eq(&k, &v.key));
            if key_trusted {
                self.jwts.hit();
                return Ok((v, None));
            }
            // Withdrawn, gone or replaced: verify again, with whatever the JWKS holds now.
            self.jwts.remove(d);
        }
        self.jwts.verified();
        let verified = jwt::verify_signed(&self.config, &self.jwks, token).await?;
        Ok((Arc::new(verified), digest))
    }

    async fn decide(
        &self,
        p: &Presented,
        extra_scopes: &[String],
    ) -> Result<TokenClaims, Rejection> {
        let path = p.path.as_deref().map_err(Clone::clone)?;
        let (scheme, token) = p
            .credentials
            .clone()?
            .ok_or_else(|| Rejection::bearer(ErrorKind::Missing, ""))?;
        let now = self.clock.now();
        let claims = if introspect::is_opaque(&token) {
            introspect::introspect(
                &self.config,
                &self.http,
                self.endpoints.introspection.as_deref(),
                &self.cache,
                &token,
                now,
            )
            .await?
        } else {
            // Hit or miss, everything that is not a property of the signed bytes is checked
            // below, on every request: the clock, the revocation feed, the sender constraint
            // and the scopes (the key's standing is checked in `verified_jwt`).
            let (verified, uncached) = self.verified_jwt(&token, now).await?;
            jwt::check_time(&self.config, &verified, now)?;
            let claims = &verified.claims;
            let refusal =
                self.revoked
                    .refusal(&claims.token_id, &claims.client_id, claims.issued_at);
            if let Some(description) = refusal {
                return Err(Rejection::invalid_token(description));
            }
            let claims = claims.clone();
            if let Some(digest) = uncached {
                self.jwts.put(digest, verified, now);
            }
            claims
        };
        let as_dpop = |r: Rejection| {
            if scheme == AuthScheme::Dpop {
                r.dpop()
            } else {
                r
            }
        };
        let cnf = claims.cnf.clone().unwrap_or_default();
        match (&cnf.jkt, scheme) {
            (Some(jkt), AuthScheme::Dpop) => {
                let Some(url) = p.url.as_deref() else {
                    return Err(Rejection::invalid_token(
                        "DPoP-bound tokens need the resource server's external origin configured",
                    )
                    .dpop());
                };
                let [proof] = p.dpop_proofs.as_slice() else {
                    return Err(Rejection::bearer(
                        ErrorKind::InvalidDpopProof,
                        "exactly one DPoP proof is required",
                    )
                    .dpop());
                };
                let req = dpop::Request {
                    proof,
                    method: &p.method,
                    url,
                    access_token: &token,
                    jkt,
                };
                let limits = Limits {
                    max_age: self.config.dpop_max_age.as_secs(),
                    max_skew: self.config.leeway.as_secs(),
                };
                dpop::verify(&req, &self.replay, now, limits)?;
            }
            // RFC 9449 §7.2: a DPoP-bound token presented as a bearer token is refused.
            (Some(_), AuthScheme::Bearer) => {
                return Err(
                    Rejection::invalid_token("the access token is bound to a DPoP key").dpop(),
                );
            }
            (None, AuthScheme::Dpop) => {
                return Err(Rejection::invalid_token("the access token is not DPoP-bound").dpop());
            }
            (None, AuthScheme::Bearer) => {}
        }
        // RFC 8705 §3: a certificate-bound token needs the same certificate on this connection.
        if let Some(x5t) = &cnf.x5t_s256 {
            let same = p.cert_x5t.as_deref().is_some_and(|c| {
                aws_lc_rs::constant_time::verify_slices_are_equal(c.as_bytes(), x5t.as_bytes())
                    .is_ok()
            });
            if !same {
                return Err(as_dpop(Rejection::invalid_token(
                    "the access token is bound to another client certificate",
                )));
            }
        }
        let needed = self.config.scopes_for(&p.method, path);
        let extra = extra_scopes.iter().map(String::as_str);
        let missing: Vec<&str> = needed
            .into_iter()
            .chain(extra)
            .filter(|s| !claims.has_scope(s))
            .collect();
        if !missing.is_empty() {
            let mut r = Rejection::bearer(
                ErrorKind::InsufficientScope,
                "the access token lacks a required scope",
            );
            r.scope = Some(missing.join(" "));
            return Err(as_dpop(r));
        }
        Ok(claims)
    }
}
