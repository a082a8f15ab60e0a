//! The conformance suite against a real gateway process, in both error
//! profiles, with every fixture this deployment provides.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

mod utils;

use cedargate_conformance::{Config, ErrorTable, Fixtures, output};
use utils::{ACCESS_KEY, SECRET_KEY, TestGateway};

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

[buckets]
main = "alpha"
nonexistent = "no-such-bucket-here"
"#,
        admin = gateway.admin,
        data = gateway.data_dir().display(),
    );
    Fixtures::from_str_named(&text, "gateway-test-fixtures").expect("fixtures parse")
}

fn run_suite(profile: &str, extra_toml: &str) {
    let gateway = TestGateway::start(extra_toml);
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
