//! The Redis state store: quota ledgers and token buckets in a Redis server
//! shared by several gateway instances. Every read-modify-write is one Lua
//! script (in `lua/`), so it is atomic across instances.
//!
//! # Keys
//!
//! With `P` the key prefix and `b` a bucket (the `{b}` hash tag keeps one
//! bucket's keys in one Redis Cluster slot; scripts get every key they touch
//! in `KEYS`):
//!
//! - `P:quota:{b}:used`: bytes stored; absent while usage is unknown.
//! - `P:quota:{b}:inflight`: hash, instance id -> bytes its writes in flight reserve.
//! - `P:quota:{b}:lease`: hash, instance id -> lease expiry (ms, redis `TIME`).
//!   Every script an instance runs on a bucket renews its lease there, and
//!   [`StateStore::maintain`] renews it wherever the instance has writes in
//!   flight; reservations of an instance whose lease expired are dropped.
//! - `P:quota:{b}:held`: bytes held by uploaded multipart parts.
//! - `P:quota:{b}:upload:<n>:<id>:<key>`: hash, part number -> bytes, of
//!   the multipart upload `id` of object `key` (`n` the length of `id` in
//!   bytes, so no id and key pair can name another pair's hash).
//! - `P:quota:{b}:lock:<key>`: the lock on object `key` while an instance
//!   changes its size: the holder's token, set only if absent, expiring one
//!   lease after the holder's last renewal ([`StateStore::maintain`] renews
//!   the locks an instance holds), deleted by its holder alone.
//! - `P:rate:<key>`: a token bucket as a GCRA theoretical arrival time
//!   (µs, redis `TIME`) that expires once the bucket would be full again.
//!
//! Byte counters are Lua numbers in the scripts: exact up to 2^53 bytes
//! (8 PiB) per bucket. Token buckets count in microseconds: rates above a
//! million per second act as a million per second.
//!
//! # Connection
//!
//! [`RedisStore::new`] only parses the URL; the first call connects. Until
//! a connection succeeds every call fails with [`StateError::Unavailable`]
//! and the next one tries again; once connected, the connection manager
//! reconnects by itself. Every call is bounded by the connect and response
//! timeouts, and once a call found the server silent a circuit breaker
//! ([`breaker`]) fails calls at once until a trial call answers, so a
//! request waits on a silent server at most once.
//!
//! # Outages longer than the lease
//!
//! Every quota script is given the bytes this instance knows the store
//! should count as its in flight on the bucket just before the script runs:
//! its granted reservations, including those whose settle or hold (the
//! script's own, or another's still on its way) has not answered yet. The
//! first script to find the instance's lease lapsed re-asserts them (never
//! lowering what the store holds) before moving bytes itself, so
//! reservations the store dropped when the lease lapsed during an outage
//! count again with the first call after it, and a settle or hold that is
//! that call, or lands after it, takes only its own bytes.

mod breaker;
mod settings;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Client, RedisError, RedisResult, Script, ScriptInvocation, Value};
use async_trait::async_trait;
use tokio::sync::OnceCell;

use self::breaker::{Admission, Breaker};
use self::settings::{Secrets, redact};
use super::{ObjectLockGrant, RateLimit, RateVerdict, Reservation, StateError, StateStore, Usage};

pub use self::settings::{RedisSettings, url_holds_password};

/// A quota script: the shared prelude followed by its body.
macro_rules! quota_script {
    ($file:literal) => {
        Script::new(concat!(
            include_str!("lua/quota_prelude.lua"),
            include_str!($file)
        ))
    };
}

/// The Lua scripts, hashed once (`EVALSHA`, loaded on `NOSCRIPT`).
struct Scripts {
    reserve: Script,
    usage: Script,
    settle: Script,
    hold_part: Script,
    finish_upload: Script,
    renew: Script,
    reconcile: Script,
    take_token: Script,
    unlock_object: Script,
    renew_object_lock: Script,
}

impl Scripts {
    fn new() -> Self {
        Self {
            reserve: quota_script!("lua/reserve.lua"),
            usage: quota_script!("lua/usage.lua"),
            settle: quota_script!("lua/settle.lua"),
            hold_part: quota_script!("lua/hold_part.lua"),
            finish_upload: quota_script!("lua/finish_upload.lua"),
            renew: quota_script!("lua/renew.lua"),
            reconcile: quota_script!("lua/reconcile.lua"),
            take_token: Script::new(include_str!("lua/take_token.lua")),
            unlock_object: Script::new(include_str!("lua/unlock_object.lua")),
            renew_object_lock: Script::new(include_str!("lua/renew_object_lock.lua")),
        }
    }
}

/// Quota usage and rate limits in Redis, shared by every instance using the
/// same server and key prefix.
pub struct RedisStore {
    settings: RedisSettings,
    client: Client,
    secrets: Secrets,
    /// This instance's id in the in-flight and lease hashes.
    instance: String,
    lease_ms: u64,
    connection: OnceCell<ConnectionManager>,
    /// Bytes this instance has in flight, per bucket: what quota scripts
    /// re-assert after a lapse, and where maintenance renews its lease.
    in_flight: Mutex<HashMap<String, Flight>>,
    /// Buckets where a reserve, settle or hold failed without this instance
    /// learning whether it ran: maintenance sets the store's count of this
    /// instance's in-flight bytes back to the local one.
    unsure: Mutex<HashSet<String>>,
    /// Object locks this instance holds: lock key -> token, renewed by
    /// maintenance.
    object_locks: Mutex<HashMap<String, String>>,
    /// Stops calls from waiting on a server known not to answer.
    breaker: Breaker,
    scripts: Scripts,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("settings", &self.settings)
            .field("instance", &self.instance)
            .field("connected", &self.connection.initialized())
            .field("breaker_open", &self.breaker.is_open())
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store for `settings`. Parses the URL but does not connect: the
    /// first call does, so a server that is down only fails calls until it
    /// is up.
    pub fn new(settings: RedisSettings) -> Result<Self, StateError> {
        let client = Client::open(settings.url.as_str()).map_err(|error| {
            let secrets = Secrets::new(&settings.url, None);
            StateError::Unavailable(format!(
                "invalid redis url {}: {}",
                redact(&settings.url),
                secrets.scrub(&error.to_string())
            ))
        })?;
        let secrets = Secrets::new(
            &settings.url,
            client.get_connection_info().redis_settings().password(),
        );
        let lease_ms = u64::try_from(settings.lease.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let breaker = Breaker::new(
            settings
                .connect_timeout
                .saturating_add(settings.response_timeout),
        );
        Ok(Self {
            settings,
            client,
            secrets,
            instance: format!("{:016x}", rand::random::<u64>()),
            lease_ms,
            connection: OnceCell::new(),
            in_flight: Mutex::new(HashMap::new()),
            unsure: Mutex::new(HashSet::new()),
            object_locks: Mutex::new(HashMap::new()),
            breaker,
            scripts: Scripts::new(),
        })
    }

    /// The connection, established by the first caller.
    async fn connection(&self) -> RedisResult<ConnectionManager> {
        let connect = || {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(self.settings.connect_timeout))
                .set_response_timeout(Some(self.settings.response_timeout))
                .set_number_of_retries(1)
                .set_min_delay(Duration::from_millis(50))
                .set_max_delay(Duration::from_millis(500));
            ConnectionManager::new_with_config(self.client.clone(), config)
        };
        self.connection.get_or_try_init(connect).await.cloned()
    }

    /// Runs `command` on the connection within the connect and response
    /// timeouts, or fails at once while the breaker is open.
    async fn run<T, F, Fut>(&self, command: F) -> Result<T, StateError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if self.breaker.admit() == Admission::Refused {
            return Err(StateError::Unavailable(
                "redis did not answer a recent call; not waiting on it again yet".into(),
            ));
        }
        let deadline = self
            .settings
            .connect_timeout
            .saturating_add(self.settings.response_timeout);
        let work = async { command(self.connection().await?).await };
        let (result, silent) = match tokio::time::timeout(deadline, work).await {
            Ok(Ok(value)) => (Ok(value), false),
            Ok(Err(error)) => (Err(self.unavailable(&error)), is_silence(&error)),
            Err(_) => (
                Err(StateError::Unavailable(format!(
                    "redis did not answer within {deadline:?}"
                ))),
                true,
            ),
        };
        if silent {
            if self.breaker.silent() {
                tracing::warn!(
                    cool_down = ?breaker::COOL_DOWN,
                    "redis does not answer: calls fail at once until a trial call answers"
                );
            }
        } else if self.breaker.answered() {
            tracing::info!("redis answers again");
        }
        result
    }

    /// Runs a script answering a list of integers.
    async fn eval(&self, invocation: ScriptInvocation<'_>) -> Result<Vec<i64>, StateError> {
        self.run(|mut connection| async move { invocation.invoke_async(&mut connection).await })
            .await
    }

    fn unavailable(&self, error: &RedisError) -> StateError {
        StateError::Unavailable(format!("redis: {}", self.secrets.scrub(&error.to_string())))
    }

    fn quota_key(&self, bucket: &str, name: &str) -> String {
        format!("{}:quota:{{{bucket}}}:{name}", self.settings.key_prefix)
    }

    /// The hash of the parts of upload `upload_id` of object `key`.
    fn upload_key(&self, bucket: &str, key: &str, upload_id: &str) -> String {
        self.quota_key(
            bucket,
            &format!("upload:{}:{upload_id}:{key}", upload_id.len()),
        )
    }

    /// `script` with the bucket's four keys, this instance's id and lease,
    /// and the bytes it knows the store should count as its in flight on
    /// the bucket before the script runs ([`Flight::known`]), which a
    /// script finding the lease lapsed re-asserts (the store may have
    /// dropped them while the server did not answer) before its own move.
    fn quota<'a>(&self, script: &'a Script, bucket: &str) -> ScriptInvocation<'a> {
        let known = lock(&self.in_flight)
            .get(bucket)
            .copied()
            .unwrap_or_default()
            .known();
        let mut invocation = script.prepare_invoke();
        invocation
            .key(self.quota_key(bucket, "used"))
            .key(self.quota_key(bucket, "inflight"))
            .key(self.quota_key(bucket, "lease"))
            .key(self.quota_key(bucket, "held"))
            .arg(&self.instance)
            .arg(self.lease_ms)
            .arg(known);
        invocation
    }

    /// Runs a script that changes this instance's in-flight bytes; on
    /// failure, marks the bucket for reconciliation.
    async fn eval_in_flight(
        &self,
        bucket: &str,
        invocation: ScriptInvocation<'_>,
    ) -> Result<Vec<i64>, StateError> {
        let result = self.eval(invocation).await;
        if result.is_err() {
            lock(&self.unsure).insert(bucket.to_owned());
        }
        result
    }

    /// Moves this instance's count of bytes in flight on `bucket`; returns
    /// what `update` returns.
    fn track<T>(&self, bucket: &str, update: impl FnOnce(&mut Flight) -> T) -> T {
        let mut in_flight = lock(&self.in_flight);
        let mut flight = in_flight.get(bucket).copied().unwrap_or_default();
        let answer = update(&mut flight);
        if flight == Flight::default() {
            in_flight.remove(bucket);
        } else {
            in_flight.insert(bucket.to_owned(), flight);
        }
        answer
    }

    /// Ends `bytes` of this instance's reservations on `bucket` locally:
    /// they stop being granted (maintenance no longer renews the lease for
    /// them) but stay counted as ending until the returned guard drops,
    /// once the settle or hold telling the store has answered.
    fn end<'a>(&'a self, bucket: &'a str, bytes: u64) -> Ending<'a> {
        let bytes = self.track(bucket, |flight| {
            let bytes = bytes.min(flight.granted);
            flight.granted -= bytes;
            flight.ending = flight.ending.saturating_add(bytes);
            bytes
        });
        Ending {
            store: self,
            bucket,
            bytes,
            answered: false,
        }
    }
}

/// This instance's bytes in flight on one bucket.
///
/// The store should count, as this instance's in flight, the bytes of every
/// reservation it granted whose settle or hold has not run yet. Locally,
/// `granted` rises only once the store's grant arrived, and a reservation's
/// bytes move from `granted` to `ending` before its settle or hold is sent
/// and leave `ending` once that answered. So [`Flight::known`] is what the
/// store should count before any script of this instance still on its way
/// runs: a script that finds the lease lapsed re-asserts it and then makes
/// its own move (a settle taking its bytes leaves the others counted), and
/// scripts landing after it make theirs on a count that still holds their
/// bytes. (Between a script running and its answer arriving `known` counts
/// its bytes once more than the store should, but that script has just
/// renewed the lease, so no script re-asserts meanwhile.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Flight {
    /// Bytes of reservations granted and not yet ended by their writes.
    granted: u64,
    /// Bytes of reservations whose settle or hold has not answered yet.
    ending: u64,
}

impl Flight {
    /// The bytes a quota script re-asserts after a lapse.
    fn known(self) -> u64 {
        self.granted.saturating_add(self.ending)
    }
}

/// Bytes of a settle or hold on their way to the store ([`RedisStore::end`]).
/// Dropped before its answer (the call was abandoned), it marks the bucket
/// for reconciliation: the store may or may not have run it.
struct Ending<'a> {
    store: &'a RedisStore,
    bucket: &'a str,
    bytes: u64,
    answered: bool,
}

impl Ending<'_> {
    /// The call answered (an error marks the bucket itself).
    fn answered(mut self) {
        self.answered = true;
    }
}

impl Drop for Ending<'_> {
    fn drop(&mut self) {
        let bytes = self.bytes;
        self.store.track(self.bucket, |flight| {
            flight.ending = flight.ending.saturating_sub(bytes);
        });
        if !self.answered {
            lock(&self.store.unsure).insert(self.bucket.to_owned());
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update under this lock is a single insert or remove.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether `error` says the server is out of reach (rather than that it
/// answered with an error).
fn is_silence(error: &RedisError) -> bool {
    error.is_timeout()
        || error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
}

fn unexpected(reply: &[i64]) -> StateError {
    StateError::Unavailable(format!("redis: unexpected script reply {reply:?}"))
}

fn bytes(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

#[async_trait]
impl StateStore for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn take_token(&self, key: &str, limit: RateLimit) -> Result<RateVerdict, StateError> {
        let period = limit.period().ok_or_else(|| {
            StateError::Unavailable("a rate limit's rate must be positive".into())
        })?;
        if limit.burst == 0 {
            return Err(StateError::Unavailable(
                "a rate limit's burst must be at least 1".into(),
            ));
        }
        let period_us = u64::try_from(period.as_micros()).unwrap_or(u64::MAX).max(1);
        let mut invocation = self
            .scripts
            .take_token
            .key(format!("{}:rate:{key}", self.settings.key_prefix));
        invocation.arg(period_us).arg(limit.burst);
        match self.eval(invocation).await?.as_slice() {
            [1] => Ok(RateVerdict::Allowed),
            [0, wait_us] => Ok(RateVerdict::Limited {
                retry_after: Duration::from_micros(bytes(*wait_us)).max(Duration::from_millis(1)),
            }),
            other => Err(unexpected(other)),
        }
    }

    async fn usage(&self, bucket: &str) -> Result<Option<Usage>, StateError> {
        match self
            .eval(self.quota(&self.scripts.usage, bucket))
            .await?
            .as_slice()
        {
            [0] => Ok(None),
            [1, used, reserved] => Ok(Some(Usage {
                used: bytes(*used),
                reserved: bytes(*reserved),
            })),
            other => Err(unexpected(other)),
        }
    }

    async fn set_usage(&self, bucket: &str, used: u64, replace: bool) -> Result<(), StateError> {
        let mut command = ::redis::cmd("SET");
        command.arg(self.quota_key(bucket, "used")).arg(used);
        if !replace {
            command.arg("NX");
        }
        self.run(
            |mut connection| async move { command.query_async::<Value>(&mut connection).await },
        )
        .await
        .map(drop)
    }

    async fn reserve(
        &self,
        bucket: &str,
        bytes_wanted: u64,
        cap: Option<u64>,
    ) -> Result<Reservation, StateError> {
        let mut invocation = self.quota(&self.scripts.reserve, bucket);
        invocation
            .arg(bytes_wanted)
            .arg(cap.map_or_else(String::new, |cap| cap.to_string()));
        match self.eval_in_flight(bucket, invocation).await?.as_slice() {
            [0] => Ok(Reservation::Unknown),
            [1] => {
                self.track(bucket, |flight| {
                    flight.granted = flight.granted.saturating_add(bytes_wanted);
                });
                Ok(Reservation::Granted)
            }
            [2, used, reserved] => Ok(Reservation::Refused(Usage {
                used: bytes(*used),
                reserved: bytes(*reserved),
            })),
            other => Err(unexpected(other)),
        }
    }

    async fn settle(&self, bucket: &str, reserved: u64, used_delta: i64) -> Result<(), StateError> {
        // The caller is done with the reservation whatever the store answers:
        // stop renewing the lease for it, so that the store drops it in time
        // if this call does not reach it.
        let ending = self.end(bucket, reserved);
        let mut invocation = self.quota(&self.scripts.settle, bucket);
        invocation.arg(reserved).arg(used_delta);
        let result = self.eval_in_flight(bucket, invocation).await.map(drop);
        ending.answered();
        result
    }

    async fn hold_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part: u32,
        bytes_held: u64,
    ) -> Result<(), StateError> {
        let ending = self.end(bucket, bytes_held);
        let mut invocation = self.quota(&self.scripts.hold_part, bucket);
        invocation
            .key(self.upload_key(bucket, key, upload_id))
            .arg(part)
            .arg(bytes_held);
        let result = self.eval_in_flight(bucket, invocation).await.map(drop);
        ending.answered();
        result
    }

    async fn finish_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        used_delta: i64,
    ) -> Result<(), StateError> {
        let mut invocation = self.quota(&self.scripts.finish_upload, bucket);
        invocation
            .key(self.upload_key(bucket, key, upload_id))
            .arg(used_delta);
        self.eval(invocation).await.map(drop)
    }

    async fn lock_object(
        &self,
        bucket: &str,
        key: &str,
        wait: Duration,
    ) -> Result<ObjectLockGrant, StateError> {
        let name = self.quota_key(bucket, &format!("lock:{key}"));
        let token = format!("{}:{:016x}", self.instance, rand::random::<u64>());
        let deadline = tokio::time::Instant::now() + wait;
        let mut pause = Duration::from_millis(2);
        loop {
            let mut command = ::redis::cmd("SET");
            command
                .arg(&name)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(self.lease_ms);
            let reply =
                self.run(|mut connection| async move {
                    command.query_async::<Value>(&mut connection).await
                })
                .await?;
            if reply != Value::Nil {
                lock(&self.object_locks).insert(name, token.clone());
                return Ok(ObjectLockGrant::Held(token));
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Ok(ObjectLockGrant::Busy);
            }
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    async fn unlock_object(
        &self,
        bucket: &str,
        key: &str,
        token: &str,
    ) -> Result<bool, StateError> {
        let name = self.quota_key(bucket, &format!("lock:{key}"));
        {
            let mut held = lock(&self.object_locks);
            if held.get(&name).is_some_and(|held| held == token) {
                held.remove(&name);
            }
        }
        let mut invocation = self.scripts.unlock_object.key(name);
        invocation.arg(token);
        self.run(
            |mut connection| async move { invocation.invoke_async::<i64>(&mut connection).await },
        )
        .await
        .map(|released| released == 1)
    }

    async fn forget_usage(&self, bucket: &str) -> Result<(), StateError> {
        let mut command = ::redis::cmd("DEL");
        command.arg(self.quota_key(bucket, "used"));
        self.run(
            |mut connection| async move { command.query_async::<Value>(&mut connection).await },
        )
        .await
        .map(drop)
    }

    async fn maintain(&self) -> Result<(), StateError> {
        let held: Vec<(String, String)> = lock(&self.object_locks)
            .iter()
            .map(|(name, token)| (name.clone(), token.clone()))
            .collect();
        for (name, token) in held {
            let mut invocation = self.scripts.renew_object_lock.key(name);
            invocation.arg(token).arg(self.lease_ms);
            self.run(|mut connection| async move {
                invocation.invoke_async::<i64>(&mut connection).await
            })
            .await?;
        }
        let unsure: Vec<String> = lock(&self.unsure).iter().cloned().collect();
        for bucket in unsure {
            // The script sets the entry to the count `quota` passes.
            self.eval(self.quota(&self.scripts.reconcile, &bucket))
                .await?;
            lock(&self.unsure).remove(&bucket);
        }
        let buckets: Vec<String> = lock(&self.in_flight)
            .iter()
            .filter(|(_, flight)| flight.granted > 0)
            .map(|(bucket, _)| bucket.clone())
            .collect();
        for bucket in buckets {
            // Stop at the first failure: the next round tries again, well
            // within the lease when the maintenance interval is shorter.
            self.eval(self.quota(&self.scripts.renew, &bucket)).await?;
        }
        Ok(())
    }
}
