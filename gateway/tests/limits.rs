//! Rate limits and bucket quotas end to end: real gateway processes, a real
//! `redis-server` shared by two of them, boto3 and raw signed requests
//! (tests/clients/test_limits.py) as clients.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

mod utils;

use utils::{RedisServer, TESTER_POLICY, TestGateway};

/// The shipped quota policy, as security teams get it.
const QUOTA_POLICY: &str = include_str!("../../policies/examples/quota/quota.cedar");

/// Three capped buckets: `capped` (10 MiB), `copycap` (soft 4 MiB, hard
/// 8 MiB) and `mpcap` (12 MiB, as a plain byte count).
const CAPPED_BUCKETS: &str = r#"
[buckets.capped]
backend = "local"
quota = { hard = "10 MiB" }

[buckets.copycap]
backend = "local"
quota = { hard = "8 MiB", soft = "4 MiB" }

[buckets.mpcap]
backend = "local"
quota = { hard = 12582912 }
"#;

fn policies() -> [(&'static str, &'static str); 2] {
    [
        ("tester.cedar", TESTER_POLICY),
        ("quota.cedar", QUOTA_POLICY),
    ]
}

fn redis_state(redis: &RedisServer) -> String {
    format!(
        "\n[state]\nstore = \"redis\"\nredis_url = \"{}\"\nmaintenance_interval_seconds = 1\nlease_seconds = 5\nconnect_timeout_ms = 500\nresponse_timeout_ms = 500\n",
        redis.url()
    )
}

const QUOTA_CASES: &str = "-k 'test_quota_capped or test_quota_copies or test_quota_multipart'";

#[test]
fn quotas_hold_across_two_gateways_sharing_redis() {
    let redis = RedisServer::start();
    let data = tempfile::tempdir().expect("shared data dir");
    let config = format!("{CAPPED_BUCKETS}{}", redis_state(&redis));
    let a = TestGateway::start_on(&config, &policies(), Some(data.path()));
    let b = TestGateway::start_on(&config, &policies(), Some(data.path()));
    let admin_b = format!("http://{}", b.admin);
    a.assert_pytest_env_passes(
        "test_limits.py",
        &[
            ("PYTEST_ADDOPTS", QUOTA_CASES),
            ("CG_ENDPOINT_B", &b.endpoint),
            ("CG_ADMIN_B", &admin_b),
        ],
    );
}

#[test]
fn quotas_hold_with_the_embedded_store() {
    let config = format!("{CAPPED_BUCKETS}\n[state]\nmaintenance_interval_seconds = 1\n");
    let gateway = TestGateway::start_on(&config, &policies(), None);
    gateway.assert_pytest_env_passes("test_limits.py", &[("PYTEST_ADDOPTS", QUOTA_CASES)]);
}

/// `gamma` lives in alpha's backend bucket under `tenants/gamma/`.
const GAMMA_UNDER_ALPHA: &str = r#"
[buckets.gamma]
backend = "local"
backend_bucket = "alpha"
prefix = "tenants/gamma/"
"#;

#[test]
fn a_prefixed_bucket_is_scanned_and_counted_under_its_prefix_only() {
    let data = tempfile::tempdir().expect("shared data dir");
    {
        let seed = TestGateway::start_on(GAMMA_UNDER_ALPHA, &policies(), Some(data.path()));
        seed.assert_pytest_env_passes(
            "test_limits.py",
            &[("PYTEST_ADDOPTS", "-k test_quota_prefix_seed")],
        );
    }
    let capped = format!(
        "{GAMMA_UNDER_ALPHA}quota = {{ hard = \"1 MiB\" }}\n\n[state]\nmaintenance_interval_seconds = 1\n"
    );
    let gateway = TestGateway::start_on(&capped, &policies(), Some(data.path()));
    gateway.assert_pytest_env_passes(
        "test_limits.py",
        &[("PYTEST_ADDOPTS", "-k test_quota_prefix_scanned_and_tracked")],
    );
}

#[test]
fn capped_writes_fail_closed_while_redis_is_down_and_resume_by_themselves() {
    let mut redis = RedisServer::start();
    let config = format!("{CAPPED_BUCKETS}{}", redis_state(&redis));
    let gateway = TestGateway::start_on(&config, &policies(), None);
    let phase = |name: &str| {
        let select = format!("-k {name}");
        gateway.assert_pytest_env_passes("test_limits.py", &[("PYTEST_ADDOPTS", &select)]);
    };
    phase("test_quota_setup_before_the_store_goes_down");
    redis.stop();
    phase("test_quota_writes_fail_closed_while_the_store_is_down");
    redis.restart();
    phase("test_quota_writes_resume_when_the_store_is_back");
}

#[test]
fn a_credential_burst_gets_slow_down_with_a_usable_retry_after() {
    let gateway = TestGateway::start(
        "\n[rate_limits.credentials]\nCGTESTACCESSKEY00001 = { rate = 1.0, burst = 5 }\n",
    );
    gateway.assert_pytest_env_passes(
        "test_limits.py",
        &[("PYTEST_ADDOPTS", "-k test_rate_credential")],
    );
}

#[test]
fn source_ip_limits_follow_trusted_proxies_and_cover_bad_signatures() {
    let gateway = TestGateway::start(
        "\n[rate_limits]\nsource_ip = { rate = 1.0, burst = 5 }\ntrusted_proxies = [\"127.0.0.1/32\"]\n",
    );
    gateway.assert_pytest_env_passes(
        "test_limits.py",
        &[("PYTEST_ADDOPTS", "-k test_rate_source_ip")],
    );
}

#[test]
fn the_global_limit_applies_to_everyone() {
    let gateway = TestGateway::start("\n[rate_limits]\nglobal = { rate = 1.0, burst = 5 }\n");
    gateway.assert_pytest_env_passes(
        "test_limits.py",
        &[("PYTEST_ADDOPTS", "-k test_rate_global")],
    );
}
