//! The example policy sets: each validates and passes its `tests.toml`;
//! the test-file runner and explain report failures usefully.

use std::path::{Path, PathBuf};

use cedargate_policies::cli::{ExplainRequest, explain, run_test_file, validate_dir};

use crate::support::write;

fn example_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_example_set_passes_its_tests() {
    let dirs = example_dirs();
    assert!(dirs.len() >= 6, "{dirs:?}");
    let mut failed = 0;
    let mut text = String::new();
    for dir in dirs {
        let report = run_test_file(None, &dir.join("tests.toml"));
        assert!(report.cases.len() >= 5, "{report}");
        failed += report.failed();
        text.push_str(&format!("{report}\n"));
    }
    println!("{text}");
    assert_eq!(failed, 0, "{text}");
}

#[test]
fn every_example_set_validates() {
    for dir in example_dirs() {
        let summary = validate_dir(&dir).unwrap();
        assert!(summary.policies > 0, "{summary}");
        assert_eq!(summary.builtin, 3);
        assert!(summary.warnings.is_empty(), "{summary}");
        assert!(
            summary.to_string().contains("are valid (plus 3 built-in)"),
            "{summary}"
        );
    }
}

#[test]
fn a_failing_case_shows_expected_and_got() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.cedar",
        "@id(\"read\") permit (principal, action in Action::\"read\", resource);",
    );
    let tests = r#"
[[case]]
name = "reads are allowed"
principal = "alice"
action = "GetObject"
bucket = "b"
key = "k"
expect = "allow"

[[case]]
name = "writes are allowed (wrong)"
principal = "alice"
action = "PutObject"
bucket = "b"
key = "k"
expect = "allow"

[[case]]
name = "a typo in a case"
principal = "alice"
action = "PutObject"
buckit = "b"
expect = "deny"
"#;
    write(dir.path(), "tests.toml", tests);
    let report = run_test_file(None, &dir.path().join("tests.toml"));
    assert_eq!((report.passed(), report.failed()), (1, 2), "{report}");
    let text = report.to_string();
    assert!(text.contains("  PASS reads are allowed\n"), "{text}");
    assert!(text.contains("  FAIL writes are allowed (wrong)\n       expected: allow\n       got:      deny AccessDenied (reason no_permit) by []\n"), "{text}");
    assert!(text.contains("unknown field `buckit`"), "{text}");
    assert!(text.ends_with("1 passed, 2 failed"), "{text}");

    // An explicit policy directory wins over the file's own.
    let elsewhere = tempfile::tempdir().unwrap();
    write(
        elsewhere.path(),
        "all.cedar",
        "permit (principal, action, resource);",
    );
    let report = run_test_file(Some(elsewhere.path()), &dir.path().join("tests.toml"));
    assert_eq!((report.passed(), report.failed()), (2, 1), "{report}");
}

#[test]
fn a_test_file_that_cannot_run_counts_as_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let missing = run_test_file(None, &dir.path().join("nope.toml"));
    assert_eq!(missing.failed(), 1);
    assert!(
        missing.to_string().contains("error: cannot read"),
        "{missing}"
    );

    write(
        dir.path(),
        "bad.cedar",
        "permit (principal, action, resource) when { nope };",
    );
    write(dir.path(), "tests.toml", "policies = \".\"\n");
    let invalid = run_test_file(None, &dir.path().join("tests.toml"));
    assert_eq!(invalid.failed(), 1);
    assert!(
        invalid.error.as_deref().unwrap().contains("bad.cedar:1:"),
        "{invalid}"
    );
}

#[test]
fn explain_names_the_deciding_policies_and_why() {
    let quota = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quota");
    let mut request = ExplainRequest {
        principal: Some("uma".into()),
        groups: vec!["uploaders".into()],
        action: "PutObject".into(),
        bucket: Some("capped".into()),
        key: Some("x".into()),
        ..ExplainRequest::default()
    };
    request.context.set("bucket_hard_cap", "10").unwrap();
    request.context.set("write_bytes", "11").unwrap();
    let explanation = explain(&quota, &request).unwrap();
    assert_eq!(
        explanation.decision.error_code.as_deref(),
        Some("EntityTooLarge")
    );
    let text = explanation.to_string();
    assert!(text.starts_with("decision: deny (EntityTooLarge)\nreason: quota\ndeciding policies:\n  forbid `cedargate-base/quota` at <builtin>/base.cedar:"), "{text}");
    assert!(text.contains("forbid `quota-headroom` at "), "{text}");
    assert!(
        text.contains("quota.cedar:24:1 @error(\"EntityTooLarge\") @reason(\"quota\")"),
        "{text}"
    );

    request.groups.clear();
    let text = explain(&quota, &request).unwrap().to_string();
    assert_eq!(
        text,
        "decision: deny (AccessDenied)\nreason: no_permit: no permit policy matched, so the request is denied by default\n"
    );

    request.action = "PutObjekt".into();
    let text = explain(&quota, &request).unwrap().to_string();
    assert!(text.contains("error: unknown action `PutObjekt`"), "{text}");
}
