//! [`BoundedMap`]: per-key detector state with a hard size limit, so an attacker who invents
//! endless client ids or tokens can grow the monitor's memory only up to its configured bound.
//!
//! Two generations, not a true LRU: new and touched keys live in `current`; when `current` holds
//! half the capacity it becomes `previous` and the old `previous` is dropped whole. A key touched
//! at least once per generation survives forever; an idle key is evicted after one to two
//! generations. Every operation is O(1) and no key is cloned on a touch.
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

/// A map holding at most `capacity` entries, evicting the least recently touched ones in bulk.
#[derive(Debug)]
pub struct BoundedMap<K, V> {
    current: HashMap<K, V>,
    previous: HashMap<K, V>,
    half: usize,
    evicted: u64,
}

impl<K: Eq + Hash, V> BoundedMap<K, V> {
    /// A map that never holds more than `capacity` entries (at least 2).
    pub fn new(capacity: usize) -> Self {
        Self {
            current: HashMap::new(),
            previous: HashMap::new(),
            half: (capacity / 2).max(1),
            evicted: 0,
        }
    }

    /// Number of entries held.
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries dropped by eviction so far.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The entry for `key` without touching it.
    pub fn peek<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.current.get(key).or_else(|| self.previous.get(key))
    }

    /// The entry for `key`, marked as recently used.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if !self.current.contains_key(key) {
            let (k, v) = self.previous.remove_entry(key)?;
            self.insert_current(k, v);
        }
        self.current.get_mut(key)
    }

    /// The entry for `key`, created with `make` if absent; marked as recently used.
    pub fn get_or_insert_with<Q>(&mut self, key: &Q, make: impl FnOnce() -> V) -> &mut V
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ToOwned<Owned = K> + ?Sized,
    {
        if !self.current.contains_key(key) {
            let (k, v) = match self.previous.remove_entry(key) {
                Some(kv) => kv,
                None => (key.to_owned(), make()),
            };
            self.insert_current(k, v);
        }
        self.current.get_mut(key).expect("just inserted")
    }

    /// Inserts or replaces an entry.
    pub fn insert(&mut self, key: K, value: V) {
        self.previous.remove(&key);
        self.current.remove(&key);
        self.insert_current(key, value);
    }

    /// Removes an entry.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.current
            .remove(key)
            .or_else(|| self.previous.remove(key))
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.previous.iter().chain(self.current.iter())
    }

    fn insert_current(&mut self, key: K, value: V) {
        if self.current.len() >= self.half {
            self.evicted += self.previous.len() as u64;
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_exceeds_capacity_and_keeps_busy_keys() {
        let mut m: BoundedMap<String, u32> = BoundedMap::new(100);
        for i in 0..10_000u32 {
            *m.get_or_insert_with("busy", || 0) += 1;
            m.get_or_insert_with(format!("k{i}").as_str(), || i);
            assert!(m.len() <= 100);
        }
        assert_eq!(m.peek("busy"), Some(&10_000));
        assert!(m.peek("k0").is_none());
        assert!(m.evicted() > 9_000);
    }
}
