//! Operations: the JSON access log, credentials and the bucket map reloaded
//! under load, graceful shutdown, and oversized requests refused with S3
//! errors (tests/clients/test_access_log.py, test_operations.py,
//! test_shutdown.py).

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

mod utils;

use utils::{DEFAULT_BUCKETS, TESTER_POLICY, TestGateway};

/// Writes under `logs/blocked` are forbidden, by a policy with an id.
const BLOCKED_POLICY: &str = r#"
@id("no-writes-under-blocked")
forbid (principal, action == Action::"s3:PutObject", resource)
when { resource has key && resource.key like "logs/blocked*" };
"#;

#[test]
fn the_access_log_has_one_json_line_per_request_and_no_secret() {
    let gateway = TestGateway::start_with_args(
        DEFAULT_BUCKETS,
        "",
        &[
            ("tester.cedar", TESTER_POLICY),
            ("blocked.cedar", BLOCKED_POLICY),
        ],
        None,
        &["--log-format", "json"],
    );
    gateway.assert_pytest_passes("test_access_log.py");
}

#[test]
fn credentials_and_buckets_reload_under_load_and_oversized_requests_are_refused() {
    let gateway = TestGateway::start("");
    gateway.assert_pytest_passes("test_operations.py");
}

#[test]
fn sigterm_lets_requests_in_flight_finish_then_exits() {
    let gateway = TestGateway::start_with_args(
        DEFAULT_BUCKETS,
        "",
        &[("tester.cedar", TESTER_POLICY)],
        None,
        &["--grace-period-seconds", "3"],
    );
    gateway.assert_pytest_passes("test_shutdown.py");
}

#[test]
fn traces_are_exported_over_otlp_with_a_span_per_stage() {
    let port = utils::free_port();
    let telemetry = format!(
        "\n[telemetry]\notlp_endpoint = \"http://127.0.0.1:{port}/v1/traces\"\nexport_interval_ms = 200\n"
    );
    let gateway = TestGateway::start(&telemetry);
    let port = port.to_string();
    gateway.assert_pytest_env_passes("test_traces.py", &[("CG_OTLP_PORT", &port)]);
}

#[test]
fn slow_senders_are_cut_off_and_connections_are_capped() {
    let gateway = TestGateway::start_full(
        DEFAULT_BUCKETS,
        "",
        "max_connections = 8\nheader_timeout_seconds = 2\nbody_timeout_seconds = 2\n",
        &[("tester.cedar", TESTER_POLICY)],
        None,
        &[],
    );
    gateway.assert_pytest_passes("test_connections.py");
}
