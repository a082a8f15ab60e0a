//! End-to-end body tests: [`BodyPlan`] from request headers, then
//! [`decode_body`] over an in-memory raw body — botocore's captured
//! `aws-chunked` bodies, AWS's signed-trailer example, checksum headers,
//! failures, and the hold-back of the last piece until verification.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use http::HeaderMap;

use cedargate_s3::body::checksum::ChecksumAlgorithm;
use cedargate_s3::body::chunked::{StreamingMode, encode};
use cedargate_s3::sigv4::{Secret, SigningContext, SigningKey};

use super::*;
use cedargate_s3::body::BodyPlan;
use cedargate_s3::sigv4::{AuthFailureReason, PayloadHash};

/// The signing context of AWS's S3 examples (2013-05-24, us-east-1) with
/// seed signature `seed`.
fn signing(seed: &str) -> SigningContext {
    let secret = Secret::from("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    SigningContext::new(
        SigningKey::derive(&secret, "20130524", "us-east-1", "s3"),
        "20130524T000000Z",
        "20130524/us-east-1/s3/aws4_request",
        seed,
    )
}

/// A raw body served from memory in pieces; `ended` is set when it has
/// returned its end (`Ok(None)` or the configured failure).
struct TestRaw {
    pieces: VecDeque<Bytes>,
    received: u64,
    fail_at_end: Option<S3Error>,
    failure: Option<S3Error>,
    ended: Arc<AtomicBool>,
}

impl TestRaw {
    fn new(wire: &[u8], piece: usize) -> Self {
        Self {
            pieces: wire
                .chunks(piece.max(1))
                .map(Bytes::copy_from_slice)
                .collect(),
            received: 0,
            fail_at_end: None,
            failure: None,
            ended: Arc::default(),
        }
    }
}

#[async_trait]
impl BodySource for TestRaw {
    async fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        if let Some(piece) = self.pieces.pop_front() {
            self.received += piece.len() as u64;
            return Ok(Some(piece));
        }
        self.ended.store(true, Ordering::SeqCst);
        match self.fail_at_end.take() {
            Some(error) => {
                self.failure = Some(error);
                Err(io::Error::other("raw failure"))
            }
            None => Ok(None),
        }
    }
}

impl VerifiedBody for TestRaw {
    fn take_failure(&mut self) -> Option<S3Error> {
        self.failure.take()
    }
    fn auth_failure(&self) -> Option<AuthFailureReason> {
        None
    }
    fn received(&self) -> u64 {
        self.received
    }
    fn decoded(&self) -> u64 {
        self.received
    }
    fn checksum(&self) -> Option<(ChecksumAlgorithm, &str)> {
        None
    }
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    map
}

/// Reads `body` to its end: the payload, or the error with what had been
/// delivered before it.
async fn drain(body: &mut dyn VerifiedBody) -> Result<Vec<u8>, (S3Error, usize)> {
    let mut payload = Vec::new();
    loop {
        match body.next_chunk().await {
            Ok(Some(piece)) => payload.extend_from_slice(&piece),
            Ok(None) => return Ok(payload),
            Err(_) => return Err((body.take_failure().unwrap(), payload.len())),
        }
    }
}

const BOTOCORE_PAYLOAD: &[u8] = include_bytes!("../../tests/data/botocore-chunked-crc32.payload");
const BOTOCORE_FIXTURES: [&[u8]; 2] = [
    include_bytes!("../../tests/data/botocore-chunked-crc32.bin"),
    include_bytes!("../../tests/data/botocore-chunked-crc32-1000.bin"),
];

/// The request headers botocore sent with the fixtures.
fn botocore_headers() -> HeaderMap {
    headers(&[
        ("content-encoding", "aws-chunked"),
        ("transfer-encoding", "chunked"),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
        ("x-amz-decoded-content-length", "3000"),
        ("x-amz-sdk-checksum-algorithm", "CRC32"),
    ])
}

fn botocore_plan() -> BodyPlan {
    let payload = PayloadHash::Streaming(StreamingMode::UnsignedPayloadTrailer.as_str().into());
    BodyPlan::from_request(&botocore_headers(), &payload, None).unwrap()
}

#[tokio::test]
async fn botocore_unsigned_trailer_bodies_decode() {
    let generated: Vec<u8> = (0..3000u32).map(|i| ((i * 7 + 3) % 251) as u8).collect();
    assert_eq!(BOTOCORE_PAYLOAD, generated);
    for wire in BOTOCORE_FIXTURES {
        for piece in [1, 100, 1000, wire.len()] {
            let mut body = decode_body(TestRaw::new(wire, piece), botocore_plan());
            assert_eq!(drain(&mut *body).await.unwrap(), BOTOCORE_PAYLOAD);
            assert_eq!(
                body.checksum(),
                Some((ChecksumAlgorithm::Crc32, "Q+S/PA=="))
            );
            assert_eq!((body.received(), body.decoded()), (wire.len() as u64, 3000));
            assert!(body.take_failure().is_none());
        }
    }
}

#[tokio::test]
async fn corrupted_botocore_body_is_bad_digest_and_never_complete() {
    let mut wire = BOTOCORE_FIXTURES[1].to_vec();
    wire[2000] ^= 1;
    let mut body = decode_body(TestRaw::new(&wire, 512), botocore_plan());
    let (error, delivered) = drain(&mut *body).await.unwrap_err();
    assert_eq!(error.code(), S3ErrorCode::BadDigest);
    assert!(delivered < BOTOCORE_PAYLOAD.len(), "{delivered}");
    assert!(body.next_chunk().await.is_err(), "stays failed");
}

#[tokio::test]
async fn aws_signed_trailer_example_verifies_its_checksum() {
    let signing = signing("106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e");
    let data = vec![b'a'; 66_560];
    let chunks = [&data[..65_536], &data[65_536..]];
    let mode = StreamingMode::SignedPayloadTrailer;
    let payload = PayloadHash::Streaming(mode.as_str().into());
    let request = headers(&[
        ("x-amz-trailer", "x-amz-checksum-crc32c"),
        ("x-amz-decoded-content-length", "66560"),
    ]);
    for (value, expected) in [
        ("sOO8/Q==", None),
        ("AAAAAA==", Some(S3ErrorCode::BadDigest)),
    ] {
        let wire = encode(
            mode,
            Some(&signing),
            &chunks,
            &[("x-amz-checksum-crc32c", value)],
        );
        let plan = BodyPlan::from_request(&request, &payload, Some(&signing)).unwrap();
        let mut body = decode_body(TestRaw::new(&wire, 8192), plan);
        let result = drain(&mut *body).await;
        assert_eq!(result.as_ref().err().map(|(e, _)| e.code()), expected);
        if expected.is_none() {
            assert_eq!(result.unwrap(), data);
            assert_eq!(
                body.checksum(),
                Some((ChecksumAlgorithm::Crc32c, "sOO8/Q=="))
            );
        }
    }
}

#[tokio::test]
async fn bad_chunk_signature_reports_bad_signature() {
    let signing = signing("4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    let mode = StreamingMode::SignedPayload;
    let mut wire = encode(mode, Some(&signing), &[b"0123456789"], &[]);
    let at = wire.iter().position(|&b| b == b'5').unwrap();
    wire[at] = b'6';
    let payload = PayloadHash::Streaming(mode.as_str().into());
    let request = headers(&[("x-amz-decoded-content-length", "10")]);
    let plan = BodyPlan::from_request(&request, &payload, Some(&signing)).unwrap();
    let mut body = decode_body(TestRaw::new(&wire, 4), plan);
    let (error, delivered) = drain(&mut *body).await.unwrap_err();
    assert_eq!(error.code(), S3ErrorCode::SignatureDoesNotMatch);
    assert_eq!(body.auth_failure(), Some(AuthFailureReason::BadSignature));
    assert!(delivered < 10);
}

#[tokio::test]
async fn plain_bodies_check_checksum_headers() {
    let cases = [
        ("DUoRhQ==", None),
        ("AAAAAA==", Some(S3ErrorCode::BadDigest)),
    ];
    for (value, expected) in cases {
        let request = headers(&[("x-amz-checksum-crc32", value)]);
        let plan = BodyPlan::from_request(&request, &PayloadHash::Unsigned, None).unwrap();
        let mut body = decode_body(TestRaw::new(b"hello world", 3), plan);
        let result = drain(&mut *body).await;
        assert_eq!(result.as_ref().err().map(|(e, _)| e.code()), expected);
        if let Err((_, delivered)) = result {
            assert!(delivered < 11);
        }
    }
}

#[tokio::test]
async fn last_piece_is_released_only_after_the_end_verified() {
    let raw = TestRaw::new(b"abcdefghij", 3);
    let ended = raw.ended.clone();
    let plan = BodyPlan::from_request(&HeaderMap::new(), &PayloadHash::Unsigned, None).unwrap();
    let mut body = decode_body(raw, plan);
    // What the pipeline hands to `handlers::dispatch`.
    let source: &mut dyn BodySource = &mut *body;
    let mut pieces = Vec::new();
    while let Some(piece) = source.next_chunk().await.unwrap() {
        pieces.push((piece, ended.load(Ordering::SeqCst)));
    }
    let released: Vec<bool> = pieces.iter().map(|(_, ended)| *ended).collect();
    assert_eq!(released, [false, false, false, true]);
    assert_eq!(pieces.last().map(|(p, _)| p.as_ref()), Some(&b"j"[..]));
}

#[tokio::test]
async fn raw_body_failures_pass_through() {
    let mut raw = TestRaw::new(b"abc", 1);
    raw.fail_at_end = Some(S3Error::new(S3ErrorCode::IncompleteBody, "short"));
    let plan = BodyPlan::from_request(&HeaderMap::new(), &PayloadHash::Unsigned, None).unwrap();
    let mut body = decode_body(raw, plan);
    let (error, delivered) = drain(&mut *body).await.unwrap_err();
    assert_eq!((error.code(), delivered), (S3ErrorCode::IncompleteBody, 2));
    assert_eq!(body.auth_failure(), None);
}

/// A client connection serving `pieces` from memory.
struct MemoryClient(VecDeque<Bytes>);

#[async_trait]
impl ClientBody for MemoryClient {
    async fn read_chunk(&mut self) -> io::Result<Option<Bytes>> {
        Ok(self.0.pop_front())
    }

    async fn send_continue(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn is_done(&mut self) -> bool {
        self.0.is_empty()
    }

    fn disable_keepalive(&mut self) {}
}

fn header_map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    map
}

#[test]
fn only_a_chunked_body_without_any_length_is_undeclared() {
    let chunked = ("transfer-encoding", "chunked");
    let cases: [(&[(&str, &str)], bool); 6] = [
        (&[chunked], true),
        (&[("transfer-encoding", "gzip, Chunked")], true),
        (&[chunked, ("content-length", "3")], false),
        (&[chunked, ("x-amz-decoded-content-length", "3")], false),
        (&[("content-length", "3")], false),
        (&[], false),
    ];
    for (pairs, undeclared) in cases {
        assert_eq!(
            has_undeclared_length(&header_map(pairs)),
            undeclared,
            "{pairs:?}"
        );
    }
}

#[test]
fn an_undeclared_length_is_taken_by_the_filesystem_backend_only() {
    let chunked = header_map(&[("transfer-encoding", "chunked")]);
    let plain = HeaderMap::new();
    let cases = [
        (&chunked, None, "fs", None),
        (
            &chunked,
            None,
            "s3",
            Some(S3ErrorCode::MissingContentLength),
        ),
        (&plain, None, "fs", Some(S3ErrorCode::MissingContentLength)),
        (&plain, Some(3), "s3", None),
    ];
    for (headers, declared, kind, expected) in cases {
        let actual = check_declared_length(headers, declared, kind)
            .err()
            .map(|e| e.code());
        assert_eq!(actual, expected, "{kind} {declared:?}");
    }
}

#[tokio::test]
async fn a_body_without_a_declared_length_is_capped() {
    let pieces = || VecDeque::from([Bytes::from_static(b"12345"), Bytes::from_static(b"678")]);
    let mut client = MemoryClient(pieces());
    let mut fits = RequestBody::new(&mut client, false, None, None).with_max_length(8);
    let mut read = Vec::new();
    while let Some(chunk) = fits.next_chunk().await.unwrap() {
        read.extend_from_slice(&chunk);
    }
    assert_eq!(read, b"12345678");

    let mut client = MemoryClient(pieces());
    let mut over = RequestBody::new(&mut client, false, None, None).with_max_length(7);
    assert!(over.next_chunk().await.unwrap().is_some());
    assert!(over.next_chunk().await.is_err());
    assert_eq!(
        over.take_failure().map(|e| e.code()),
        Some(S3ErrorCode::EntityTooLarge)
    );
}
