//! `cedargate policy validate|test|explain` as the people who edit
//! policies run them, over every shipped example set.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn examples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/examples");
    let mut sets: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("examples dir")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.join("tests.toml").is_file())
        .collect();
    sets.sort();
    sets
}

fn cedargate(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cedargate"))
        .args(args)
        .output()
        .expect("run cedargate")
}

#[test]
fn every_example_set_validates_and_passes_its_tests() {
    let sets = examples();
    assert!(
        sets.len() >= 5,
        "expected the shipped example sets, found {sets:?}"
    );
    for set in sets {
        let validate = cedargate(&["policy".as_ref(), "validate".as_ref(), set.as_os_str()]);
        assert!(
            validate.status.success(),
            "{}: {}",
            set.display(),
            String::from_utf8_lossy(&validate.stderr)
        );
        let tests = set.join("tests.toml");
        let run = cedargate(&["policy".as_ref(), "test".as_ref(), tests.as_os_str()]);
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{}:\n{stdout}\n{}",
            set.display(),
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(
            stdout.contains(" passed, 0 failed"),
            "{}: {stdout}",
            set.display()
        );
    }
}

#[test]
fn a_wrong_expectation_fails_the_run_and_an_invalid_policy_names_its_location() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("p.cedar"),
        "@id(\"readers\")\npermit (principal in Group::\"readers\", action in Action::\"read\", resource);\n",
    )
    .expect("policy");
    std::fs::write(
        dir.path().join("tests.toml"),
        "policies = \".\"\n[[case]]\nname = \"a reader may write (wrong on purpose)\"\nprincipal = \"r\"\ngroups = [\"readers\"]\naction = \"PutObject\"\nbucket = \"b\"\nkey = \"k\"\nexpect = \"allow\"\n",
    )
    .expect("tests");
    let run = cedargate(&[
        "policy".as_ref(),
        "test".as_ref(),
        dir.path().join("tests.toml").as_os_str(),
    ]);
    assert!(!run.status.success(), "a mismatch must exit non-zero");
    assert!(String::from_utf8_lossy(&run.stdout).contains("0 passed, 1 failed"));

    std::fs::write(
        dir.path().join("bad.cedar"),
        "permit (principal, action, resource)\nwhen { nope };\n",
    )
    .expect("bad policy");
    let validate = cedargate(&[
        "policy".as_ref(),
        "validate".as_ref(),
        dir.path().as_os_str(),
    ]);
    assert!(!validate.status.success());
    let stderr = String::from_utf8_lossy(&validate.stderr);
    assert!(
        stderr.contains("bad.cedar:2:"),
        "no file:line:col in {stderr}"
    );
}

#[test]
fn explain_names_the_deciding_policy() {
    let set = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/examples/team-buckets");
    let run = cedargate(&[
        "policy".as_ref(),
        "explain".as_ref(),
        "--policies".as_ref(),
        set.as_os_str(),
        "--principal".as_ref(),
        "ann".as_ref(),
        "--group".as_ref(),
        "analytics".as_ref(),
        "--action".as_ref(),
        "GetObject".as_ref(),
        "--bucket".as_ref(),
        "analytics".as_ref(),
        "--key".as_ref(),
        "report.csv".as_ref(),
    ]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}");
    assert!(stdout.contains("allow"), "{stdout}");
    assert!(stdout.contains("analytics-team"), "{stdout}");
}

#[test]
fn every_s3_operation_has_a_cedar_action() {
    let actions = cedargate_policies::action_names();
    for op in cedargate_s3::classify::S3Operation::all() {
        assert!(
            actions.iter().any(|a| a == op.cedar_action()),
            "`{}` has no action in the schema",
            op.cedar_action()
        );
    }
}

#[test]
fn every_version_action_is_an_object_action_of_the_schema() {
    let actions = cedargate_policies::action_names();
    for op in cedargate_s3::classify::S3Operation::all() {
        let Some(Some(action)) = op.version_action() else {
            continue;
        };
        assert!(
            actions.iter().any(|a| a == &format!("s3:{action}")),
            "`{action}` (`{}` naming a version) has no action in the schema",
            op.name()
        );
        assert_eq!(
            cedargate_policies::action_resource(action),
            cedargate_policies::action_resource(op.name()),
            "`{action}` applies to another resource than `{}`",
            op.name()
        );
    }
}

#[test]
fn explain_and_test_name_the_implied_action_that_denied() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("p.cedar"),
        "@id(\"writers\")\npermit (principal, action == Action::\"s3:PutObject\", resource);\n\
         @id(\"no-locks\") @reason(\"no_object_lock\")\n\
         forbid (principal, action == Action::\"s3:PutObjectRetention\", resource);\n",
    )
    .expect("write policy");
    let explain = |headers: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "policy".as_ref(),
            "explain".as_ref(),
            "--policies".as_ref(),
            dir.path().as_os_str(),
            "--principal".as_ref(),
            "ann".as_ref(),
            "--action".as_ref(),
            "PutObject".as_ref(),
            "--bucket".as_ref(),
            "b".as_ref(),
            "--key".as_ref(),
            "k".as_ref(),
        ];
        for header in headers {
            args.push("--header".as_ref());
            args.push(header.as_ref());
        }
        let run = cedargate(&args);
        assert!(run.status.success(), "{run:?}");
        String::from_utf8_lossy(&run.stdout).into_owned()
    };
    let plain = explain(&[]);
    assert!(plain.contains("decision: allow"), "{plain}");
    let locked = explain(&["X-Amz-Object-Lock-Mode: COMPLIANCE"]);
    assert!(locked.contains("decision: deny (AccessDenied)"), "{locked}");
    assert!(
        locked.contains(
            "denied action: `s3:PutObjectRetention`, implied by the `x-amz-object-lock-mode` header"
        ),
        "{locked}"
    );
    assert!(locked.contains("no-locks"), "{locked}");
    let tests = dir.path().join("tests.toml");
    std::fs::write(
        &tests,
        r#"
[[case]]
name = "a plain put"
principal = "ann"
action = "PutObject"
bucket = "b"
key = "k"
expect = "allow"

[[case]]
name = "a locking put"
principal = "ann"
action = "PutObject"
bucket = "b"
key = "k"
headers = { "x-amz-object-lock-mode" = "COMPLIANCE" }
expect = "deny"
reason = "no_object_lock"
denied_by = "s3:PutObjectRetention"

[[case]]
name = "the wrong implied action"
principal = "ann"
action = "PutObject"
bucket = "b"
key = "k"
headers = { "x-amz-object-lock-mode" = "COMPLIANCE" }
expect = "deny"
denied_by = "PutObjectLegalHold"
"#,
    )
    .expect("write tests");
    let run = cedargate(&["policy".as_ref(), "test".as_ref(), tests.as_os_str()]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(!run.status.success(), "{stdout}");
    assert!(stdout.contains("2 passed, 1 failed"), "{stdout}");
    assert!(
        stdout.contains("(denied action s3:PutObjectRetention)"),
        "{stdout}"
    );
}
