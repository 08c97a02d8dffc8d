//! What a resource server tells the layer: who issues its tokens, who it is, how strict to be.
use std::time::Duration;

use jsonwebtoken::Algorithm;
use tessera_proto::Secret;

/// The algorithms accepted by default: asymmetric only. `none` cannot be expressed, and HS*
/// (a MAC keyed with a *public* key is the classic alg-confusion attack) is refused even if added.
pub const DEFAULT_ALGS: [Algorithm; 6] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::PS384,
];

/// A scope required for requests whose path starts with `prefix` (and, if set, whose method is
/// `method`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteScope {
    /// Upper-case HTTP method, or `None` for any.
    pub method: Option<String>,
    /// Path prefix, matched on segment boundaries (`/a` matches `/a` and `/a/b`, not `/ab`).
    pub prefix: String,
    /// The scope the token must carry.
    pub scope: String,
}

impl RouteScope {
    /// Parses `ROUTE=SCOPE`, where ROUTE is `/path` or `METHOD /path`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (route, scope) = spec
            .rsplit_once('=')
            .ok_or_else(|| format!("{spec:?} is not ROUTE=SCOPE"))?;
        let (method, prefix) = match route.trim().split_once(' ') {
            Some((m, p)) => (Some(m.trim().to_ascii_uppercase()), p.trim()),
            None => (None, route.trim()),
        };
        if !prefix.starts_with('/') || scope.trim().is_empty() || scope.contains(' ') {
            return Err(format!("{spec:?} is not ROUTE=SCOPE (ROUTE starts with /)"));
        }
        // Requests are matched in normal form, so the rule is written in it too.
        let prefix = crate::path::normalize(prefix).map_err(|e| format!("{spec:?}: {e}"))?;
        Ok(Self {
            method,
            prefix,
            scope: scope.trim().to_string(),
        })
    }

    /// Whether this rule applies to a `method` request for `path`, which must be in normal form
    /// ([`crate::path::normalize`]; the layer normalises before matching). It also applies when
    /// the path with its segments' `;parameters` removed is under the prefix (`/admin;x` is
    /// `/admin` to a servlet container).
    pub fn applies(&self, method: &str, path: &str) -> bool {
        let method_ok = self.method.as_deref().is_none_or(|m| m == method);
        method_ok
            && (self.under_prefix(path)
                || crate::path::without_parameters(path).is_some_and(|p| self.under_prefix(&p)))
    }

    fn under_prefix(&self, path: &str) -> bool {
        let prefix = self.prefix.trim_end_matches('/');
        path == prefix
            || prefix.is_empty()
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

/// The resource server's own client credentials at the authorization server, used for
/// introspection (RFC 7662), the revocation feed and usage events.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    /// Its `client_id`.
    pub id: String,
    /// Its `client_secret`.
    pub secret: Secret,
}

/// Configuration of the layer. Build with [`ValidateConfig::new`] and the `with_*` methods.
#[derive(Clone, Debug)]
pub struct ValidateConfig {
    /// The issuer identifier: metadata is discovered at `{issuer}/.well-known/oauth-authorization-server`
    /// and `iss` must equal it exactly.
    pub issuer: String,
    /// This resource server's identifier: `aud` must contain it.
    pub audience: String,
    /// Allowed JWS algorithms (HS* are refused regardless).
    pub algorithms: Vec<Algorithm>,
    /// Clock skew tolerated on `exp`, `nbf`, `iat`. Default 5 s.
    pub leeway: Duration,
    /// Scopes every request needs.
    pub required_scopes: Vec<String>,
    /// Scopes needed per route.
    pub route_scopes: Vec<RouteScope>,
    /// Credentials for introspection, the revocation feed (the client needs the scope
    /// `tessera:revocations`) and usage events (`tessera:events`); without them opaque tokens
    /// are refused and the revocation feed is off.
    pub client: Option<ClientCredentials>,
    /// Least time between two JWKS refetches caused by an unknown `kid`. Default 5 s.
    pub jwks_refetch_interval: Duration,
    /// Age at which the cached JWK Set is refetched (on the next request), so a signing key the
    /// issuer revoked stops being trusted. Default 60 s (Tessera's `/jwks` `max-age`).
    pub jwks_max_age: Duration,
    /// Longest an introspection result is cached (never beyond the token's `exp`). Default 30 s.
    pub introspection_cache_ttl: Duration,
    /// Most cached introspection results. Default 10 000.
    pub introspection_cache_size: usize,
    /// Most verified JWTs cached (keyed by the token's SHA-256, never served past its `exp`), so
    /// a token sent again skips the signature verification; the clock, the revocation feed, the
    /// key's standing, DPoP, the certificate binding and the scopes are still checked on every
    /// request. 0 turns the cache off. Default 10 000.
    pub jwt_cache_size: usize,
    /// How often the revocation feed is polled (`None`: never). Default 2 s.
    pub revocation_poll: Option<Duration>,
    /// The scheme and authority clients use to reach this resource server (`https://api.example.com`),
    /// for the DPoP `htu` check (RFC 9449 §4.3 (9)). Without it DPoP-bound tokens are refused:
    /// the request's own `Host` header is the client's to choose, so an `htu` checked against it
    /// would accept a proof made for any other server.
    pub external_origin: Option<String>,
    /// How old a DPoP proof's `iat` may be. Default 60 s.
    pub dpop_max_age: Duration,
    /// Most DPoP `jti`s remembered (proofs beyond it are refused until old ones expire). Default 100 000.
    pub dpop_replay_cache_size: usize,
    /// Report `token.used` events to `{issuer}/admin/events` (needs `client`). Default off.
    pub usage_events: bool,
    /// Most events per batch, and the longest a batch waits. Default 100 and 1 s.
    pub usage_batch: (usize, Duration),
}

impl ValidateConfig {
    /// A configuration with the defaults for `issuer` and this resource server's `audience`.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into().trim_end_matches('/').to_string(),
            audience: audience.into(),
            algorithms: DEFAULT_ALGS.to_vec(),
            leeway: Duration::from_secs(5),
            required_scopes: Vec::new(),
            route_scopes: Vec::new(),
            client: None,
            jwks_refetch_interval: Duration::from_secs(5),
            jwks_max_age: Duration::from_secs(60),
            introspection_cache_ttl: Duration::from_secs(30),
            introspection_cache_size: 10_000,
            jwt_cache_size: 10_000,
            revocation_poll: Some(Duration::from_secs(2)),
            external_origin: None,
            dpop_max_age: Duration::from_secs(60),
            dpop_replay_cache_size: 100_000,
            usage_events: false,
            usage_batch: (100, Duration::from_secs(1)),
        }
    }

    /// Sets the resource server's client credentials.
    pub fn with_client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.client = Some(ClientCredentials {
            id: id.into(),
            secret: Secret::new(secret),
        });
        self
    }

    /// Requires `scope` on every request.
    pub fn require_scope(mut self, scope: impl Into<String>) -> Self {
        self.required_scopes.push(scope.into());
        self
    }

    /// Requires `scope` on requests matching `route` (`/path` or `METHOD /path`).
    pub fn require_route_scope(mut self, route: &str, scope: &str) -> Result<Self, String> {
        self.route_scopes
            .push(RouteScope::parse(&format!("{route}={scope}"))?);
        Ok(self)
    }

    /// Caches at most `max_entries` verified JWTs (see [`ValidateConfig::jwt_cache_size`]); 0
    /// turns the cache off.
    pub fn with_jwt_cache(mut self, max_entries: usize) -> Self {
        self.jwt_cache_size = max_entries;
        self
    }

    /// Sets the origin clients use, for DPoP `htu`.
    pub fn with_external_origin(mut self, origin: impl Into<String>) -> Self {
        self.external_origin = Some(origin.into().trim_end_matches('/').to_string());
        self
    }

    /// Turns `token.used` reporting on or off.
    pub fn with_usage_events(mut self, on: bool) -> Self {
        self.usage_events = on;
        self
    }

    /// The path template of a `method` request for `path` as the route rules name it, for usage
    /// events when the framework knows none: the longest matching rule's prefix, with `/*` when
    /// the path goes deeper (`/deploys/42` under `/deploys` is `/deploys/*`).
    pub fn route_template(&self, method: &str, path: &str) -> Option<String> {
        let rule = self
            .route_scopes
            .iter()
            .filter(|r| r.applies(method, path))
            .max_by_key(|r| r.prefix.trim_end_matches('/').len())?;
        let prefix = rule.prefix.trim_end_matches('/');
        Some(if path.trim_end_matches('/') == prefix {
            if prefix.is_empty() { "/" } else { prefix }.to_string()
        } else {
            format!("{prefix}/*")
        })
    }

    /// The scopes a `method` request for `path` needs, in order, without duplicates.
    pub fn scopes_for(&self, method: &str, path: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let routes = self
            .route_scopes
            .iter()
            .filter(|r| r.applies(method, path))
            .map(|r| r.scope.as_str());
        for s in self
            .required_scopes
            .iter()
            .map(String::as_str)
            .chain(routes)
        {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_scopes_match_on_segments_and_methods() {
        let r = RouteScope::parse("POST /deploys=deploy:write").unwrap();
        assert!(r.applies("POST", "/deploys"));
        assert!(r.applies("POST", "/deploys/1"));
        assert!(!r.applies("POST", "/deploysx"));
        assert!(!r.applies("GET", "/deploys"));
        let any = RouteScope::parse("/=read").unwrap();
        assert!(any.applies("GET", "/x"));
        assert!(RouteScope::parse("deploys=x").is_err());
        assert!(RouteScope::parse("/a").is_err());
    }

    #[test]
    fn route_prefixes_are_normalised_and_parameters_do_not_hide_a_route() {
        let r = RouteScope::parse("/%61dmin/./x//=admin").unwrap();
        assert_eq!(r.prefix, "/admin/x/");
        assert!(r.applies("GET", "/admin/x"));
        assert!(r.applies("GET", "/admin;jsessionid=1/x"));
        assert!(r.applies("GET", "/admin/x;v=2/y"));
        assert!(!r.applies("GET", "/admin/xy;v=2"));
        assert!(RouteScope::parse("/%2Fadmin=admin").is_err());
        assert!(RouteScope::parse("/../admin=admin").is_err());
    }

    #[test]
    fn route_templates_name_the_longest_matching_rule() {
        let config = ValidateConfig::new("https://as", "https://rs")
            .require_route_scope("/", "read")
            .unwrap()
            .require_route_scope("POST /deploys", "deploy:write")
            .unwrap()
            .require_route_scope("/deploys/admin/", "deploy:admin")
            .unwrap();
        let t = |m, p| config.route_template(m, p);
        assert_eq!(t("POST", "/deploys").as_deref(), Some("/deploys"));
        assert_eq!(t("POST", "/deploys/42").as_deref(), Some("/deploys/*"));
        assert_eq!(t("GET", "/deploys/42").as_deref(), Some("/*"));
        assert_eq!(
            t("GET", "/deploys/admin/x").as_deref(),
            Some("/deploys/admin/*")
        );
        assert_eq!(t("GET", "/").as_deref(), Some("/"));
        let none = ValidateConfig::new("https://as", "https://rs");
        assert_eq!(none.route_template("GET", "/x"), None);
    }
}
