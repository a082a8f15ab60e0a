//! The conformance suite against a real gateway process, in both error
//! profiles, with every fixture this deployment provides.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

mod utils;

use cedargate_conformance::{Config, ErrorTable, Fixtures, output};
use utils::{ACCESS_KEY, SECRET_KEY, TESTER_POLICY, TestGateway};

fn fixtures(gateway: &TestGateway) -> Fixtures {
    let text = format!(
        r#"
region = "us-east-1"
metrics_url = "http://{admin}/metrics"
leak_markers = ["{data}"]

[credentials.full]
access_key = "{ACCESS_KEY}"
secret_key = "{SECRET_KEY}"

[credentials.disabled]
access_key = "CGDISABLEDKEY0000001"
secret_key = "disabled-secret-0000000000000000000000"

[credentials.expired]
access_key = "CGEXPIREDKEY00000001"
secret_key = "expired-secret-000000000000000000000000"

[credentials.rate_limited]
access_key = "CGRATELIMITEDKEY0001"
secret_key = "rate-limited-secret-000000000000000000"

[buckets]
main = "alpha"
nonexistent = "no-such-bucket-here"

[buckets.quota_capped]
name = "capped"
cap_bytes = 4096

[buckets.anonymous_readable]
name = "public"
key = "hello.txt"

[buckets.anonymous_rate_limited]
name = "public-slow"
key = "hello.txt"
"#,
        admin = gateway.admin,
        data = gateway.data_dir().display(),
    );
    Fixtures::from_str_named(&text, "gateway-test-fixtures").expect("fixtures parse")
}

/// A 4 KiB bucket, a credential limited to a few requests, and two
/// anonymous-readable buckets, one with a small per-address rate.
const LIMITS: &str = r#"
[anonymous]
enabled = true

[buckets.capped]
backend = "local"
quota = { hard = 4096 }

[buckets.public]
backend = "local"

[buckets.public-slow]
backend = "local"
anonymous_rate_limit = { rate = 0.2, burst = 2 }

[rate_limits.credentials]
CGRATELIMITEDKEY0001 = { rate = 0.5, burst = 2 }
"#;

/// Anonymous reads of the two public buckets.
const PUBLIC_POLICY: &str = r#"
@id("public-anonymous-read")
permit (
  principal is Anonymous,
  action in [Action::"s3:GetObject", Action::"s3:HeadObject", Action::"s3:ListObjectsV2"],
  resource
)
when { resource in Bucket::"public" || resource in Bucket::"public-slow" };
"#;

fn run_suite(profile: &str, extra_toml: &str) {
    let policies = [
        ("tester.cedar", TESTER_POLICY),
        (
            "quota.cedar",
            include_str!("../../policies/examples/quota/quota.cedar"),
        ),
        ("public.cedar", PUBLIC_POLICY),
    ];
    let gateway = TestGateway::start_with_policies(&format!("{extra_toml}{LIMITS}"), &policies);
    for bucket in ["public", "public-slow"] {
        std::fs::write(
            gateway.data_dir().join(bucket).join("hello.txt"),
            b"hello\n",
        )
        .expect("place the public object");
    }
    let table = ErrorTable::load(profile).expect("table");
    let config = Config::new(gateway.endpoint.clone(), fixtures(&gateway), table);
    let report = cedargate_conformance::run(&config).expect("suite runs");
    let text = output::render(&report, cedargate_conformance::Format::Text);
    println!("{text}");
    let summary = report.summary();
    assert_eq!(
        report.exit_code(),
        0,
        "conformance failures in the {profile} profile:\n{text}\n--- gateway log (tail) ---\n{}",
        gateway.log_tail(30)
    );
    assert!(
        summary
            .line()
            .starts_with(|c: char| c.is_ascii_digit() && c != '0'),
        "{}",
        summary.line()
    );
}

#[test]
fn the_gateway_conforms_to_the_documented_table() {
    run_suite("documented", "");
}

#[test]
fn the_gateway_conforms_to_the_aws_table() {
    run_suite("aws", "[s3]\nerror_profile = \"aws\"\n");
}
