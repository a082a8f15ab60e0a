//! Shared state: rate-limit token buckets and bucket quota usage, the only
//! state a gateway process holds that it cannot rebuild from its config.
//!
//! One [`StateStore`] trait, two implementations:
//! - [`EmbeddedStore`]: in-process (governor token buckets, a mutex-guarded
//!   usage table); the default for one gateway.
//! - [`RedisStore`]: a Redis server shared by several gateway instances
//!   behind a load balancer; every read-modify-write is one atomic Lua script.
//!
//! The *limit* stage ([`crate::limits`]) takes tokens; the quota ledger
//! ([`crate::quota`]) reserves, settles and releases bytes.
//!
//! # Quota accounting
//!
//! A bucket's usage is `used` (bytes of stored objects) plus `reserved`
//! (bytes of writes in flight, and of multipart parts uploaded but not yet
//! completed or aborted). Usage is *unknown* until a scan of the backend
//! records it ([`StateStore::set_usage`]); while unknown, reservations
//! answer [`Reservation::Unknown`] and the gateway refuses writes to capped
//! buckets.

pub mod embedded;
mod redis;

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;

pub use embedded::EmbeddedStore;
pub use redis::{RedisSettings, RedisStore, url_holds_password};

/// A token bucket: `rate` tokens per second, holding at most `burst`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Tokens added per second (requests per second sustained); may be fractional.
    pub rate: f64,
    /// Bucket size: how many requests may arrive at once after a quiet period.
    pub burst: u32,
}

impl RateLimit {
    /// Time between two tokens; `None` unless the rate is positive, finite
    /// and at least one token per year.
    pub fn period(&self) -> Option<Duration> {
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return None;
        }
        Duration::try_from_secs_f64(1.0 / self.rate)
            .ok()
            .filter(|period| *period <= Duration::from_secs(366 * 86_400) && !period.is_zero())
    }
}

/// The answer of [`StateStore::take_token`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateVerdict {
    /// A token was taken.
    Allowed,
    /// The bucket is empty; the next token arrives after `retry_after`.
    Limited {
        /// Time until the next token.
        retry_after: Duration,
    },
}

/// A bucket's usage in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    /// Bytes of stored objects.
    pub used: u64,
    /// Bytes reserved by writes in flight and by uploaded multipart parts.
    pub reserved: u64,
}

impl Usage {
    /// `used + reserved`.
    pub fn total(&self) -> u64 {
        self.used.saturating_add(self.reserved)
    }
}

/// The answer of [`StateStore::reserve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The bytes are reserved; settle or release them exactly once.
    Granted,
    /// The bytes would take usage past the cap; nothing was reserved.
    Refused(Usage),
    /// The bucket's usage is unknown (not scanned yet, or state lost);
    /// nothing was reserved.
    Unknown,
}

/// The answer of [`StateStore::lock_object`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectLockGrant {
    /// The store is this process's own: the ledger's in-process lock is
    /// the only one needed.
    Local,
    /// The store-wide lock is held under this token until
    /// [`StateStore::unlock_object`] (or until it expires, one lease after
    /// its last renewal).
    Held(String),
    /// Another holder kept the lock for the whole wait.
    Busy,
}

/// Why the state store could not answer.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The store is unreachable or answered with an error.
    #[error("state store unavailable: {0}")]
    Unavailable(String),
}

/// Where quota usage and rate-limit buckets live.
///
/// # Contract
///
/// - [`take_token`](Self::take_token) creates a missing bucket full; the
///   state of an idle bucket may be dropped once it would be full again.
/// - Usage of a bucket is unknown until [`set_usage`](Self::set_usage).
///   While unknown, [`reserve`](Self::reserve) answers
///   [`Reservation::Unknown`]; settle and finish still lower `reserved`
///   but leave `used` unknown.
/// - [`reserve`](Self::reserve) checks and reserves in one atomic step:
///   concurrent reservations, from this process or any other sharing the
///   store, never together exceed the cap.
/// - Counters never go below zero.
/// - Reservations of a process that stops without settling them are
///   dropped by the store in bounded time ([`RedisStore`]: the process
///   lease) or with the process ([`EmbeddedStore`]).
/// - Reservations of a live process survive a store outage: a store that
///   may drop them (the [`RedisStore`] lease) has the process re-assert
///   them once the store answers again.
/// - A store that does not answer fails each call within its timeouts, and
///   fails at once while it is known not to answer.
#[async_trait]
pub trait StateStore: Send + Sync + Debug {
    /// `embedded` or `redis`.
    fn kind(&self) -> &'static str;

    /// Takes one token from the bucket named `key` (e.g. `credential:AKID`).
    async fn take_token(&self, key: &str, limit: RateLimit) -> Result<RateVerdict, StateError>;

    /// The bucket's usage; `None` when unknown.
    async fn usage(&self, bucket: &str) -> Result<Option<Usage>, StateError>;

    /// Records a scan's result as the bucket's `used` bytes: always when
    /// `replace`, otherwise only while usage is unknown (so that one
    /// instance's late scan never overwrites what others have counted since).
    async fn set_usage(&self, bucket: &str, used: u64, replace: bool) -> Result<(), StateError>;

    /// Reserves `bytes` if `used + reserved + bytes <= cap` (no `cap`: in any case).
    async fn reserve(
        &self,
        bucket: &str,
        bytes: u64,
        cap: Option<u64>,
    ) -> Result<Reservation, StateError>;

    /// Ends a granted reservation of `reserved` bytes and moves `used` by
    /// `used_delta` (a release is `settle(bucket, bytes, 0)`).
    async fn settle(&self, bucket: &str, reserved: u64, used_delta: i64) -> Result<(), StateError>;

    /// Keeps a granted reservation of `bytes` as part `part` of multipart
    /// upload `upload_id` of object `key` until the upload finishes. A part
    /// uploaded again under the same number replaces the earlier one, whose
    /// bytes are released.
    ///
    /// An upload is known by its bucket, key *and* id together: an id named
    /// with another key is another upload (one that holds nothing), so
    /// nothing a request says about it moves the real upload's bytes.
    async fn hold_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part: u32,
        bytes: u64,
    ) -> Result<(), StateError>;

    /// Ends multipart upload `upload_id` of object `key` (completed or
    /// aborted): releases every part it holds and moves `used` by
    /// `used_delta`.
    async fn finish_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        used_delta: i64,
    ) -> Result<(), StateError>;

    /// Takes the lock on object `key` of `bucket` shared by every process
    /// using the store, waiting at most `wait` for another holder. The
    /// caller holds its in-process lock on the object meanwhile, so one
    /// process asks for one object's lock once at a time.
    async fn lock_object(
        &self,
        bucket: &str,
        key: &str,
        wait: Duration,
    ) -> Result<ObjectLockGrant, StateError>;

    /// Releases a lock [`Self::lock_object`] granted under `token`; a lock
    /// that expired and was taken by another holder is left alone. Answers
    /// whether `token` still held it: `false` when the lock expired
    /// meanwhile (another holder may have changed the object in between).
    async fn unlock_object(&self, bucket: &str, key: &str, token: &str)
    -> Result<bool, StateError>;

    /// Makes the bucket's usage unknown again, so that writes to it are
    /// refused until a scan records it (after the ledger may have counted
    /// a change wrongly). Reservations stay.
    async fn forget_usage(&self, bucket: &str) -> Result<(), StateError>;

    /// Periodic housekeeping (evict idle limiter state, renew the process
    /// lease and the object locks held); called every few seconds by a
    /// background task.
    async fn maintain(&self) -> Result<(), StateError>;
}
