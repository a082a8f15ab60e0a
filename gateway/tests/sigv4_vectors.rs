//! AWS's official SigV4 test vectors through cedargate's verifier.
//!
//! The vectors ship inside the `aws-sigv4` crate source
//! (`aws-signing-test-suite/v4/<case>/`); the crate is located with
//! `cargo metadata`. Each `header-signed-request.txt` (a raw HTTP request) is
//! verified with the settings of its `context.json` (credentials, region,
//! service, path normalisation, timestamp as `now`) and must then fail once
//! one byte of its signature changes. The presigned variants
//! (`query-signed-request.txt`) run the same way.
#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "test harness: a malformed vector or missing suite must abort the test"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use cedargate_s3::sigv4::{
    AuthFailureReason, RegionRule, Secret, ServiceRules, SignedRequest, VerifierConfig,
};

use cedargate::auth::{AuthOutcome, Credential, CredentialStore, authenticate};
use http::{HeaderMap, HeaderName, HeaderValue};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Vectors without `context.json`, with the settings they were signed with:
/// `double-encode-path` from the aws-sigv4 unit test that signs it
/// (`Credentials::for_tests()`, default settings, 2015-08-30T12:36:00Z);
/// `double-url-encode` with the suite's example credentials and the scope
/// and date its own request names (its signature verifies with them).
const SYNTHESIZED_CONTEXTS: &[(&str, &str)] = &[
    (
        "double-encode-path",
        r#"{"credentials": {"access_key_id": "ANOTREAL", "secret_access_key": "notrealrnrELgWzOk3IfjzDKtFBhDby"},
            "expiration_in_seconds": 3600, "normalize": true, "region": "us-east-1", "service": "service",
            "timestamp": "2015-08-30T12:36:00Z"}"#,
    ),
    (
        "double-url-encode",
        r#"{"credentials": {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
            "expiration_in_seconds": 3600, "normalize": true, "region": "us-east-2", "service": "lambda",
            "timestamp": "2021-05-11T15:40:45Z"}"#,
    ),
];

/// Presigned vectors a verifier cannot check without the body or without
/// knowing a service-specific convention, and why.
const SKIPPED_PRESIGNED: &[(&str, &str)] = &[
    (
        "post-x-www-form-urlencoded",
        "the presigned canonical request signs the body's hash; verification never reads the body",
    ),
    (
        "post-x-www-form-urlencoded-parameters",
        "the presigned canonical request signs the body's hash; verification never reads the body",
    ),
    (
        "post-sts-header-after",
        "X-Amz-Security-Token is appended after signing (omit_session_token), an STS-only convention",
    ),
    ("get-vanilla-with-session-token", SESSION_TOKEN_REASON),
    ("post-sts-header-before", SESSION_TOKEN_REASON),
];

/// Header vectors skipped, and why.
const SKIPPED_HEADER: &[(&str, &str)] = &[
    ("get-vanilla-with-session-token", SESSION_TOKEN_REASON),
    ("post-sts-header-before", SESSION_TOKEN_REASON),
    (
        "post-sts-header-after",
        "x-amz-security-token is added after signing; header auth here must sign it",
    ),
];

/// Why the session-token vectors cannot verify here.
const SESSION_TOKEN_REASON: &str = "its session token is AWS's: a session token here must be one this \
     gateway sealed (anything else is refused as invalid_token; tests/sts.rs)";

#[derive(serde::Deserialize)]
struct Context {
    credentials: Credentials,
    expiration_in_seconds: u64,
    normalize: bool,
    region: String,
    service: String,
    timestamp: String,
}

#[derive(serde::Deserialize)]
struct Credentials {
    access_key_id: String,
    secret_access_key: String,
}

/// A raw HTTP/1.1 request as the vectors write it (LF line ends, header
/// continuation lines, target possibly with spaces or UTF-8).
struct RawRequest {
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
}

fn parse_request(text: &str) -> RawRequest {
    let (head, _body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let request_line = lines.next().expect("request line");
    let (method, rest) = request_line.split_once(' ').expect("method");
    // One vector (double-url-encode) omits the HTTP version.
    let target = rest.strip_suffix(" HTTP/1.1").unwrap_or(rest);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // obs-fold: the line break and indentation become one space.
            let (_, value) = fields.last_mut().expect("continuation after a field");
            value.push(' ');
            value.push_str(line.trim_start());
        } else {
            let (name, value) = line.split_once(':').expect("header field");
            fields.push((name.to_owned(), value.trim_start().to_owned()));
        }
    }
    let mut headers = HeaderMap::new();
    for (name, value) in fields {
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_bytes(value.as_bytes()).expect("header value"),
        );
    }
    RawRequest {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
    }
}

/// `aws-signing-test-suite/v4` of the aws-sigv4 crate this workspace locks.
fn suite_dir() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let packages = metadata["packages"].as_array().expect("packages");
    let manifest = packages
        .iter()
        .find(|package| package["name"] == "aws-sigv4")
        .and_then(|package| package["manifest_path"].as_str())
        .expect("aws-sigv4 is a dependency");
    let dir = Path::new(manifest)
        .parent()
        .expect("crate dir")
        .join("aws-signing-test-suite/v4");
    assert!(dir.is_dir(), "{} is missing", dir.display());
    dir
}

/// Every vector directory with its context.
fn vectors() -> BTreeMap<String, (PathBuf, Context)> {
    let mut vectors = BTreeMap::new();
    for entry in std::fs::read_dir(suite_dir()).expect("suite dir") {
        let dir = entry.expect("entry").path();
        let name = dir
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let context = match std::fs::read_to_string(dir.join("context.json")) {
            Ok(text) => text,
            Err(_) => SYNTHESIZED_CONTEXTS
                .iter()
                .find(|(synthesized, _)| *synthesized == name)
                .map(|(_, context)| (*context).to_owned())
                .unwrap_or_else(|| panic!("{name}: no context.json")),
        };
        let context = serde_json::from_str(&context).expect("context.json");
        vectors.insert(name, (dir, context));
    }
    vectors
}

fn setup(context: &Context) -> (CredentialStore, VerifierConfig, SystemTime) {
    let credential = Credential {
        access_key: context.credentials.access_key_id.clone(),
        secret_key: Secret::from(context.credentials.secret_access_key.as_str()),
        principal: "vector".to_owned(),
        groups: vec![],
        enabled: true,
        expires_at: None,
    };
    let store = CredentialStore::from_credentials(vec![credential]).expect("credential");
    let config = VerifierConfig {
        region: RegionRule::Exact(context.region.clone()),
        service: context.service.clone(),
        max_skew: Duration::from_secs(15 * 60),
        rules: ServiceRules::Generic {
            normalize_path: context.normalize,
        },
    };
    let now = OffsetDateTime::parse(&context.timestamp, &Rfc3339).expect("timestamp");
    (store, config, now.into())
}

/// Verifies `file` of every vector; returns how many ran.
fn run(file: &str, skipped: &[(&str, &str)], flip: fn(&mut RawRequest)) -> usize {
    let (mut ran, mut absent) = (Vec::new(), Vec::new());
    for (name, (dir, context)) in vectors() {
        if skipped.iter().any(|(skipped, _)| *skipped == name) {
            continue;
        }
        if !dir.join(file).exists() {
            absent.push(name);
            continue;
        }
        let text = std::fs::read_to_string(dir.join(file)).expect("signed request");
        let mut request = parse_request(&text);
        let (store, config, now) = setup(&context);
        let check = |request: &RawRequest| {
            let signed = SignedRequest {
                method: &request.method,
                raw_path: &request.path,
                raw_query: &request.query,
                headers: &request.headers,
                body_sha256: None,
            };
            authenticate(&signed, &store, &config, now)
        };
        match check(&request) {
            Ok(AuthOutcome::Authenticated(_)) => {}
            other => panic!("{name}/{file}: {other:?}"),
        }
        if file.starts_with("query") {
            let late = now + Duration::from_secs(context.expiration_in_seconds + 1);
            let failure = authenticate(
                &SignedRequest {
                    method: &request.method,
                    raw_path: &request.path,
                    raw_query: &request.query,
                    headers: &request.headers,
                    body_sha256: None,
                },
                &store,
                &config,
                late,
            )
            .expect_err("expired");
            assert_eq!(failure.reason, AuthFailureReason::Expired, "{name}");
        }
        flip(&mut request);
        let failure = check(&request).expect_err("flipped signature must fail");
        assert_eq!(
            failure.reason,
            AuthFailureReason::BadSignature,
            "{name}/{file}: {failure:?}"
        );
        ran.push(name);
    }
    println!("{file}: {} vectors verified: {}", ran.len(), ran.join(", "));
    for (name, reason) in skipped {
        println!("{file}: skipped {name}: {reason}");
    }
    if !absent.is_empty() {
        println!("{file}: not provided by {}", absent.join(", "));
    }
    ran.len()
}

/// Changes the last hex digit of a signature (`0` <-> `1`, else to `0`).
fn flip_last(signature_end: &mut String) {
    let last = signature_end.pop().expect("signature");
    signature_end.push(if last == '0' { '1' } else { '0' });
}

#[test]
fn header_vectors_verify() {
    let ran = run("header-signed-request.txt", SKIPPED_HEADER, |request| {
        let value = request.headers["authorization"].to_str().expect("ascii");
        let mut value = value.to_owned();
        flip_last(&mut value);
        request
            .headers
            .insert("authorization", value.parse().expect("header value"));
    });
    assert!(ran >= 25, "only {ran} header vectors ran");
}

#[test]
fn presigned_vectors_verify() {
    let ran = run("query-signed-request.txt", SKIPPED_PRESIGNED, |request| {
        let (rest, signature) = request
            .query
            .split_once("X-Amz-Signature=")
            .expect("signature parameter");
        let (signature, tail) = signature.split_at(64);
        let mut signature = signature.to_owned();
        flip_last(&mut signature);
        request.query = format!("{rest}X-Amz-Signature={signature}{tail}");
    });
    assert!(ran >= 25, "only {ran} presigned vectors ran");
}
