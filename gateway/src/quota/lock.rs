//! Object locks of the quota ledger: the operations that change one
//! object's size in a capped bucket (a put, copy or multipart completion
//! onto it, its deletion) take turns, each holding the object's lock from
//! reading the old size until the bucket's usage is settled. Without them
//! two deletes of one object would both read its size and both free it.
//!
//! Within the process: an async mutex per (bucket, key), made on demand and
//! dropped with its last user. Across processes sharing a state store: the
//! store's object lock ([`StateStore::lock_object`]), taken while holding
//! the in-process one. Every request takes its locks in key order, so two
//! requests never wait on each other. The wait is bounded by [`LOCK_WAIT`];
//! past it the request is refused with 503.
//!
//! The store's lock expires one lease after its last renewal; a holder
//! that finds it lost at release learns so ([`ObjectLock::release`]), and
//! the ledger then stops trusting the bucket's count (it is scanned again).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::OwnedMutexGuard;

use crate::state::{ObjectLockGrant, StateStore};
use cedargate_s3::error::{S3Error, S3ErrorCode};

/// How long a request waits for another write of the same object.
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(30);

type ObjectId = (String, String);

/// The in-process object locks, by (bucket, key).
#[derive(Debug, Default)]
pub(crate) struct ObjectLocks {
    live: Mutex<HashMap<ObjectId, Arc<tokio::sync::Mutex<()>>>>,
}

impl ObjectLocks {
    fn live(&self) -> MutexGuard<'_, HashMap<ObjectId, Arc<tokio::sync::Mutex<()>>>> {
        // Every update under this lock is a single insert or remove.
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Drops the mutex of `id` once nobody holds or waits for it.
    fn forget(&self, id: &ObjectId) {
        let mut live = self.live();
        if live
            .get(id)
            .is_some_and(|mutex| Arc::strong_count(mutex) == 1)
        {
            live.remove(id);
        }
    }
}

/// Takes the lock on object `key` of `bucket`: in this process, then in
/// `store`.
pub(crate) async fn lock(
    locks: &Arc<ObjectLocks>,
    store: &Arc<dyn StateStore>,
    bucket: &str,
    key: &str,
) -> Result<ObjectLock, S3Error> {
    let deadline = tokio::time::Instant::now() + LOCK_WAIT;
    let id = (bucket.to_owned(), key.to_owned());
    let mutex = Arc::clone(locks.live().entry(id.clone()).or_default());
    let mut held = ObjectLock {
        locks: Arc::clone(locks),
        store: Arc::clone(store),
        id,
        token: None,
        guard: None,
    };
    let guard = tokio::time::timeout_at(deadline, mutex.lock_owned())
        .await
        .map_err(|_| busy())?;
    held.guard = Some(guard);
    let wait = deadline.saturating_duration_since(tokio::time::Instant::now());
    match store.lock_object(bucket, key, wait).await {
        Ok(ObjectLockGrant::Local) => {}
        Ok(ObjectLockGrant::Held(token)) => held.token = Some(token),
        Ok(ObjectLockGrant::Busy) => return Err(busy()),
        Err(error) => {
            return Err(S3Error::new(S3ErrorCode::ServiceUnavailable, "").with_detail(error));
        }
    }
    Ok(held)
}

fn busy() -> S3Error {
    S3Error::new(S3ErrorCode::ServiceUnavailable, "").with_detail(format!(
        "another write of the object held its quota lock for {LOCK_WAIT:?}"
    ))
}

/// A held object lock; released by [`Self::release`], or in the background
/// when dropped.
pub(crate) struct ObjectLock {
    locks: Arc<ObjectLocks>,
    store: Arc<dyn StateStore>,
    id: ObjectId,
    /// The store's lock, when the store is shared.
    token: Option<String>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl std::fmt::Debug for ObjectLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectLock")
            .field("bucket", &self.id.0)
            .field("key", &self.id.1)
            .finish_non_exhaustive()
    }
}

impl ObjectLock {
    /// Releases the store's lock, then this process's. Answers `false`
    /// when the store's lock was found lost (it expired while the store
    /// did not answer, and another write of the object may have run
    /// meanwhile).
    pub(crate) async fn release(mut self) -> bool {
        match self.token.take() {
            Some(token) => unlock(self.store.as_ref(), &self.id, &token).await,
            None => true,
        }
    }
}

/// Releases the store's lock; `false` unless the store confirmed it was
/// still held.
async fn unlock(store: &dyn StateStore, id: &ObjectId, token: &str) -> bool {
    match store.unlock_object(&id.0, &id.1, token).await {
        Ok(held) => held,
        Err(error) => {
            tracing::warn!(%error, bucket = id.0, "object lock not released; it expires with the lease");
            false
        }
    }
}

impl Drop for ObjectLock {
    fn drop(&mut self) {
        let guard = self.guard.take();
        let token = self.token.take();
        let locks = Arc::clone(&self.locks);
        let id = std::mem::take(&mut self.id);
        match (token, tokio::runtime::Handle::try_current()) {
            (Some(token), Ok(runtime)) => {
                // The request was abandoned while holding the lock: the
                // process's lock is kept until the store's is released.
                let store = Arc::clone(&self.store);
                runtime.spawn(async move {
                    // Abandoned before settling: nothing was counted under it.
                    unlock(store.as_ref(), &id, &token).await;
                    drop(guard);
                    locks.forget(&id);
                });
            }
            _ => {
                drop(guard);
                locks.forget(&id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::EmbeddedStore;

    #[tokio::test]
    async fn one_holder_per_object_and_no_lock_outlives_its_users() {
        let locks = Arc::new(ObjectLocks::default());
        let store: Arc<dyn StateStore> = Arc::new(EmbeddedStore::default());
        let first = lock(&locks, &store, "b", "k").await.expect("free lock");
        // Another object, or the same key in another bucket, is another lock.
        let other = lock(&locks, &store, "b", "k2").await.expect("other key");
        let elsewhere = lock(&locks, &store, "c", "k").await.expect("other bucket");
        let waiter = tokio::spawn({
            let (locks, store) = (Arc::clone(&locks), Arc::clone(&store));
            async move { lock(&locks, &store, "b", "k").await.map(drop) }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "a second holder got in");
        first.release().await;
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("the waiter gets the lock once released")
            .expect("no panic")
            .expect("granted");
        drop(other);
        elsewhere.release().await;
        assert!(locks.live().is_empty(), "{:?}", locks.live().keys());
    }
}
