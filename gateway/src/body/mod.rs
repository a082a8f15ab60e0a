//! The request body as a [`BodySource`]: read from the client only after
//! authentication and authorization, verified while it streams.
//!
//! It sends `100 Continue` when the client asked for it, counts bytes,
//! enforces the declared length, and checks the signed SHA-256 payload hash
//! at the end of the stream, so a backend never commits a body that fails
//! verification. The precise S3 error of a failure is kept for the
//! *respond* stage, since backends only see an I/O error.
//!
//! The client connection itself comes in through [`ClientBody`], which the
//! server layer implements over its HTTP session (and tests over memory).
//!
//! A PutObject or UploadPart body may come without any declared length:
//! HTTP/1.1 `Transfer-Encoding: chunked` with neither `Content-Length` nor
//! `x-amz-decoded-content-length` ([`has_undeclared_length`]), as S3
//! accepts. Such a body is streamed like any other, its payload hash (or
//! `UNSIGNED-PAYLOAD`) checked at its end, and every cap still holds:
//!
//! - it may carry at most [`MAX_UNDECLARED_BODY`] bytes (S3's limit for one
//!   PutObject or UploadPart); one byte more fails the write with
//!   EntityTooLarge, and nothing is stored;
//! - policies see that maximum as `context.content_length` and
//!   `context.write_bytes`, so a rule limiting a write's size refuses it
//!   (send a length to be judged on the real size);
//! - a bucket with a quota refuses it: the base policy counts it as that
//!   maximum (EntityTooLarge unless the bucket has that much room), and
//!   where a policy lets it through anyway the *limit* stage answers
//!   MissingContentLength, since bytes are reserved before the body is
//!   read;
//! - only the filesystem backend takes it ([`check_declared_length`]):
//!   S3-compatible upstreams need the length up front to stream a signed
//!   request, and the gateway does not spool bodies to disk, so other
//!   backends answer MissingContentLength.

use std::io;

use async_trait::async_trait;
use bytes::Bytes;
use cedargate_backends::BodySource;
use sha2::{Digest, Sha256};

use cedargate_s3::error::{S3Error, S3ErrorCode};

#[cfg(test)]
mod tests;
mod verified;

pub use verified::{DecodedBody, VerifiedBody, decode_body};

/// The client connection's side of a request body: what the pipeline
/// needs of the HTTP session, and nothing else.
#[async_trait]
pub trait ClientBody: Send {
    /// The next chunk of the body as it arrives, `None` at its end.
    async fn read_chunk(&mut self) -> io::Result<Option<Bytes>>;

    /// Sends `100 Continue` (the client asked for it and the body is wanted).
    async fn send_continue(&mut self) -> io::Result<()>;

    /// Whether the body has been read to its end (or there is none).
    fn is_done(&mut self) -> bool;

    /// Gives up keep-alive: the connection closes after the answer, so a
    /// body left unread never has to be drained.
    fn disable_keepalive(&mut self);
}

/// The most bytes a body without a declared length may carry: S3's limit
/// for one PutObject or UploadPart (5 GiB).
pub const MAX_UNDECLARED_BODY: u64 = 5 * 1024 * 1024 * 1024;

/// Whether the request's body comes without a declared length:
/// `Transfer-Encoding: chunked`, and neither `Content-Length` nor
/// `x-amz-decoded-content-length`.
pub fn has_undeclared_length(headers: &http::HeaderMap) -> bool {
    let chunked = headers
        .get_all(http::header::TRANSFER_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| coding.trim().eq_ignore_ascii_case("chunked"));
    chunked
        && !headers.contains_key(http::header::CONTENT_LENGTH)
        && !headers.contains_key(cedargate_s3::body::plan::DECODED_CONTENT_LENGTH)
}

/// The check of a PutObject or UploadPart's length before its body is
/// read: a declared length, or a chunked body without one for a backend
/// that can store a body of unknown length (`fs`); else
/// MissingContentLength.
pub fn check_declared_length(
    headers: &http::HeaderMap,
    declared: Option<u64>,
    backend_kind: &str,
) -> Result<(), S3Error> {
    if declared.is_some() {
        return Ok(());
    }
    if !has_undeclared_length(headers) {
        return Err(S3Error::new(
            S3ErrorCode::MissingContentLength,
            "you must provide the Content-Length HTTP header",
        ));
    }
    if backend_kind == "fs" {
        return Ok(());
    }
    Err(S3Error::new(
        S3ErrorCode::MissingContentLength,
        "this bucket's storage needs the body's length up front: send Content-Length",
    ))
}

/// Whether the request head asks for `100 Continue` before its body.
pub fn expects_continue(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// The client's body, verified while it streams.
pub struct RequestBody<'a> {
    client: &'a mut dyn ClientBody,
    continue_pending: bool,
    declared_length: Option<u64>,
    max_length: u64,
    received: u64,
    sha256: Option<(Sha256, [u8; 32])>,
    failure: Option<S3Error>,
    finished: bool,
}

impl std::fmt::Debug for RequestBody<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestBody")
            .field("declared_length", &self.declared_length)
            .field("received", &self.received)
            .field("failure", &self.failure)
            .finish_non_exhaustive()
    }
}

impl<'a> RequestBody<'a> {
    /// A body of `declared_length` bytes (when known; else at most
    /// [`MAX_UNDECLARED_BODY`]) that must hash to `sha256` (when the client
    /// signed a payload hash), read from `client`, which is sent
    /// `100 Continue` first when `continue_pending`.
    pub fn new(
        client: &'a mut dyn ClientBody,
        continue_pending: bool,
        declared_length: Option<u64>,
        sha256: Option<[u8; 32]>,
    ) -> Self {
        Self {
            client,
            continue_pending,
            declared_length,
            max_length: MAX_UNDECLARED_BODY,
            received: 0,
            sha256: sha256.map(|expected| (Sha256::new(), expected)),
            failure: None,
            finished: false,
        }
    }

    /// Lowers the most bytes a body without a declared length may carry.
    #[must_use]
    pub fn with_max_length(mut self, max_length: u64) -> Self {
        self.max_length = max_length;
        self
    }

    /// Body bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The S3 error that made the body unusable, if any.
    pub fn take_failure(&mut self) -> Option<S3Error> {
        self.failure.take()
    }

    fn fail(&mut self, error: S3Error) -> io::Error {
        let io = io::Error::new(io::ErrorKind::InvalidData, error.to_string());
        self.failure = Some(error);
        io
    }

    fn finish(&mut self) -> io::Result<Option<Bytes>> {
        self.finished = true;
        if self
            .declared_length
            .is_some_and(|declared| self.received != declared)
        {
            return Err(self.fail(incomplete()));
        }
        if let Some((hasher, expected)) = self.sha256.take() {
            let actual: [u8; 32] = hasher.finalize().into();
            if actual != expected {
                return Err(self.fail(S3Error::new(
                    S3ErrorCode::XAmzContentSHA256Mismatch,
                    "the provided x-amz-content-sha256 header does not match what was computed",
                )));
            }
        }
        Ok(None)
    }
}

fn idle_timeout() -> S3Error {
    S3Error::new(
        S3ErrorCode::RequestTimeout,
        "your socket connection to the server was not read from or written to within the timeout period",
    )
}

fn incomplete() -> S3Error {
    S3Error::new(
        S3ErrorCode::IncompleteBody,
        "you did not provide the number of bytes specified by the Content-Length HTTP header",
    )
}

#[async_trait]
impl BodySource for RequestBody<'_> {
    async fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        if let Some(failure) = &self.failure {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                failure.to_string(),
            ));
        }
        if self.finished {
            return Ok(None);
        }
        if self.continue_pending {
            self.continue_pending = false;
            if let Err(error) = self.client.send_continue().await {
                return Err(self.fail(S3Error::internal(error)));
            }
        }
        match self.client.read_chunk().await {
            Ok(Some(chunk)) => {
                self.received += chunk.len() as u64;
                match self.declared_length {
                    Some(declared) if self.received > declared => {
                        return Err(self.fail(incomplete()));
                    }
                    None if self.received > self.max_length => {
                        return Err(self.fail(S3Error::new(
                            S3ErrorCode::EntityTooLarge,
                            "your proposed upload exceeds the maximum allowed object size",
                        )));
                    }
                    _ => {}
                }
                if let Some((hasher, _)) = &mut self.sha256 {
                    hasher.update(&chunk);
                }
                Ok(Some(chunk))
            }
            Ok(None) => self.finish(),
            Err(error) if error.kind() == io::ErrorKind::TimedOut => {
                Err(self.fail(idle_timeout().with_detail(error)))
            }
            Err(error) => Err(self.fail(incomplete().with_detail(error))),
        }
    }
}
