//! Policy documents: parsing (valid and invalid) and checks, as tables.

use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;

use super::*;

fn encode(json: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(json)
}

/// 2030-01-01T00:00:00Z.
const FUTURE: &str = "2030-01-01T00:00:00.000Z";

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn policy(conditions: &str) -> PolicyDocument {
    let json = format!(r#"{{"expiration": "{FUTURE}", "conditions": [{conditions}]}}"#);
    PolicyDocument::parse(&encode(&json)).expect(&json)
}

#[test]
fn parses_every_condition_form() {
    let parsed = policy(
        r#"{"bucket": "b"}, ["eq", "$Key", "k"], ["StArTs-WiTh", "$x-amz-meta-a", ""],
           ["content-length-range", 1, "10"], {"success_action_status": 201}"#,
    );
    assert_eq!(
        parsed.conditions,
        vec![
            Condition::Eq {
                field: "bucket".into(),
                value: "b".into()
            },
            Condition::Eq {
                field: "key".into(),
                value: "k".into()
            },
            Condition::StartsWith {
                field: "x-amz-meta-a".into(),
                prefix: String::new()
            },
            Condition::ContentLengthRange { min: 1, max: 10 },
            Condition::Eq {
                field: "success_action_status".into(),
                value: "201".into()
            },
        ]
    );
}

#[test]
fn refuses_invalid_documents() {
    let cases = [
        "not json".to_owned(),
        "[]".to_owned(),
        format!(r#"{{"EXPIRATION": "{FUTURE}", "conditions": []}}"#),
        format!(r#"{{"expiration": "{FUTURE}", "CONDITIONS": []}}"#),
        format!(r#"{{"expiration": "{FUTURE}"}}"#),
        r#"{"conditions": []}"#.to_owned(),
        r#"{"expiration": "2030-01-01 00:00:00+00:00", "conditions": []}"#.to_owned(),
        r#"{"expiration": 5, "conditions": []}"#.to_owned(),
        format!(r#"{{"expiration": "{FUTURE}", "conditions": [{{}}]}}"#),
        format!(r#"{{"expiration": "{FUTURE}", "conditions": [{{"a": "1", "b": "2"}}]}}"#),
        format!(r#"{{"expiration": "{FUTURE}", "conditions": [["content-length-range", 0]]}}"#),
        format!(r#"{{"expiration": "{FUTURE}", "conditions": [["content-length-range", -1, 0]]}}"#),
        format!(r#"{{"expiration": "{FUTURE}", "conditions": [["content-length-range", 5, 1]]}}"#),
        format!(r#"{{"expiration": "{FUTURE}", "conditions": [["eq", "key", "k"]]}}"#),
        format!(r#"{{"expiration": "{FUTURE}", "conditions": [["eq", "$", "k"]]}}"#),
        format!(r#"{{"expiration": "{FUTURE}", "conditions": [["matches", "$key", "k"]]}}"#),
        format!(r#"{{"expiration": "{FUTURE}", "conditions": [["eq", "$key"]]}}"#),
        format!(r#"{{"expiration": "{FUTURE}", "conditions": [["eq", "$key", ["k"]]]}}"#),
        format!(r#"{{"expiration": "{FUTURE}", "conditions": ["eq"]}}"#),
    ];
    for json in &cases {
        let error = PolicyDocument::parse(&encode(json)).expect_err(json);
        assert_eq!(error.code(), S3ErrorCode::InvalidPolicyDocument, "{json}");
    }
    for raw in ["***", &"A".repeat(MAX_POLICY_BYTES + 4)] {
        let error = PolicyDocument::parse(raw).expect_err("not a policy");
        assert_eq!(error.code(), S3ErrorCode::InvalidPolicyDocument);
    }
    // Line-wrapped base64 is read.
    let wrapped = encode(&format!(
        r#"{{"expiration": "{FUTURE}", "conditions": []}}"#
    ));
    let (a, b) = wrapped.split_at(10);
    assert!(PolicyDocument::parse(&format!("{a}\n{b}")).is_ok());
}

/// A bucket, the form's fields, and the message expected.
type Refusal<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

#[test]
fn checks_forms() {
    let base = r#"{"bucket": "bkt"}, ["starts-with", "$key", "up/"], ["starts-with", "$Content-Type", "image/"],
        ["content-length-range", 0, 100], ["eq", "$x-amz-meta-tag", "v"], ["starts-with", "$x-amz-meta-any", ""]"#;
    let doc = policy(base);
    let good: &[(&str, &str)] = &[
        ("key", "up/a.png"),
        ("Content-Type", "image/png"),
        ("x-amz-meta-tag", "v"),
        ("x-amz-meta-any", "whatever"),
        ("policy", "p"),
        ("x-amz-signature", "s"),
        ("x-ignore-me", "1"),
    ];
    let check = doc
        .check(
            &PostForm::new("bkt", good.iter().copied()).expect("form"),
            now(),
        )
        .expect("allowed");
    assert_eq!(check.length_range, Some((0, 100)));

    let with = |change: (&'static str, &'static str)| -> Vec<(&str, &str)> {
        let mut fields: Vec<(&str, &str)> = good
            .iter()
            .copied()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(change.0))
            .collect();
        if !change.1.is_empty() {
            fields.push(change);
        }
        fields
    };
    let refused: &[Refusal<'_>] = &[
        (
            "bkt2",
            with(("key", "up/a.png")),
            "Policy Condition failed: [\"eq\", \"$bucket\", \"bkt\"]",
        ),
        (
            "bkt",
            with(("key", "down/a.png")),
            "Policy Condition failed: [\"starts-with\", \"$key\", \"up/\"]",
        ),
        (
            "bkt",
            with(("key", "")),
            "Policy Condition failed: [\"starts-with\", \"$key\", \"up/\"]",
        ),
        (
            "bkt",
            with(("Content-Type", "image/png, text/html")),
            "Policy Condition failed",
        ),
        (
            "bkt",
            with(("x-amz-meta-tag", "V")),
            "Policy Condition failed: [\"eq\", \"$x-amz-meta-tag\", \"v\"]",
        ),
        (
            "bkt",
            with(("x-amz-meta-tag", "")),
            "Policy Condition failed",
        ),
        (
            "bkt",
            with(("x-amz-meta-extra", "1")),
            "Extra input fields: x-amz-meta-extra",
        ),
        (
            "bkt",
            with(("acl", "public-read")),
            "Extra input fields: acl",
        ),
    ];
    for (bucket, fields, message) in refused {
        let form = PostForm::new(bucket, fields.iter().copied()).expect("form");
        let error = doc.check(&form, now()).expect_err(message);
        assert_eq!(error.code(), S3ErrorCode::AccessDenied, "{message}");
        assert!(
            error
                .wire_message(crate::error::ErrorProfile::Documented)
                .starts_with("Invalid according to Policy: ")
                && error
                    .wire_message(crate::error::ErrorProfile::Documented)
                    .contains(message),
            "{} / {message}",
            error.wire_message(crate::error::ErrorProfile::Documented)
        );
    }
    // `bucket` is always a field: a policy must name it.
    let unnamed = policy(r#"["starts-with", "$key", ""]"#);
    let form = PostForm::new("bkt", [("key", "k")]).expect("form");
    let error = unnamed.check(&form, now()).expect_err("bucket not covered");
    assert!(
        error
            .wire_message(crate::error::ErrorProfile::Documented)
            .contains("Extra input fields: bucket"),
        "{}",
        error.wire_message(crate::error::ErrorProfile::Documented)
    );
}

#[test]
fn expired_policies_are_refused() {
    let json = r#"{"expiration": "2020-01-01T00:00:00Z", "conditions": [{"bucket": "b"}]}"#;
    let doc = PolicyDocument::parse(&encode(json)).expect("parses");
    let error = doc
        .check(&PostForm::new("b", []).expect("form"), now())
        .expect_err("expired");
    assert_eq!(error.code(), S3ErrorCode::AccessDenied);
    assert_eq!(
        error.wire_message(crate::error::ErrorProfile::Documented),
        "Invalid according to Policy: Policy expired."
    );
}

#[test]
fn tightest_length_range_wins() {
    let doc = policy(
        r#"{"bucket": "b"}, ["content-length-range", 10, 100], ["content-length-range", 0, 50]"#,
    );
    let check = doc
        .check(&PostForm::new("b", []).expect("form"), now())
        .expect("allowed");
    assert_eq!(check.length_range, Some((10, 50)));
}
