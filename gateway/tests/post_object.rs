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
/// under `untagged/`, no ACL but `private` under `private/`.
const FORBIDS: &str = r#"
@id("no-writes-under-denied")
forbid (principal, action == Action::"s3:PutObject", resource)
when { resource is Object && resource.key like "denied/*" };

@id("no-tags-under-untagged")
forbid (principal, action == Action::"s3:PutObjectTagging", resource)
when { resource is Object && resource.key like "untagged/*" };

@id("nothing-public-under-private")
forbid (principal, action, resource)
when { resource is Object && resource.key like "private/*" && resource.acl != "private" };
"#;

/// `alpha`, and `beta` capped at 64 KiB.
const BUCKETS: &str = "
[buckets.alpha]
backend = \"local\"

[buckets.beta]
backend = \"local\"

[buckets.beta.quota]
hard = \"64KiB\"
";

#[test]
fn presigned_post_forms_are_decided_as_putobject_and_streamed() {
    let gateway = TestGateway::start_custom(
        BUCKETS,
        "",
        &[("tester.cedar", TESTER_POLICY), ("forbids.cedar", FORBIDS)],
        None,
    );
    gateway.assert_pytest_passes("test_post_object.py");
    let metrics = gateway.admin_get("/metrics").expect("metrics");
    assert!(
        metrics.contains(r#"operation="PostObject",result="ok",status="204""#),
        "{metrics}"
    );
}

#[test]
fn chromium_uploads_a_presigned_post_form() {
    let browser_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing: run scripts/setup"
    );
    let chromium = std::env::var("CG_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "`{chromium}` is missing: run scripts/setup"
    );
    let gateway = TestGateway::start("");
    gateway.assert_pytest_env_passes("test_post_browser.py", &[("CG_CHROMIUM", &chromium)]);
}
