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
    /// A body of `declared_length` bytes (when known) that must hash to
    /// `sha256` (when the client signed a payload hash), read from
    /// `client`, which is sent `100 Continue` first when `continue_pending`.
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
            received: 0,
            sha256: sha256.map(|expected| (Sha256::new(), expected)),
            failure: None,
            finished: false,
        }
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
                if self.declared_length.is_some_and(|d| self.received > d) {
                    return Err(self.fail(incomplete()));
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
