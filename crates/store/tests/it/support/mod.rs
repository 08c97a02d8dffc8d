//! The harness: a fresh store per test (a SQLite file in a temporary directory, or a PostgreSQL
//! schema `t_<random>` created for the test and dropped after it, even when the test fails), and
//! fixtures for clients, tokens, keys and events.
pub mod proxy;

use std::future::Future;
use std::sync::Arc;

use tessera_core::audit::{AuditEvent, EventKind};
use tessera_core::client::{
    Client, ClientSecrets, Credential, GrantType, SecretMethod, TokenFormat,
};
use tessera_core::keys::{KeyState, SigningAlg, StoredKey};
use tessera_core::store::{AccessTokenRecord, Store};
use tessera_proto::SecretHash;

/// Which backend a test body runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What a test body gets: the open store, and the URL it was opened with (to open a second
/// store on the same database, as a second node would).
pub struct Env {
    pub store: Arc<dyn Store>,
    pub url: String,
}

impl Env {
    /// Another store on the same database: a second node.
    pub async fn open_again(&self) -> Arc<dyn Store> {
        tessera_store::open(&self.url)
            .await
            .expect("opening a second store")
    }
}

/// The PostgreSQL server the tests use.
pub fn postgres_base() -> String {
    std::env::var("TESSERA_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh, unguessable-enough name for a schema or a file (no RNG crate needed).
pub fn unique_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    format!("t_{:016x}", h.finish())
}

/// An administrative connection to the test server (outside any test schema).
pub async fn admin() -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(&postgres_base(), tokio_postgres::NoTls)
        .await
        .expect(
            "the test PostgreSQL at TESSERA_TEST_POSTGRES (default 127.0.0.1:5432) is reachable",
        );
    tokio::spawn(conn);
    client
}

/// `base` with `search_path` set to `schema`, the connections named after it (so a test can
/// find and terminate them) and a small pool (tests run in parallel on one server).
pub fn schema_url(base: &str, schema: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}&application_name={schema}&pool_size=8")
}

/// A fresh schema; dropped by [`drop_schema`].
pub async fn create_schema() -> String {
    let schema = unique_name();
    admin()
        .await
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("creating the test schema");
    schema
}

pub async fn drop_schema(schema: &str) {
    let admin = admin().await;
    // The store's pooled connections may still be open; end them so DROP does not wait.
    let _ = admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&schema],
        )
        .await;
    admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .expect("dropping the test schema");
}

/// Runs `body` on a fresh store of `backend`, then cleans up, then re-raises a failure.
pub async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite:{}", dir.path().join("store.db").display());
            let store = tessera_store::open(&url).await.expect("opening SQLite");
            let outcome = tokio::spawn(body(Env { store, url })).await;
            drop(dir);
            if let Err(e) = outcome {
                std::panic::resume_unwind(e.into_panic());
            }
        }
        Backend::Postgres => {
            let schema = create_schema().await;
            let url = schema_url(&postgres_base(), &schema);
            let outcome = match tessera_store::open(&url).await {
                Ok(store) => tokio::spawn(body(Env { store, url })).await,
                Err(e) => {
                    drop_schema(&schema).await;
                    panic!("opening PostgreSQL: {e}");
                }
            };
            drop_schema(&schema).await;
            if let Err(e) = outcome {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }
}

/// A client with every optional field empty.
pub fn client(id: &str, created_at: u64) -> Client {
    Client {
        id: id.into(),
        name: format!("client {id}"),
        credential: Credential::Secret {
            method: SecretMethod::Basic,
            secrets: ClientSecrets {
                current: SecretHash::of(format!("secret of {id}").as_bytes()),
                previous: None,
            },
        },
        grant_types: vec![GrantType::ClientCredentials],
        redirect_uris: vec![],
        scopes: vec!["read".into(), "write".into()],
        default_scopes: vec!["read".into()],
        audiences: vec![],
        token_format: TokenFormat::Jwt,
        jwt_alg: SigningAlg::ES256,
        access_token_ttl: None,
        resource_uris: vec![],
        require_dpop: false,
        allow_impersonation: false,
        require_par: false,
        tokens_not_before: Some(7),
        disabled: false,
        created_at,
        updated_at: created_at,
    }
}

/// An opaque-token row.
pub fn token(id: u64) -> AccessTokenRecord {
    AccessTokenRecord {
        id,
        hash: SecretHash::of(format!("token {id}").as_bytes()),
        client_id: "c1".into(),
        subject: "c1".into(),
        scope: "read write".into(),
        audience: if id.is_multiple_of(2) {
            Some("https://api.example.com".into())
        } else {
            None
        },
        issued_at: 1_700_000_000,
        expires_at: 1_700_000_600,
        revoked_at: None,
        cnf_jkt: id.is_multiple_of(3).then(|| format!("jkt-{id}")),
        cnf_x5t: id.is_multiple_of(4).then(|| format!("x5t-{id}")),
        // RFC 8693: an exchanged token's actor chain round-trips through the row.
        act: id.is_multiple_of(5).then(|| {
            tessera_proto::act::Act::delegate(
                "sub-agent",
                Some(tessera_proto::act::Act::delegate("agent", None)),
            )
        }),
    }
}

/// The `token.issued` event the token endpoint stores with `t`, stamped at its issue time.
pub fn issued(t: &AccessTokenRecord) -> AuditEvent {
    let mut e = AuditEvent::new(EventKind::TokenIssued, t.issued_at * 1_000);
    e.client_id = Some(t.client_id.clone());
    e.token_id = Some(tessera_core::token_id::opaque(t.id, &t.hash));
    e.scope = Some(t.scope.clone());
    e.resource = t.audience.clone();
    e.format = Some("opaque".into());
    e
}

/// Every stored event, in id order.
pub async fn stored_events(s: &dyn Store) -> Vec<AuditEvent> {
    let listed = s.list_events(0, u32::MAX).await.unwrap();
    listed.into_iter().map(|(_, e)| e).collect()
}

/// `events` sorted by token id: for comparing events whose commit order is not fixed.
pub fn by_token(mut events: Vec<AuditEvent>) -> Vec<AuditEvent> {
    events.sort_by_key(|e| e.token_id.clone());
    events
}

/// Stores an opaque token as the token endpoint does: with its `token.issued` event.
pub trait InsertToken {
    fn insert_token(
        &self,
        t: AccessTokenRecord,
    ) -> impl Future<Output = tessera_core::store::StoreResult<()>> + Send;
}

impl InsertToken for Arc<dyn Store> {
    fn insert_token(
        &self,
        t: AccessTokenRecord,
    ) -> impl Future<Output = tessera_core::store::StoreResult<()>> + Send {
        let event = issued(&t);
        self.insert_access_token(t, event)
    }
}

/// A signing-key row (the store never looks inside the key material).
pub fn key(kid: &str, alg: SigningAlg, created_at: u64) -> StoredKey {
    StoredKey {
        kid: kid.into(),
        alg,
        state: KeyState::Current,
        private_key: tessera_proto::Secret::from_bytes(format!("pkcs8 of {kid}").into_bytes()),
        sealed: kid.len().is_multiple_of(2),
        public_jwk: format!(r#"{{"kid":"{kid}","alg":"{}"}}"#, alg.as_str()),
        created_at,
        activated_at: None,
        retired_at: None,
        revoked_at: None,
    }
}

/// [`key`] in state `state` (`activated_at` set for a current key).
pub fn key_in(kid: &str, alg: SigningAlg, state: KeyState, created_at: u64) -> StoredKey {
    StoredKey {
        state,
        activated_at: (state == KeyState::Current).then_some(created_at),
        ..key(kid, alg, created_at)
    }
}

/// An event numbered `n` (its number rides in `token_id` and `time_ms`).
pub fn event(n: u64) -> AuditEvent {
    let mut e = AuditEvent::new(EventKind::TokenIssued, 1_700_000_000_000 + n);
    e.client_id = Some("c1".into());
    e.token_id = Some(n.to_string());
    e.scope = Some("read".into());
    e
}

/// The revocation feed's id of the opaque token stored under `selector`: its public id
/// (`tessera_core::token_id`), never the bare sequential selector.
pub async fn opaque_id(store: &Arc<dyn Store>, selector: u64) -> String {
    let row = store.get_access_token(selector).await.unwrap().unwrap();
    tessera_core::token_id::opaque(selector, &row.hash)
}
