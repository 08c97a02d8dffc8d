//! Clients cached in memory so client authentication costs no store round trip. Any change made
//! through the CLI or another node bumps the store's `clients` version; the node's change watcher
//! then drops the cache (within `change_poll_ms`), so a deleted client's secret stops working.
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::client::Client;

/// The cache. A lookup that raced an invalidation does not re-insert stale data.
#[derive(Default)]
pub struct ClientCache {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    clients: HashMap<String, Arc<Client>>,
    generation: u64,
}

impl ClientCache {
    /// A cached client.
    pub fn get(&self, id: &str) -> Option<Arc<Client>> {
        self.inner
            .read()
            .expect("client cache poisoned")
            .clients
            .get(id)
            .cloned()
    }

    /// The generation to pass to [`ClientCache::insert`] after loading from the store.
    pub fn generation(&self) -> u64 {
        self.inner.read().expect("client cache poisoned").generation
    }

    /// Caches a client loaded while the cache was at `generation`; dropped if it was invalidated since.
    pub fn insert(&self, client: Arc<Client>, generation: u64) {
        let mut inner = self.inner.write().expect("client cache poisoned");
        if inner.generation == generation {
            inner.clients.insert(client.id.clone(), client);
        }
    }

    /// Drops every cached client.
    pub fn invalidate(&self) {
        let mut inner = self.inner.write().expect("client cache poisoned");
        inner.clients.clear();
        inner.generation += 1;
    }
}
