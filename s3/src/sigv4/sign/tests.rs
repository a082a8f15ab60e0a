//! The signer against AWS's documented S3 examples, the `aws-sigv4` crate,
//! and the verifier: what it signs must verify.

use std::time::Duration;

use http::HeaderMap;

use super::*;
use crate::sigv4::tests::{AK, SECRET, Sign, oracle, raw, t0, verify};
use crate::sigv4::{AuthMethod, EMPTY_SHA256_HEX, PayloadHash};

const HOST: &str = "examplebucket.s3.amazonaws.com";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

fn identity(secret: &Secret) -> Identity<'_> {
    Identity {
        access_key: AK,
        secret,
        session_token: None,
        region: "us-east-1",
    }
}

fn value<'a>(added: &'a [(&str, String)], name: &str) -> &'a str {
    &added.iter().find(|(n, _)| *n == name).unwrap().1
}

/// The request `method path?query` with `headers` plus what signing added.
fn signed_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    added: &[(&'static str, String)],
) -> http::Request<()> {
    let target = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let mut request = raw(method, &target, &[]);
    *request.headers_mut() = headers.clone();
    for (name, value) in added {
        request
            .headers_mut()
            .insert(*name, HeaderValue::from_str(value).unwrap());
    }
    request
}

/// The query `query` with presigned parameters `added` appended, encoded.
fn presigned_query(query: &str, added: &[(&str, String)]) -> String {
    let mut out = query.to_owned();
    for (name, value) in added {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.extend(percent_encoding::utf8_percent_encode(value, QUERY_VALUE));
    }
    out
}

#[test]
fn aws_documented_header_example_signs_to_its_signature() {
    let secret = Secret::from(SECRET);
    let headers = headers(&[("host", HOST), ("range", "bytes=0-9")]);
    let request = Unsigned {
        method: &Method::GET,
        raw_path: "/test.txt",
        raw_query: "",
        headers: &headers,
    };
    let added = sign_headers(&request, &identity(&secret), EMPTY_SHA256_HEX, t0()).unwrap();
    assert_eq!(value(&added, "x-amz-date"), "20130524T000000Z");
    assert_eq!(
        value(&added, "authorization"),
        format!(
            "AWS4-HMAC-SHA256 Credential={AK}/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    );
}

#[test]
fn aws_documented_presigned_example_signs_to_its_signature() {
    let secret = Secret::from(SECRET);
    let headers = headers(&[("host", HOST)]);
    let request = Unsigned {
        method: &Method::GET,
        raw_path: "/test.txt",
        raw_query: "",
        headers: &headers,
    };
    let added = presign(
        &request,
        &identity(&secret),
        Duration::from_secs(86_400),
        t0(),
    )
    .unwrap();
    let names: Vec<&str> = added.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        [
            "X-Amz-Algorithm",
            "X-Amz-Credential",
            "X-Amz-Date",
            "X-Amz-Expires",
            "X-Amz-SignedHeaders",
            "X-Amz-Signature"
        ]
    );
    assert_eq!(
        value(&added, "X-Amz-Signature"),
        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    );
}

/// A request to sign: method, encoded path, encoded query, headers besides
/// host.
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Requests with awkward paths, queries and headers.
const REQUESTS: &[Case] = &[
    ("GET", "/b/k", "", &[]),
    ("GET", "/b", "list-type=2&prefix=a%2Fb&delimiter=%2F", &[]),
    (
        "GET",
        "/b/my%20file%2Bplus.txt",
        "versionId=3%2FL4&x-id=GetObject",
        &[],
    ),
    (
        "PUT",
        "/b/%C3%BCn%C3%AFc%C3%B8d%C3%A9/dir//k",
        "",
        &[
            ("content-type", "text/plain"),
            ("x-amz-meta-note", "  spaced   out "),
        ],
    ),
    (
        "PUT",
        "/b/k",
        "partNumber=1&uploadId=abc",
        &[
            ("content-md5", "XUFAKrxLKna5cZ2REBfFkg=="),
            ("user-agent", "client/1.0"),
        ],
    ),
    (
        "DELETE",
        "/b",
        "delete",
        &[("x-amz-checksum-crc32", "AAAAAA==")],
    ),
    (
        "GET",
        "/b",
        "prefix=a+b&a=2&a=1&a=",
        &[("range", "bytes=0-9")],
    ),
];

#[test]
fn what_the_signer_signs_the_verifier_accepts() {
    let secret = Secret::from(SECRET);
    for &(method, path, query, extra) in REQUESTS {
        let mut pairs = vec![("host", HOST)];
        pairs.extend_from_slice(extra);
        let headers = headers(&pairs);
        let method_value = Method::from_bytes(method.as_bytes()).unwrap();
        let request = Unsigned {
            method: &method_value,
            raw_path: path,
            raw_query: query,
            headers: &headers,
        };

        let added = sign_headers(&request, &identity(&secret), EMPTY_SHA256_HEX, t0()).unwrap();
        let sent = signed_request(method, path, query, &headers, &added);
        let verified = verify(&sent).unwrap_or_else(|f| panic!("{method} {path}?{query}: {f:?}"));
        assert_eq!(verified.method, AuthMethod::Header);
        assert_eq!(
            verified.payload,
            PayloadHash::parse(EMPTY_SHA256_HEX).unwrap()
        );
        let mut tampered = sent.clone();
        tampered
            .headers_mut()
            .insert("x-amz-date", HeaderValue::from_static("20130524T000001Z"));
        assert!(verify(&tampered).is_err(), "{method} {path}: tampered date");

        let added = presign(&request, &identity(&secret), Duration::from_secs(60), t0()).unwrap();
        let query = presigned_query(query, &added);
        let sent = signed_request(method, path, &query, &headers, &[]);
        let verified = verify(&sent).unwrap_or_else(|f| panic!("presigned {path}?{query}: {f:?}"));
        assert_eq!(verified.payload, PayloadHash::Unsigned);
        assert!(matches!(verified.method, AuthMethod::Presigned { .. }));
    }
}

/// The `X-Amz-Signature` of the presigned `request`'s query.
fn query_signature(request: &http::Request<()>) -> &str {
    request
        .uri()
        .query()
        .unwrap()
        .split('&')
        .find_map(|pair| pair.strip_prefix("X-Amz-Signature="))
        .unwrap()
}

#[test]
fn the_signer_agrees_with_aws_sigv4_in_headers_and_presigned() {
    let secret = Secret::from(SECRET);
    let expires = Duration::from_secs(300);
    for &(method, path, query, extra) in REQUESTS {
        let target = if query.is_empty() {
            format!("https://{HOST}{path}")
        } else {
            format!("https://{HOST}{path}?{query}")
        };
        let mut pairs = vec![("host", HOST)];
        pairs.extend_from_slice(extra);
        let headers = headers(&pairs);
        let method_value = Method::from_bytes(method.as_bytes()).unwrap();
        let request = Unsigned {
            method: &method_value,
            raw_path: path,
            raw_query: query,
            headers: &headers,
        };

        let theirs = oracle(method, &target, extra, Sign::default());
        let ours = sign_headers(&request, &identity(&secret), UNSIGNED_PAYLOAD, t0()).unwrap();
        assert_eq!(
            value(&ours, "authorization"),
            theirs.headers()["authorization"].to_str().unwrap(),
            "{method} {path}?{query}"
        );

        let presigned = Sign {
            presign: Some(expires),
            ..Sign::default()
        };
        let theirs = oracle(method, &target, extra, presigned);
        let ours = presign(&request, &identity(&secret), expires, t0()).unwrap();
        assert_eq!(
            value(&ours, "X-Amz-Signature"),
            query_signature(&theirs),
            "presigned {method} {path}?{query}"
        );
    }
}

#[test]
fn a_presigned_request_carrying_sdk_headers_signs_them_and_verifies() {
    let secret = Secret::from(SECRET);
    let headers = headers(&[
        ("host", HOST),
        ("x-amz-checksum-mode", "ENABLED"),
        ("x-amz-user-agent", "sdk/1.0"),
    ]);
    let request = Unsigned {
        method: &Method::GET,
        raw_path: "/b/k",
        raw_query: "",
        headers: &headers,
    };
    let added = presign(&request, &identity(&secret), Duration::from_secs(60), t0()).unwrap();
    assert_eq!(
        value(&added, "X-Amz-SignedHeaders"),
        "host;x-amz-checksum-mode;x-amz-user-agent"
    );
    let query = presigned_query("", &added);
    let sent = signed_request("GET", "/b/k", &query, &headers, &[]);
    verify(&sent).unwrap_or_else(|f| panic!("{f:?}"));
}

#[test]
fn a_session_token_is_signed_in_headers_and_query() {
    let secret = Secret::from(SECRET);
    let headers = headers(&[("host", HOST)]);
    let request = Unsigned {
        method: &Method::GET,
        raw_path: "/b/k",
        raw_query: "",
        headers: &headers,
    };
    let with_token = Identity {
        session_token: Some("token/with+chars="),
        ..identity(&secret)
    };
    let added = sign_headers(&request, &with_token, UNSIGNED_PAYLOAD, t0()).unwrap();
    assert_eq!(value(&added, "x-amz-security-token"), "token/with+chars=");
    assert!(
        value(&added, "authorization")
            .contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,")
    );
    let added = presign(&request, &with_token, Duration::from_secs(60), t0()).unwrap();
    assert_eq!(value(&added, "X-Amz-Security-Token"), "token/with+chars=");
}

#[test]
fn a_request_without_host_or_with_a_bad_query_is_refused() {
    let secret = Secret::from(SECRET);
    let no_host = HeaderMap::new();
    let request = Unsigned {
        method: &Method::GET,
        raw_path: "/b/k",
        raw_query: "",
        headers: &no_host,
    };
    assert!(matches!(
        sign_headers(&request, &identity(&secret), UNSIGNED_PAYLOAD, t0()),
        Err(SignError::NoHost)
    ));
    let host = headers(&[("host", HOST)]);
    let bad_query = Unsigned {
        raw_query: "a=%zz",
        headers: &host,
        ..request
    };
    assert!(matches!(
        presign(
            &bad_query,
            &identity(&secret),
            Duration::from_secs(60),
            t0()
        ),
        Err(SignError::Query(_))
    ));
}
