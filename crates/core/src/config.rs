//! Typed configuration. The TOML file, the `TESSERA_*` environment variables and the command-line
//! flags all fill this one struct (flags over environment over file over defaults).
//! docs/configuration.md is generated from these doc comments; a test fails when it drifts.
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// The whole configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address of the OAuth endpoints. Env `TESSERA_LISTEN`, flag `--listen`.
    pub listen: SocketAddr,
    /// Address of the admin listener serving `/healthz` and `/metrics`. Env `TESSERA_ADMIN_LISTEN`, flag `--admin-listen`.
    pub admin_listen: SocketAddr,
    /// Store URL: `sqlite:PATH` (the embedded default). Env `TESSERA_DATABASE`, flag `--database`.
    pub database: String,
    /// Issuer identifier (RFC 8414). Default: `http://` + `listen` (`https://` with TLS). Must be https off loopback. Env `TESSERA_ISSUER`, flag `--issuer`.
    pub issuer: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM). Env `TESSERA_TLS_CERT`, flag `--tls-cert`.
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of `tls_cert`. Env `TESSERA_TLS_KEY`, flag `--tls-key`.
    pub tls_key: Option<PathBuf>,
    /// Plain HTTP is served because a TLS-terminating proxy in front of Tessera handles TLS. Env `TESSERA_BEHIND_TLS_PROXY`.
    pub behind_tls_proxy: bool,
    /// Allow plain HTTP on a non-loopback address with no TLS proxy declared. Unsafe: tokens and secrets cross the network in clear. Flag `--insecure-http`.
    pub insecure_http: bool,
    /// Access-token lifetimes.
    pub tokens: TokenConfig,
    /// Signing keys.
    pub keys: KeyConfig,
    /// Request limits.
    pub limits: LimitConfig,
    /// How often (milliseconds) a node polls the store for client and key changes made by other nodes or the CLI.
    pub change_poll_ms: u64,
}

/// Access-token lifetimes.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    /// Lifetime in seconds of an access token whose client sets none.
    pub default_ttl: u64,
    /// Upper bound in seconds on any access token's lifetime, whatever its client asks.
    pub max_ttl: u64,
}

/// Signing keys.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeyConfig {
    /// Base64 of 32 random bytes: private keys are sealed with AES-256-GCM under it. Unset: keys are stored unencrypted (a warning is logged). Env `TESSERA_KEY_ENCRYPTION_KEY`.
    pub encryption_key: Option<String>,
}

/// Request limits.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitConfig {
    /// Largest accepted request body in bytes; larger bodies get `invalid_request`.
    pub max_body_bytes: usize,
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
            behind_tls_proxy: false,
            insecure_http: false,
            tokens: TokenConfig::default(),
            keys: KeyConfig::default(),
            limits: LimitConfig::default(),
            change_poll_ms: 250,
        }
    }
}

impl Default for TokenConfig {
    fn default() -> Self {
        Self {
            default_ttl: 300,
            max_ttl: 3600,
        }
    }
}

impl Default for KeyConfig {
    fn default() -> Self {
        Self {
            encryption_key: None,
        }
    }
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
        }
    }
}

impl Config {
    /// Parses a TOML configuration file's text.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
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
    pub fn check(&self) -> Result<(), String> {
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err("tls_cert and tls_key must be given together".into());
        }
        let loopback = self.listen.ip().is_loopback();
        if !loopback && !self.tls() && !self.behind_tls_proxy && !self.insecure_http {
            return Err(format!(
                "refusing plain HTTP on non-loopback address {}: give --tls-cert/--tls-key, declare a \
                 TLS-terminating proxy (behind_tls_proxy), or pass --insecure-http",
                self.listen
            ));
        }
        let issuer = self.issuer();
        let url_host_loopback = issuer.starts_with("http://127.")
            || issuer.starts_with("http://localhost")
            || issuer.starts_with("http://[::1]");
        if !issuer.starts_with("https://") && !url_host_loopback && !self.insecure_http {
            return Err(format!("issuer {issuer} must be an https URL off loopback"));
        }
        if self.tokens.default_ttl == 0 || self.tokens.max_ttl == 0 {
            return Err("token lifetimes must be positive".into());
        }
        Ok(())
    }
}
