//! Typed configuration. The TOML file, the `TESSERA_*` environment variables and the command-line
//! flags all fill this one struct (flags over environment over file over defaults).
//! docs/configuration.md is generated from these doc comments and the environment table
//! (`reference.rs`, `env.rs`); a test fails when it drifts.
mod env;
mod reference;

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tessera_proto::Secret;
use tessera_proto::loopback::{InsecureUrl, https_or_loopback_http};

pub use env::{ENV, EnvError, EnvVar, Refused, apply_env, env_name};
pub use reference::reference_markdown;

/// The whole configuration.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address of the OAuth endpoints. Flag `--listen`.
    pub listen: SocketAddr,
    /// Address of the admin listener serving `/healthz` and `/metrics`. Flag `--admin-listen`.
    pub admin_listen: SocketAddr,
    /// Store URL: `sqlite:PATH` (the embedded default). Flag `--database`.
    pub database: String,
    /// Issuer identifier (RFC 8414). Default: `http://` + `listen` (`https://` with TLS). Must be https off loopback. Flag `--issuer`.
    pub issuer: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM). Flag `--tls-cert`.
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of `tls_cert`. Flag `--tls-key`.
    pub tls_key: Option<PathBuf>,
    /// CA certificates (PEM) that issue client certificates for `tls_client_auth` (RFC 8705 §2.1). Unset: only `self_signed_tls_client_auth` works. Flag `--tls-client-ca`.
    pub tls_client_ca: Option<PathBuf>,
    /// Behind a TLS-terminating proxy: the request header in which the proxy forwards the client certificate (URL-encoded PEM, as nginx `$ssl_client_escaped_cert`). Unsafe unless the proxy strips this header from client requests; unset by default.
    pub insecure_client_cert_header: Option<String>,
    /// Plain HTTP is served because a TLS-terminating proxy in front of Tessera handles TLS.
    pub behind_tls_proxy: bool,
    /// Addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` is believed: for a request from one of them, the caller's address (audit events, the monitor, the login lockout) is the rightmost `X-Forwarded-For` entry that is not itself a trusted proxy. Empty (the default): the TCP peer is the caller, headers are ignored. In the environment: comma-separated.
    pub trusted_proxies: Vec<String>,
    /// Allow plain HTTP on a non-loopback address with no TLS proxy declared. Unsafe: tokens and secrets cross the network in clear. Flag `--insecure-http`.
    pub insecure_http: bool,
    /// Token and authorization-code lifetimes.
    pub tokens: TokenConfig,
    /// Refresh token rotation.
    pub refresh: RefreshConfig,
    /// Signing keys.
    pub keys: KeyConfig,
    /// Request limits.
    pub limits: LimitConfig,
    /// DPoP (RFC 9449) proofs.
    pub dpop: DpopConfig,
    /// How often (milliseconds) a node polls the store for client and key changes made by other nodes or the CLI.
    pub change_poll_ms: u64,
    /// The retention janitor.
    pub retention: RetentionConfig,
    /// Brute-force protection of the login page.
    pub login: LoginConfig,
    /// Client authentication.
    pub client_auth: ClientAuthConfig,
    /// Pushed authorization requests (RFC 9126).
    pub par: ParConfig,
}

/// Pushed authorization requests (RFC 9126): clients authenticate and `POST /par` their authorization request, then send the user to `/authorize` with only `client_id` and the `request_uri` they got back (single use, valid 60 seconds, bound to the pushing client).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ParConfig {
    /// Every client must push its authorization requests (RFC 9126 §5 `require_pushed_authorization_requests`); a plain `GET /authorize` is refused. Off: only clients registered with `--require-par` must.
    pub require_pushed_authorization_requests: bool,
    /// Unexpired, unused pushed requests one client may hold at once; past it `POST /par` answers `429`. Bounds what one (authenticated) client can store.
    pub max_per_client: u64,
}

impl Default for ParConfig {
    fn default() -> Self {
        Self {
            require_pushed_authorization_requests: false,
            max_per_client: 1000,
        }
    }
}

/// Client authentication (RFC 6749 §2.3): `private_key_jwt` client assertions (RFC 7523) and the fetching of clients' `jwks_uri` documents.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientAuthConfig {
    /// Longest lifetime (seconds from now to `exp`) of a `private_key_jwt` client assertion. Common client libraries (Authlib) sign assertions valid for an hour; each assertion's `jti` is remembered until its `exp`, so a replay is refused whatever the lifetime.
    pub max_assertion_lifetime_secs: u64,
    /// Also accept a client assertion whose `aud` is the token endpoint URL (alone, or an array whose every value is the issuer or the token endpoint URL), for old client libraries. Unsafe: RFC 7523bis and the 2025 OpenID audience-injection advisory require `aud` to be the issuer identifier alone, so that an assertion made for one server cannot be played to another. Off by default.
    pub insecure_accept_endpoint_audience: bool,
    /// Let `jwks_uri` fetches reach private-network addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) and loopback. Unsafe: anyone who can register a client could make the server probe its internal network. Off by default: every address a `jwks_uri` host resolves to must be public; loopback is also allowed when the issuer itself is on loopback (development). Link-local addresses (169.254/16, fe80::/10, cloud metadata services) are never fetched.
    pub insecure_jwks_uri_private_addresses: bool,
}

impl Default for ClientAuthConfig {
    fn default() -> Self {
        Self {
            max_assertion_lifetime_secs: 3600,
            insecure_accept_endpoint_audience: false,
            insecure_jwks_uri_private_addresses: false,
        }
    }
}

/// Brute-force and flood protection of the built-in login page: login attempts are counted per user name and per client address in the store (so every node sees them) *before* the password is checked, and past a limit the name or address is locked out for a while. A locked-out submission is refused before its password is checked (the argon2id work is not done) with one message that does not say whether the user exists. Password checks run a bounded number at a time, and login forms opened per address and in total are capped, so unauthenticated requests take bounded memory, CPU and storage.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginConfig {
    /// Failed logins for one user name within `failure_window_secs` that lock that name out for `lockout_secs` (each further failure in the window locks it again). `0` turns the per-name limit off.
    pub max_failures_per_user: u32,
    /// Failed logins from one client address (an IPv6 /64) within `failure_window_secs` that lock it out for `lockout_secs`, whatever names it tries (password spraying). `0` turns the per-address limit off.
    pub max_failures_per_ip: u32,
    /// Seconds over which failures are counted; a window starts with its first failure.
    pub failure_window_secs: u64,
    /// Seconds a locked-out name or address stays locked.
    pub lockout_secs: u64,
    /// Password checks (argon2id, 19 MiB of memory each) that run at once on this node; `0`: one per CPU core. Bounds the memory and CPU that unauthenticated logins can take.
    pub max_concurrent_hashes: usize,
    /// Milliseconds a login waits for a free password-check slot; past it the form is shown again with "try again in a moment" (the attempt is not counted as a failure).
    pub hash_wait_ms: u64,
    /// Login forms (`GET /authorize` requests that store a pending request) one client address (an IPv6 /64) may open within `authorize_window_secs`; past it the address gets an error page (429) until the window is over. `0` turns the per-address limit off.
    pub max_authorize_per_ip: u32,
    /// Seconds over which `max_authorize_per_ip` counts.
    pub authorize_window_secs: u64,
    /// Unexpired pending login forms the whole deployment keeps at most (each lives 10 minutes); past it `GET /authorize` answers an error page (429) until some expire or are used.
    pub max_pending: u64,
}

impl Default for LoginConfig {
    fn default() -> Self {
        Self {
            max_failures_per_user: 5,
            max_failures_per_ip: 20,
            failure_window_secs: 900,
            lockout_secs: 300,
            max_concurrent_hashes: 0,
            hash_wait_ms: 2000,
            max_authorize_per_ip: 60,
            authorize_window_secs: 60,
            max_pending: 10_000,
        }
    }
}

/// Token and authorization-code lifetimes.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    /// Lifetime in seconds of an access token whose client sets none.
    pub default_ttl: u64,
    /// Upper bound in seconds on any access token's lifetime, whatever its client asks.
    pub max_ttl: u64,
    /// Lifetime in seconds of a refresh token (RFC 6749 §6). Rotation is always on: each use returns a new one with the same expiry horizon.
    pub refresh_ttl: u64,
    /// Lifetime in seconds of an authorization code (RFC 6749 §4.1.2 recommends at most 10 minutes).
    pub code_ttl: u64,
    /// Token exchange (RFC 8693): how many exchanges deep a chain may go (user → agent → sub-agent is 2). A subject token already this deep is refused with `invalid_request`.
    pub exchange_max_depth: u32,
}

/// Refresh token rotation (RFC 9700 §4.14.2): every use of a refresh token returns a new one, and presenting a rotated one again revokes its whole grant family (every refresh and access token of that authorization).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RefreshConfig {
    /// Seconds after a rotation during which the same client presenting the rotated refresh token again gets the same successor refresh token (and a fresh access token) instead of its family being revoked, so parallel refreshes from several tabs of one app do not log it out. Only while that successor is itself unused and unrevoked; after the window it is reuse again. At most 60. `0` (the default): no grace, any reuse revokes the family. A thief presenting a stolen token within the window is not detected, so keep it short. The successor is kept sealed under the key-encryption key for the window only. Flag `--refresh-reuse-grace-secs`.
    pub reuse_grace_secs: u64,
}

/// Signing keys and their lifecycle (docs/keys.md): a new key is published as `next`, signs as `current`, stays published as `retired` until its tokens have expired, then is removed.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeyConfig {
    /// Base64 of 32 random bytes: private keys are sealed with AES-256-GCM under it, each bound to its kid. Unset: the key is read from `encryption_key_file` (docs/keys.md).
    #[serde(skip_serializing)]
    pub encryption_key: Option<Secret>,
    /// File holding the key-encryption key (base64) when `encryption_key` is unset; created with a fresh random key (mode 0600) on first start if missing, refused if its mode is wider than 0600. Default: beside the SQLite database (`tessera.db.kek`); PostgreSQL has no default (every node needs the same key): set this or `encryption_key`.
    pub encryption_key_file: Option<PathBuf>,
    /// Seconds a current key signs before it is replaced (scheduled rotation, default 30 days); `0` turns scheduled rotation off (`tessera keys rotate` still works). At least `publish_before_use`.
    pub rotation_period: u64,
    /// Seconds a new key is published in the JWK Set as `next` before it signs, so validators' cached JWK Sets hold it before its first token. Keep it above your validators' JWKS cache lifetime (`/jwks` says `max-age=60`).
    pub publish_before_use: u64,
    /// Seconds a retired key stays published beyond `tokens.max_ttl` (its tokens' longest life): covers clock skew and nodes that learn of a rotation late. Then it is removed.
    pub retired_leeway: u64,
    /// How often (seconds) each node checks whether a key is due to be published, promoted or removed. Nodes coordinate through the store: exactly one acts.
    pub check_interval: u64,
}

impl Default for KeyConfig {
    fn default() -> Self {
        Self {
            encryption_key: None,
            encryption_key_file: None,
            rotation_period: 30 * 86_400,
            publish_before_use: 3600,
            retired_leeway: 300,
            check_interval: 60,
        }
    }
}

/// Request limits.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitConfig {
    /// Largest accepted request body in bytes; larger bodies get `invalid_request`.
    pub max_body_bytes: usize,
    /// Seconds a client has for each read step: the TLS handshake and its first request on a new connection, each request's headers (an HTTP/1 keep-alive connection idle this long is closed), and each request's body (else `invalid_request`). Bounds slow-sending ("slowloris") clients.
    pub read_timeout_secs: u64,
    /// Open connections per listener; beyond it new connections are closed at once (and a warning is logged), so idle or slow clients cannot exhaust file descriptors and memory.
    pub max_connections: usize,
}

/// DPoP (RFC 9449): sender-constrained tokens. Always on; a proof is optional unless the client requires one.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DpopConfig {
    /// Require a server-provided nonce (RFC 9449 §8) in every proof; the server hands nonces out in the `DPoP-Nonce` header.
    pub require_nonce: bool,
    /// How old (seconds) a proof's `iat` may be.
    pub max_age_secs: u64,
    /// How far (seconds) in the future a proof's `iat` may be, for clock skew.
    pub max_clock_skew_secs: u64,
    /// How often (seconds) the nonce changes; a nonce stays valid for two periods.
    pub nonce_period_secs: u64,
    /// Secret keying the nonces; give every node the same one. Unset: random per process (nonces then work on the issuing node only).
    #[serde(skip_serializing)]
    pub nonce_secret: Option<Secret>,
}

/// The retention janitor: `tessera serve` deletes expired opaque tokens, revoked-JWT records and replay guards, and old audit events, on a schedule and in bounded batches (docs/postgres.md, "Retention"). Every node may run it: the deletes are idempotent.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Run the janitor in this node.
    pub enabled: bool,
    /// Seconds between sweeps; the first runs one interval after start.
    pub janitor_interval_secs: u64,
    /// Most rows one delete statement removes; a sweep repeats it, yielding in between, until a batch comes back short.
    pub batch_size: u32,
    /// Seconds an expired token, revoked-JWT record or replay guard is kept past its expiry (slack for the clocks of other nodes and resource servers; expired rows answer `active: false` either way).
    pub expired_token_grace_secs: u64,
    /// Days audit events are kept (by event time); 0 keeps them forever.
    pub audit_events_days: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            janitor_interval_secs: 300,
            batch_size: 1000,
            expired_token_grace_secs: 3600,
            audit_events_days: 90,
        }
    }
}

impl Default for DpopConfig {
    fn default() -> Self {
        Self {
            require_nonce: false,
            max_age_secs: 60,
            max_clock_skew_secs: 5,
            nonce_period_secs: 60,
            nonce_secret: None,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            database: "sqlite:tessera.db".into(),
            issuer: None,
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
            insecure_client_cert_header: None,
            behind_tls_proxy: false,
            trusted_proxies: Vec::new(),
            insecure_http: false,
            tokens: TokenConfig::default(),
            refresh: RefreshConfig::default(),
            keys: KeyConfig::default(),
            limits: LimitConfig::default(),
            dpop: DpopConfig::default(),
            change_poll_ms: 250,
            retention: RetentionConfig::default(),
            login: LoginConfig::default(),
            client_auth: ClientAuthConfig::default(),
            par: ParConfig::default(),
        }
    }
}

impl Default for TokenConfig {
    fn default() -> Self {
        Self {
            default_ttl: 300,
            max_ttl: 3600,
            refresh_ttl: 30 * 24 * 3600,
            code_ttl: 60,
            exchange_max_depth: 5,
        }
    }
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            read_timeout_secs: 30,
            max_connections: 10_000,
        }
    }
}

impl Config {
    /// `trusted_proxies` parsed: a plain address is a one-address range.
    pub fn trusted_proxy_nets(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| ConfigError::TrustedProxy(p.clone()))
            })
            .collect()
    }
}

impl LimitConfig {
    /// `read_timeout_secs` as a duration.
    pub fn read_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.read_timeout_secs)
    }
}

impl Config {
    /// Parses a TOML configuration file's text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))
    }

    /// Whether TLS is served by this process.
    pub fn tls(&self) -> bool {
        self.tls_cert.is_some()
    }

    /// The issuer URL, defaulted from the listen address.
    pub fn issuer(&self) -> String {
        match &self.issuer {
            Some(i) => i.trim_end_matches('/').to_string(),
            None => {
                let scheme = if self.tls() { "https" } else { "http" };
                format!("{scheme}://{}", self.listen)
            }
        }
    }

    /// Refuses configurations that would send tokens in clear over a network (the seed: "mandate
    /// TLS") or that cannot work.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(ConfigError::TlsPair);
        }
        let loopback = self.listen.ip().is_loopback();
        if !loopback && !self.tls() && !self.behind_tls_proxy && !self.insecure_http {
            return Err(ConfigError::PlainHttp(self.listen));
        }
        let issuer = self.issuer();
        // RFC 8414 §2: the issuer is an https URL; plain http only on a parsed loopback host
        // (`http://127.attacker.example` is not one), or anywhere with --insecure-http.
        match https_or_loopback_http(&issuer) {
            Ok(()) => {}
            Err(InsecureUrl::HttpOffLoopback) if self.insecure_http => {}
            Err(reason) => return Err(ConfigError::Issuer { issuer, reason }),
        }
        if self.tokens.default_ttl == 0
            || self.tokens.max_ttl == 0
            || self.tokens.refresh_ttl == 0
            || self.tokens.code_ttl == 0
        {
            return Err(ConfigError::Lifetimes);
        }
        if self.refresh.reuse_grace_secs > MAX_REUSE_GRACE_SECS {
            return Err(ConfigError::ReuseGrace(self.refresh.reuse_grace_secs));
        }
        self.trusted_proxy_nets()?;
        if self.limits.read_timeout_secs == 0 || self.limits.max_connections == 0 {
            return Err(ConfigError::Limits);
        }
        let keys = &self.keys;
        if keys.rotation_period != 0 && keys.rotation_period < keys.publish_before_use {
            return Err(ConfigError::RotationPeriod {
                rotation_period: keys.rotation_period,
                publish_before_use: keys.publish_before_use,
            });
        }
        if self.client_auth.max_assertion_lifetime_secs == 0 {
            return Err(ConfigError::AssertionLifetime);
        }
        if keys.check_interval == 0 {
            return Err(ConfigError::CheckInterval);
        }
        if self.retention.janitor_interval_secs == 0 || self.retention.batch_size == 0 {
            return Err(ConfigError::Retention);
        }
        Ok(())
    }
}

/// A configuration that does not parse, or that Tessera refuses to run with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML text does not parse, or names an unknown key.
    #[error("{0}")]
    Toml(String),
    /// Half a TLS configuration.
    #[error("tls_cert and tls_key must be given together")]
    TlsPair,
    /// Plain HTTP off loopback, with no TLS proxy declared.
    #[error(
        "refusing plain HTTP on non-loopback address {0}: give --tls-cert/--tls-key, declare a \
         TLS-terminating proxy (behind_tls_proxy), or pass --insecure-http"
    )]
    PlainHttp(SocketAddr),
    /// RFC 8414 §2: the issuer must be an https URL (http only on loopback).
    #[error("issuer {issuer} must be an https URL off loopback: {reason}")]
    Issuer {
        /// The issuer, as configured or defaulted.
        issuer: String,
        /// Why it is refused.
        reason: InsecureUrl,
    },
    /// A zero token or code lifetime.
    #[error("token lifetimes must be positive")]
    Lifetimes,
    /// A reuse grace window over [`MAX_REUSE_GRACE_SECS`].
    #[error(
        "refresh.reuse_grace_secs ({0} s) must be at most {MAX_REUSE_GRACE_SECS}: within it a replayed refresh token is not detected"
    )]
    ReuseGrace(u64),
    /// A `trusted_proxies` entry that is neither an address nor a CIDR range.
    #[error("trusted_proxies: {0:?} is not an IP address or CIDR range")]
    TrustedProxy(String),
    /// A zero read timeout or connection cap.
    #[error("limits.read_timeout_secs and limits.max_connections must be positive")]
    Limits,
    /// A rotation period too short to publish the next key first.
    #[error(
        "keys.rotation_period ({rotation_period} s) must be 0 (off) or at least keys.publish_before_use ({publish_before_use} s)"
    )]
    RotationPeriod {
        /// `keys.rotation_period`.
        rotation_period: u64,
        /// `keys.publish_before_use`.
        publish_before_use: u64,
    },
    /// A zero client-assertion lifetime.
    #[error("client_auth.max_assertion_lifetime_secs must be positive")]
    AssertionLifetime,
    /// A zero key-schedule interval.
    #[error("keys.check_interval must be positive")]
    CheckInterval,
    /// A zero janitor interval or batch.
    #[error(
        "retention.janitor_interval_secs and retention.batch_size must be positive \
         (set retention.enabled = false to turn the janitor off)"
    )]
    Retention,
}

/// The longest reuse grace window: long enough for a burst of parallel refreshes (tabs, retries
/// after a lost response), short enough that a replay is still caught soon after.
pub const MAX_REUSE_GRACE_SECS: u64 = 60;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_loopback_and_short_lived() {
        let c = Config::default();
        assert!(c.check().is_ok());
        assert_eq!(c.issuer(), "http://127.0.0.1:8080");
        assert_eq!(c.tokens.default_ttl, 300);
        assert!(
            Config::from_toml("listen = \"127.0.0.1:9000\"\n[tokens]\ndefault_ttl = 60")
                .unwrap()
                .tokens
                .default_ttl
                == 60
        );
        assert!(Config::from_toml("bogus = 1").is_err());
    }

    /// Issue 13, finding 9: `http://127.attacker.example` passed a `starts_with("http://127.")`.
    #[test]
    fn an_http_issuer_must_be_on_a_parsed_loopback_host() {
        let with = |issuer: &str| Config {
            issuer: Some(issuer.into()),
            ..Config::default()
        };
        for ok in [
            "http://127.0.0.2:8080",
            "http://localhost:8080",
            "http://[::1]:8080",
            "https://as.example.com",
        ] {
            assert!(with(ok).check().is_ok(), "{ok}");
        }
        for bad in [
            "http://127.attacker.example",
            "http://localhost.attacker.example",
            "http://[::1].attacker.example",
            "http://127.0.0.1@evil.example",
            "http://0x7f.1",
            "http://as.example.com",
        ] {
            let err = with(bad).check().unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("issuer {bad} must be an https URL")),
                "{bad}: {err}"
            );
        }
        let mut insecure = with("http://as.example.com");
        insecure.insecure_http = true;
        assert!(insecure.check().is_ok(), "--insecure-http allows it");
        insecure.issuer = Some("not a url".into());
        assert!(insecure.check().is_err(), "but never a non-URL");
    }

    #[test]
    fn key_rotation_must_leave_time_to_publish_the_next_key() {
        let c = Config::default();
        assert_eq!(
            (c.keys.rotation_period, c.keys.publish_before_use),
            (30 * 86_400, 3600)
        );
        let mut c =
            Config::from_toml("[keys]\nrotation_period = 60\npublish_before_use = 120").unwrap();
        assert_eq!(
            c.check().unwrap_err().to_string(),
            "keys.rotation_period (60 s) must be 0 (off) or at least keys.publish_before_use (120 s)"
        );
        c.keys.rotation_period = 0;
        assert!(c.check().is_ok(), "0 turns scheduled rotation off");
        c.keys.check_interval = 0;
        assert!(c.check().is_err());
    }

    #[test]
    fn secrets_in_the_configuration_are_never_printed_nor_serialised() {
        let c = Config::from_toml(
            "[keys]\nencryption_key = \"a2V5LWVuY3J5cHRpb24\"\n[dpop]\nnonce_secret = \"n0nce-s3cret\"",
        )
        .unwrap();
        assert_eq!(
            c.keys.encryption_key.as_ref().map(|k| k.expose_secret()),
            Some("a2V5LWVuY3J5cHRpb24")
        );
        let debug = format!("{c:?}");
        assert!(!debug.contains("a2V5LWVuY3J5cHRpb24") && !debug.contains("n0nce-s3cret"));
        assert!(debug.contains("[redacted]"));
        let toml = toml::to_string(&c).unwrap();
        assert!(!toml.contains("a2V5LWVuY3J5cHRpb24") && !toml.contains("n0nce-s3cret"));
    }

    #[test]
    fn the_reuse_grace_window_is_off_by_default_and_bounded() {
        assert_eq!(Config::default().refresh.reuse_grace_secs, 0);
        let c = Config::from_toml("[refresh]\nreuse_grace_secs = 5").unwrap();
        assert_eq!(c.refresh.reuse_grace_secs, 5);
        assert!(c.check().is_ok());
        let c = Config::from_toml("[refresh]\nreuse_grace_secs = 61").unwrap();
        assert!(
            c.check()
                .unwrap_err()
                .to_string()
                .starts_with("refresh.reuse_grace_secs (61 s) must be at most 60")
        );
        assert!(Config::from_toml("[refresh]\nreuse_grace = 5").is_err());
    }
}
