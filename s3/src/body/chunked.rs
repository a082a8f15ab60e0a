//! `aws-chunked` decoding for `STREAMING-*` payloads, with the chunk
//! signature chain and trailers verified (part of the *authenticate* stage,
//! run while the *dispatch* stage streams the body).
//!
//! [`AwsChunkedDecoder`] is a pure state machine: feed it the wire bytes in
//! pieces split anywhere ([`AwsChunkedDecoder::push`]), collect the decoded
//! payload, and call [`AwsChunkedDecoder::finish`] at the end of the input
//! for the verified [`Trailers`]. Wire format per mode:
//!
//! - `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`:
//!   `<hex size>;chunk-signature=<64 hex>\r\n<data>\r\n` ..., then
//!   `0;chunk-signature=<64 hex>\r\n\r\n`. Each signature chains from the
//!   previous one, starting at the request's seed signature.
//! - `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: `<hex size>\r\n<data>\r\n` ...,
//!   then `0\r\n`, the trailers (`name:value\r\n`), and `\r\n`.
//! - `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks, a signed
//!   final chunk, the trailers, `x-amz-trailer-signature:<64 hex>\r\n`, `\r\n`
//!   (string to sign in the `trailer` module).
//!
//! Limits: header and trailer lines of at most
//! [`ChunkedLimits::max_line_len`] bytes, chunks of at most
//! [`ChunkedLimits::max_chunk_size`], at most [`ChunkedLimits::max_trailers`]
//! trailers, each one declared in `x-amz-trailer`. Decoded data is released
//! as it arrives, before its chunk's signature is checked: consumers must
//! treat the payload as unverified until `finish` succeeds (the body adapter
//! in `verified` holds the last piece back until then).

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::trailer::{self, TRAILER_SIGNATURE, Trailers};
use crate::sigv4::SigningContext;
use crate::sigv4::signatures_match;

mod encode;
mod error;
#[cfg(test)]
pub(crate) mod tests;

pub use encode::encode;
pub use error::ChunkedError;

/// The `x-amz-content-sha256` values that announce an `aws-chunked` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamingMode {
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: signed chunks, no trailers.
    SignedPayload,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: plain chunks and trailers.
    UnsignedPayloadTrailer,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks and
    /// signed trailers.
    SignedPayloadTrailer,
}

impl StreamingMode {
    /// The mode of an `x-amz-content-sha256` value, if it is one of these.
    pub fn from_content_sha256(value: &str) -> Option<Self> {
        [
            Self::SignedPayload,
            Self::UnsignedPayloadTrailer,
            Self::SignedPayloadTrailer,
        ]
        .into_iter()
        .find(|mode| mode.as_str() == value)
    }

    /// The `x-amz-content-sha256` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignedPayload => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            Self::UnsignedPayloadTrailer => "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            Self::SignedPayloadTrailer => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        }
    }

    /// Whether chunks carry `chunk-signature`.
    pub fn is_signed(self) -> bool {
        !matches!(self, Self::UnsignedPayloadTrailer)
    }

    /// Whether trailers may follow the final chunk.
    pub fn has_trailers(self) -> bool {
        !matches!(self, Self::SignedPayload)
    }
}

/// Bounds on what a client may send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkedLimits {
    /// Largest chunk (AWS SDKs send 64 KiB, botocore 1 MiB).
    pub max_chunk_size: u64,
    /// Longest chunk header or trailer line, CRLF included.
    pub max_line_len: usize,
    /// Most trailers (the signature line not counted).
    pub max_trailers: usize,
}

impl Default for ChunkedLimits {
    fn default() -> Self {
        Self {
            max_chunk_size: 16 * 1024 * 1024,
            max_line_len: 4096,
            max_trailers: 8,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading a chunk header line into `line`.
    Header,
    /// Inside chunk data.
    Data {
        remaining: u64,
    },
    /// Expecting the CR, then the LF, after chunk data.
    DataCr,
    DataLf,
    /// Reading trailer lines into `line`, after the final chunk.
    Trailers,
    /// The empty line after the trailers was read.
    Done,
}

/// Decodes one `aws-chunked` body. See the module docs.
#[derive(Debug)]
pub struct AwsChunkedDecoder {
    mode: StreamingMode,
    signing: Option<SigningContext>,
    declared_trailers: Vec<String>,
    decoded_length: Option<u64>,
    limits: ChunkedLimits,
    state: State,
    line: Vec<u8>,
    /// Signature of the previous chunk (the seed signature at first).
    previous_signature: String,
    /// Signature claimed by the current chunk's header.
    claimed_signature: String,
    chunk_hash: Sha256,
    decoded: u64,
    trailers: Trailers,
    trailer_signature: Option<String>,
    failure: Option<ChunkedError>,
}

impl AwsChunkedDecoder {
    /// A decoder for `mode`. Signed modes need the request's `signing`
    /// context; `declared_trailers` are the lowercased names of
    /// `x-amz-trailer`; `decoded_length` is `x-amz-decoded-content-length`.
    pub fn new(
        mode: StreamingMode,
        signing: Option<SigningContext>,
        declared_trailers: Vec<String>,
        decoded_length: Option<u64>,
        limits: ChunkedLimits,
    ) -> Result<Self, ChunkedError> {
        let previous_signature = match (&signing, mode.is_signed()) {
            (Some(signing), true) => signing.seed_signature().to_owned(),
            (None, true) => return Err(ChunkedError::MissingSigningContext),
            (_, false) => String::new(),
        };
        Ok(Self {
            mode,
            signing,
            declared_trailers,
            decoded_length,
            limits,
            state: State::Header,
            line: Vec::new(),
            previous_signature,
            claimed_signature: String::new(),
            chunk_hash: Sha256::new(),
            decoded: 0,
            trailers: Trailers::default(),
            trailer_signature: None,
            failure: None,
        })
    }

    /// Payload bytes decoded so far.
    pub fn decoded(&self) -> u64 {
        self.decoded
    }

    /// Whether the final chunk and trailers have been read and verified.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes the next piece of wire bytes, appending payload pieces
    /// (slices of `input`, never empty) to `out`. After an error every
    /// further call returns the same error.
    pub fn push(&mut self, input: Bytes, out: &mut Vec<Bytes>) -> Result<(), ChunkedError> {
        if let Some(failure) = &self.failure {
            return Err(failure.clone());
        }
        let result = self.run(&input, out);
        if let Err(error) = &result {
            self.failure = Some(error.clone());
        }
        result
    }

    /// Like [`Self::push`] for borrowed input (copied).
    pub fn push_slice(&mut self, input: &[u8], out: &mut Vec<Bytes>) -> Result<(), ChunkedError> {
        self.push(Bytes::copy_from_slice(input), out)
    }

    /// Ends the input: succeeds with the trailers once the final chunk, the
    /// trailers and their signature have been read and verified.
    pub fn finish(&mut self) -> Result<Trailers, ChunkedError> {
        if let Some(failure) = &self.failure {
            return Err(failure.clone());
        }
        if self.state != State::Done {
            self.failure = Some(ChunkedError::Truncated);
            return Err(ChunkedError::Truncated);
        }
        Ok(std::mem::take(&mut self.trailers))
    }

    fn run(&mut self, input: &Bytes, out: &mut Vec<Bytes>) -> Result<(), ChunkedError> {
        let mut pos = 0;
        while pos < input.len() {
            let rest = &input[pos..];
            match self.state {
                State::Header | State::Trailers => {
                    let Some(newline) = rest.iter().position(|&b| b == b'\n') else {
                        self.extend_line(rest)?;
                        return Ok(());
                    };
                    self.extend_line(&rest[..=newline])?;
                    pos += newline + 1;
                    let mut line = std::mem::take(&mut self.line);
                    if line.pop() != Some(b'\n') || line.pop() != Some(b'\r') {
                        return Err(ChunkedError::BareLf);
                    }
                    if self.state == State::Header {
                        self.on_header(&line)?;
                    } else {
                        self.on_trailer(&line)?;
                    }
                    line.clear();
                    self.line = line;
                }
                State::Data { remaining } => {
                    let take = usize::try_from(remaining).map_or(rest.len(), |r| r.min(rest.len()));
                    let data = input.slice(pos..pos + take);
                    pos += take;
                    if self.mode.is_signed() {
                        self.chunk_hash.update(&data);
                    }
                    self.decoded += data.len() as u64;
                    out.push(data);
                    let remaining = remaining - take as u64;
                    if remaining == 0 {
                        self.verify_chunk()?;
                        self.state = State::DataCr;
                    } else {
                        self.state = State::Data { remaining };
                    }
                }
                State::DataCr | State::DataLf => {
                    let expected = if self.state == State::DataCr {
                        b'\r'
                    } else {
                        b'\n'
                    };
                    if rest[0] != expected {
                        return Err(ChunkedError::MissingDataCrlf);
                    }
                    pos += 1;
                    self.state = if expected == b'\r' {
                        State::DataLf
                    } else {
                        State::Header
                    };
                }
                State::Done => return Err(ChunkedError::TrailingData),
            }
        }
        Ok(())
    }

    fn extend_line(&mut self, bytes: &[u8]) -> Result<(), ChunkedError> {
        if self.line.len() + bytes.len() > self.limits.max_line_len {
            return Err(ChunkedError::LineTooLong(self.limits.max_line_len));
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    /// A chunk header line, CRLF removed.
    fn on_header(&mut self, line: &[u8]) -> Result<(), ChunkedError> {
        let (size, extension) = match line.iter().position(|&b| b == b';') {
            Some(semicolon) => (&line[..semicolon], Some(&line[semicolon + 1..])),
            None => (line, None),
        };
        let size = parse_hex_size(size)?;
        if size > self.limits.max_chunk_size {
            return Err(ChunkedError::ChunkTooLarge {
                size,
                limit: self.limits.max_chunk_size,
            });
        }
        match (self.mode.is_signed(), extension) {
            (true, None) => return Err(ChunkedError::MissingChunkSignature),
            (true, Some(extension)) => {
                self.claimed_signature = parse_signature(extension, b"chunk-signature=")
                    .ok_or(ChunkedError::BadChunkExtension)?;
            }
            (false, Some(_)) => return Err(ChunkedError::UnexpectedChunkExtension),
            (false, None) => {}
        }
        let total = self.decoded.saturating_add(size);
        if let Some(declared) = self.decoded_length.filter(|&declared| total > declared) {
            return Err(ChunkedError::LengthMismatch {
                declared,
                actual: total,
            });
        }
        if size > 0 {
            self.state = State::Data { remaining: size };
            return Ok(());
        }
        self.verify_chunk()?;
        if let Some(declared) = self.decoded_length.filter(|&d| d != self.decoded) {
            return Err(ChunkedError::LengthMismatch {
                declared,
                actual: self.decoded,
            });
        }
        self.state = State::Trailers;
        Ok(())
    }

    /// Checks the current chunk's signature and advances the chain.
    fn verify_chunk(&mut self) -> Result<(), ChunkedError> {
        if !self.mode.is_signed() {
            return Ok(());
        }
        let signing = self
            .signing
            .as_ref()
            .ok_or(ChunkedError::MissingSigningContext)?;
        let hash: [u8; 32] = std::mem::take(&mut self.chunk_hash).finalize().into();
        let expected = signing.chunk_signature(&self.previous_signature, &hash);
        if !signatures_match(&expected, &self.claimed_signature) {
            return Err(ChunkedError::ChunkSignatureMismatch);
        }
        self.previous_signature = expected;
        Ok(())
    }

    /// A line after the final chunk, CRLF removed.
    fn on_trailer(&mut self, line: &[u8]) -> Result<(), ChunkedError> {
        if line.is_empty() {
            return self.end_trailers();
        }
        if self.trailer_signature.is_some() {
            return Err(ChunkedError::BadTrailerSignatureLine);
        }
        let parsed = trailer::parse_line(line).map_err(ChunkedError::BadTrailer)?;
        if self.mode == StreamingMode::SignedPayloadTrailer && parsed.name == TRAILER_SIGNATURE {
            let signature = parse_signature(parsed.value.as_bytes(), b"")
                .ok_or(ChunkedError::BadTrailerSignatureLine)?;
            self.trailer_signature = Some(signature);
            return Ok(());
        }
        if !self.declared_trailers.contains(&parsed.name) {
            return Err(ChunkedError::UndeclaredTrailer(parsed.name));
        }
        if self.trailers.get(&parsed.name).is_some() {
            return Err(ChunkedError::DuplicateTrailer(parsed.name));
        }
        if self.trailers.len() >= self.limits.max_trailers {
            return Err(ChunkedError::TooManyTrailers(self.limits.max_trailers));
        }
        self.trailers.push(parsed.name, parsed.value);
        Ok(())
    }

    fn end_trailers(&mut self) -> Result<(), ChunkedError> {
        if self.mode == StreamingMode::SignedPayloadTrailer {
            let claimed = self
                .trailer_signature
                .as_deref()
                .ok_or(ChunkedError::BadTrailerSignatureLine)?;
            let signing = self
                .signing
                .as_ref()
                .ok_or(ChunkedError::MissingSigningContext)?;
            if !self
                .trailers
                .signature_matches(signing, &self.previous_signature, claimed)
            {
                return Err(ChunkedError::TrailerSignatureMismatch);
            }
        }
        if let Some(missing) = self
            .declared_trailers
            .iter()
            .find(|name| self.trailers.get(name).is_none())
        {
            return Err(ChunkedError::MissingTrailer(missing.clone()));
        }
        self.state = State::Done;
        Ok(())
    }
}

/// 1 to 16 hex digits (either case).
fn parse_hex_size(digits: &[u8]) -> Result<u64, ChunkedError> {
    if digits.is_empty() || digits.len() > 16 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(ChunkedError::BadChunkSize);
    }
    std::str::from_utf8(digits)
        .ok()
        .and_then(|digits| u64::from_str_radix(digits, 16).ok())
        .ok_or(ChunkedError::BadChunkSize)
}

/// `prefix` followed by exactly 64 lowercase hex digits.
fn parse_signature(value: &[u8], prefix: &[u8]) -> Option<String> {
    let hex = value.strip_prefix(prefix)?;
    let is_lower_hex = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
    (hex.len() == 64 && hex.iter().all(is_lower_hex))
        .then(|| String::from_utf8_lossy(hex).into_owned())
}
