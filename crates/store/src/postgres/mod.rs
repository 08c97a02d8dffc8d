//! The PostgreSQL store, for several stateless `tessera serve` nodes sharing one database: a
//! connection pool, migrations under an advisory lock, group commit for opaque-token inserts and
//! batched audit events. Same file names and semantics as `sqlite/`; `pool.rs` stands where
//! SQLite has `readers.rs`, since every pooled connection reads and writes.
//!
//! Durability: a write returns after PostgreSQL's commit, so with the server's default
//! `synchronous_commit = on` it survives a crash of the database host too.
mod alerts;
mod clients;
mod events;
mod grants;
mod keys;
mod lineage;
mod login_throttle;
mod pending;
mod pool;
mod retention;
mod schema;
mod tokens;
mod users;
mod writer;

use async_trait::async_trait;
use deadpool_postgres::Pool;
use tessera_core::audit::AuditEvent;
use tessera_core::error::StoreError;
use tessera_core::store::{ChangeVersions, Store, StoreResult};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

pub use pool::DEFAULT_POOL_SIZE;
use writer::Batcher;

/// Parameters of one statement.
type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Opaque-token insert batches written at once (each on its own pooled connection).
const TOKEN_BATCHES_IN_FLIGHT: usize = 4;

/// The PostgreSQL store.
pub struct PgStore {
    pool: Pool,
    /// Opaque tokens with their `token.issued` events.
    tokens: Batcher<tokens::Issued>,
    /// Events no response waits for: queued, retried through a short outage.
    events: Batcher<AuditEvent>,
    /// Events a response reports: awaited, never retried (the request fails with 503 instead).
    durable_events: Batcher<AuditEvent>,
}

/// Brings the database a URL names to the latest schema (`tessera migrate`). `serve` and every
/// other command also migrate on open; this lets an operator do it ahead of a rollout.
pub async fn migrate(url: &str) -> Result<(), String> {
    let target = pool::parse_url(url)?;
    let (mut client, driver) = pool::connect(&target)
        .await
        .map_err(|e| format!("connecting to PostgreSQL: {}", pool::map_err(e)))?;
    let result = schema::migrate(&mut client)
        .await
        .map_err(|e| format!("PostgreSQL migration failed: {}", pool::map_err(e)));
    drop(client);
    let _ = driver.await;
    result
}

impl PgStore {
    /// Connects, migrates and starts the background writers. Fails (rather than starting a node
    /// that cannot serve) when PostgreSQL cannot be reached.
    pub async fn open(url: &str) -> Result<Self, String> {
        let target = pool::parse_url(url)?;
        let pool = pool::build(&target)?;
        {
            let mut conn = pool::get(&pool)
                .await
                .map_err(|e| format!("connecting to PostgreSQL: {e}"))?;
            schema::migrate(&mut conn)
                .await
                .map_err(|e| format!("PostgreSQL migration failed: {}", pool::map_err(e)))?;
        }
        Ok(Self {
            tokens: Batcher::spawn(pool.clone(), TOKEN_BATCHES_IN_FLIGHT, tokens::insert_batch),
            events: Batcher::spawn(pool.clone(), 1, |pool, batch| {
                events::insert_batch(pool, batch, events::RETRY_DELAYS_MS)
            }),
            durable_events: Batcher::spawn(pool.clone(), 1, |pool, batch| {
                events::insert_batch(pool, batch, events::NO_RETRY)
            }),
            pool,
        })
    }

    /// Runs one statement (prepared once per connection) and returns its rows.
    async fn query(&self, sql: &str, params: Params<'_>) -> StoreResult<Vec<Row>> {
        let conn = pool::get(&self.pool).await?;
        let stmt = conn.prepare_cached(sql).await.map_err(pool::map_err)?;
        conn.query(&stmt, params).await.map_err(pool::map_err)
    }

    /// Runs one statement and returns its row, if any.
    async fn query_opt(&self, sql: &str, params: Params<'_>) -> StoreResult<Option<Row>> {
        let conn = pool::get(&self.pool).await?;
        let stmt = conn.prepare_cached(sql).await.map_err(pool::map_err)?;
        conn.query_opt(&stmt, params).await.map_err(pool::map_err)
    }

    /// Runs one statement and returns how many rows it changed.
    async fn execute(&self, sql: &str, params: Params<'_>) -> StoreResult<u64> {
        let conn = pool::get(&self.pool).await?;
        let stmt = conn.prepare_cached(sql).await.map_err(pool::map_err)?;
        conn.execute(&stmt, params).await.map_err(pool::map_err)
    }
}

/// A row that does not decode into the domain type: a bug or a hand-edited database.
fn corrupt(table: &str, column: &str) -> StoreError {
    StoreError::Backend(format!("corrupt {table} row: bad {column}"))
}

#[async_trait]
impl Store for PgStore {
    async fn change_versions(&self) -> StoreResult<ChangeVersions> {
        let rows = self
            .query("SELECT topic, version FROM change_versions", &[])
            .await?;
        let mut v = ChangeVersions::default();
        for row in rows {
            let topic: &str = row.try_get(0).map_err(pool::map_err)?;
            let version: i64 = row.try_get(1).map_err(pool::map_err)?;
            match topic {
                "clients" => v.clients = version,
                "keys" => v.keys = version,
                _ => {}
            }
        }
        Ok(v)
    }

    async fn ping(&self) -> StoreResult<()> {
        self.query("SELECT 1", &[]).await.map(drop)
    }
}
