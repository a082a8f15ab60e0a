//! Runs the suite against a fake server on 127.0.0.1 that answers `200 OK`
//! with an empty body to everything: the suite must catch the faults (exit
//! 1, the error rows FAIL), must skip what the fixtures do not provide, and
//! must treat harness problems as exit 2.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking"
)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::Duration;

use cedargate_conformance::{Config, ErrorTable, Fixtures, Report, Verdict, run};

const BIN: &str = env!("CARGO_BIN_EXE_cedargate-conformance");

/// Starts the fake on an ephemeral port; returns its endpoint URL.
fn fake_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer_ok(stream));
        }
    });
    url
}

/// Reads one request (head, then the body by Content-Length or chunked
/// framing) and answers `200 OK` with no body.
fn answer_ok(mut stream: TcpStream) {
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head.contains("transfer-encoding: chunked");
    loop {
        let body = &buf[head_end..];
        let done = match length {
            Some(len) => body.len() >= len,
            None => !chunked || body.ends_with(b"0\r\n\r\n"),
        };
        if done {
            break;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

const FULL_FIXTURES: &str = r#"
leak_markers = ["backend-secret-bucket"]
[credentials.full]
access_key = "AKFULL"
secret_key = "full-secret"
[credentials.scoped]
access_key = "AKSCOPED"
secret_key = "scoped-secret"
forbidden_bucket = "finance"
[credentials.disabled]
access_key = "AKDISABLED"
secret_key = "s"
[credentials.expired]
access_key = "AKEXPIRED"
secret_key = "s"
[credentials.rate_limited]
access_key = "AKSLOW"
secret_key = "s"
[buckets]
main = "main"
nonexistent = "nope"
unreachable_backend = "down"
garbage_backend = "garbage"
internal_error = "broken"
[buckets.anonymous_readable]
name = "public"
key = "hello.txt"
[buckets.quota_capped]
name = "small"
cap_bytes = 1024
[buckets.not_implemented]
name = "gcs"
[sts]
role_arn = "arn:aws:iam::123456789012:role/reader"
token_command = "printf not-really-a-jwt"
access_denied_role_arn = "arn:aws:iam::123456789012:role/denied"
[sts.expired_session]
access_key = "ASIAEXPIRED"
secret_key = "s"
session_token = "t"
"#;

fn run_with(fixtures: &str, table: &str) -> Report {
    let fixtures = Fixtures::from_str_named(fixtures, "test").unwrap();
    let table = ErrorTable::load(table).unwrap();
    let mut config = Config::new(fake_server(), fixtures, table);
    config.timeout = Duration::from_secs(5);
    run(&config).unwrap()
}

fn verdict(report: &Report, case: &str) -> Verdict {
    report
        .case(case)
        .unwrap_or_else(|| panic!("no case {case}"))
        .verdict
}

#[test]
fn an_always_200_server_fails_every_error_row() {
    for table in ["documented", "aws"] {
        let report = run_with(FULL_FIXTURES, table);
        assert_eq!(report.exit_code(), 1);
        for case in [
            "auth.unknown_access_key",
            "auth.bad_signature",
            "auth.time_skew",
            "request.unrecognised_shape",
            "request.delete_objects_malformed_xml",
            "request.streaming_without_length",
            "objects.no_such_key",
            "objects.not_modified",
            "scope.forbidden_bucket",
            "anonymous.no_binding",
            "backend.garbage_response",
            "sts.garbage_token",
            "sts.expired_session",
            "limits.quota_exceeded",
            "limits.rate_limited_credential",
            "wire.error_shape",
            "wire.unique_request_ids",
            "wire.head_error_no_body",
        ] {
            assert_eq!(verdict(&report, case), Verdict::Fail, "{table}: {case}");
        }
        let passed: Vec<&str> = report
            .cases
            .iter()
            .filter(|c| c.verdict == Verdict::Pass)
            .map(|c| c.case.as_str())
            .collect();
        assert!(
            passed.is_empty(),
            "{table}: passed against a fake: {passed:?}"
        );
        let no_such_key = report.case("objects.no_such_key").unwrap();
        assert_eq!(no_such_key.got, "200 (no body)");
        assert!(no_such_key.message.contains("status 200, expected 404"));
    }
}

#[test]
fn an_empty_fixtures_file_skips_every_fixture_dependent_case() {
    let report = run_with("", "documented");
    let all = cedargate_conformance::selected(None, None);
    for case in all {
        let got = verdict(&report, case.name);
        assert_ne!(got, Verdict::Pass, "{} passed", case.name);
        if !case.needs.is_empty() {
            assert_eq!(got, Verdict::Skip, "{} ran without its fixtures", case.name);
        }
    }
    assert_eq!(verdict(&report, "auth.unknown_access_key"), Verdict::Fail);
    assert_eq!(verdict(&report, "sts.internal_error"), Verdict::Skip);
    assert!(report.summary().skipped > 30);
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn the_binary_prints_the_summary_line_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = write(&dir, "fixtures.toml", FULL_FIXTURES);
    let out = Command::new(BIN)
        .args(["--endpoint", &fake_server(), "--fixtures", &fixtures])
        .args(["--filter", "^(auth|objects)\\.", "--timeout-seconds", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last = stdout.lines().last().unwrap();
    assert_eq!(last, "0 passed, 16 failed, 0 skipped", "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("row") && l.contains("verdict"))
    );

    let out = Command::new(BIN)
        .args([
            "--endpoint",
            &fake_server(),
            "--fixtures",
            &fixtures,
            "--format",
            "junit",
        ])
        .args(["--filter", "^sts\\."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let junit = String::from_utf8(out.stdout).unwrap();
    assert!(junit.contains("<testsuite name=\"cedargate-conformance\" tests=\"8\""));
    assert!(junit.contains("<skipped message=\"SKIP: no request provokes"));
}

#[test]
fn expected_failures_turn_fail_into_xfail() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = write(&dir, "fixtures.toml", "");
    let xfail = write(
        &dir,
        "xfail.toml",
        "[[expected_failure]]\ncase = \"auth.unknown_access_key\"\nreason = \"the fake answers 200\"\n",
    );
    let out = Command::new(BIN)
        .args([
            "--endpoint",
            &fake_server(),
            "--fixtures",
            &fixtures,
            "--format",
            "json",
        ])
        .args([
            "--filter",
            "^auth\\.unknown_access_key$",
            "--expected-failures",
            &xfail,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["cases"][0]["verdict"], "XFAIL");
    assert_eq!(json["summary"]["skipped"], 1);

    let no_reason = write(
        &dir,
        "bad.toml",
        "[[expected_failure]]\ncase = \"auth.unknown_access_key\"\n",
    );
    let out = Command::new(BIN)
        .args(["--endpoint", &fake_server(), "--fixtures", &fixtures])
        .args(["--expected-failures", &no_reason])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no reason"));
}

#[test]
fn harness_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = write(&dir, "fixtures.toml", "");
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let status = |args: &[&str]| Command::new(BIN).args(args).output().unwrap().status.code();
    assert_eq!(
        status(&["--endpoint", &closed, "--fixtures", &fixtures]),
        Some(2)
    );
    assert_eq!(
        status(&["--endpoint", &fake_server(), "--fixtures", "/no/such/file"]),
        Some(2)
    );
    assert_eq!(status(&["--endpoint", &fake_server()]), Some(2));
    let ok = fake_server();
    assert_eq!(
        status(&[
            "--endpoint",
            &ok,
            "--fixtures",
            &fixtures,
            "--table",
            "/no/table"
        ]),
        Some(2)
    );
    assert_eq!(
        status(&["--endpoint", &ok, "--fixtures", &fixtures, "--filter", "("]),
        Some(2)
    );
    assert_eq!(status(&["--list"]), Some(0));
}
