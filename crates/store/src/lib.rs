//! Storage backends behind `tessera_core::store::Store`, one module per backend with the same
//! file names: `sqlite/` (embedded, the zero-configuration default).
#![warn(missing_docs)]

pub mod sqlite;

use std::sync::Arc;

use tessera_core::store::Store;

/// Opens the store a database URL names: `sqlite:PATH` (or `sqlite://PATH`).
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
    Err(format!("unsupported database URL {url:?}: use sqlite:PATH"))
}
