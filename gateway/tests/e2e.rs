//! End to end: a real `cedargate` process on 127.0.0.1 driven by real S3
//! clients (boto3 and the AWS CLI) over the filesystem backend.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

#[path = "e2e/chunked.rs"]
mod chunked;
mod utils;

use utils::TestGateway;

#[test]
fn boto3_drives_the_fs_backend_end_to_end() {
    let gateway = TestGateway::start("");
    gateway.assert_pytest_passes("test_boto3.py");
    let metrics = gateway.admin_get("/metrics").expect("metrics");
    assert!(
        metrics.contains(r#"cedargate_s3_request_total{auth_mode="signed",method="PUT",operation="PutObject",result="ok",status="200"}"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"cedargate_s3_auth_failure_total{reason="bad_signature"}"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"cedargate_s3_auth_failure_total{reason="unknown_access_key"}"#),
        "{metrics}"
    );
}

#[test]
fn boto3_checksums_and_multipart_details_on_the_fs_backend() {
    let gateway = TestGateway::start("");
    gateway.assert_pytest_passes("test_checksums.py");
}

#[test]
fn aws_cli_drives_the_fs_backend_end_to_end() {
    let gateway = TestGateway::start("");
    gateway.assert_pytest_passes("test_awscli.py");
}

#[test]
fn raw_http_errors_have_the_documented_wire_shape() {
    let gateway = TestGateway::start("");
    gateway.assert_pytest_passes("test_wire.py");
}

#[test]
fn presigned_urls_work_with_plain_http_clients() {
    let gateway = TestGateway::start("");
    gateway.assert_pytest_passes("test_presigned.py");
}

#[test]
fn every_auth_failure_reason_in_the_documented_profile() {
    let gateway = TestGateway::start("");
    gateway.assert_pytest_passes("test_auth_failures.py");
}

#[test]
fn every_auth_failure_reason_in_the_aws_profile() {
    let gateway = TestGateway::start("[s3]\nerror_profile = \"aws\"\n");
    gateway.assert_pytest_env_passes("test_auth_failures.py", &[("CG_ERROR_PROFILE", "aws")]);
}

const POLICIES: &str = r#"
@id("beta-team-works-in-beta")
permit (
  principal in Group::"beta-team",
  action in [Action::"read", Action::"write", Action::"list", Action::"delete", Action::"multipart"],
  resource in Bucket::"beta"
);

@id("beta-team-keeps-keep")
forbid (principal in Group::"beta-team", action == Action::"s3:DeleteObjects", resource in Bucket::"beta")
when { resource is Object && resource.key like "*keep/*" };

@id("beta-uploads-are-small")
@error("EntityTooLarge")
@reason("quota")
forbid (principal, action == Action::"s3:PutObject", resource in Bucket::"beta")
when { context.content_length > 100000 };

@id("beta-is-public")
permit (
  principal is Anonymous,
  action in [Action::"s3:GetObject", Action::"s3:HeadObject", Action::"s3:ListObjectsV2", Action::"s3:PutObject"],
  resource in Bucket::"beta"
);
"#;

#[test]
fn cedar_policies_decide_real_requests_and_reload_hot() {
    let gateway = TestGateway::start_with_policies(
        "[anonymous]\nenabled = true\n",
        &[
            ("tester.cedar", utils::TESTER_POLICY),
            ("teams.cedar", POLICIES),
        ],
    );
    gateway.assert_pytest_passes("test_policies.py");
}

#[test]
fn boto3_and_the_aws_cli_over_https_use_chunked_trailer_uploads() {
    let gateway = TestGateway::start("");
    gateway.assert_pytest_passes("test_tls.py");
}

#[test]
fn keys_that_are_prefixes_of_other_keys_coexist_on_the_fs_backend() {
    let gateway = TestGateway::start("");
    gateway.assert_pytest_passes("test_prefix_keys.py");
}

#[test]
fn chunked_transfer_encoding_puts_are_accepted() {
    let gateway = TestGateway::start("");
    gateway.assert_pytest_passes("test_transfer_encoding.py");
}

#[test]
fn signed_chunk_streams_are_verified_chunk_by_chunk() {
    let gateway = TestGateway::start("");
    gateway.assert_pytest_passes("test_streaming.py");
}

/// `gamma` shares alpha's backend bucket under a key prefix.
const GAMMA_UNDER_ALPHA: &str = r#"
[buckets.gamma]
backend = "local"
backend_bucket = "alpha"
prefix = "tenants/gamma/"
"#;

#[test]
fn a_bucket_under_a_prefix_never_shows_it() {
    let gateway = TestGateway::start(GAMMA_UNDER_ALPHA);
    gateway.assert_pytest_passes("test_prefix.py");
}

#[test]
fn storage_headers_the_filesystem_cannot_honour_are_refused() {
    let gateway = TestGateway::start("");
    gateway.assert_pytest_env_passes("test_storage_headers.py", &[("CG_STORAGE", "fs")]);
}

/// What test_acl.py expects beside [`utils::TESTER_POLICY`]: anonymous
/// reads of `alpha`'s objects marked `public-read`, and `scoped` writes to
/// `alpha` without s3:PutObjectAcl.
const ACL_POLICIES: &str = r#"
@id("alpha-public-read")
permit (
  principal is Anonymous,
  action in [Action::"s3:GetObject", Action::"s3:HeadObject"],
  resource in Bucket::"alpha"
)
when { resource.acl == "public-read" };

@id("scoped-writes-without-acls")
permit (
  principal == Credential::"scoped",
  action in [Action::"s3:PutObject", Action::"s3:CreateMultipartUpload", Action::"s3:GetObject"],
  resource in Bucket::"alpha"
);

@id("scoped-copies-into-alpha")
permit (
  principal == Credential::"scoped",
  action == Action::"s3:CopyObject",
  resource in Bucket::"alpha"
);

@id("scoped-reads-public-versions")
permit (
  principal == Credential::"scoped",
  action in [Action::"s3:GetObject", Action::"s3:GetObjectVersion"],
  resource in Bucket::"versioned-acls"
)
when { resource.acl == "public-read" };
"#;

#[test]
fn canned_acls_are_stored_and_decided_by_policy() {
    let gateway = TestGateway::start_with_policies(
        "[anonymous]\nenabled = true\n\n[default_route]\nbackend = \"local\"\n",
        &[
            ("tester.cedar", utils::TESTER_POLICY),
            ("acl.cedar", ACL_POLICIES),
        ],
    );
    gateway.assert_pytest_passes("test_acl.py");
}

/// `alpha` with two CORS rules, `beta` with none (see test_cors.py).
const CORS_BUCKETS: &str = r#"
[buckets.alpha]
backend = "local"

[[buckets.alpha.cors_rules]]
id = "web-app"
allowed_origins = ["https://app.example.com", "https://*.preview.example.com"]
allowed_methods = ["GET", "PUT", "HEAD"]
allowed_headers = ["content-type", "x-amz-*"]
expose_headers = ["ETag", "x-amz-request-id"]
max_age_seconds = 600

[[buckets.alpha.cors_rules]]
allowed_origins = ["*"]
allowed_methods = ["HEAD"]

[buckets.beta]
backend = "local"
"#;

#[test]
fn browsers_get_cors_preflights_and_headers_from_the_bucket_rules() {
    let gateway = TestGateway::start_custom(
        CORS_BUCKETS,
        "",
        &[("tester.cedar", utils::TESTER_POLICY)],
        None,
    );
    gateway.assert_pytest_passes("test_cors.py");
}

/// `alpha` and `beta`, plus `gamma` stored in the backend bucket `store`.
const LIFECYCLE_BUCKETS: &str = r#"
[buckets.alpha]
backend = "local"

[buckets.beta]
backend = "local"

[buckets.gamma]
backend = "local"
backend_bucket = "store"
prefix = "gamma/"
"#;

#[test]
fn buckets_versions_and_tags_on_the_fs_backend() {
    let data = tempfile::tempdir().expect("data dir");
    let policies = [
        ("tester.cedar", utils::TESTER_POLICY),
        ("tags.cedar", utils::TAG_POLICIES),
    ];
    let route = "[default_route]\nbackend = \"local\"\n";
    let gateway =
        TestGateway::start_with_args(LIFECYCLE_BUCKETS, route, &policies, Some(data.path()), &[]);
    gateway.assert_pytest_env_passes("test_buckets.py", &[("CG_STORAGE", "fs")]);
    drop(gateway);
    let restarted =
        TestGateway::start_with_args(LIFECYCLE_BUCKETS, route, &policies, Some(data.path()), &[]);
    restarted.assert_pytest_passes("test_buckets_restart.py");
}
