//! Real S3 tools against a real gateway: rclone (from Debian), s3cmd and
//! the AWS CLI (from the venv) copy, sync, check, list, inspect and delete
//! through it, once over a bucket on the fs backend and once over a bucket
//! on the s3 backend in front of moto. The scenarios are
//! tests/clients/test_tools.py.
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

use utils::{S3Upstream, TESTER_POLICY, TestGateway};

#[test]
fn rclone_s3cmd_and_the_aws_cli_on_an_fs_bucket() {
    let gateway = TestGateway::start("");
    gateway.assert_pytest_passes("test_tools.py");
}

/// `alpha` under a prefix of the upstream bucket `store`.
const ALPHA_UPSTREAM: &str = r#"
[buckets.alpha]
backend = "upstream"
backend_bucket = "store"
prefix = "tenants/alpha/"
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
}
