//! Fuzzes the `aws-chunked` decoder in each streaming mode.
//!
//! Input: a control byte (mode, whether to check the decoded length, and
//! which of two experiments), a split seed, then the experiment's bytes.
//!
//! - Raw: the bytes are a wire body. Decoding them whole and in seeded
//!   pieces must give the same result (payload and trailers, or the same
//!   error), never panic, and an accepted body must have the declared length.
//! - Round trip: the bytes become chunks and a trailer value, encoded into a
//!   valid body (signed with the documented example's context). It must
//!   decode to the same payload in any pieces; then one byte is flipped, and
//!   in the signed modes a flipped body that is still accepted must decode
//!   to the signed payload (and trailers), byte for byte.

#![no_main]

use bytes::Bytes;
use cedargate_s3::body::chunked::{AwsChunkedDecoder, ChunkedError, ChunkedLimits, StreamingMode};
use cedargate_s3::body::trailer::Trailers;
use cedargate_fuzz::{chunked_signing, encode, pieces};
use libfuzzer_sys::fuzz_target;

const MODES: [StreamingMode; 3] = [
    StreamingMode::SignedPayload,
    StreamingMode::UnsignedPayloadTrailer,
    StreamingMode::SignedPayloadTrailer,
];
const CRC32: &str = "x-amz-checksum-crc32";
/// Trailers declared for raw bodies: two, so the trailer limit is reachable.
const RAW_TRAILERS: &[&str] = &[CRC32, "x-amz-checksum-sha1"];

fn decode(
    mode: StreamingMode,
    declared: &[&str],
    decoded_length: Option<u64>,
    input: &[&[u8]],
) -> Result<(Vec<u8>, Trailers), ChunkedError> {
    let limits = ChunkedLimits {
        max_chunk_size: 1 << 20,
        max_line_len: 256,
        max_trailers: 2,
    };
    let declared = if mode.has_trailers() {
        declared.iter().map(|name| name.to_string()).collect()
    } else {
        Vec::new()
    };
    let signing = mode.is_signed().then(|| chunked_signing().clone());
    let mut decoder = AwsChunkedDecoder::new(mode, signing, declared, decoded_length, limits)?;
    let mut out = Vec::new();
    for piece in input {
        decoder.push(Bytes::copy_from_slice(piece), &mut out)?;
    }
    let trailers = decoder.finish()?;
    let payload = out.concat();
    assert_eq!(payload.len() as u64, decoder.decoded());
    Ok((payload, trailers))
}

fn raw(mode: StreamingMode, check_length: bool, seed: u8, wire: &[u8]) {
    // Claim the length found by decoding whole, so accepted bodies get checked.
    let declared = check_length
        .then(|| decode(mode, RAW_TRAILERS, None, &[wire]).ok())
        .flatten()
        .map(|(payload, _)| payload.len() as u64);
    let whole = decode(mode, RAW_TRAILERS, declared, &[wire]);
    let split = decode(mode, RAW_TRAILERS, declared, &pieces(wire, u64::from(seed)));
    assert_eq!(whole, split, "the split changed the result");
    if let (Ok((payload, _)), Some(declared)) = (&whole, declared) {
        assert_eq!(payload.len() as u64, declared);
    }
}

fn round_trip(mode: StreamingMode, seed: u8, data: &[u8]) {
    let Some((&trailer_seed, data)) = data.split_first() else {
        return;
    };
    // Chunks: each a length byte then up to that many bytes.
    let mut chunks: Vec<&[u8]> = Vec::new();
    let mut rest = data;
    // At most 16 chunks: each costs an HMAC per encode and decode.
    while let Some((&len, tail)) = rest.split_first().filter(|_| chunks.len() < 16) {
        let take = usize::from(len % 48 + 1).min(tail.len());
        if take == 0 {
            break;
        }
        chunks.push(&tail[..take]);
        rest = &tail[take..];
    }
    let payload = chunks.concat();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let value: String = (0..6u8)
        .map(|i| char::from(alphabet[usize::from(trailer_seed.wrapping_mul(i + 7)) % 64]))
        .chain("==".chars())
        .collect();
    let trailers = if mode.has_trailers() {
        vec![(CRC32.to_owned(), value.clone())]
    } else {
        Vec::new()
    };
    let wire = encode(mode, chunked_signing(), &chunks, &trailers);
    let length = Some(payload.len() as u64);
    for input in [vec![&wire[..]], pieces(&wire, u64::from(seed))] {
        let (decoded, sent) = decode(mode, &[CRC32], length, &input).expect("a valid body decodes");
        assert_eq!(decoded, payload);
        assert_eq!(
            sent.get(CRC32),
            mode.has_trailers().then_some(value.as_str())
        );
    }
    // Flip one byte somewhere.
    let at = usize::from(seed)
        .wrapping_mul(31)
        .wrapping_add(usize::from(trailer_seed))
        % wire.len();
    let mut flipped = wire.clone();
    flipped[at] ^= 1 << (trailer_seed % 8);
    if let Ok((decoded, sent)) = decode(mode, &[CRC32], length, &[&flipped]) {
        if mode.is_signed() {
            assert_eq!(decoded, payload, "a tampered signed body was accepted");
        }
        if mode == StreamingMode::SignedPayloadTrailer {
            assert_eq!(
                sent.get(CRC32),
                Some(value.as_str()),
                "tampered signed trailer"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [control, seed, rest @ ..] = data else {
        return;
    };
    let mode = MODES[usize::from(*control % 3)];
    if control & 0x80 == 0 {
        raw(mode, control & 0x40 != 0, *seed, rest);
    } else {
        round_trip(mode, *seed, rest);
    }
});
