//! Real S3 tools against a real gateway: rclone (from Debian), s3cmd and
//! the AWS CLI (from the venv) copy, sync, check, list, inspect and delete
//! through it, once over a bucket on the fs backend and once over a bucket
//! on the s3 backend in front of moto. The scenarios are
//! tests/clients/test_tools.py; afterwards, every 5xx the gateway answered
//! must be one of the known gaps below.
//!
//! moto rather than s3s-fs upstream: s3s-fs 0.14 lists objects without
//! ETags, so neither `rclone check` nor `s3cmd sync` could compare
//! contents, and a key that is also a "directory" there (`a` beside `a/b`)
//! answers HEAD with 500.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

mod utils;

use std::collections::BTreeSet;

use utils::{S3Upstream, TESTER_POLICY, TestGateway};

/// Server errors the tools meet and shrug off, as `operation status`:
/// `s3cmd info` on an object also asks for its bucket's policy, which the
/// gateway does not serve (s3cmd shows "none").
const KNOWN_SERVER_ERRORS: &[&str] = &["GetBucketPolicy 501"];

/// The `operation status` of every 5xx answer so far, from the metrics.
fn server_errors(gateway: &TestGateway) -> BTreeSet<String> {
    let metrics = gateway.admin_get("/metrics").expect("metrics");
    let label = |line: &str, name: &str| {
        let start = line.find(&format!("{name}=\""))? + name.len() + 2;
        let end = start + line[start..].find('"')?;
        Some(line[start..end].to_owned())
    };
    metrics
        .lines()
        .filter(|line| line.starts_with("cedargate_s3_request_total{"))
        .filter_map(|line| Some((label(line, "operation")?, label(line, "status")?)))
        .filter(|(_, status)| status.starts_with('5'))
        .map(|(operation, status)| format!("{operation} {status}"))
        .collect()
}

/// Fails unless every 5xx answered is known or in `also` (this backend's
/// own documented refusals).
fn assert_only_known_server_errors(gateway: &TestGateway, also: &[&str]) {
    let known: BTreeSet<String> = KNOWN_SERVER_ERRORS
        .iter()
        .chain(also)
        .map(|s| (*s).to_owned())
        .collect();
    let unexpected: Vec<String> = server_errors(gateway).difference(&known).cloned().collect();
    assert!(
        unexpected.is_empty(),
        "the tools met server errors: {unexpected:?}\n--- gateway log (tail) ---\n{}",
        gateway.log_tail(40)
    );
}

#[test]
fn rclone_s3cmd_and_the_aws_cli_on_an_fs_bucket() {
    let gateway = TestGateway::start("[default_route]\nbackend = \"local\"\n");
    gateway.assert_pytest_passes("test_tools.py");
    // `rclone settier STANDARD_IA`: the fs backend stores only STANDARD.
    assert_only_known_server_errors(&gateway, &["CopyObject 501"]);
}

/// `alpha` under a prefix of the upstream bucket `store`; other buckets
/// (rclone's own) are the upstream's.
const ALPHA_UPSTREAM: &str = r#"
[buckets.alpha]
backend = "upstream"
backend_bucket = "store"
prefix = "tenants/alpha/"

[default_route]
backend = "upstream"
"#;

#[test]
fn rclone_s3cmd_and_the_aws_cli_on_an_s3_bucket_in_front_of_moto() {
    let upstream = S3Upstream::moto(&["store"]);
    let gateway = TestGateway::start_custom(
        ALPHA_UPSTREAM,
        &upstream.backend_toml("upstream"),
        &[("tester.cedar", TESTER_POLICY)],
        None,
    );
    let endpoint = upstream.endpoint();
    gateway.assert_pytest_env_passes(
        "test_tools.py",
        &[
            ("CG_UPSTREAM_ENDPOINT", &endpoint),
            ("CG_UPSTREAM_BUCKET", "store"),
            ("CG_UPSTREAM_PREFIX", "tenants/alpha/"),
        ],
    );
    assert_only_known_server_errors(&gateway, &[]);
}
