//! End to end: a real `cedargate` process on 127.0.0.1 driven by real S3
//! clients (boto3 and the AWS CLI) over the filesystem backend.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

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
