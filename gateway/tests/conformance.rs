//! The conformance suite against a real gateway process, in both error
//! profiles, with every fixture this deployment provides.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

mod utils;

use cedargate_conformance::{Config, ErrorTable, Fixtures, output};
use std::io::{Read, Write};

use utils::{
    ACCESS_KEY, S3Upstream, SECRET_KEY, TESTER_POLICY, TestGateway, UPSTREAM_ACCESS_KEY,
    UPSTREAM_SECRET_KEY,
};

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

[credentials.scoped]
access_key = "CGSCOPEDKEY000000001"
secret_key = "scoped-secret-0000000000000000000000000"
forbidden_bucket = "beta"

[credentials.rate_limited]
access_key = "CGRATELIMITEDKEY0001"
secret_key = "rate-limited-secret-000000000000000000"

[buckets]
main = "alpha"
nonexistent = "no-such-bucket-here"
unreachable_backend = "down"
garbage_backend = "garbage"
internal_error = "refused"

[buckets.quota_capped]
name = "capped"
cap_bytes = 4096

[buckets.not_implemented]
name = "alpha"
operation = "GetBucketVersioning"

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

/// A TCP server on 127.0.0.1 answering every connection (at most 500)
/// with bytes that are not HTTP; its port.
fn garbage_upstream() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(500) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(b"SSH-2.0-definitely-not-http\r\n\r\n");
        }
    });
    port
}

/// Backends that fail: nothing listening, garbage, and a real S3 server
/// (s3s-fs) that refuses the backend's signature (an upstream answer the
/// gateway cannot recover from).
fn failing_backends(refusing: &S3Upstream) -> String {
    let nothing = utils::free_port();
    let garbage = garbage_upstream();
    let backend = |name: &str, port: u16, secret: &str| {
        format!(
            "\n[backends.{name}]\nkind = \"s3\"\nendpoint = \"http://127.0.0.1:{port}\"\naccess_key = \"{UPSTREAM_ACCESS_KEY}\"\nsecret_key = \"{secret}\"\nconnect_timeout_ms = 500\nread_timeout_ms = 2000\n\n[buckets.{name}]\nbackend = \"{name}\"\nbackend_bucket = \"store\"\n"
        )
    };
    [
        backend("down", nothing, UPSTREAM_SECRET_KEY),
        backend("garbage", garbage, UPSTREAM_SECRET_KEY),
        backend(
            "refused",
            refusing.port,
            "not-the-upstream-secret-0000000000000",
        ),
    ]
    .concat()
}

fn run_suite(profile: &str, extra_toml: &str) {
    let policies = [
        ("tester.cedar", TESTER_POLICY),
        (
            "quota.cedar",
            include_str!("../../policies/examples/quota/quota.cedar"),
        ),
        ("public.cedar", PUBLIC_POLICY),
    ];
    let refusing = S3Upstream::s3s_fs(&["store"]);
    let failing = failing_backends(&refusing);
    let gateway =
        TestGateway::start_with_policies(&format!("{extra_toml}{LIMITS}{failing}"), &policies);
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
