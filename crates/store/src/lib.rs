//! Storage backends behind `tessera_core::store::Store`, one module per backend with the same
//! file names: `sqlite/` (embedded, the zero-configuration default) and `postgres/` (several
//! nodes on one database).
#![warn(missing_docs)]

mod act_json;
mod client_row;
mod feed;
mod lineage_sql;
pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use tessera_core::store::Store;

/// Opens the store a database URL names: `sqlite:PATH` (or `sqlite://PATH`), or
/// `postgres://…` / `postgresql://…` (docs/postgres.md).
pub async fn open(url: &str) -> Result<Arc<dyn Store>, String> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        if path.is_empty() {
            return Err("sqlite URL needs a file path: sqlite:PATH".into());
        }
        let store = sqlite::SqliteStore::open(path).map_err(|e| format!("opening {path}: {e}"))?;
        return Ok(Arc::new(store));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = postgres::PgStore::open(url).await?;
        return Ok(Arc::new(store));
    }
    Err(format!(
        "unsupported database URL {url:?}: use sqlite:PATH or postgres://USER@HOST/DB"
    ))
}
