//! The [`StateStore`] contract, written once and run against both stores:
//! the embedded one and the Redis one talking to a real `redis-server` that
//! each test starts on 127.0.0.1. Then what only the Redis store has: its
//! key layout, leases, and behaviour while the server is down or restarts.

#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    reason = "test code: a failed step should stop the test loudly"
)]

mod utils;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cedargate::state::{
    EmbeddedStore, RateLimit, RateVerdict, RedisSettings, RedisStore, Reservation, StateError,
    StateStore, Usage,
};

use utils::{RedisServer, free_port};

const MIB: u64 = 1024 * 1024;

/// A plain connection for looking at the keys.
fn inspect(server: &RedisServer) -> redis::Connection {
    redis::Client::open(server.url())
        .expect("redis url")
        .get_connection_with_timeout(Duration::from_secs(2))
        .expect("connect to redis-server")
}

fn settings(url: String) -> RedisSettings {
    RedisSettings {
        url,
        key_prefix: "cgtest".to_owned(),
        connect_timeout: Duration::from_millis(500),
        response_timeout: Duration::from_millis(500),
        ..RedisSettings::default()
    }
}

fn redis_store(url: String) -> Arc<dyn StateStore> {
    Arc::new(RedisStore::new(settings(url)).expect("redis store"))
}

// ---------------------------------------------------------------------------
// The contract, once for both stores.

/// What a case runs against. `store()` is another handle on the same state:
/// the same embedded store, or another Redis store (another instance, as a
/// second gateway process would have) on the same server.
enum Subject {
    Embedded(Arc<EmbeddedStore>),
    Redis(String),
}

impl Subject {
    fn store(&self) -> Arc<dyn StateStore> {
        match self {
            Self::Embedded(store) => Arc::clone(store) as Arc<dyn StateStore>,
            Self::Redis(url) => redis_store(url.clone()),
        }
    }
}

fn usage(used: u64, reserved: u64) -> Option<Usage> {
    Some(Usage { used, reserved })
}

async fn usage_is_unknown_until_a_scan_records_it(subject: &Subject) {
    let store = subject.store();
    assert_eq!(store.usage("b").await.unwrap(), None);
    assert_eq!(
        store.reserve("b", 10, Some(100)).await.unwrap(),
        Reservation::Unknown
    );
    assert_eq!(
        store.reserve("b", 10, None).await.unwrap(),
        Reservation::Unknown
    );
    // Settling and finishing lower `reserved` but leave `used` unknown.
    store.settle("b", 0, 50).await.unwrap();
    store.finish_upload("b", "k", "u", 50).await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), None);
    // Usage is per bucket.
    store.set_usage("other", 7, false).await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), None);
    assert_eq!(store.usage("other").await.unwrap(), usage(7, 0));
    // Forgotten usage is unknown again, until the next scan.
    store.forget_usage("other").await.unwrap();
    assert_eq!(store.usage("other").await.unwrap(), None);
    store.set_usage("other", 9, false).await.unwrap();
    assert_eq!(store.usage("other").await.unwrap(), usage(9, 0));
}

async fn a_late_scan_never_overwrites_unless_it_replaces(subject: &Subject) {
    let store = subject.store();
    store.set_usage("b", 100, false).await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(100, 0));
    store.set_usage("b", 200, false).await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(100, 0));
    store.set_usage("b", 300, true).await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(300, 0));
    store.set_usage("b", 0, true).await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(0, 0));
}

async fn reservations_are_checked_against_the_cap(subject: &Subject) {
    let store = subject.store();
    store.set_usage("b", 100, false).await.unwrap();
    assert_eq!(
        store.reserve("b", 50, Some(200)).await.unwrap(),
        Reservation::Granted
    );
    assert_eq!(store.usage("b").await.unwrap(), usage(100, 50));
    assert_eq!(
        store.reserve("b", 51, Some(200)).await.unwrap(),
        Reservation::Refused(Usage {
            used: 100,
            reserved: 50
        })
    );
    // Exactly up to the cap is fine.
    assert_eq!(
        store.reserve("b", 50, Some(200)).await.unwrap(),
        Reservation::Granted
    );
    assert_eq!(
        store.reserve("b", 1, Some(200)).await.unwrap(),
        Reservation::Refused(Usage {
            used: 100,
            reserved: 100
        })
    );
    // Without a cap, anything goes.
    assert_eq!(
        store.reserve("b", 10 * MIB, None).await.unwrap(),
        Reservation::Granted
    );
    assert_eq!(store.usage("b").await.unwrap(), usage(100, 100 + 10 * MIB));
}

async fn settling_moves_used_and_never_below_zero(subject: &Subject) {
    let store = subject.store();
    store.set_usage("b", 1000, false).await.unwrap();
    assert_eq!(
        store.reserve("b", 100, Some(5000)).await.unwrap(),
        Reservation::Granted
    );
    store.settle("b", 100, 100).await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(1100, 0));
    assert_eq!(
        store.reserve("b", 50, None).await.unwrap(),
        Reservation::Granted
    );
    store.settle("b", 50, -300).await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(800, 0));
    // A release.
    assert_eq!(
        store.reserve("b", 70, None).await.unwrap(),
        Reservation::Granted
    );
    store.settle("b", 70, 0).await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(800, 0));
    // Clamped at zero: used, and in-flight bytes settled twice.
    store.settle("b", 0, -5000).await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(0, 0));
    assert_eq!(
        store.reserve("b", 10, None).await.unwrap(),
        Reservation::Granted
    );
    store.settle("b", 1000, 0).await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(0, 0));
    assert_eq!(
        store.reserve("b", 10, Some(10)).await.unwrap(),
        Reservation::Granted
    );
}

async fn concurrent_reservations_never_exceed_the_cap(subject: &Subject) {
    // Two handles: on Redis, two instances racing on one server.
    let stores = [subject.store(), subject.store()];
    stores[0].set_usage("b", 0, false).await.unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = Arc::clone(&stores[i % 2]);
            tokio::spawn(async move { store.reserve("b", MIB, Some(10 * MIB)).await })
        })
        .collect();
    let mut granted = 0;
    for task in tasks {
        match task.await.expect("task").expect("reserve") {
            Reservation::Granted => granted += 1,
            Reservation::Refused(usage) => assert!(usage.total() + MIB > 10 * MIB, "{usage:?}"),
            Reservation::Unknown => panic!("usage was recorded"),
        }
    }
    assert_eq!(granted, 10);
    assert_eq!(stores[1].usage("b").await.unwrap(), usage(0, 10 * MIB));
}

async fn uploaded_parts_are_held_until_the_upload_finishes(subject: &Subject) {
    let store = subject.store();
    store.set_usage("b", 0, false).await.unwrap();
    assert_eq!(
        store.reserve("b", 100, Some(1000)).await.unwrap(),
        Reservation::Granted
    );
    store.hold_part("b", "k", "up", 1, 100).await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(0, 100));
    // The same part again replaces the first.
    assert_eq!(
        store.reserve("b", 60, Some(1000)).await.unwrap(),
        Reservation::Granted
    );
    assert_eq!(store.usage("b").await.unwrap(), usage(0, 160));
    store.hold_part("b", "k", "up", 1, 60).await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(0, 60));
    assert_eq!(
        store.reserve("b", 40, Some(1000)).await.unwrap(),
        Reservation::Granted
    );
    store.hold_part("b", "k", "up", 2, 40).await.unwrap();
    assert_eq!(
        store.reserve("b", 7, Some(1000)).await.unwrap(),
        Reservation::Granted
    );
    store
        .hold_part("b", "k2", "other-upload", 1, 7)
        .await
        .unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(0, 107));
    // Held parts count against the cap.
    assert_eq!(
        store.reserve("b", 900, Some(1000)).await.unwrap(),
        Reservation::Refused(Usage {
            used: 0,
            reserved: 107
        })
    );
    // The upload's id named with another key is another upload: ending
    // it releases nothing.
    store.finish_upload("b", "k2", "up", 0).await.unwrap();
    store
        .finish_upload("b", "k", "other-upload", 0)
        .await
        .unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(0, 107));
    // Completing releases the parts and stores the object.
    store.finish_upload("b", "k", "up", 100).await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(100, 7));
    // Finishing twice (or an unknown upload) releases nothing more.
    store.finish_upload("b", "k", "up", 0).await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(100, 7));
    // Aborting releases without storing.
    store
        .finish_upload("b", "k2", "other-upload", 0)
        .await
        .unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(100, 0));
}

async fn tokens_come_in_bursts_then_at_the_rate(subject: &Subject) {
    let store = subject.store();
    let limit = RateLimit {
        rate: 1.0,
        burst: 3,
    };
    for _ in 0..3 {
        assert_eq!(
            store.take_token("k", limit).await.unwrap(),
            RateVerdict::Allowed
        );
    }
    let RateVerdict::Limited { retry_after } = store.take_token("k", limit).await.unwrap() else {
        panic!("a fourth token within the burst")
    };
    // One token per second: the next one within a second, minus the time
    // the first three took.
    assert!(retry_after > Duration::from_millis(500), "{retry_after:?}");
    assert!(retry_after <= Duration::from_secs(1), "{retry_after:?}");
    // Another key has its own bucket.
    assert_eq!(
        store.take_token("other", limit).await.unwrap(),
        RateVerdict::Allowed
    );
    tokio::time::sleep(retry_after).await;
    assert_eq!(
        store.take_token("k", limit).await.unwrap(),
        RateVerdict::Allowed
    );
    let RateVerdict::Limited { retry_after } = store.take_token("k", limit).await.unwrap() else {
        panic!("a token before its time")
    };
    assert!(retry_after >= Duration::from_millis(1), "{retry_after:?}");
}

async fn invalid_rate_limits_are_errors(subject: &Subject) {
    let store = subject.store();
    for (rate, burst) in [
        (1.0, 0),
        (0.0, 1),
        (-1.0, 1),
        (f64::NAN, 1),
        (f64::INFINITY, 1),
    ] {
        assert!(
            store
                .take_token("k", RateLimit { rate, burst })
                .await
                .is_err(),
            "rate {rate} burst {burst}"
        );
    }
}

/// One test per case and store.
macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod on_embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let subject = super::Subject::Embedded(std::sync::Arc::default());
                    super::$case(&subject).await;
                }
            )*
        }
        mod on_redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let server = super::RedisServer::start();
                    super::$case(&super::Subject::Redis(server.url())).await;
                }
            )*
        }
    };
}

contract!(
    usage_is_unknown_until_a_scan_records_it,
    a_late_scan_never_overwrites_unless_it_replaces,
    reservations_are_checked_against_the_cap,
    settling_moves_used_and_never_below_zero,
    concurrent_reservations_never_exceed_the_cap,
    uploaded_parts_are_held_until_the_upload_finishes,
    tokens_come_in_bursts_then_at_the_rate,
    invalid_rate_limits_are_errors,
);

// ---------------------------------------------------------------------------
// Redis only.

fn assert_unavailable<T: std::fmt::Debug>(result: Result<T, StateError>) -> String {
    match result {
        Err(StateError::Unavailable(message)) => message,
        Ok(value) => panic!("redis answered {value:?}"),
    }
}

/// Retries `call` every 50 ms until it succeeds, for at most `within`.
async fn eventually<T, F, Fut>(within: Duration, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StateError>>,
{
    let deadline = Instant::now() + within;
    loop {
        match call().await {
            Ok(value) => return value,
            Err(error) if Instant::now() > deadline => panic!("still failing: {error}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

#[test]
fn construction_needs_no_runtime_and_rejects_bad_urls() {
    assert!(RedisStore::new(RedisSettings::default()).is_ok());
    let error = RedisStore::new(RedisSettings {
        url: "http://user:hunter2@example.invalid/".to_owned(),
        ..RedisSettings::default()
    })
    .expect_err("not a redis url");
    assert!(!error.to_string().contains("hunter2"), "{error}");
    assert!(
        RedisStore::new(RedisSettings {
            url: String::new(),
            ..RedisSettings::default()
        })
        .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_is_unavailable_quickly_and_hides_the_password() {
    let url = format!("redis://:hunter2@127.0.0.1:{}/", free_port());
    let store = RedisStore::new(settings(url)).expect("redis store");
    assert!(!format!("{store:?}").contains("hunter2"), "{store:?}");
    let started = Instant::now();
    let message = assert_unavailable(store.usage("b").await);
    assert!(!message.contains("hunter2"), "{message}");
    assert_unavailable(
        store
            .take_token(
                "k",
                RateLimit {
                    rate: 1.0,
                    burst: 1,
                },
            )
            .await,
    );
    assert_unavailable(store.reserve("b", 1, Some(10)).await);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_unavailable_without_showing_it() {
    let server = RedisServer::start();
    let url = format!("redis://:hunter2@127.0.0.1:{}/", server.port);
    let store = RedisStore::new(settings(url)).expect("redis store");
    let message = assert_unavailable(store.set_usage("b", 1, false).await);
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_created_while_redis_is_down_works_once_it_is_up() {
    let mut server = RedisServer::stopped(free_port());
    let store = redis_store(server.url());
    assert_unavailable(store.usage("b").await);
    server.restart();
    eventually(Duration::from_secs(5), || store.set_usage("b", 5, false)).await;
    assert_eq!(store.usage("b").await.unwrap(), usage(5, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_reconnects_after_redis_restarts() {
    let mut server = RedisServer::start();
    let store = redis_store(server.url());
    store.set_usage("b", 5, false).await.unwrap();
    server.stop();
    let started = Instant::now();
    assert_unavailable(store.usage("b").await);
    assert_unavailable(store.usage("b").await);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    server.restart();
    // Without persistence the restarted server lost the usage: unknown
    // again, until the next scan.
    let found = eventually(Duration::from_secs(5), || store.usage("b")).await;
    assert_eq!(found, None);
    store.set_usage("b", 9, false).await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(9, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_makes_calls_fail_within_the_timeouts() {
    let server = RedisServer::start();
    let store = redis_store(server.url());
    store.set_usage("b", 5, false).await.unwrap();
    server.signal("-STOP");
    let started = Instant::now();
    let message = assert_unavailable(store.reserve("b", 1, Some(10)).await);
    let waited = started.elapsed();
    server.signal("-CONT");
    // connect_timeout + response_timeout is 1 s.
    assert!(
        waited < Duration::from_millis(1500),
        "{waited:?}: {message}"
    );
    let found = eventually(Duration::from_secs(5), || store.usage("b")).await;
    assert!(matches!(found, Some(Usage { used: 5, .. })), "{found:?}");
}

fn with_lease(url: String, lease: Duration) -> RedisStore {
    RedisStore::new(RedisSettings {
        lease,
        ..settings(url)
    })
    .expect("redis store")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reservations_of_a_silent_instance_expire_with_its_lease() {
    let server = RedisServer::start();
    let a = with_lease(server.url(), Duration::from_secs(1));
    let b = with_lease(server.url(), Duration::from_secs(1));
    a.set_usage("b", 0, false).await.unwrap();
    assert_eq!(
        a.reserve("b", 6, Some(10)).await.unwrap(),
        Reservation::Granted
    );
    assert_eq!(
        b.reserve("b", 6, Some(10)).await.unwrap(),
        Reservation::Refused(Usage {
            used: 0,
            reserved: 6
        })
    );
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(
        b.reserve("b", 6, Some(10)).await.unwrap(),
        Reservation::Granted
    );
    assert_eq!(b.usage("b").await.unwrap(), usage(0, 6));
    // A's late settle cannot take B's bytes.
    a.settle("b", 6, 6).await.unwrap();
    assert_eq!(b.usage("b").await.unwrap(), usage(6, 6));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_keeps_the_lease_of_writes_in_flight() {
    let server = RedisServer::start();
    let a = with_lease(server.url(), Duration::from_secs(1));
    let b = with_lease(server.url(), Duration::from_secs(1));
    a.set_usage("b", 0, false).await.unwrap();
    assert_eq!(
        a.reserve("b", 6, Some(10)).await.unwrap(),
        Reservation::Granted
    );
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        a.maintain().await.unwrap();
    }
    assert_eq!(b.usage("b").await.unwrap(), usage(0, 6));
    // Once settled, nothing is left to renew.
    a.settle("b", 6, 6).await.unwrap();
    a.maintain().await.unwrap();
    assert_eq!(b.usage("b").await.unwrap(), usage(6, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_follow_the_documented_layout_and_idle_state_expires() {
    let server = RedisServer::start();
    let store = redis_store(server.url());
    store.set_usage("photos", 10, false).await.unwrap();
    assert_eq!(
        store.reserve("photos", 5, None).await.unwrap(),
        Reservation::Granted
    );
    store
        .hold_part("photos", "cat.jpg", "up1", 3, 5)
        .await
        .unwrap();
    let limit = RateLimit {
        rate: 10.0,
        burst: 2,
    };
    store.take_token("credential:AKID", limit).await.unwrap();

    let mut redis = inspect(&server);
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg("cgtest:*")
        .query(&mut redis)
        .unwrap();
    keys.sort();
    assert_eq!(
        keys,
        [
            "cgtest:quota:{photos}:held",
            "cgtest:quota:{photos}:lease",
            "cgtest:quota:{photos}:upload:3:up1:cat.jpg",
            "cgtest:quota:{photos}:used",
            "cgtest:rate:credential:AKID",
        ]
    );
    let used: String = redis::cmd("GET")
        .arg("cgtest:quota:{photos}:used")
        .query(&mut redis)
        .unwrap();
    assert_eq!(used, "10");
    let part: String = redis::cmd("HGET")
        .arg("cgtest:quota:{photos}:upload:3:up1:cat.jpg")
        .arg(3)
        .query(&mut redis)
        .unwrap();
    assert_eq!(part, "5");
    // Leases and token buckets expire by themselves; usage does not.
    for (key, at_most) in [
        ("cgtest:quota:{photos}:lease", 30_000),
        ("cgtest:rate:credential:AKID", 100),
    ] {
        let ttl: i64 = redis::cmd("PTTL").arg(key).query(&mut redis).unwrap();
        assert!(ttl > 0 && ttl <= at_most, "{key}: {ttl}");
    }
    let ttl: i64 = redis::cmd("PTTL")
        .arg("cgtest:quota:{photos}:used")
        .query(&mut redis)
        .unwrap();
    assert_eq!(ttl, -1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_sets_back_in_flight_bytes_after_a_call_that_failed() {
    let mut server = RedisServer::start();
    let store = redis_store(server.url());
    store.set_usage("b", 0, false).await.unwrap();
    assert_eq!(
        store.reserve("b", 100, None).await.unwrap(),
        Reservation::Granted
    );
    // The settle never reaches the store...
    server.stop();
    assert_unavailable(store.settle("b", 100, 0).await);
    server.restart();
    eventually(Duration::from_secs(5), || store.set_usage("b", 0, false)).await;
    assert_eq!(
        store.reserve("b", 10, None).await.unwrap(),
        Reservation::Granted
    );
    // ...and the store still counts its 100 bytes beside the 10 granted since.
    let mut redis = inspect(&server);
    let instance: Vec<String> = redis::cmd("HKEYS")
        .arg("cgtest:quota:{b}:inflight")
        .query(&mut redis)
        .unwrap();
    let () = redis::cmd("HSET")
        .arg("cgtest:quota:{b}:inflight")
        .arg(&instance[0])
        .arg(110)
        .query(&mut redis)
        .unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(0, 110));
    store.maintain().await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(0, 10));
    // Once reconciled, maintenance leaves the count alone.
    store.maintain().await.unwrap();
    assert_eq!(store.usage("b").await.unwrap(), usage(0, 10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_lock_has_one_holder_across_instances_and_expires_with_its_lease() {
    use cedargate::state::ObjectLockGrant;

    let server = RedisServer::start();
    let a = with_lease(server.url(), Duration::from_secs(1));
    let b = with_lease(server.url(), Duration::from_secs(1));
    let wait = Duration::from_millis(200);
    let ObjectLockGrant::Held(token) = a.lock_object("b", "k", wait).await.unwrap() else {
        panic!("a free lock was not granted");
    };
    let started = Instant::now();
    assert_eq!(
        b.lock_object("b", "k", wait).await.unwrap(),
        ObjectLockGrant::Busy
    );
    assert!(started.elapsed() >= wait, "{:?}", started.elapsed());
    // Another object is another lock.
    assert!(matches!(
        b.lock_object("b", "other", wait).await.unwrap(),
        ObjectLockGrant::Held(_)
    ));
    // Maintenance keeps a held lock past its lease.
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        a.maintain().await.unwrap();
    }
    assert_eq!(
        b.lock_object("b", "k", Duration::ZERO).await.unwrap(),
        ObjectLockGrant::Busy
    );
    // A release with someone else's token does nothing; the holder's frees it.
    assert!(!b.unlock_object("b", "k", "not-the-token").await.unwrap());
    assert_eq!(
        b.lock_object("b", "k", Duration::ZERO).await.unwrap(),
        ObjectLockGrant::Busy
    );
    assert!(a.unlock_object("b", "k", &token).await.unwrap());
    let ObjectLockGrant::Held(taken) = b.lock_object("b", "k", wait).await.unwrap() else {
        panic!("a released lock was not granted");
    };
    // A holder that stops renewing loses the lock one lease later, and its
    // late release cannot free the new holder's lock, and says it was lost.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert!(matches!(
        a.lock_object("b", "k", wait).await.unwrap(),
        ObjectLockGrant::Held(_)
    ));
    assert!(!b.unlock_object("b", "k", &taken).await.unwrap());
    assert_eq!(
        b.lock_object("b", "k", Duration::ZERO).await.unwrap(),
        ObjectLockGrant::Busy
    );
    // The embedded store has nothing to share: the process's lock suffices.
    assert_eq!(
        EmbeddedStore::default()
            .lock_object("b", "k", wait)
            .await
            .unwrap(),
        ObjectLockGrant::Local
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reservations_dropped_while_redis_was_frozen_are_re_asserted_by_the_next_call() {
    let server = RedisServer::start();
    let a = with_lease(server.url(), Duration::from_secs(1));
    let b = with_lease(server.url(), Duration::from_secs(1));
    a.set_usage("b", 0, false).await.unwrap();
    assert_eq!(
        a.reserve("b", 6, Some(10)).await.unwrap(),
        Reservation::Granted
    );
    // Frozen past the lease: A's lease and in-flight entry expire meanwhile.
    server.signal("-STOP");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.signal("-CONT");
    let seen = eventually(Duration::from_secs(5), || b.usage("b")).await;
    assert_eq!(seen, usage(0, 0), "the lapsed reservation was dropped");
    // A's next call (here its maintenance round) counts its write again.
    eventually(Duration::from_secs(5), || a.maintain()).await;
    assert_eq!(b.usage("b").await.unwrap(), usage(0, 6));
    assert_eq!(
        b.reserve("b", 6, Some(10)).await.unwrap(),
        Reservation::Refused(Usage {
            used: 0,
            reserved: 6
        })
    );
    // So does its own next reservation, without maintenance.
    server.signal("-STOP");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.signal("-CONT");
    assert_eq!(
        eventually(Duration::from_secs(5), || a.reserve("b", 6, Some(10))).await,
        Reservation::Refused(Usage {
            used: 0,
            reserved: 6
        })
    );
    // Settling ends it for good.
    a.settle("b", 6, 6).await.unwrap();
    assert_eq!(b.usage("b").await.unwrap(), usage(6, 0));
}

/// How a write ends its reservation.
#[derive(Clone, Copy, Debug)]
enum End {
    /// A PUT settles it into stored bytes.
    Settle,
    /// An uploaded part keeps its bytes held until the upload finishes.
    HoldPart,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_ending_first_after_a_freeze_takes_only_its_own_bytes() {
    let server = RedisServer::start();
    let a = with_lease(server.url(), Duration::from_secs(1));
    let b = with_lease(server.url(), Duration::from_secs(1));
    const TEN: u64 = 10 * MIB;
    let stored = i64::try_from(TEN).unwrap();
    let cap = Some(2 * TEN);
    // (bucket, how the first write ends, usage once it has ended)
    let cases = [
        (
            "put",
            End::Settle,
            Usage {
                used: TEN,
                reserved: TEN,
            },
        ),
        (
            "part",
            End::HoldPart,
            Usage {
                used: 0,
                reserved: 2 * TEN,
            },
        ),
    ];
    // Two 10 MiB writes in flight on A against a 20 MiB cap, per bucket.
    for (bucket, _, _) in cases {
        a.set_usage(bucket, 0, false).await.unwrap();
        for _ in 0..2 {
            assert_eq!(
                a.reserve(bucket, TEN, cap).await.unwrap(),
                Reservation::Granted
            );
        }
    }
    // Frozen past the lease: B's first call after it drops A's reservations.
    server.signal("-STOP");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.signal("-CONT");
    for (bucket, _, _) in cases {
        let seen = eventually(Duration::from_secs(5), || b.usage(bucket)).await;
        assert_eq!(seen, usage(0, 0), "{bucket}: the lapsed reservations");
    }
    for (bucket, end, after) in cases {
        // A's first call after the freeze ends one write: the other still counts.
        match end {
            End::Settle => a.settle(bucket, TEN, stored).await.unwrap(),
            End::HoldPart => a.hold_part(bucket, "k", "u", 1, TEN).await.unwrap(),
        }
        assert_eq!(
            b.usage(bucket).await.unwrap(),
            Some(after),
            "{bucket}: {end:?}"
        );
        assert_eq!(
            b.reserve(bucket, TEN, cap).await.unwrap(),
            Reservation::Refused(after),
            "{bucket}: {end:?}"
        );
        // The other write ends too; nothing of either stays in flight.
        a.settle(bucket, TEN, stored).await.unwrap();
        assert_eq!(
            b.usage(bucket).await.unwrap(),
            usage(after.used + TEN, after.reserved - TEN),
            "{bucket}: {end:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_is_waited_on_once_then_calls_fail_at_once_until_it_answers() {
    let server = RedisServer::start();
    let store = redis_store(server.url());
    store.set_usage("b", 5, false).await.unwrap();
    server.signal("-STOP");
    let started = Instant::now();
    assert_unavailable(store.usage("b").await);
    let first = started.elapsed();
    let started = Instant::now();
    for _ in 0..5 {
        assert_unavailable(store.reserve("b", 1, Some(10)).await);
        assert_unavailable(
            store
                .take_token(
                    "k",
                    RateLimit {
                        rate: 1.0,
                        burst: 1,
                    },
                )
                .await,
        );
    }
    let then = started.elapsed();
    server.signal("-CONT");
    // One response timeout (500 ms) for the first call, none for the rest.
    assert!(first >= Duration::from_millis(400), "{first:?}");
    assert!(then < Duration::from_millis(200), "{then:?}");
    let found = eventually(Duration::from_secs(5), || store.usage("b")).await;
    assert_eq!(found, usage(5, 0));
}
