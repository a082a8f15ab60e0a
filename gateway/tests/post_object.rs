//! POST Object end to end: boto3's `generate_presigned_post` forms sent to
//! a real gateway (test_post_object.py), and a real browser form upload in
//! headless Debian Chromium (tests/browser/post_form.mjs).

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

mod utils;

use utils::{TESTER_POLICY, TestGateway};

/// What the forms run into: no PutObject under `denied/`, no tagging
/// under `untagged/`.
const FORBIDS: &str = r#"
@id("no-writes-under-denied")
forbid (principal, action == Action::"s3:PutObject", resource)
when { resource is Object && resource.key like "denied/*" };

@id("no-tags-under-untagged")
forbid (principal, action == Action::"s3:PutObjectTagging", resource)
when { resource is Object && resource.key like "untagged/*" };
"#;

#[test]
fn presigned_post_forms_are_decided_as_putobject_and_streamed() {
    let gateway = TestGateway::start_with_policies(
        "",
        &[("tester.cedar", TESTER_POLICY), ("forbids.cedar", FORBIDS)],
    );
    gateway.assert_pytest_passes("test_post_object.py");
    let metrics = gateway.admin_get("/metrics").expect("metrics");
    assert!(
        metrics.contains(r#"operation="PostObject",result="ok",status="204""#),
        "{metrics}"
    );
}
