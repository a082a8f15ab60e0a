//! Decoder tests: AWS's documented signed-chunk and signed-trailer
//! examples (with `aws-sigv4` as an independent signer), every split of the
//! input, and a table of malformed and tampered streams.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_runtime_api::http::Headers;

use super::StreamingMode::*;
use super::*;
use crate::error::S3ErrorCode;
use crate::sigv4::Secret;
use crate::sigv4::SigningKey;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// Seed signature of AWS's `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` example.
const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
/// Seed signature of AWS's `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` example.
const TRAILER_SEED: &str = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";

/// The signing context of AWS's S3 examples (2013-05-24, us-east-1).
pub(crate) fn signing(seed: &str) -> SigningContext {
    SigningContext {
        key: SigningKey::derive(&Secret::from(SECRET), "20130524", "us-east-1", "s3"),
        amz_date: "20130524T000000Z".into(),
        scope: "20130524/us-east-1/s3/aws4_request".into(),
        seed_signature: seed.into(),
    }
}

fn decoder(
    mode: StreamingMode,
    declared: &[&str],
    decoded_length: Option<u64>,
    limits: ChunkedLimits,
) -> AwsChunkedDecoder {
    let signing = mode.is_signed().then(|| signing(SEED));
    let declared = declared.iter().map(|s| s.to_string()).collect();
    AwsChunkedDecoder::new(mode, signing, declared, decoded_length, limits).unwrap()
}

/// Feeds `pieces` then finishes; returns the payload and trailers.
fn run<'a>(
    mut decoder: AwsChunkedDecoder,
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> Result<(Vec<u8>, Trailers), ChunkedError> {
    let mut out = Vec::new();
    for piece in pieces {
        decoder.push_slice(piece, &mut out)?;
    }
    let trailers = decoder.finish()?;
    assert!(out.iter().all(|piece| !piece.is_empty()));
    Ok((out.concat(), trailers))
}

fn hex_sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// AWS's "Example: PUT Object" of the chunked-upload page: 66560 bytes of
/// `a` in chunks of 64 KiB and 1 KiB, sent with the documented signatures.
#[test]
fn aws_signed_chunk_example_decodes() {
    let documented = [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ];
    let context = signing(SEED);
    let mut previous = SEED.to_owned();
    let mut wire = Vec::new();
    for (size, signature) in [65_536usize, 1024, 0].into_iter().zip(documented) {
        let data = vec![b'a'; size];
        previous = context.chunk_signature(&previous, &hex_sha256(&data));
        assert_eq!(previous, signature);
        wire.extend_from_slice(format!("{size:x};chunk-signature={signature}\r\n").as_bytes());
        wire.extend_from_slice(&data);
        wire.extend_from_slice(b"\r\n");
    }
    assert_eq!(wire.len(), 66_824, "the documented Content-Length");
    for piece in [1, 7, 4096, 65_536 + 90, wire.len()] {
        let decoder = decoder(SignedPayload, &[], Some(66_560), ChunkedLimits::default());
        let (payload, trailers) = run(decoder, wire.chunks(piece)).unwrap();
        assert_eq!(payload, vec![b'a'; 66_560], "pieces of {piece}");
        assert!(trailers.is_empty());
    }
}

/// AWS's signed-trailer example: the same payload with an
/// `x-amz-checksum-crc32c` trailer; every signature as documented, and as
/// the `aws-sigv4` crate's `sign_chunk` / `sign_trailer` compute them.
#[test]
fn aws_signed_trailer_example_decodes() {
    let documented = [
        "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
    ];
    let trailer_signature = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435";
    let identity: Identity =
        Credentials::new("AKIAIOSFODNN7EXAMPLE", SECRET, None, None, "t").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600))
        .settings(())
        .build()
        .unwrap();
    let mut previous = TRAILER_SEED.to_owned();
    let mut wire = Vec::new();
    for (size, signature) in [65_536usize, 1024, 0].into_iter().zip(documented) {
        let data = vec![b'a'; size];
        let oracle = v4::sign_chunk(&data.clone().into(), &previous, &params).unwrap();
        assert_eq!(oracle.signature(), signature);
        previous = signature.to_owned();
        wire.extend_from_slice(format!("{size:x};chunk-signature={signature}\r\n").as_bytes());
        if size > 0 {
            wire.extend_from_slice(&data);
            wire.extend_from_slice(b"\r\n");
        }
    }
    let mut headers = Headers::new();
    headers.insert("x-amz-checksum-crc32c", "sOO8/Q==");
    let oracle = v4::sign_trailer(&headers, &previous, &params).unwrap();
    assert_eq!(oracle.signature(), trailer_signature);
    wire.extend_from_slice(b"x-amz-checksum-crc32c:sOO8/Q==\r\n");
    wire.extend_from_slice(
        format!("x-amz-trailer-signature:{trailer_signature}\r\n\r\n").as_bytes(),
    );

    let signing = Some(signing(TRAILER_SEED));
    for piece in [1, 33, 65_536, wire.len()] {
        let declared = vec!["x-amz-checksum-crc32c".to_owned()];
        let limits = ChunkedLimits::default();
        let decoder = AwsChunkedDecoder::new(
            SignedPayloadTrailer,
            signing.clone(),
            declared,
            Some(66_560),
            limits,
        );
        let (payload, trailers) = run(decoder.unwrap(), wire.chunks(piece)).unwrap();
        assert_eq!(payload.len(), 66_560);
        assert_eq!(trailers.get("x-amz-checksum-crc32c"), Some("sOO8/Q=="));
    }
}

/// Small valid bodies of every mode decode the same whatever the split:
/// at every single position, and one byte at a time.
#[test]
fn every_split_decodes_the_same() {
    let chunks: [&[u8]; 3] = [b"hello", b" ", b"aws-chunked world\r\n"];
    let payload = chunks.concat();
    let crc = [("x-amz-checksum-crc32", "AAAAAA==")];
    for (mode, trailers) in [
        (SignedPayload, &[][..]),
        (UnsignedPayloadTrailer, &crc[..]),
        (SignedPayloadTrailer, &crc[..]),
    ] {
        let declared: Vec<&str> = trailers.iter().map(|(name, _)| *name).collect();
        let wire = encode(mode, Some(&signing(SEED)), &chunks, trailers);
        let fresh = || {
            decoder(
                mode,
                &declared,
                Some(payload.len() as u64),
                ChunkedLimits::default(),
            )
        };
        let (whole, expected_trailers) = run(fresh(), [&wire[..]]).unwrap();
        assert_eq!(whole, payload, "{mode:?}");
        assert_eq!(expected_trailers.len(), trailers.len());
        for at in 0..=wire.len() {
            let (a, b) = wire.split_at(at);
            assert_eq!(
                run(fresh(), [a, b]).unwrap(),
                (payload.clone(), expected_trailers.clone()),
                "{mode:?} split at {at}"
            );
        }
        assert_eq!(
            run(fresh(), wire.chunks(1)).unwrap().0,
            payload,
            "{mode:?} byte by byte"
        );
    }
}

/// Name, mode, wire bytes, declared trailers, decoded length, limits, error.
type Case<'a> = (
    &'a str,
    StreamingMode,
    Vec<u8>,
    &'a [&'a str],
    Option<u64>,
    ChunkedLimits,
    ChunkedError,
);

/// Replaces the first occurrence of `from` in `wire` with `to`.
fn replace(wire: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = wire.windows(from.len()).position(|w| w == from).unwrap();
    [&wire[..at], to, &wire[at + from.len()..]].concat()
}

#[test]
fn malformed_and_tampered_streams_are_refused() {
    use ChunkedError as E;
    let context = signing(SEED);
    let chunks: [&[u8]; 2] = [b"first chunk", b"second"];
    let signed = encode(SignedPayload, Some(&context), &chunks, &[]);
    let crc = [("x-amz-checksum-crc32", "AAAAAA==")];
    let unsigned = encode(UnsignedPayloadTrailer, None, &chunks, &crc);
    let signed_trailer = encode(SignedPayloadTrailer, Some(&context), &chunks, &crc);
    let first_extension = &signed[1..82];
    let first_signature = &signed[18..82];
    let second_frame_at = signed.windows(3).position(|w| w == b"6;c").unwrap();
    let final_at = signed.windows(3).position(|w| w == b"0;c").unwrap();
    let reordered = [
        &signed[second_frame_at..final_at],
        &signed[..second_frame_at],
        &signed[final_at..],
    ]
    .concat();
    let trailer_line_at = signed_trailer
        .windows(24)
        .position(|w| w == b"x-amz-trailer-signature:")
        .unwrap();
    let wrong_trailer_signature = [
        &signed_trailer[..trailer_line_at + 24],
        b"0000",
        &signed_trailer[trailer_line_at + 28..],
    ]
    .concat();
    let end = |wire: &[u8], extra: &[u8]| [&wire[..wire.len() - 2], extra].concat();

    let total = 17;
    let limits = ChunkedLimits::default();
    let small = ChunkedLimits {
        max_chunk_size: 8,
        ..limits
    };
    let crc_name = ["x-amz-checksum-crc32"];
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("tampered data", SignedPayload, replace(&signed, b"first", b"fIrst"), &[], Some(total), limits, E::ChunkSignatureMismatch),
        ("tampered signature", SignedPayload, replace(&signed, &first_signature[..20], &[b'0'; 20]), &[], Some(total), limits, E::ChunkSignatureMismatch),
        ("reordered chunks", SignedPayload, reordered, &[], Some(total), limits, E::ChunkSignatureMismatch),
        ("truncated", SignedPayload, signed[..signed.len() - 3].to_vec(), &[], Some(total), limits, E::Truncated),
        ("missing final chunk", SignedPayload, signed[..final_at].to_vec(), &[], Some(total), limits, E::Truncated),
        ("empty body", UnsignedPayloadTrailer, vec![], &[], None, limits, E::Truncated),
        ("extra bytes after the end", SignedPayload, [&signed[..], b"x"].concat(), &[], Some(total), limits, E::TrailingData),
        ("a second final chunk", UnsignedPayloadTrailer, [&unsigned[..], b"0\r\n\r\n"].concat(), &crc_name, Some(total), limits, E::TrailingData),
        ("decoded length too small", SignedPayload, signed.clone(), &[], Some(total - 1), limits, E::LengthMismatch { declared: total - 1, actual: total }),
        ("decoded length too large", SignedPayload, signed.clone(), &[], Some(total + 1), limits, E::LengthMismatch { declared: total + 1, actual: total }),
        ("oversized chunk", SignedPayload, signed.clone(), &[], Some(total), small, E::ChunkTooLarge { size: 11, limit: 8 }),
        ("bad hex size", UnsignedPayloadTrailer, replace(&unsigned, b"b\r\n", b"zz\r\n"), &crc_name, None, limits, E::BadChunkSize),
        ("signed size", UnsignedPayloadTrailer, replace(&unsigned, b"b\r\n", b"+b\r\n"), &crc_name, None, limits, E::BadChunkSize),
        ("17 hex digits", UnsignedPayloadTrailer, replace(&unsigned, b"b\r\n", b"0000000000000000b\r\n"), &crc_name, None, limits, E::BadChunkSize),
        ("empty size", UnsignedPayloadTrailer, replace(&unsigned, b"b\r\n", b"\r\n"), &crc_name, None, limits, E::BadChunkSize),
        ("missing CRLF after data", UnsignedPayloadTrailer, replace(&unsigned, b"chunk\r\n", b"chunkX\n"), &crc_name, None, limits, E::MissingDataCrlf),
        ("bare LF", UnsignedPayloadTrailer, replace(&unsigned, b"b\r\n", b"b\n"), &crc_name, None, limits, E::BareLf),
        ("extension when unsigned", UnsignedPayloadTrailer, replace(&unsigned, b"b\r\n", b"b;x=y\r\n"), &crc_name, None, limits, E::UnexpectedChunkExtension),
        ("no signature when signed", SignedPayload, replace(&signed, first_extension, b""), &[], None, limits, E::MissingChunkSignature),
        ("other extension when signed", SignedPayload, replace(&signed, b"chunk-signature=", b"chunk-signaturf="), &[], None, limits, E::BadChunkExtension),
        ("upper-case signature", SignedPayload, replace(&signed, first_signature, &first_signature.to_ascii_uppercase()), &[], None, limits, E::BadChunkExtension),
        ("line too long", UnsignedPayloadTrailer, [&b"0"[..], &[b'0'; 5000], b"b\r\n"].concat(), &[], None, limits, E::LineTooLong(4096)),
        ("undeclared trailer", UnsignedPayloadTrailer, unsigned.clone(), &[], None, limits, E::UndeclaredTrailer("x-amz-checksum-crc32".into())),
        ("trailer in the signed mode", SignedPayload, end(&signed, b"x-a:b\r\n\r\n"), &[], None, limits, E::UndeclaredTrailer("x-a".into())),
        ("declared trailer not sent", UnsignedPayloadTrailer, encode(UnsignedPayloadTrailer, None, &chunks, &[]), &crc_name, None, limits, E::MissingTrailer("x-amz-checksum-crc32".into())),
        ("duplicate trailer", UnsignedPayloadTrailer, encode(UnsignedPayloadTrailer, None, &chunks, &[crc[0], crc[0]]), &crc_name, None, limits, E::DuplicateTrailer("x-amz-checksum-crc32".into())),
        ("too many trailers", UnsignedPayloadTrailer, encode(UnsignedPayloadTrailer, None, &chunks, &[("a", "1"), ("b", "2")]), &["a", "b"], None, ChunkedLimits { max_trailers: 1, ..limits }, E::TooManyTrailers(1)),
        ("malformed trailer", UnsignedPayloadTrailer, replace(&unsigned, b"x-amz-checksum-crc32:", b"x-amz-checksum-crc32 "), &crc_name, None, limits, E::BadTrailer("trailer line has no `:`")),
        ("tampered trailer", SignedPayloadTrailer, replace(&signed_trailer, b"AAAAAA==", b"AAAAAB=="), &crc_name, Some(total), limits, E::TrailerSignatureMismatch),
        ("wrong trailer signature", SignedPayloadTrailer, wrong_trailer_signature, &crc_name, Some(total), limits, E::TrailerSignatureMismatch),
        ("long trailer signature", SignedPayloadTrailer, replace(&signed_trailer, b"signature:", b"signature:0000"), &crc_name, Some(total), limits, E::BadTrailerSignatureLine),
        ("no trailer signature", SignedPayloadTrailer, [&signed_trailer[..trailer_line_at], b"\r\n"].concat(), &crc_name, Some(total), limits, E::BadTrailerSignatureLine),
        ("trailer after the signature", SignedPayloadTrailer, end(&signed_trailer, b"x:y\r\n\r\n"), &crc_name, Some(total), limits, E::BadTrailerSignatureLine),
        ("trailer signature when unsigned", UnsignedPayloadTrailer, replace(&unsigned, b"\r\n\r\n", format!("\r\nx-amz-trailer-signature:{}\r\n\r\n", "0".repeat(64)).as_bytes()), &crc_name, None, limits, E::UndeclaredTrailer("x-amz-trailer-signature".into())),
    ];
    for (name, mode, wire, declared, decoded_length, limits, expected) in cases {
        for piece in [1, wire.len().max(1)] {
            let result = run(
                decoder(mode, declared, decoded_length, limits),
                wire.chunks(piece),
            );
            assert_eq!(result.unwrap_err(), expected, "{name} (pieces of {piece})");
        }
    }
}

#[test]
fn errors_map_to_documented_s3_errors() {
    use ChunkedError as E;
    let signature = [E::ChunkSignatureMismatch, E::TrailerSignatureMismatch];
    for error in signature {
        assert_eq!(
            error.to_s3_error().code(),
            S3ErrorCode::SignatureDoesNotMatch
        );
        assert_eq!(
            error.auth_failure_reason().map(|r| r.as_str()),
            Some("bad_signature")
        );
    }
    let incomplete = [
        E::Truncated,
        E::LengthMismatch {
            declared: 1,
            actual: 2,
        },
    ];
    for error in incomplete {
        assert_eq!(error.to_s3_error().code(), S3ErrorCode::IncompleteBody);
        assert_eq!(error.auth_failure_reason(), None);
    }
    let framing = [
        E::BadChunkSize,
        E::ChunkTooLarge { size: 2, limit: 1 },
        E::TrailingData,
        E::UndeclaredTrailer("x".into()),
        E::LineTooLong(1),
    ];
    for error in framing {
        assert_eq!(
            error.to_s3_error().code(),
            S3ErrorCode::InvalidRequest,
            "{error}"
        );
    }
    assert_eq!(
        E::MissingSigningContext.to_s3_error().code(),
        S3ErrorCode::InternalError
    );
    assert_eq!(
        E::UndeclaredTrailer("x-a".into()).to_string(),
        "trailer `x-a` was not declared in x-amz-trailer"
    );
}

#[test]
fn decoder_stays_failed_and_needs_signing_for_signed_modes() {
    let mut decoder = decoder(UnsignedPayloadTrailer, &[], None, ChunkedLimits::default());
    let mut out = Vec::new();
    assert_eq!(
        decoder.push_slice(b"zz\r\n", &mut out),
        Err(ChunkedError::BadChunkSize)
    );
    assert_eq!(
        decoder.push_slice(b"0\r\n\r\n", &mut out),
        Err(ChunkedError::BadChunkSize)
    );
    assert_eq!(decoder.finish(), Err(ChunkedError::BadChunkSize));
    let limits = ChunkedLimits::default();
    for mode in [SignedPayload, SignedPayloadTrailer] {
        let error = AwsChunkedDecoder::new(mode, None, vec![], None, limits).unwrap_err();
        assert_eq!(error, ChunkedError::MissingSigningContext);
    }
    let mut done = super::tests::decoder(UnsignedPayloadTrailer, &[], Some(0), limits);
    assert!(!done.is_done());
    done.push_slice(b"0\r\n\r\n", &mut out).unwrap();
    assert!(done.is_done() && done.decoded() == 0 && out.is_empty());
}

#[test]
fn streaming_modes_round_trip() {
    for mode in [SignedPayload, UnsignedPayloadTrailer, SignedPayloadTrailer] {
        assert_eq!(
            StreamingMode::from_content_sha256(mode.as_str()),
            Some(mode)
        );
    }
    assert_eq!(
        StreamingMode::from_content_sha256("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"),
        None
    );
    assert!(SignedPayload.is_signed() && !SignedPayload.has_trailers());
    assert!(!UnsignedPayloadTrailer.is_signed() && UnsignedPayloadTrailer.has_trailers());
}
