//! Bucket quotas under attack: many requests racing on one key to make the
//! ledger free or count an object's bytes more than once (one gateway on
//! the embedded store; two gateways sharing a Redis server and one data
//! directory), and uploads past a hard cap with no quota policy in the
//! policy directory. The clients are boto3 (tests/clients/test_security_quota.py).

use crate::utils::{RedisServer, S3Upstream, TESTER_POLICY, TestGateway};

/// `tight` (1 MiB), `roomy` (64 MiB) and `capped60` (60 MiB), all on fs.
const CAPPED_BUCKETS: &str = r#"
[buckets.tight]
backend = "local"
quota = { hard = "1 MiB" }

[buckets.roomy]
backend = "local"
quota = { hard = "64 MiB" }

[buckets.capped60]
backend = "local"
quota = { hard = "60 MiB" }
"#;

/// No quota policy: the test credential may do everything, and only the
/// base set stands between it and a full bucket.
const POLICIES: [(&str, &str); 1] = [("tester.cedar", TESTER_POLICY)];

const RACES: &str = "-k 'not hard_cap'";

fn run(gateway: &TestGateway, select: &str, env: &[(&str, &str)]) {
    let mut env = env.to_vec();
    env.push(("PYTEST_ADDOPTS", select));
    gateway.assert_pytest_env_passes("test_security_quota.py", &env);
}

#[test]
fn racing_deletes_and_overwrites_keep_usage_exact_on_the_embedded_store() {
    let config = format!("{CAPPED_BUCKETS}\n[state]\nmaintenance_interval_seconds = 1\n");
    let gateway = TestGateway::start_on(&config, &POLICIES, None);
    run(&gateway, RACES, &[]);
}

#[test]
fn racing_deletes_and_overwrites_keep_usage_exact_across_two_gateways_on_redis() {
    let redis = RedisServer::start();
    let data = tempfile::tempdir().expect("shared data dir");
    let config = format!(
        "{CAPPED_BUCKETS}\n[state]\nstore = \"redis\"\nredis_url = \"{}\"\nmaintenance_interval_seconds = 1\nlease_seconds = 5\n",
        redis.url()
    );
    let a = TestGateway::start_on(&config, &POLICIES, Some(data.path()));
    let b = TestGateway::start_on(&config, &POLICIES, Some(data.path()));
    let admin_b = format!("http://{}", b.admin);
    run(
        &a,
        RACES,
        &[("CG_ENDPOINT_B", &b.endpoint), ("CG_ADMIN_B", &admin_b)],
    );
}

#[test]
fn a_hard_cap_holds_with_no_quota_policy_in_the_directory() {
    let config = format!("{CAPPED_BUCKETS}\n[state]\nmaintenance_interval_seconds = 1\n");
    let gateway = TestGateway::start_on(&config, &POLICIES, None);
    run(&gateway, "-k hard_cap", &[]);
}

#[test]
fn a_hard_cap_answers_the_aws_error_in_the_aws_profile() {
    let config = format!(
        "{CAPPED_BUCKETS}\n[s3]\nerror_profile = \"aws\"\n\n[state]\nmaintenance_interval_seconds = 1\n"
    );
    let gateway = TestGateway::start_on(&config, &POLICIES, None);
    run(&gateway, "-k hard_cap", &[("CG_QUOTA_STATUS", "400")]);
}

#[test]
fn usage_on_a_versioned_upstream_counts_every_stored_version() {
    let upstream = S3Upstream::moto(&["store"]);
    let bucket = "\n[buckets.vquota]\nbackend = \"upstream\"\nbackend_bucket = \"store\"\nprefix = \"vq/\"\nquota = { hard = \"1 MiB\" }\n\n[state]\nmaintenance_interval_seconds = 1\n";
    let gateway =
        TestGateway::start_custom(bucket, &upstream.backend_toml("upstream"), &POLICIES, None);
    gateway.assert_pytest_env_passes(
        "test_versioned_quota.py",
        &[("CG_UPSTREAM", upstream.endpoint().as_str())],
    );
}
