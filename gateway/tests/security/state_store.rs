//! The quota ledger and the Redis state store under attack: a multipart
//! upload's id named with another key to free its reservation, a Redis
//! server frozen (`SIGSTOP`) for longer than the lease while a write is in
//! flight, requests sent while it is frozen, and a gateway killed
//! mid-upload. The clients are boto3 and urllib
//! (tests/clients/test_security_state_store.py).

use crate::utils::{RedisServer, S3Upstream, TESTER_POLICY, TestGateway};

/// `cap20`: a 20 MiB hard cap on the fs backend; `alpha` has no quota.
const CAP20: &str = "\n[buckets.cap20]\nbackend = \"local\"\nquota = { hard = \"20 MiB\" }\n";

/// No quota policy: only the base set stands between a writer and the cap.
const POLICIES: [(&str, &str); 1] = [("tester.cedar", TESTER_POLICY)];

/// Every rate limit a request can take a token from, none of them tight.
const RATE_LIMITS: &str = "\n[rate_limits]\nglobal = { rate = 1000.0, burst = 1000 }\ncredential = { rate = 1000.0, burst = 1000 }\nsource_ip = { rate = 1000.0, burst = 1000 }\n";

fn redis_state(redis: &RedisServer, extra: &str) -> String {
    format!(
        "\n[state]\nstore = \"redis\"\nredis_url = \"{}\"\nmaintenance_interval_seconds = 1\nlease_seconds = 2\n{extra}",
        redis.url()
    )
}

fn run(gateway: &TestGateway, select: &str, env: &[(&str, &str)]) {
    let mut env = env.to_vec();
    env.push(("PYTEST_ADDOPTS", select));
    gateway.assert_pytest_env_passes("test_security_state_store.py", &env);
}

#[test]
fn an_upload_id_named_with_another_key_frees_nothing_on_the_embedded_store() {
    let config = format!("{CAP20}\n[state]\nmaintenance_interval_seconds = 1\n");
    let gateway = TestGateway::start_on(&config, &POLICIES, None);
    run(&gateway, "-k another_key", &[]);
}

#[test]
fn an_upload_id_named_with_another_key_frees_nothing_on_redis() {
    let redis = RedisServer::start();
    let config = format!("{CAP20}{}", redis_state(&redis, ""));
    let gateway = TestGateway::start_on(&config, &POLICIES, None);
    run(&gateway, "-k another_key", &[]);
}

#[test]
fn an_upstream_ending_an_upload_named_with_another_key_frees_nothing() {
    // moto aborts an upload by its id alone, whatever key the request names.
    let upstream = S3Upstream::moto(&["store"]);
    let bucket = "\n[buckets.cap20]\nbackend = \"upstream\"\nbackend_bucket = \"store\"\nquota = { hard = \"20 MiB\" }\n\n[state]\nmaintenance_interval_seconds = 1\n";
    let gateway =
        TestGateway::start_custom(bucket, &upstream.backend_toml("upstream"), &POLICIES, None);
    run(
        &gateway,
        "-k another_key",
        &[("CG_UPSTREAM_ENDS_ANY_KEY", "1")],
    );
}

#[test]
fn a_write_in_flight_keeps_its_reservation_through_a_frozen_redis() {
    let redis = RedisServer::start();
    let config = format!("{CAP20}{}", redis_state(&redis, ""));
    let gateway = TestGateway::start_on(&config, &POLICIES, None);
    let pid = redis.pid().to_string();
    run(&gateway, "-k frozen_longer", &[("CG_REDIS_PID", &pid)]);
}

#[test]
fn a_frozen_redis_costs_a_request_at_most_one_timeout() {
    let redis = RedisServer::start();
    let config = format!(
        "{CAP20}{RATE_LIMITS}{}",
        redis_state(
            &redis,
            "connect_timeout_ms = 1000\nresponse_timeout_ms = 1000\n"
        )
    );
    let gateway = TestGateway::start_on(&config, &POLICIES, None);
    let pid = redis.pid().to_string();
    run(
        &gateway,
        "-k one_timeout",
        &[("CG_REDIS_PID", &pid), ("CG_RESPONSE_TIMEOUT", "1.0")],
    );
}

#[test]
fn the_reservations_of_a_gateway_killed_mid_upload_expire_with_its_lease() {
    let redis = RedisServer::start();
    let data = tempfile::tempdir().expect("shared data dir");
    let config = format!("{CAP20}{}", redis_state(&redis, ""));
    let a = TestGateway::start_on(&config, &POLICIES, Some(data.path()));
    let b = TestGateway::start_on(&config, &POLICIES, Some(data.path()));
    let admin_b = format!("http://{}", b.admin);
    run(
        &a,
        "-k killed_mid_upload",
        &[("CG_ENDPOINT_B", &b.endpoint), ("CG_ADMIN_B", &admin_b)],
    );
}

#[test]
fn a_write_that_lost_its_object_lock_has_its_bucket_scanned_again() {
    let redis = RedisServer::start();
    let data = tempfile::tempdir().expect("shared data dir");
    let config = format!("{CAP20}{}", redis_state(&redis, ""));
    let a = TestGateway::start_on(&config, &POLICIES, Some(data.path()));
    let b = TestGateway::start_on(&config, &POLICIES, Some(data.path()));
    let admin_b = format!("http://{}", b.admin);
    let pid = redis.pid().to_string();
    run(
        &a,
        "-k lost_its_object_lock",
        &[
            ("CG_ENDPOINT_B", &b.endpoint),
            ("CG_ADMIN_B", &admin_b),
            ("CG_REDIS_PID", &pid),
        ],
    );
}
