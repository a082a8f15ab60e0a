//! What a decision sees cannot be changed around it: an upload id named
//! with another key frees none of its parts' reservation, a copy is decided
//! on the bytes it writes, stray signature parameters leave a request
//! anonymous (and rate-limited as such), a versioned delete decides a
//! governance bypass, and policies that read tags never decide a named
//! version on the current version's tags. Python scenarios in
//! `tests/clients/test_security_decisions.py`.

use crate::utils::{DEFAULT_BUCKETS, S3Upstream, TAG_POLICIES, TESTER_POLICY, TestGateway};

/// Writes to `beta` are limited to 1000 bytes, governance bypasses are
/// forbidden, and anyone may read `beta`.
const LIMITS: &str = r#"
@id("beta-writes-are-small")
forbid (principal, action, resource in Bucket::"beta")
when { context.write_bytes > 1000 };

@id("no-governance-bypass")
forbid (principal, action == Action::"s3:BypassGovernanceRetention", resource);

@id("beta-is-public")
permit (principal is Anonymous, action == Action::"s3:GetObject", resource in Bucket::"beta");
"#;

#[test]
fn decisions_see_what_requests_do_on_fs() {
    let buckets = format!(
        "{DEFAULT_BUCKETS}\n[buckets.capped]\nbackend = \"local\"\nquota = {{ hard = \"300000\" }}\n"
    );
    let extra = "[anonymous]\nenabled = true\n\n[rate_limits]\nanonymous_source_ip = { rate = 0.2, burst = 2 }\n\n[state]\nmaintenance_interval_seconds = 1\n";
    let gateway = TestGateway::start_custom(
        &buckets,
        extra,
        &[("tester.cedar", TESTER_POLICY), ("limits.cedar", LIMITS)],
        None,
    );
    gateway.assert_pytest_env_passes("test_security_decisions.py", &[("CG_SCENARIO", "fs")]);
}

#[test]
fn decisions_see_what_requests_do_on_a_versioned_upstream() {
    let upstream = S3Upstream::moto(&["store"]);
    let gateway = TestGateway::start_custom(
        "\n[buckets.vers]\nbackend = \"upstream\"\nbackend_bucket = \"store\"\n",
        &upstream.backend_toml("upstream"),
        &[
            ("tester.cedar", TESTER_POLICY),
            ("tags.cedar", TAG_POLICIES),
        ],
        None,
    );
    gateway.assert_pytest_env_passes(
        "test_security_decisions.py",
        &[
            ("CG_SCENARIO", "moto"),
            ("CG_UPSTREAM", upstream.endpoint().as_str()),
        ],
    );
}
