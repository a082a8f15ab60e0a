//! The embedded state store: token buckets from governor and a usage table
//! behind a mutex, all in this process. The default for a single gateway.
//!
//! Limiter state is bounded: at most `max_keys` buckets per distinct
//! [`RateLimit`] and kind of key are tracked; when a table is full, a new
//! key evicts the least recently used one (so a client never seen before
//! gets its own full bucket, never one shared with strangers), and
//! [`StateStore::maintain`] drops the state of idle buckets. An evicted
//! key starts again with a full bucket: the global limit is what bounds a
//! flood from more sources than the table holds. The buckets of callers
//! (`credential:` and `session:` keys) are kept in tables of their own,
//! apart from those of sources: a flood from many addresses never evicts
//! a caller's bucket, even when both limits have the same numbers.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed, StateStore as GovernorStore};
use governor::{Quota, RateLimiter};
use lru::LruCache;

use super::{ObjectLockGrant, RateLimit, RateVerdict, Reservation, StateError, StateStore, Usage};

/// Default bound on tracked limiter keys per rate.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

type KeyedLimiter = RateLimiter<
    String,
    BoundedKeys<String>,
    DefaultClock,
    NoOpMiddleware<<DefaultClock as Clock>::Instant>,
>;

/// In-process quota usage and rate limits.
#[derive(Debug)]
pub struct EmbeddedStore {
    max_keys: usize,
    clock: DefaultClock,
    limiters: Mutex<HashMap<(Table, u64, u32), Arc<KeyedLimiter>>>,
    buckets: Mutex<BTreeMap<String, BucketState>>,
}

/// The kind of key a limiter table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Table {
    /// Authenticated callers: `credential:` and `session:` keys.
    Callers,
    /// Everything else: per-source keys and `global`.
    Sources,
}

impl Table {
    fn of(key: &str) -> Self {
        if key.starts_with("credential:") || key.starts_with("session:") {
            Self::Callers
        } else {
            Self::Sources
        }
    }
}

#[derive(Debug, Default)]
struct BucketState {
    /// `None` until a scan records it.
    used: Option<u64>,
    in_flight: u64,
    /// Multipart uploads: (object key, upload id) -> part number -> bytes.
    uploads: BTreeMap<(String, String), BTreeMap<u32, u64>>,
}

impl BucketState {
    fn held(&self) -> u64 {
        self.uploads.values().flat_map(|parts| parts.values()).sum()
    }

    fn usage(&self) -> Option<Usage> {
        self.used.map(|used| Usage {
            used,
            reserved: self.in_flight.saturating_add(self.held()),
        })
    }

    fn move_used(&mut self, delta: i64) {
        if let Some(used) = &mut self.used {
            *used = used.saturating_add_signed(delta);
        }
    }
}

impl Default for EmbeddedStore {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_KEYS)
    }
}

impl EmbeddedStore {
    /// A store tracking at most `max_keys` limiter keys per rate.
    pub fn new(max_keys: usize) -> Self {
        Self {
            max_keys: max_keys.max(1),
            clock: DefaultClock::default(),
            limiters: Mutex::new(HashMap::new()),
            buckets: Mutex::new(BTreeMap::new()),
        }
    }

    /// The limiter of `limit` for keys of `table`.
    fn limiter(&self, table: Table, limit: RateLimit) -> Result<Arc<KeyedLimiter>, StateError> {
        let period = limit.period().ok_or_else(|| {
            StateError::Unavailable("a rate limit's rate must be positive".into())
        })?;
        let burst = NonZeroU32::new(limit.burst).ok_or_else(|| {
            StateError::Unavailable("a rate limit's burst must be at least 1".into())
        })?;
        let id = (
            table,
            u64::try_from(period.as_nanos()).unwrap_or(u64::MAX),
            limit.burst,
        );
        let mut limiters = lock(&self.limiters);
        if let Some(limiter) = limiters.get(&id) {
            return Ok(Arc::clone(limiter));
        }
        let quota = Quota::with_period(period)
            .ok_or_else(|| StateError::Unavailable("a rate limit's rate must be positive".into()))?
            .allow_burst(burst);
        let limiter = Arc::new(RateLimiter::new(
            quota,
            BoundedKeys::new(self.max_keys),
            self.clock.clone(),
        ));
        limiters.insert(id, Arc::clone(&limiter));
        Ok(limiter)
    }

    fn bucket<T>(&self, bucket: &str, f: impl FnOnce(&mut BucketState) -> T) -> T {
        let mut buckets = lock(&self.buckets);
        f(buckets.entry(bucket.to_owned()).or_default())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave a half-updated value
    // behind (every update is a single assignment), so poisoning is ignored.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[async_trait]
impl StateStore for EmbeddedStore {
    fn kind(&self) -> &'static str {
        "embedded"
    }

    async fn take_token(&self, key: &str, limit: RateLimit) -> Result<RateVerdict, StateError> {
        let limiter = self.limiter(Table::of(key), limit)?;
        match limiter.check_key(&key.to_owned()) {
            Ok(()) => Ok(RateVerdict::Allowed),
            Err(not_until) => Ok(RateVerdict::Limited {
                retry_after: not_until.wait_time_from(self.clock.now()),
            }),
        }
    }

    async fn usage(&self, bucket: &str) -> Result<Option<Usage>, StateError> {
        Ok(self.bucket(bucket, |state| state.usage()))
    }

    async fn set_usage(&self, bucket: &str, used: u64, replace: bool) -> Result<(), StateError> {
        self.bucket(bucket, |state| {
            if replace || state.used.is_none() {
                state.used = Some(used);
            }
        });
        Ok(())
    }

    async fn reserve(
        &self,
        bucket: &str,
        bytes: u64,
        cap: Option<u64>,
    ) -> Result<Reservation, StateError> {
        Ok(self.bucket(bucket, |state| {
            let Some(usage) = state.usage() else {
                return Reservation::Unknown;
            };
            if cap.is_some_and(|cap| usage.total().saturating_add(bytes) > cap) {
                return Reservation::Refused(usage);
            }
            state.in_flight = state.in_flight.saturating_add(bytes);
            Reservation::Granted
        }))
    }

    async fn settle(&self, bucket: &str, reserved: u64, used_delta: i64) -> Result<(), StateError> {
        self.bucket(bucket, |state| {
            state.in_flight = state.in_flight.saturating_sub(reserved);
            state.move_used(used_delta);
        });
        Ok(())
    }

    async fn hold_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part: u32,
        bytes: u64,
    ) -> Result<(), StateError> {
        self.bucket(bucket, |state| {
            state.in_flight = state.in_flight.saturating_sub(bytes);
            state
                .uploads
                .entry((key.to_owned(), upload_id.to_owned()))
                .or_default()
                .insert(part, bytes);
        });
        Ok(())
    }

    async fn finish_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        used_delta: i64,
    ) -> Result<(), StateError> {
        self.bucket(bucket, |state| {
            state
                .uploads
                .remove(&(key.to_owned(), upload_id.to_owned()));
            state.move_used(used_delta);
        });
        Ok(())
    }

    async fn lock_object(
        &self,
        _bucket: &str,
        _key: &str,
        _wait: std::time::Duration,
    ) -> Result<ObjectLockGrant, StateError> {
        Ok(ObjectLockGrant::Local)
    }

    async fn unlock_object(
        &self,
        _bucket: &str,
        _key: &str,
        _token: &str,
    ) -> Result<bool, StateError> {
        Ok(true)
    }

    async fn forget_usage(&self, bucket: &str) -> Result<(), StateError> {
        self.bucket(bucket, |state| state.used = None);
        Ok(())
    }

    async fn maintain(&self) -> Result<(), StateError> {
        let limiters: Vec<Arc<KeyedLimiter>> = lock(&self.limiters).values().cloned().collect();
        for limiter in limiters {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        Ok(())
    }
}

/// A governor keyed state store holding at most `capacity` keys; a new
/// key evicts the least recently used one when it is full.
#[derive(Debug)]
pub(crate) struct BoundedKeys<K: Hash + Eq> {
    map: Mutex<LruCache<K, InMemoryState>>,
    capacity: usize,
}

impl<K: Hash + Eq + Clone> BoundedKeys<K> {
    fn new(capacity: usize) -> Self {
        Self {
            // Unbounded to the cache itself (nothing is allocated up front);
            // the capacity is kept by evicting before each insertion.
            map: Mutex::new(LruCache::unbounded()),
            capacity: capacity.max(1),
        }
    }
}

impl<K: Hash + Eq + Clone> GovernorStore for BoundedKeys<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let mut map = lock(&self.map);
        if let Some(state) = map.get(key) {
            return state.measure_and_replace(&NotKeyed::NonKey, f);
        }
        while map.len() >= self.capacity {
            if map.pop_lru().is_none() {
                break;
            }
        }
        map.get_or_insert_ref(key, InMemoryState::default)
            .measure_and_replace(&NotKeyed::NonKey, f)
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<K> for BoundedKeys<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        let mut map = lock(&self.map);
        let idle: Vec<K> = map
            .iter()
            .filter(|(_, state)| {
                // Read the state without changing it: the closure refuses.
                let current = state
                    .measure_and_replace(&NotKeyed::NonKey, Err::<((), Nanos), _>)
                    .err()
                    .flatten();
                current.is_none_or(|tat| tat <= drop_below)
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in idle {
            map.pop(&key);
        }
    }

    fn shrink_to_fit(&self) {}

    fn len(&self) -> usize {
        lock(&self.map).len()
    }

    fn is_empty(&self) -> bool {
        lock(&self.map).len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limit(rate: f64, burst: u32) -> RateLimit {
        RateLimit { rate, burst }
    }

    #[tokio::test]
    async fn a_burst_is_allowed_then_limited_with_a_wait_from_the_bucket() {
        let store = EmbeddedStore::default();
        for _ in 0..3 {
            assert_eq!(
                store.take_token("k", limit(0.5, 3)).await.unwrap(),
                RateVerdict::Allowed
            );
        }
        match store.take_token("k", limit(0.5, 3)).await.unwrap() {
            RateVerdict::Limited { retry_after } => {
                assert!(retry_after > Duration::from_millis(1500), "{retry_after:?}");
                assert!(retry_after <= Duration::from_secs(2), "{retry_after:?}");
            }
            RateVerdict::Allowed => panic!("a fourth request within the burst window passed"),
        }
        // Another key has its own bucket.
        assert_eq!(
            store.take_token("other", limit(0.5, 3)).await.unwrap(),
            RateVerdict::Allowed
        );
    }

    #[tokio::test]
    async fn a_full_key_table_evicts_the_least_recently_used_key() {
        let store = EmbeddedStore::new(2);
        let one = limit(0.001, 1);
        let allowed = |verdict: RateVerdict| verdict == RateVerdict::Allowed;
        assert!(allowed(store.take_token("a", one).await.unwrap()));
        assert!(allowed(store.take_token("b", one).await.unwrap()));
        // `a` is used again (and limited): `b` is now the least recent.
        assert!(!allowed(store.take_token("a", one).await.unwrap()));
        // The table is full: newcomers each get their own full bucket,
        // never one shared with other newcomers.
        assert!(allowed(store.take_token("c", one).await.unwrap()));
        assert!(allowed(store.take_token("d", one).await.unwrap()));
        assert!(!allowed(store.take_token("d", one).await.unwrap()));
        assert_eq!(store.limiter(Table::Sources, one).unwrap().len(), 2);
        // `c` outlived `a`; `a` was evicted and starts again.
        assert!(!allowed(store.take_token("c", one).await.unwrap()));
        assert!(allowed(store.take_token("a", one).await.unwrap()));
    }

    #[tokio::test]
    async fn a_flood_of_sources_never_evicts_a_callers_bucket() {
        let store = EmbeddedStore::new(2);
        let same = limit(0.001, 1);
        let allowed = |verdict: RateVerdict| verdict == RateVerdict::Allowed;
        for caller in ["credential:AKIDEXAMPLE", "session:0123abcd"] {
            assert!(allowed(store.take_token(caller, same).await.unwrap()));
            // Many sources, with limits of the same numbers, fill their table.
            for n in 0..10 {
                let source = format!("ip:2001:db8:{n}::/64");
                assert!(allowed(store.take_token(&source, same).await.unwrap()));
            }
            // The caller's spent bucket is still there.
            assert!(
                !allowed(store.take_token(caller, same).await.unwrap()),
                "{caller}"
            );
        }
        assert_eq!(store.limiter(Table::Sources, same).unwrap().len(), 2);
        assert_eq!(store.limiter(Table::Callers, same).unwrap().len(), 2);
    }

    #[tokio::test]
    async fn idle_limiter_state_is_dropped_by_maintenance() {
        let store = EmbeddedStore::default();
        let fast = limit(1000.0, 1);
        store.take_token("idle", fast).await.unwrap();
        assert_eq!(store.limiter(Table::Sources, fast).unwrap().len(), 1);
        tokio::time::sleep(Duration::from_millis(20)).await;
        store.maintain().await.unwrap();
        assert_eq!(store.limiter(Table::Sources, fast).unwrap().len(), 0);
    }

    #[tokio::test]
    async fn a_zero_burst_or_rate_is_an_error_not_a_panic() {
        let store = EmbeddedStore::default();
        assert!(store.take_token("k", limit(1.0, 0)).await.is_err());
        assert!(store.take_token("k", limit(0.0, 1)).await.is_err());
        assert!(store.take_token("k", limit(f64::NAN, 1)).await.is_err());
        assert!(store.take_token("k", limit(1e12, 1)).await.is_err());
    }
}
