//! Object versions through the gateway: boto3 enables versioning, writes,
//! lists, reads, deletes and restores versions, and a principal allowed
//! `s3:GetObject` but not `s3:GetObjectVersion` cannot read a version by
//! naming it (`tests/clients/test_versioning.py`).

use crate::utils::{S3Upstream, TESTER_POLICY, TestGateway};

/// `scoped` may read, head, write and copy in `vers`, and nothing else:
/// no `s3:GetObjectVersion`.
const CURRENT_ONLY_POLICY: &str = r#"
@id("scoped-current-versions")
permit (
    principal in Group::"beta-team",
    action in [Action::"s3:GetObject", Action::"s3:HeadObject", Action::"s3:PutObject", Action::"s3:CopyObject"],
    resource in Bucket::"vers"
);
"#;

#[test]
fn versions_round_trip_and_a_named_version_needs_get_object_version_over_moto() {
    let upstream = S3Upstream::moto(&["vstore"]);
    let bucket = "\n[buckets.vers]\nbackend = \"upstream\"\nbackend_bucket = \"vstore\"\n";
    let gateway = TestGateway::start_custom(
        bucket,
        &upstream.backend_toml("upstream"),
        &[
            ("tester.cedar", TESTER_POLICY),
            ("versions.cedar", CURRENT_ONLY_POLICY),
        ],
        None,
    );
    gateway.assert_pytest_env_passes(
        "test_versioning.py",
        &[("CG_VERSIONED_BUCKET", "vers"), ("CG_SCENARIO", "moto")],
    );
}

#[test]
fn versions_round_trip_and_a_named_version_needs_get_object_version_on_fs() {
    let bucket = "\n[buckets.vers]\nbackend = \"local\"\n";
    let gateway = TestGateway::start_custom(
        bucket,
        "",
        &[
            ("tester.cedar", TESTER_POLICY),
            ("versions.cedar", CURRENT_ONLY_POLICY),
        ],
        None,
    );
    gateway.assert_pytest_env_passes(
        "test_versioning.py",
        &[("CG_VERSIONED_BUCKET", "vers"), ("CG_SCENARIO", "fs")],
    );
}
