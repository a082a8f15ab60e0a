//! The `aws-sigv4` crate as an oracle: requests with awkward S3 keys, query
//! strings, header values and bodies, signed with S3 settings (no path
//! normalisation, single encoding, `x-amz-content-sha256` signed), must
//! verify, and must fail once one bit of the signature or path changes.

use std::fmt::Write;
use std::time::Duration;

use aws_sigv4::http_request::SignableBody;
use sha2::Digest;

use super::tests::{
    AK, AuthOutcome, Credential, CredentialStore, SECRET, Sign, authenticate, oracle, raw, t0,
    verify, verify_at,
};
use super::*;

/// Awkward object keys, as the application names them (not encoded).
const KEYS: &[&str] = &[
    "plain.txt",
    "my file.txt",
    "a+b+c",
    "100%",
    "%41 already-encoded-looking",
    "ünïcødé/日本語.txt",
    "dir//double//slashes",
    "../escape/./dot/..",
    "key=with&ampersand?and#hash",
    "~tilde-._",
    "!*'()[]{}$@;:,",
    "trailing/",
    "tab\tand\nnewline",
];

/// Awkward raw query strings, as a client sends them.
const QUERIES: &[&str] = &[
    "",
    "acl",
    "list-type=2&prefix=&delimiter=%2F",
    "prefix=a%3Db%26c%3D",
    "a=2&a=1&a=&b",
    "prefix=caf%C3%A9%20au%20lait",
    "prefix=a+b",
    "response-content-disposition=attachment%3B%20filename%3D%22x.txt%22",
    "versionId=3%2FL4kqtJlcpXroDTDmJ%2Brmbw&x-id=GetObject",
    "Z=1&z=2&_=3&-=4&~=5",
];

/// URI-encodes `key` the way the AWS SDKs put it on the wire.
fn encode_key(key: &str) -> String {
    let mut out = String::new();
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            write!(out, "%{byte:02X}").unwrap();
        }
    }
    out
}

fn flip_signature_bit(request: &http::Request<()>) -> http::Request<()> {
    let mut request = clone(request);
    let value = request.headers()["authorization"].to_str().unwrap();
    let (head, last) = value.split_at(value.len() - 1);
    let flipped = u8::from_str_radix(last, 16).unwrap() ^ 1;
    let value = format!("{head}{flipped:x}");
    request
        .headers_mut()
        .insert("authorization", value.parse().unwrap());
    request
}

fn clone(request: &http::Request<()>) -> http::Request<()> {
    let mut copy = http::Request::builder()
        .method(request.method())
        .uri(request.uri())
        .body(())
        .unwrap();
    *copy.headers_mut() = request.headers().clone();
    copy
}

fn assert_bad_signature(request: &http::Request<()>, what: &str) {
    let failure = verify(request).unwrap_err();
    assert_eq!(
        failure.reason,
        AuthFailureReason::BadSignature,
        "{what}: {failure:?}"
    );
}

#[test]
fn awkward_keys_and_queries_verify() {
    let mut count = 0;
    for key in KEYS {
        for query in QUERIES {
            for base in [
                "https://examplebucket.s3.amazonaws.com/",
                "http://127.0.0.1:9000/examplebucket/",
            ] {
                let path = format!("{base}{}", encode_key(key));
                let url = match *query {
                    "" => path.clone(),
                    query => format!("{path}?{query}"),
                };
                let request = oracle("GET", &url, &[], Sign::default());
                let authenticated =
                    verify(&request).unwrap_or_else(|failure| panic!("{url}: {failure:?}"));
                assert_eq!(authenticated.payload, PayloadHash::Unsigned);
                assert_bad_signature(&flip_signature_bit(&request), &url);

                // One bit of the path: the last byte of the encoded key.
                let mut tampered = url.clone().into_bytes();
                let last = path.len() - 1;
                tampered[last] ^= if tampered[last].is_ascii_alphanumeric() {
                    1
                } else {
                    0
                };
                if tampered != url.as_bytes() {
                    let tampered = String::from_utf8(tampered).unwrap();
                    let mut changed = clone(&request);
                    *changed.uri_mut() = tampered.parse().unwrap();
                    assert_bad_signature(&changed, &tampered);
                }

                let how = Sign {
                    presign: Some(Duration::from_secs(60)),
                    ..Sign::default()
                };
                let presigned = oracle("GET", &url, &[], how);
                verify(&presigned).unwrap_or_else(|failure| panic!("presigned {url}: {failure:?}"));
                count += 1;
            }
        }
    }
    assert_eq!(count, KEYS.len() * QUERIES.len() * 2);
}

#[test]
fn bodies_and_header_values_verify() {
    let url = "https://examplebucket.s3.amazonaws.com/object";
    let hello: [u8; 32] = sha2::Sha256::digest(b"hello").into();
    let bodies = [
        (SignableBody::Bytes(b"hello"), PayloadHash::Sha256(hello)),
        (
            SignableBody::empty(),
            PayloadHash::Sha256(sha2::Sha256::digest(b"").into()),
        ),
        (
            SignableBody::StreamingUnsignedPayloadTrailer,
            PayloadHash::Streaming("STREAMING-UNSIGNED-PAYLOAD-TRAILER".into()),
        ),
        (
            SignableBody::StreamingSignedPayloadTrailer,
            PayloadHash::Streaming("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER".into()),
        ),
    ];
    let headers = [
        ("content-type", "text/plain;  charset=utf-8"),
        ("x-amz-meta-note", "  spaced   out  value  "),
        ("x-amz-meta-list", "one"),
        ("x-amz-meta-list", "two  three"),
        ("x-amz-meta-empty", ""),
        ("content-md5", "XUFAKrxLKna5cZ2REBfFkg=="),
    ];
    for (body, payload) in bodies {
        let how = Sign {
            body,
            ..Sign::default()
        };
        let request = oracle("PUT", url, &headers, how);
        let authenticated = verify(&request).unwrap();
        assert_eq!(authenticated.payload, payload);
        assert_bad_signature(&flip_signature_bit(&request), "body");
        let mut changed = clone(&request);
        changed
            .headers_mut()
            .insert("x-amz-meta-note", "spaced out valud".parse().unwrap());
        assert_bad_signature(&changed, "header value");
    }
}

#[test]
fn long_secrets_and_any_region() {
    let long_secret = "s".repeat(100);
    let credential = Credential {
        access_key: "AKIDLONG".into(),
        secret_key: Secret::from(long_secret.as_str()),
        principal: "long".into(),
        enabled: true,
        expires_at: None,
    };
    let store = CredentialStore::from_credentials(vec![credential]);
    let how = Sign {
        access_key: "AKIDLONG",
        secret: &long_secret,
        ..Sign::default()
    };
    let request = oracle("GET", "https://h.example/b/k", &[], how);
    let signed = SignedRequest {
        method: "GET",
        raw_path: request.uri().path(),
        raw_query: "",
        headers: request.headers(),
        body_sha256: None,
    };
    let config = VerifierConfig {
        region: RegionRule::Any,
        ..VerifierConfig::default()
    };
    let outcome = authenticate(&signed, &store, &config, t0()).unwrap();
    assert!(matches!(outcome, AuthOutcome::Authenticated(_)));
}

#[test]
fn date_header_fallback() {
    // Written out by hand from the SigV4 specification, independently of
    // the `canonical` module: only `date` (an HTTP date) carries the time.
    let canonical_request = "GET\n/b/k\n\ndate:Fri, 24 May 2013 00:00:00 GMT\nhost:h.example\n\
         x-amz-content-sha256:UNSIGNED-PAYLOAD\n\ndate;host;x-amz-content-sha256\nUNSIGNED-PAYLOAD";
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let key = SigningKey::derive(&Secret::from(SECRET), "20130524", "us-east-1", "s3");
    let signature = hex::encode(key.sign(string_to_sign.as_bytes()));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={AK}/20130524/us-east-1/s3/aws4_request, \
         SignedHeaders=date;host;x-amz-content-sha256, Signature={signature}"
    );
    let mut headers = vec![
        ("host", "h.example"),
        ("date", "Fri, 24 May 2013 00:00:00 GMT"),
        ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ("authorization", authorization.as_str()),
    ];
    let authenticated = verify(&raw("GET", "/b/k", &headers)).unwrap();
    assert_eq!(authenticated.signing.amz_date(), "20130524T000000Z");

    headers[1] = ("date", "yesterday");
    let failure = verify(&raw("GET", "/b/k", &headers)).unwrap_err();
    assert_eq!(failure.reason, AuthFailureReason::BadDate);
    assert!(
        failure.message.contains("`date` value `yesterday`"),
        "{failure:?}"
    );

    headers[1] = ("date", "Fri, 24 May 2013 00:20:00 GMT");
    let failure = verify_at(
        &raw("GET", "/b/k", &headers),
        &VerifierConfig::default(),
        t0(),
    );
    assert_eq!(failure.unwrap_err().reason, AuthFailureReason::TimeSkew);
}
