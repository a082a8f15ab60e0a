//! The gateway in front of real S3 servers through the s3 backend: moto,
//! and s3s-fs (which verifies every signature the backend makes). The
//! client buckets live under key prefixes of one upstream bucket, and the
//! same boto3 and AWS CLI scenarios as on the fs backend must pass
//! unchanged.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

mod utils;

use utils::{S3Upstream, TESTER_POLICY, TestGateway};

/// `alpha` and `beta` under prefixes of the upstream bucket `store`.
const BUCKETS: &str = r#"
[buckets.alpha]
backend = "upstream"
backend_bucket = "store"
prefix = "tenants/alpha/"

[buckets.beta]
backend = "upstream"
backend_bucket = "store"
prefix = "tenants/beta/"
"#;

/// What s3s-fs 0.14 cannot do: keys that are not file paths; and its
/// multipart support lacks ListMultipartUploads, part ETags in ListParts
/// and ETag checks on completion, so the boto3 multipart scenarios run
/// against moto only (multipart through a signature-checking upstream is
/// covered by the AWS CLI's 20 MiB upload here and by the backends crate).
/// As on every s3 backend (`CG_URL_PATH_KEYS`), keys with empty or dot
/// segments are refused.
const S3S_FS_LIMITS: &[(&str, &str)] = &[
    ("CG_UPSTREAM_PATH_KEYS_ONLY", "1"),
    ("CG_URL_PATH_KEYS", "1"),
    ("PYTEST_ADDOPTS", "-k 'not test_multipart'"),
];

fn gateway_in_front_of(upstream: &S3Upstream) -> TestGateway {
    TestGateway::start_custom(
        BUCKETS,
        &upstream.backend_toml("upstream"),
        &[("tester.cedar", TESTER_POLICY)],
        None,
    )
}

#[test]
fn boto3_scenarios_pass_through_moto() {
    let upstream = S3Upstream::moto(&["store"]);
    let gateway = gateway_in_front_of(&upstream);
    gateway.assert_pytest_env_passes("test_boto3.py", &[("CG_URL_PATH_KEYS", "1")]);
    gateway.assert_pytest_env_passes("test_storage_headers.py", &[("CG_STORAGE", "s3")]);
}

#[test]
fn boto3_scenarios_pass_through_s3s_fs_with_signatures_checked() {
    let upstream = S3Upstream::s3s_fs(&["store"]);
    let gateway = gateway_in_front_of(&upstream);
    gateway.assert_pytest_env_passes("test_boto3.py", S3S_FS_LIMITS);
}

#[test]
fn aws_cli_scenarios_pass_through_s3s_fs() {
    let upstream = S3Upstream::s3s_fs(&["store"]);
    let gateway = gateway_in_front_of(&upstream);
    gateway.assert_pytest_env_passes("test_awscli.py", S3S_FS_LIMITS);
}

/// `gamma`, on the gateway's own disk beside the upstream's buckets.
const LOCAL_BUCKET: &str = "\n[buckets.gamma]\nbackend = \"local\"\n";

#[test]
fn an_upstream_killed_mid_transfer_fails_loudly_leaves_nothing_partial_and_recovers() {
    let mut upstream = S3Upstream::s3s_fs(&["store"]);
    let extra = format!(
        "{}\n[state]\nmaintenance_interval_seconds = 1\nlease_seconds = 5\n",
        upstream.backend_toml("upstream")
    );
    let gateway = TestGateway::start_custom(
        &format!("{BUCKETS}{LOCAL_BUCKET}"),
        &extra,
        &[("tester.cedar", TESTER_POLICY)],
        None,
    );
    let phase = |name: &str, upstream: &S3Upstream| {
        let select = format!("-k {name}");
        let pid = upstream.pid().to_string();
        gateway.assert_pytest_env_passes(
            "test_upstream.py",
            &[("PYTEST_ADDOPTS", &select), ("CG_UPSTREAM_PID", &pid)],
        );
    };
    phase("test_phase_before", &upstream);
    phase("test_phase_kill_the_upstream", &upstream);
    upstream.restart();
    phase("test_phase_put_cut_off", &upstream);
    upstream.restart();
    phase("test_phase_after_restart", &upstream);
}

#[test]
fn tls_and_aws_chunked_uploads_pass_through_s3s_fs() {
    let upstream = S3Upstream::s3s_fs(&["store"]);
    let gateway = gateway_in_front_of(&upstream);
    gateway.assert_pytest_passes("test_tls.py");
    gateway.assert_pytest_passes("test_streaming.py");
}

#[test]
fn a_gcs_backend_serves_the_boto3_scenarios_through_an_s3_dialect_server() {
    // moto speaks the XML API GCS shares with S3: the gcs backend's
    // differences (per-key deletes, region `auto`) must not change what
    // clients see. UploadPartCopy, which GCS lacks, is a clean 501 instead.
    let upstream = S3Upstream::moto(&["store"]);
    let gcs = format!(
        "\n[backends.upstream]\nkind = \"gcs\"\nendpoint = \"{}\"\naccess_key = \"GOOGTESTHMACID\"\nsecret_key = \"hmac-secret\"\nproject_id = \"test-project\"\n",
        upstream.endpoint()
    );
    let gateway =
        TestGateway::start_custom(BUCKETS, &gcs, &[("tester.cedar", TESTER_POLICY)], None);
    gateway.assert_pytest_env_passes(
        "test_boto3.py",
        &[
            (
                "PYTEST_ADDOPTS",
                "-k 'not test_multipart_abort_and_part_copy'",
            ),
            ("CG_URL_PATH_KEYS", "1"),
        ],
    );
    gateway.assert_pytest_env_passes("test_storage_headers.py", &[("CG_STORAGE", "gcs")]);
}

/// `alpha` on the gateway's own disk, `beta` where `alpha` will move.
const ALPHA_ON_FS: &str = r#"
[buckets.alpha]
backend = "local"

[buckets.beta]
backend = "upstream"
backend_bucket = "store"
prefix = "tenants/moved/"
"#;

/// `alpha` moved to the upstream, with its data.
const ALPHA_ON_S3: &str = r#"
[buckets.alpha]
backend = "upstream"
backend_bucket = "store"
prefix = "tenants/moved/"
"#;

#[test]
fn a_bucket_moved_from_fs_to_s3_with_its_data_looks_the_same_to_clients() {
    let upstream = S3Upstream::moto(&["store"]);
    let scratch = tempfile::tempdir().expect("temp dir");
    let recording = scratch.path().join("observed.json");
    let recording = recording.to_str().expect("utf-8 path");
    let policies = [("tester.cedar", TESTER_POLICY)];
    let backend = upstream.backend_toml("upstream");
    {
        let before = TestGateway::start_custom(ALPHA_ON_FS, &backend, &policies, None);
        before.assert_pytest_env_passes(
            "test_switch.py",
            &[("CG_SWITCH_PHASE", "record"), ("CG_SWITCH_FILE", recording)],
        );
    }
    let after = TestGateway::start_custom(ALPHA_ON_S3, &backend, &policies, None);
    after.assert_pytest_env_passes(
        "test_switch.py",
        &[
            ("CG_SWITCH_PHASE", "compare"),
            ("CG_SWITCH_FILE", recording),
        ],
    );
}

/// [`BUCKETS`] and `gamma` under prefixes of the upstream bucket `store`,
/// and every other bucket name routed to the upstream.
const ROUTED_EXTRA: &str = r#"
[buckets.gamma]
backend = "upstream"
backend_bucket = "store"
prefix = "tenants/gamma/"

[default_route]
backend = "upstream"
"#;

#[test]
fn buckets_versions_and_tags_pass_through_to_an_s3_upstream() {
    let upstream = S3Upstream::moto(&["store"]);
    let gateway = TestGateway::start_custom(
        &format!("{BUCKETS}{ROUTED_EXTRA}"),
        &upstream.backend_toml("upstream"),
        &[
            ("tester.cedar", TESTER_POLICY),
            ("tags.cedar", utils::TAG_POLICIES),
        ],
        None,
    );
    gateway.assert_pytest_env_passes(
        "test_buckets.py",
        &[("CG_STORAGE", "s3"), ("PYTEST_ADDOPTS", "-k 'not restart'")],
    );
}

#[test]
fn checksums_pass_through_to_moto() {
    // What moto stores and returns of whole-object checksums; its
    // multipart deviations (no part checksums in ListParts, none in the
    // completion's answer) are the backends crate's expected failures.
    let upstream = S3Upstream::moto(&["store"]);
    let gateway = gateway_in_front_of(&upstream);
    gateway.assert_pytest_env_passes(
        "test_checksums.py",
        &[(
            "PYTEST_ADDOPTS",
            "-k 'every_algorithm or wrong_checksum or boto3_defaults'",
        )],
    );
}
