//! The one bounded cache of the resource-server library: entries that expire at a given time,
//! at most `max` of them. The JWT cache, the introspection cache and the DPoP replay cache are
//! this map behind their own lock (a read-write lock where reads dominate), differing only in
//! what they do when full of live entries ([`WhenFull`]) — a replay cache must fail closed,
//! where a cache of answers may forget.
//!
//! Not a general-purpose cache: no LRU order, no background task. Time is an argument (the
//! layer's clock), and an entry is never served at or after its expiry. When an insert finds
//! the map full, expired entries are swept first (one sweep pays for many inserts).
use std::collections::HashMap;
use std::hash::Hash;

/// What an insert does when the map is still full after expired entries are swept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WhenFull {
    /// Drop everything and start over (answers can be fetched again).
    Clear,
    /// Drop an arbitrary `1/n` of the entries (at least one), so the next inserts find room.
    DropFraction(usize),
    /// Refuse the new entry: forgetting a live one early would be unsafe.
    Refuse,
}

/// Entries, each until its expiry (seconds); every insert names the bound (a cache's size may
/// be configured per call).
#[derive(Debug)]
pub(crate) struct ExpiringMap<K, V> {
    entries: HashMap<K, (V, u64)>,
    when_full: WhenFull,
}

impl<K: Eq + Hash + Clone, V> ExpiringMap<K, V> {
    /// An empty map.
    pub(crate) fn new(when_full: WhenFull) -> Self {
        Self {
            entries: HashMap::new(),
            when_full,
        }
    }

    /// The live entry for `key`.
    pub(crate) fn get(&self, key: &K, now: u64) -> Option<&V> {
        self.entries
            .get(key)
            .filter(|(_, until)| now < *until)
            .map(|(v, _)| v)
    }

    /// Stores `value` until `until`, holding at most `max` entries; `false` when the map is
    /// full of live entries and refuses. Replacing an existing key never needs room.
    pub(crate) fn insert(&mut self, key: K, value: V, until: u64, now: u64, max: usize) -> bool {
        if self.entries.len() >= max && !self.entries.contains_key(&key) {
            self.entries.retain(|_, (_, u)| now < *u);
            if self.entries.len() >= max {
                match self.when_full {
                    WhenFull::Clear => self.entries.clear(),
                    WhenFull::Refuse => return false,
                    WhenFull::DropFraction(n) => {
                        let victims: Vec<K> = self
                            .entries
                            .keys()
                            .take((max / n.max(1)).max(1))
                            .cloned()
                            .collect();
                        for k in &victims {
                            self.entries.remove(k);
                        }
                    }
                }
            }
        }
        self.entries.insert(key, (value, until));
        true
    }

    /// Drops one entry.
    pub(crate) fn remove(&mut self, key: &K) {
        self.entries.remove(key);
    }

    /// Keeps the entries whose value passes `keep`.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        self.entries.retain(|_, (v, _)| keep(v));
    }

    /// Entries held (expired ones not yet swept included).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_live_until_their_expiry_only() {
        let mut m = ExpiringMap::new(WhenFull::Refuse);
        assert!(m.insert("a", 1, 100, 0, 4));
        assert_eq!(m.get(&"a", 99), Some(&1));
        assert_eq!(m.get(&"a", 100), None);
        assert_eq!(m.get(&"b", 0), None);
        m.retain(|v| *v != 1);
        assert_eq!(m.get(&"a", 0), None);
    }

    #[test]
    fn a_full_map_sweeps_expired_entries_before_applying_its_policy() {
        for policy in [WhenFull::Clear, WhenFull::DropFraction(2), WhenFull::Refuse] {
            let mut m = ExpiringMap::new(policy);
            assert!(m.insert(1, (), 10, 0, 2));
            assert!(m.insert(2, (), 20, 0, 2));
            // At 15 the first has expired: swept, room for the third, whatever the policy.
            assert!(m.insert(3, (), 30, 15, 2), "{policy:?}");
            assert_eq!(m.len(), 2);
            assert!(m.get(&2, 15).is_some() && m.get(&3, 15).is_some());
        }
    }

    #[test]
    fn full_of_live_entries_each_policy_does_its_own_thing() {
        let full = |policy| {
            let mut m = ExpiringMap::new(policy);
            for k in 0..4 {
                assert!(m.insert(k, (), 100, 0, 4));
            }
            m
        };
        let mut refuse = full(WhenFull::Refuse);
        assert!(!refuse.insert(9, (), 100, 0, 4));
        assert_eq!(refuse.len(), 4);
        // Replacing a key needs no room.
        assert!(refuse.insert(0, (), 200, 0, 4));
        let mut clear = full(WhenFull::Clear);
        assert!(clear.insert(9, (), 100, 0, 4));
        assert_eq!(clear.len(), 1);
        let mut drop = full(WhenFull::DropFraction(2));
        assert!(drop.insert(9, (), 100, 0, 4));
        assert_eq!(drop.len(), 3);
        assert!(drop.get(&9, 0).is_some());
    }
}
