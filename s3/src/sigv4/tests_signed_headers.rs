//! The signed-header rule: which headers must be signed when present, and
//! that header and presigned auth both refuse an unsigned one.

use std::time::Duration;

use super::checks::{UNSIGNED_AMZ_HEADERS, must_be_signed};
use super::tests::{AuthOutcome, Sign, oracle, t0, verify, verify_at};
use super::*;

/// (header name, must be signed when present)
#[rustfmt::skip]
const RULE: &[(&str, bool)] = &[
    // Headers that pick the operation or what it stores.
    ("x-amz-copy-source", true),
    ("x-amz-copy-source-range", true),
    ("x-amz-copy-source-if-match", true),
    ("x-amz-metadata-directive", true),
    ("x-amz-tagging", true),
    ("x-amz-tagging-directive", true),
    ("x-amz-meta-owner", true),
    ("x-amz-website-redirect-location", true),
    ("x-amz-acl", true),
    ("x-amz-grant-full-control", true),
    ("x-amz-storage-class", true),
    ("x-amz-server-side-encryption", true),
    ("x-amz-server-side-encryption-customer-key", true),
    ("x-amz-object-lock-mode", true),
    ("x-amz-object-lock-retain-until-date", true),
    ("x-amz-object-lock-legal-hold", true),
    ("x-amz-bypass-governance-retention", true),
    ("x-amz-checksum-crc32", true),
    ("x-amz-sdk-checksum-algorithm", true),
    ("x-amz-trailer", true),
    ("x-amz-decoded-content-length", true),
    ("x-amz-expected-bucket-owner", true),
    ("x-amz-security-token", true),
    ("x-amz-date", true),
    // The one x-amz- exception AWS makes.
    ("x-amz-content-sha256", false),
    // Not x-amz- headers: AWS does not require them signed.
    ("x-amzn-trace-id", false),
    ("content-md5", false),
    ("content-type", false),
    ("content-length", false),
    ("cache-control", false),
    ("expect", false),
    ("user-agent", false),
    ("range", false),
    ("if-match", false),
];

#[test]
fn the_rule_table() {
    for &(name, signed) in RULE {
        assert_eq!(must_be_signed(name), signed, "{name}");
    }
    assert_eq!(UNSIGNED_AMZ_HEADERS, ["x-amz-content-sha256"]);
}

const URL: &str = "https://examplebucket.s3.amazonaws.com/test.txt";

fn presigned(method: &str, headers: &[(&str, &str)]) -> http::Request<()> {
    let how = Sign {
        presign: Some(Duration::from_secs(3600)),
        ..Sign::default()
    };
    oracle(method, URL, headers, how)
}

fn with_header(mut request: http::Request<()>, name: &str, value: &str) -> http::Request<()> {
    let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
    request.headers_mut().append(name, value.parse().unwrap());
    request
}

#[test]
fn an_unsigned_amz_header_is_refused_under_either_auth() {
    let config = VerifierConfig::default();
    for &(name, signed) in RULE {
        let header_auth = oracle("PUT", URL, &[], Sign::default());
        for request in [header_auth, presigned("PUT", &[])] {
            // Only `name` is unsigned: the header-auth request already signs
            // `x-amz-content-sha256` and `x-amz-date`.
            if request.headers().contains_key(name) {
                continue;
            }
            let request = with_header(request, name, "v");
            let result = verify_at(&request, &config, t0());
            if signed {
                let failure = result.unwrap_err();
                assert_eq!(failure.reason, AuthFailureReason::UnsignedHeader, "{name}");
                assert_eq!(
                    failure.message,
                    format!(
                        "There were headers present in the request which were not signed: `{name}`"
                    )
                );
                assert_eq!(failure.reason.as_str(), "unsigned_header");
            } else if name != "x-amz-content-sha256" {
                assert!(result.is_ok(), "{name}: {result:?}");
            }
        }
    }
}

#[test]
fn every_unsigned_header_is_named_once() {
    let request = presigned("PUT", &[("x-amz-meta-kept", "signed")]);
    let request = with_header(request, "x-amz-tagging", "a=b");
    let request = with_header(request, "x-amz-acl", "public-read");
    let request = with_header(request, "x-amz-acl", "private");
    let failure = verify_at(&request, &VerifierConfig::default(), t0()).unwrap_err();
    assert_eq!(
        failure.message,
        "There were headers present in the request which were not signed: `x-amz-acl`, `x-amz-tagging`"
    );
}

#[test]
fn signed_amz_headers_pass() {
    let headers = [
        ("x-amz-tagging", "a=b"),
        ("x-amz-meta-owner", "me"),
        ("x-amz-storage-class", "STANDARD"),
    ];
    let presigned = presigned("PUT", &headers);
    assert!(verify_at(&presigned, &VerifierConfig::default(), t0()).is_ok());
    let header_auth = oracle("PUT", URL, &headers, Sign::default());
    assert!(verify(&header_auth).is_ok());
}

#[test]
fn an_unsigned_payload_hash_on_a_presigned_url_is_ignored() {
    for value in [
        "UNSIGNED-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        super::EMPTY_SHA256_HEX,
    ] {
        let request = with_header(presigned("PUT", &[]), "x-amz-content-sha256", value);
        let outcome = verify_at(&request, &VerifierConfig::default(), t0()).unwrap();
        let AuthOutcome::Authenticated(authenticated) = outcome else {
            panic!("anonymous");
        };
        assert_eq!(authenticated.payload, PayloadHash::Unsigned, "{value}");
    }
}
