//! A few read connections, each behind a mutex; a read takes the first free one.
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::Connection;
use tessera_core::error::StoreError;

use super::writer::map_err;

/// The reader pool.
pub struct Readers {
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl Readers {
    pub fn new(conns: Vec<Connection>) -> Self {
        Self {
            conns: conns.into_iter().map(Mutex::new).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// Runs a read on a free connection (or waits for the next one in turn).
    pub fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.conns.len();
        for i in 0..n {
            if let Ok(conn) = self.conns[(start + i) % n].try_lock() {
                return f(&conn).map_err(map_err);
            }
        }
        let conn = self.conns[start % n]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        f(&conn).map_err(map_err)
    }
}
