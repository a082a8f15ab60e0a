//! AWS's documented S3 SigV4 examples (header, presigned and chunked
//! upload), sent exactly as printed in the S3 API reference.

use std::time::Duration;

use sha2::Digest;

use super::tests::{AK, SECRET, raw, t0, verify, verify_at};
use super::*;

/// The examples of AWS's "Signature Calculations for the Authorization
/// Header" and "Query String Auth" pages for S3, sent exactly as printed.
#[test]
fn aws_documented_s3_examples_verify() {
    let examples = [
        (
            "GET",
            "/test.txt",
            vec![
                ("range", "bytes=0-9"),
                ("x-amz-content-sha256", EMPTY_SHA256_HEX),
            ],
            "host;range;x-amz-content-sha256;x-amz-date",
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        ),
        (
            "PUT",
            "/test$file.text",
            vec![
                ("date", "Fri, 24 May 2013 00:00:00 GMT"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                (
                    "x-amz-content-sha256",
                    "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
                ),
            ],
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
        ),
        (
            "GET",
            "/?lifecycle",
            vec![("x-amz-content-sha256", EMPTY_SHA256_HEX)],
            "host;x-amz-content-sha256;x-amz-date",
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
        ),
        (
            "GET",
            "/?max-keys=2&prefix=J",
            vec![("x-amz-content-sha256", EMPTY_SHA256_HEX)],
            "host;x-amz-content-sha256;x-amz-date",
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
        ),
    ];
    for (method, target, extra, signed_headers, signature) in examples {
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={AK}/20130524/us-east-1/s3/aws4_request,\
             SignedHeaders={signed_headers},Signature={signature}"
        );
        let mut headers = vec![
            ("host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-date", "20130524T000000Z"),
            ("authorization", authorization.as_str()),
        ];
        headers.extend(extra);
        let authenticated = verify(&raw(method, target, &headers)).unwrap();
        assert_eq!(authenticated.signing.seed_signature(), signature);
        assert_eq!(authenticated.method, AuthMethod::Header);
        assert_eq!(authenticated.signer.principal, format!("principal-{AK}"));
    }

    let presigned = format!(
        "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={AK}%2F20130524%2Fus-east-1%2Fs3%2F\
         aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&\
         X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    );
    let request = raw(
        "GET",
        &presigned,
        &[("host", "examplebucket.s3.amazonaws.com")],
    );
    let authenticated = verify(&request).unwrap();
    assert_eq!(authenticated.payload, PayloadHash::Unsigned);
    let expires_at = t0() + Duration::from_secs(86_400);
    assert_eq!(authenticated.method, AuthMethod::Presigned { expires_at });
    assert_eq!(authenticated.method.as_str(), "presigned");
    let late = verify_at(
        &request,
        &VerifierConfig::default(),
        expires_at + Duration::from_secs(1),
    );
    assert_eq!(late.unwrap_err().reason, AuthFailureReason::Expired);
}

/// AWS's `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` example: the seed signature
/// and the signatures of its three chunks (64 KiB and 1 KiB of `a`, empty).
#[test]
fn aws_documented_chunked_upload_example() {
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={AK}/20130524/us-east-1/s3/aws4_request,SignedHeaders=\
         content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;\
         x-amz-decoded-content-length;x-amz-storage-class,\
         Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    );
    let request = raw(
        "PUT",
        "/examplebucket/chunkObject.txt",
        &[
            ("host", "s3.amazonaws.com"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("authorization", &authorization),
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"),
            ("content-length", "66824"),
        ],
    );
    let authenticated = verify(&request).unwrap();
    let expected = PayloadHash::Streaming("STREAMING-AWS4-HMAC-SHA256-PAYLOAD".into());
    assert_eq!(authenticated.payload, expected);
    let signing = &authenticated.signing;
    assert_eq!(signing.amz_date(), "20130524T000000Z");
    assert_eq!(signing.scope(), "20130524/us-east-1/s3/aws4_request");
    let mut previous = signing.seed_signature().to_owned();
    for (chunk, signature) in [
        (
            vec![b'a'; 65_536],
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        ),
        (
            vec![b'a'; 1024],
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        ),
        (
            vec![],
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
        ),
    ] {
        let hash: [u8; 32] = sha2::Sha256::digest(&chunk).into();
        let computed = signing.chunk_signature(&previous, &hash);
        assert!(signatures_match(&computed, signature));
        previous = computed;
    }
    assert!(!format!("{authenticated:?}").contains(SECRET));
}
