//! Connecting to PostgreSQL: the URL, TLS, the connection pool, and what a driver error means to
//! the caller (`Unavailable` may be retried, `Conflict` is a uniqueness refusal, the rest is a bug).
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use tessera_core::error::StoreError;
use tokio::task::JoinHandle;
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Connections per node unless the URL says `pool_size=N`.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// How long connecting, or waiting for a free pooled connection, may take before a request is
/// answered `temporarily_unavailable` rather than left hanging while PostgreSQL is away.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A parsed database URL: the driver's settings plus our own `pool_size` and TLS settings.
pub struct Target {
    pub pg: tokio_postgres::Config,
    pub pool_size: usize,
    /// Set when the URL asks for TLS: the client configuration that verifies the server.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

/// Parses `postgres://user[:password]@host[:port]/db[?param=value&…]`. Every libpq-style
/// parameter the driver knows is passed through; `pool_size` and `sslrootcert` are ours and are
/// taken out first (the driver refuses parameters it does not know). Errors never repeat the
/// URL: it may hold a password.
pub fn parse_url(url: &str) -> Result<Target, String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pool_size = DEFAULT_POOL_SIZE;
    let mut root_cert = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("pool_size", v)) => {
                pool_size =
                    v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        format!("pool_size must be a positive integer, not {v:?}")
                    })?;
            }
            Some(("sslrootcert", v)) => {
                let path = percent_decode(v)
                    .ok_or_else(|| "sslrootcert is not a valid percent-encoded path".to_string())?;
                root_cert = Some(path);
            }
            _ => kept.push(pair),
        }
    }
    let rebuilt = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mut pg: tokio_postgres::Config = rebuilt
        .parse()
        .map_err(|e| format!("invalid PostgreSQL URL: {e}"))?;
    let tls = match (pg.get_ssl_mode(), root_cert) {
        (SslMode::Disable, _) | (SslMode::Prefer, None) => None,
        (_, Some(path)) => Some(Arc::new(tls_config(&path)?)),
        (_, None) => {
            return Err(
                "sslmode=require needs sslrootcert=PATH: the PEM file of the CA \
                        certificates that PostgreSQL's server certificate must chain to"
                    .into(),
            );
        }
    };
    if pg.get_connect_timeout().is_none() {
        pg.connect_timeout(TIMEOUT);
    }
    if pg.get_application_name().is_none() {
        pg.application_name("tessera");
    }
    Ok(Target { pg, pool_size, tls })
}

/// Decodes `%XX` escapes in a URL parameter's value.
fn percent_decode(v: &str) -> Option<String> {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// TLS that verifies the server's certificate chain against the CA certificates in `path` and
/// its name against the URL's host, as libpq's `sslmode=verify-full` does: an unverified
/// encrypted connection would hand the password to whoever answers.
fn tls_config(path: &str) -> Result<rustls::ClientConfig, String> {
    let pem = std::fs::read(path).map_err(|e| format!("reading sslrootcert {path}: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.map_err(|e| format!("sslrootcert {path}: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("sslrootcert {path}: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!("sslrootcert {path}: no PEM certificate in it"));
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())
    .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

/// One connection outside the pool (migrations), with its driver task.
pub async fn connect(
    target: &Target,
) -> Result<(Client, JoinHandle<Result<(), tokio_postgres::Error>>), tokio_postgres::Error> {
    match &target.tls {
        Some(tls) => {
            let (client, conn) = target
                .pg
                .connect(MakeRustlsConnect::new((**tls).clone()))
                .await?;
            Ok((client, tokio::spawn(conn)))
        }
        None => {
            let (client, conn) = target.pg.connect(NoTls).await?;
            Ok((client, tokio::spawn(conn)))
        }
    }
}

/// Builds the pool. Connections are made lazily; a connection the server closed (a restart) is
/// noticed when it is next taken out and replaced, so the node recovers without a restart.
pub fn build(target: &Target) -> Result<Pool, String> {
    let config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let manager = match &target.tls {
        Some(tls) => Manager::from_config(
            target.pg.clone(),
            MakeRustlsConnect::new((**tls).clone()),
            config,
        ),
        None => Manager::from_config(target.pg.clone(), NoTls, config),
    };
    Pool::builder(manager)
        .max_size(target.pool_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(TIMEOUT))
        .create_timeout(Some(TIMEOUT))
        .recycle_timeout(Some(TIMEOUT))
        .build()
        .map_err(|e| e.to_string())
}

/// Takes a connection out of the pool.
pub async fn get(pool: &Pool) -> Result<Object, StoreError> {
    pool.get().await.map_err(map_pool_err)
}

/// A pool failure: all of them mean "PostgreSQL cannot be reached right now" except a
/// misconfigured pool, which is a bug.
pub fn map_pool_err(e: PoolError) -> StoreError {
    match e {
        PoolError::Backend(e) => map_err(e),
        PoolError::NoRuntimeSpecified => StoreError::Backend(e.to_string()),
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// A driver failure. SQLSTATE classes that a retry can cure (connection lost, server shutting
/// down or starting, out of connections, serialization failure, deadlock, a read-only standby
/// after a failover, a cancelled statement) become `Unavailable`; a unique violation is a
/// `Conflict`; errors without SQLSTATE are transport failures unless they are about converting
/// values, which is a bug.
pub fn map_err(e: tokio_postgres::Error) -> StoreError {
    if let Some(state) = e.code() {
        let code = state.code();
        let message = db_message(&e);
        return if code == "23505" {
            StoreError::Conflict(message)
        } else if code.starts_with("08")
            || code.starts_with("53")
            || code.starts_with("57P")
            || matches!(code, "40001" | "40P01" | "55P03" | "25006" | "57014")
        {
            StoreError::Unavailable(message)
        } else {
            StoreError::Backend(message)
        };
    }
    let text = e.to_string();
    let transport = e.is_closed()
        || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>())
        || text.starts_with("error connecting")
        || text.starts_with("timeout")
        || text.starts_with("error communicating");
    if transport {
        StoreError::Unavailable(text)
    } else {
        StoreError::Backend(text)
    }
}

/// The server's own message (the driver's `Display` only says "db error").
fn db_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}
