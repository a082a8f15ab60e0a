//! [`VerifiedBody`]: the request body a backend reads in the *dispatch*
//! stage, decoded (`aws-chunked`) and verified (signed SHA-256, chunk and
//! trailer signatures, `x-amz-checksum-*`, lengths) as it streams.
//!
//! [`decode_body`] wraps the raw [`super::RequestBody`] according to a
//! [`BodyPlan`]. The wrapper yields decoded payload only and keeps the most
//! recent piece back until the end of the body has been verified, so no
//! consumer — a backend writing a temp file or an upstream that commits at
//! `Content-Length` — ever receives the whole payload of a body that fails
//! verification; `Ok(None)` means everything verified. On failure the
//! backend sees an I/O error and [`VerifiedBody::take_failure`] keeps the
//! precise S3 error for the *respond* stage.

use std::collections::VecDeque;
use std::io;

use async_trait::async_trait;
use bytes::Bytes;
use cedargate_backends::BodySource;

use cedargate_s3::body::checksum::{ChecksumAlgorithm, ChecksumVerifier};
use cedargate_s3::body::chunked::{AwsChunkedDecoder, ChunkedError};
use cedargate_s3::body::plan::{BodyPlan, ChecksumSource};

use super::RequestBody;
use cedargate_s3::error::{S3Error, S3ErrorCode};
use cedargate_s3::sigv4::AuthFailureReason;

/// A request body that verifies itself while it streams.
pub trait VerifiedBody: BodySource {
    /// The S3 error that made the body unusable, if any.
    fn take_failure(&mut self) -> Option<S3Error>;

    /// The `s3_auth_failure_total` reason when the body failed a chunk or
    /// trailer signature (`bad_signature`).
    fn auth_failure(&self) -> Option<AuthFailureReason>;

    /// Bytes received from the client (wire bytes, framing included).
    fn received(&self) -> u64;

    /// Payload bytes delivered after decoding.
    fn decoded(&self) -> u64;

    /// The checksum the body was verified against and its base64 value,
    /// once the whole body verified.
    fn checksum(&self) -> Option<(ChecksumAlgorithm, &str)>;
}

impl VerifiedBody for RequestBody<'_> {
    fn take_failure(&mut self) -> Option<S3Error> {
        RequestBody::take_failure(self)
    }

    fn auth_failure(&self) -> Option<AuthFailureReason> {
        None
    }

    fn received(&self) -> u64 {
        RequestBody::received(self)
    }

    fn decoded(&self) -> u64 {
        RequestBody::received(self)
    }

    fn checksum(&self) -> Option<(ChecksumAlgorithm, &str)> {
        None
    }
}

/// Wraps `raw` (the client body, which already enforces `Content-Length`
/// and a signed SHA-256) with the decoding and checks of `plan`.
pub fn decode_body<'a, B: VerifiedBody + 'a>(raw: B, plan: BodyPlan) -> Box<dyn VerifiedBody + 'a> {
    Box::new(DecodedBody::new(raw, plan))
}

/// The body of [`decode_body`].
#[derive(Debug)]
pub struct DecodedBody<B> {
    inner: B,
    decoder: Option<AwsChunkedDecoder>,
    checksum: Option<(ChecksumVerifier, ChecksumSource)>,
    verified_checksum: Option<(ChecksumAlgorithm, String)>,
    /// Pieces released to the consumer.
    ready: VecDeque<Bytes>,
    /// The most recent piece, released once more data or the verified end
    /// arrives.
    held: Option<Bytes>,
    pieces: Vec<Bytes>,
    decoded: u64,
    failure: Option<S3Error>,
    /// Set with `failure`; stays set after the failure is taken.
    failed: bool,
    auth_failure: Option<AuthFailureReason>,
    finished: bool,
}

impl<B: VerifiedBody> DecodedBody<B> {
    /// See [`decode_body`].
    pub fn new(inner: B, plan: BodyPlan) -> Self {
        let mut failure = None;
        let decoder = plan.chunked.and_then(|chunked| {
            AwsChunkedDecoder::new(
                chunked.mode,
                chunked.signing,
                chunked.declared_trailers,
                Some(chunked.decoded_length),
                plan.limits,
            )
            .map_err(|error| failure = Some(error.to_s3_error()))
            .ok()
        });
        let checksum = plan
            .checksum
            .map(|(algorithm, source)| (ChecksumVerifier::new(algorithm), source));
        Self {
            inner,
            decoder,
            checksum,
            verified_checksum: None,
            ready: VecDeque::new(),
            held: None,
            pieces: Vec::new(),
            decoded: 0,
            failed: failure.is_some(),
            failure,
            auth_failure: None,
            finished: false,
        }
    }

    fn accept(&mut self, raw: Bytes) -> Result<(), S3Error> {
        let mut pieces = std::mem::take(&mut self.pieces);
        match &mut self.decoder {
            Some(decoder) => {
                if let Err(error) = decoder.push(raw, &mut pieces) {
                    return Err(self.chunked_failure(&error));
                }
            }
            None => pieces.push(raw),
        }
        for piece in pieces.drain(..).filter(|piece| !piece.is_empty()) {
            if let Some((verifier, _)) = &mut self.checksum {
                verifier.update(&piece);
            }
            self.decoded += piece.len() as u64;
            if let Some(previous) = self.held.replace(piece) {
                self.ready.push_back(previous);
            }
        }
        self.pieces = pieces;
        Ok(())
    }

    fn end(&mut self) -> Result<(), S3Error> {
        let trailers = match &mut self.decoder {
            Some(decoder) => match decoder.finish() {
                Ok(trailers) => trailers,
                Err(error) => return Err(self.chunked_failure(&error)),
            },
            None => Default::default(),
        };
        if let Some((verifier, source)) = self.checksum.take() {
            let algorithm = verifier.algorithm();
            let expected = match &source {
                ChecksumSource::Header(value) => value.as_str(),
                ChecksumSource::Trailer => {
                    trailers.get(algorithm.header_name()).ok_or_else(|| {
                        ChunkedError::MissingTrailer(algorithm.header_name().to_owned())
                            .to_s3_error()
                    })?
                }
            };
            let value = verifier.verify(expected)?;
            self.verified_checksum = Some((algorithm, value));
        }
        self.ready.extend(self.held.take());
        self.finished = true;
        Ok(())
    }

    fn chunked_failure(&mut self, error: &ChunkedError) -> S3Error {
        self.auth_failure = error.auth_failure_reason();
        error.to_s3_error()
    }

    fn fail(&mut self, error: S3Error) -> io::Error {
        let io = io_error(&error);
        self.failure = Some(error);
        self.failed = true;
        self.ready.clear();
        self.held = None;
        io
    }
}

fn io_error(error: &S3Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error.to_string())
}

#[async_trait]
impl<B: VerifiedBody> BodySource for DecodedBody<B> {
    fn verified_checksum(&self) -> Option<cedargate_backends::ObjectChecksum> {
        self.verified_checksum.as_ref().map(|(algorithm, value)| {
            cedargate_backends::ObjectChecksum::full_object(*algorithm, value)
        })
    }

    async fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        loop {
            if self.failed {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the request body failed verification",
                ));
            }
            if let Some(piece) = self.ready.pop_front() {
                return Ok(Some(piece));
            }
            if self.finished {
                return Ok(None);
            }
            let step = match self.inner.next_chunk().await {
                Ok(Some(raw)) => self.accept(raw),
                Ok(None) => self.end(),
                Err(error) => {
                    let failure = self.inner.take_failure().unwrap_or_else(|| {
                        S3Error::new(
                            S3ErrorCode::IncompleteBody,
                            "the request body could not be read",
                        )
                        .with_detail(&error)
                    });
                    self.failure = Some(failure);
                    self.failed = true;
                    return Err(error);
                }
            };
            if let Err(error) = step {
                return Err(self.fail(error));
            }
        }
    }
}

impl<B: VerifiedBody> VerifiedBody for DecodedBody<B> {
    fn take_failure(&mut self) -> Option<S3Error> {
        self.failure.take().or_else(|| self.inner.take_failure())
    }

    fn auth_failure(&self) -> Option<AuthFailureReason> {
        self.auth_failure
    }

    fn received(&self) -> u64 {
        self.inner.received()
    }

    fn decoded(&self) -> u64 {
        self.decoded
    }

    fn checksum(&self) -> Option<(ChecksumAlgorithm, &str)> {
        self.verified_checksum
            .as_ref()
            .map(|(algorithm, value)| (*algorithm, value.as_str()))
    }
}
