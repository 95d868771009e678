//! The access policy cache: what a decision needs about devices, credentials and persons, held
//! in memory so that a door is answered without touching the database, and kept in step with
//! it by an epoch.
//!
//! Invariant: every write use-case commits through [`crate::App::commit`], which moves the
//! epoch *after* the commit; an entry remembers the epoch it was loaded under and counts as
//! missing once the epoch has moved. A load that raced with a commit is therefore never used
//! after that commit is visible to the cache. Time-bound rules (lease ends, credential
//! validity, staff schedules) are evaluated at decision time from the cached dates, so expiry
//! needs no invalidation.
//!
//! Several instances sharing one PostgreSQL database do not see each other's epochs; entries
//! then live at most [`ENTRY_TTL`], which bounds how long another instance's change can go
//! unseen (see `docs/design/access-control.md`).

use anfang_domain::access::{Door, Grant};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long an entry lives at most, whatever the epoch says.
pub const ENTRY_TTL: Duration = Duration::from_secs(60);
/// Entries kept at most per kind; the least used go first.
pub const MAX_ENTRIES: u64 = 200_000;

/// What a decision needs of a device.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedDevice {
    /// Its id.
    pub id: i64,
    /// Its community, once assigned.
    pub community_id: Option<i64>,
    /// The door or gate it guards, if any.
    pub door: Option<Door>,
}

/// What a decision needs of a card or PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachedCredential {
    /// Its holder.
    pub person_id: i64,
    /// Revoked.
    pub revoked: bool,
    /// Valid from (ms).
    pub valid_from: Option<i64>,
    /// Valid until (ms).
    pub valid_until: Option<i64>,
}

/// What a decision needs of a person.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonPolicy {
    /// An active face-recognition consent exists.
    pub face_consent: bool,
    /// House relations with where the houses are.
    pub grants: Vec<Grant>,
    /// Communities where the person is on the deny list.
    pub denied_in: Vec<i64>,
}

/// A value with the epoch it was loaded under.
#[derive(Debug, Clone)]
struct Stamped<T> {
    epoch: u64,
    value: T,
}

/// The cache. Cheap to share behind an `Arc`.
pub struct PolicyCache {
    epoch: AtomicU64,
    devices: moka::sync::Cache<String, Stamped<Option<Arc<CachedDevice>>>>,
    credentials: moka::sync::Cache<(String, String), Stamped<Option<CachedCredential>>>,
    persons: moka::sync::Cache<i64, Stamped<Option<Arc<PersonPolicy>>>>,
}

impl std::fmt::Debug for PolicyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyCache")
            .field("epoch", &self.epoch.load(Ordering::Relaxed))
            .field("persons", &self.persons.entry_count())
            .finish()
    }
}

impl Default for PolicyCache {
    fn default() -> Self {
        PolicyCache::new()
    }
}

fn cache<K, V>() -> moka::sync::Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    moka::sync::Cache::builder()
        .max_capacity(MAX_ENTRIES)
        .time_to_live(ENTRY_TTL)
        .build()
}

impl PolicyCache {
    /// An empty cache.
    pub fn new() -> PolicyCache {
        PolicyCache {
            epoch: AtomicU64::new(0),
            devices: cache(),
            credentials: cache(),
            persons: cache(),
        }
    }

    /// The current epoch: read it *before* loading from the database and pass it to `put_*`.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Everything cached so far is stale: called after every committed write.
    pub fn invalidate(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        metrics::counter!("anfang_policy_invalidations_total").increment(1);
    }

    fn fresh<T: Clone>(&self, entry: Option<Stamped<T>>, kind: &'static str) -> Option<T> {
        let now = self.epoch();
        match entry {
            Some(e) if e.epoch == now => {
                metrics::counter!("anfang_policy_cache_total", "kind" => kind, "result" => "hit")
                    .increment(1);
                Some(e.value)
            }
            _ => {
                metrics::counter!("anfang_policy_cache_total", "kind" => kind, "result" => "miss")
                    .increment(1);
                None
            }
        }
    }

    /// A device by code (`Some(None)`: known not to exist).
    pub fn device(&self, code: &str) -> Option<Option<Arc<CachedDevice>>> {
        self.fresh(self.devices.get(code), "device")
    }

    /// Remembers a device loaded under `epoch`.
    pub fn put_device(&self, epoch: u64, code: &str, value: Option<Arc<CachedDevice>>) {
        self.devices.insert(code.to_string(), Stamped { epoch, value });
    }

    /// A credential by kind and blind index.
    pub fn credential(&self, kind: &str, index: &str) -> Option<Option<CachedCredential>> {
        self.fresh(
            self.credentials.get(&(kind.to_string(), index.to_string())),
            "credential",
        )
    }

    /// Remembers a credential loaded under `epoch`.
    pub fn put_credential(&self, epoch: u64, kind: &str, index: &str, value: Option<CachedCredential>) {
        self.credentials
            .insert((kind.to_string(), index.to_string()), Stamped { epoch, value });
    }

    /// A person's policy (`Some(None)`: no such person).
    pub fn person(&self, id: i64) -> Option<Option<Arc<PersonPolicy>>> {
        self.fresh(self.persons.get(&id), "person")
    }

    /// Remembers a person's policy loaded under `epoch`.
    pub fn put_person(&self, epoch: u64, id: i64, value: Option<Arc<PersonPolicy>>) {
        self.persons.insert(id, Stamped { epoch, value });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_loaded_before_a_commit_is_not_used_after_it() {
        let cache = PolicyCache::new();
        let epoch = cache.epoch();
        // A load starts, a write commits meanwhile, the load then stores what it read.
        cache.invalidate();
        cache.put_person(epoch, 7, None);
        assert_eq!(cache.person(7), None, "stale load counts as missing");
        let epoch = cache.epoch();
        cache.put_person(epoch, 7, None);
        assert_eq!(cache.person(7), Some(None), "a fresh load is used");
        cache.invalidate();
        assert_eq!(cache.person(7), None);
    }

    #[test]
    fn negative_entries_are_remembered_too() {
        let cache = PolicyCache::new();
        let epoch = cache.epoch();
        cache.put_credential(epoch, "card", "abc", None);
        assert_eq!(cache.credential("card", "abc"), Some(None));
        assert_eq!(cache.credential("pin", "abc"), None);
        cache.put_device(epoch, "D1", None);
        assert_eq!(cache.device("D1"), Some(None));
    }
}
