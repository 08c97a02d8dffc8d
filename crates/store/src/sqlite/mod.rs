//! The embedded SQLite store: WAL mode, a busy timeout so the CLI and several servers share one
//! file safely, a group-committing writer thread and a small pool of reader connections.
//!
//! Durability: `synchronous=NORMAL` in WAL mode — a committed write survives a crash of the
//! process; an operating-system crash or power loss can lose the last commits.
mod alerts;
mod clients;
mod events;
mod grants;
mod keys;
mod lineage;
mod login_throttle;
mod pending;
mod readers;
mod retention;
mod schema;
mod tokens;
mod users;
mod writer;

use std::path::Path;

use async_trait::async_trait;
use rusqlite::Connection;
use tessera_core::store::{ChangeVersions, Store, StoreResult};

use readers::Readers;
use writer::Writer;

/// Reader connections (reads run inline: primary-key lookups take microseconds).
const READERS: usize = 4;

/// The SQLite store.
pub struct SqliteStore {
    writer: Writer,
    readers: Readers,
}

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, String> {
        let path = path.as_ref();
        let mut conn = connect(path).map_err(|e| e.to_string())?;
        schema::migrate(&mut conn).map_err(|e| format!("migration failed: {e}"))?;
        let writer = Writer::spawn(conn).map_err(|e| e.to_string())?;
        let readers = (0..READERS)
            .map(|_| connect(path))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            writer,
            readers: Readers::new(readers),
        })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn change_versions(&self) -> StoreResult<ChangeVersions> {
        self.readers.with(|c| {
            let mut v = ChangeVersions::default();
            let mut stmt = c.prepare_cached("SELECT topic, version FROM change_versions")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for row in rows {
                match row? {
                    (t, n) if t == "clients" => v.clients = n,
                    (t, n) if t == "keys" => v.keys = n,
                    _ => {}
                }
            }
            Ok(v)
        })
    }

    async fn ping(&self) -> StoreResult<()> {
        self.readers
            .with(|c| c.query_row("SELECT 1", [], |_| Ok(())))
    }
}
