//! Unsigned headers and re-encoded queries: an `x-amz-*` header outside
//! `SignedHeaders` is refused under header and presigned auth alike, and a
//! presigned query means exactly what was signed or fails its signature.

use crate::utils::TestGateway;

#[test]
fn unsigned_amz_headers_never_change_what_a_request_does() {
    let gateway = TestGateway::start("");
    gateway.assert_pytest_passes("test_signed_headers.py");
    let metrics = gateway.admin_get("/metrics").expect("metrics");
    assert!(
        metrics.contains(r#"cedargate_s3_auth_failure_total{reason="unsigned_header"}"#),
        "{metrics}"
    );
}

#[test]
fn a_re_encoded_presigned_query_means_what_was_signed() {
    let gateway = TestGateway::start("");
    gateway.assert_pytest_passes("test_query_decoding.py");
}
