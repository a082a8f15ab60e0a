//! One key, one meaning: a key Cedar decides is the key the backend
//! stores, under the bucket's prefix; and DeleteObjects' version ids mean
//! (and are decided) what DeleteObject's do.
//!
//! The attacks are Python scenarios (raw, signed HTTP requests) in
//! `tests/clients`, run against a gateway whose s3 backend fronts s3s-fs
//! (which resolves `..` in keys as file paths) or moto, and against the fs
//! backend.

use crate::utils::{S3Upstream, TESTER_POLICY, TestGateway};

/// `tone`, `ttwo` and `shared` under prefixes of one upstream bucket.
const PREFIXED_BUCKETS: &str = r#"
[buckets.tone]
backend = "upstream"
backend_bucket = "store"
prefix = "t1/"

[buckets.ttwo]
backend = "upstream"
backend_bucket = "store"
prefix = "t2/"

[buckets.shared]
backend = "upstream"
backend_bucket = "store"
prefix = "sh/"
"#;

/// `scoped` may use `tone`, and in `shared` only the keys under `alice/`.
const SCOPED_POLICY: &str = r#"
@id("scoped-own-bucket")
permit (principal in Group::"beta-team", action, resource in Bucket::"tone");

@id("scoped-alice-folder")
permit (principal in Group::"beta-team", action, resource in Bucket::"shared")
when { resource is Object && resource.key like "alice/*" };
"#;

fn prefixed_gateway(upstream: &S3Upstream) -> TestGateway {
    TestGateway::start_custom(
        PREFIXED_BUCKETS,
        &upstream.backend_toml("upstream"),
        &[
            ("tester.cedar", TESTER_POLICY),
            ("scoped.cedar", SCOPED_POLICY),
        ],
        None,
    )
}

#[test]
fn dot_segments_cannot_cross_prefixes_over_s3s_fs() {
    let upstream = S3Upstream::s3s_fs(&["store"]);
    let gateway = prefixed_gateway(&upstream);
    gateway.assert_pytest_env_passes(
        "test_key_segments.py",
        &[("CG_UPSTREAM_PATH_KEYS_ONLY", "1")],
    );
}

#[test]
fn dot_segments_cannot_cross_prefixes_over_moto() {
    let upstream = S3Upstream::moto(&["store"]);
    let gateway = prefixed_gateway(&upstream);
    gateway.assert_pytest_passes("test_key_segments.py");
}

/// On `alpha` (fs), `scoped` may do anything but delete a named version
/// or delete under `keep/`.
const VERSION_POLICY: &str = r#"
@id("scoped-works-in-alpha")
permit (principal in Group::"beta-team", action, resource in Bucket::"alpha");

@id("no-version-deletes")
forbid (principal in Group::"beta-team", action == Action::"s3:DeleteObjectVersion", resource);

@id("keep-stays")
forbid (principal in Group::"beta-team", action == Action::"s3:DeleteObject", resource)
when { resource.key like "keep/*" };
"#;

#[test]
fn delete_objects_versions_on_fs_mean_and_are_decided_as_delete_object_s() {
    let gateway = TestGateway::start_with_policies(
        "",
        &[
            ("tester.cedar", TESTER_POLICY),
            ("versions.cedar", VERSION_POLICY),
        ],
    );
    gateway.assert_pytest_env_passes("test_delete_versions.py", &[("CG_SCENARIO", "fs")]);
}

#[test]
fn delete_objects_deletes_the_named_version_on_a_versioned_upstream() {
    let upstream = S3Upstream::moto(&["store"]);
    let gateway = prefixed_gateway(&upstream);
    gateway.assert_pytest_env_passes(
        "test_delete_versions.py",
        &[
            ("CG_SCENARIO", "moto"),
            ("CG_UPSTREAM", upstream.endpoint().as_str()),
        ],
    );
}

#[test]
fn the_fs_backend_keeps_literal_dot_segment_keys_inside_the_bucket() {
    let gateway = TestGateway::start("");
    gateway.assert_pytest_passes("test_literal_keys.py");
}
