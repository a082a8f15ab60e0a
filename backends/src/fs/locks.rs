//! Per-key async locks for the filesystem backend, sharded by hash so their
//! number stays fixed however many keys there are.
//!
//! Writers hold a key's lock around check-conditions + rename + sidecar,
//! which makes `If-None-Match: *` race-free between writers in this
//! process. Two keys that share a shard merely wait for each other.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard};

const SHARDS: usize = 256;

/// A fixed set of mutexes, one chosen per (bucket, name) pair.
pub(super) struct LockTable {
    hasher: RandomState,
    shards: Vec<Arc<Mutex<()>>>,
}

impl std::fmt::Debug for LockTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockTable")
            .field("shards", &self.shards.len())
            .finish()
    }
}

impl LockTable {
    /// A table of [`SHARDS`] unlocked mutexes.
    pub fn new() -> Self {
        Self {
            // Randomly keyed, so clients cannot aim many keys at one shard.
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Arc::new(Mutex::new(()))).collect(),
        }
    }

    fn shard(&self, bucket: &str, name: &str) -> Arc<Mutex<()>> {
        let hash = self.hasher.hash_one((bucket, name));
        let index = usize::try_from(hash % SHARDS as u64).unwrap_or(0);
        self.shards[index].clone()
    }

    /// Waits for the lock of `name` in `bucket`.
    pub async fn lock(&self, bucket: &str, name: &str) -> OwnedMutexGuard<()> {
        self.shard(bucket, name).lock_owned().await
    }

    /// The lock of `name` in `bucket`, if nobody holds it.
    pub fn try_lock(&self, bucket: &str, name: &str) -> Option<OwnedMutexGuard<()>> {
        self.shard(bucket, name).try_lock_owned().ok()
    }
}
