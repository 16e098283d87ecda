//! Copies of what almost every Graph request reads (the calling application's grants, a
//! user's state, their passkeys and apps, the TAP policy), kept only while the database
//! is provably unchanged.
//!
//! The store reports a [`Store::data_version`](crate::store::Store::data_version) that
//! grows whenever any process commits a change. Each copy is stamped with the version
//! read *before* the data was, and is used only while the version is still that one: a
//! change committed anywhere makes every older copy unusable on the next request, which
//! is what keeps revocation instant with a cache in front of the database. A store that
//! cannot report a version (`None`) gets no caching at all.
//!
//! Only reads go through here. Sign-in, token redemption and every write read the
//! database itself, inside the transaction that decides.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};

/// How many entries one kind of copy may hold before it starts over. A full map is
/// cleared rather than evicted entry by entry: cheap, bounded, and the next requests
/// refill it with what is actually being read.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// Copies of one kind of value, all read at one data version.
#[derive(Debug)]
pub struct Versioned<K, V> {
    inner: RwLock<Generation<K, V>>,
    capacity: usize,
}

#[derive(Debug)]
struct Generation<K, V> {
    version: u64,
    entries: HashMap<K, Arc<V>>,
}

impl<K: Hash + Eq, V> Versioned<K, V> {
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: RwLock::new(Generation {
                version: 0,
                entries: HashMap::new(),
            }),
            capacity: capacity.max(1),
        }
    }

    /// The copy of `key` read at `version`, if there is one.
    pub fn get(&self, version: u64, key: &K) -> Option<Arc<V>> {
        let generation = self.inner.read().ok()?;
        if generation.version != version {
            return None;
        }
        generation.entries.get(key).cloned()
    }

    /// Keeps `value`, read after the store reported `version`. A value read before a
    /// newer version was seen is dropped: it may predate that change.
    pub fn put(&self, version: u64, key: K, value: Arc<V>) {
        let Ok(mut generation) = self.inner.write() else {
            return;
        };
        if version < generation.version {
            return;
        }
        if version > generation.version || generation.entries.len() >= self.capacity {
            generation.entries.clear();
            generation.version = version;
        }
        generation.entries.insert(key, value);
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.read().map(|g| g.entries.len()).unwrap_or(0)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The service's copies, one map per kind.
#[derive(Debug)]
pub struct ReadCache {
    pub applications: Versioned<crate::ids::AppId, crate::tenant::Application>,
    pub user_states: Versioned<crate::ids::UserId, crate::store::UserAuthState>,
    pub strong_methods: Versioned<crate::ids::UserId, crate::methods::StrongMethods>,
    pub policy: Versioned<(), crate::policy::TapPolicy>,
}

impl ReadCache {
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            applications: Versioned::new(capacity),
            user_states: Versioned::new(capacity),
            strong_methods: Versioned::new(capacity),
            policy: Versioned::new(1),
        }
    }
}

impl Default for ReadCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_serves_only_the_version_it_was_read_at() {
        let cache: Versioned<u32, &str> = Versioned::new(10);
        cache.put(5, 1, Arc::new("alice"));
        assert_eq!(cache.get(5, &1).as_deref(), Some(&"alice"));
        assert!(cache.get(6, &1).is_none(), "a newer version must not see the old copy");
        assert!(cache.get(4, &1).is_none());
        assert!(cache.get(5, &2).is_none());
    }

    #[test]
    fn a_newer_version_drops_every_older_copy() {
        let cache: Versioned<u32, &str> = Versioned::new(10);
        cache.put(1, 1, Arc::new("a"));
        cache.put(1, 2, Arc::new("b"));
        cache.put(2, 3, Arc::new("c"));
        assert_eq!(cache.len(), 1);
        assert!(cache.get(2, &1).is_none());
        assert_eq!(cache.get(2, &3).as_deref(), Some(&"c"));
    }

    #[test]
    fn a_value_read_before_a_newer_change_is_not_kept() {
        // Reader A saw version 1 and is slow; meanwhile a change moved the store to 2
        // and reader B cached at 2. A's value may predate the change.
        let cache: Versioned<u32, &str> = Versioned::new(10);
        cache.put(2, 7, Arc::new("fresh"));
        cache.put(1, 7, Arc::new("stale"));
        assert_eq!(cache.get(2, &7).as_deref(), Some(&"fresh"));
        cache.put(1, 8, Arc::new("stale"));
        assert!(cache.get(1, &8).is_none() && cache.get(2, &8).is_none());
    }

    #[test]
    fn a_full_map_starts_over_instead_of_growing() {
        let cache: Versioned<u32, u32> = Versioned::new(3);
        for k in 0..10 {
            cache.put(1, k, Arc::new(k));
            assert!(cache.len() <= 3);
        }
        assert_eq!(cache.get(1, &9).as_deref(), Some(&9));
    }
}
