//! Bodies in flight between the gateway and the upstream, streamed both
//! ways without holding a whole body.
//!
//! Uploads are sent with an exact `Content-Length`. The chunk that would
//! complete the declared length is held back until the [`BodySource`]
//! reports its end (and so has verified the body) and the Content-MD5, if
//! any, matches: until then the upstream has an incomplete request, and
//! dropping the connection abandons it without a trace. Downloads yield
//! the upstream's bytes as the reader asks for them, and end with an
//! `Err` item, never silently, when the upstream stops short of (or
//! beyond) its `Content-Length`.

use std::io::{Error, ErrorKind};
use std::sync::Arc;

use bytes::Bytes;
use md5::{Digest, Md5};
use pingora::http::RequestHeader;
use pingora::protocols::http::v1::client::HttpSession;
use pingora::upstreams::peer::HttpPeer;

use super::error::{stream_error, transport};
use super::pool::Pool;
use crate::{BackendError, BackendResult, BodySource, ByteStream};

/// Why an upload stopped.
#[derive(Debug)]
pub(super) enum UploadError {
    /// The body source failed.
    Body(Error),
    /// The body was shorter or longer than declared.
    Incomplete,
    /// The body's MD5 is not the declared one.
    BadDigest,
    /// Writing to the upstream failed.
    Upstream(Box<pingora::Error>),
}

impl UploadError {
    /// The meaning of the failure.
    pub fn into_backend_error(self) -> BackendError {
        match self {
            Self::Body(error) => BackendError::Body(error),
            Self::Incomplete => BackendError::IncompleteBody,
            Self::BadDigest => BackendError::BadDigest,
            Self::Upstream(error) => transport(error),
        }
    }
}

async fn write(session: &mut HttpSession, chunk: &[u8]) -> Result<(), UploadError> {
    match session.write_body(chunk).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(UploadError::Incomplete),
        Err(error) => Err(UploadError::Upstream(error)),
    }
}

/// Writes `head` and then `body`, which must be exactly `length` (> 0)
/// bytes with MD5 `md5` when given. On `Err` the caller must drop the
/// session: the upstream has not received a complete request.
pub(super) async fn upload(
    session: &mut HttpSession,
    head: RequestHeader,
    body: &mut dyn BodySource,
    length: u64,
    md5: Option<[u8; 16]>,
) -> Result<(), UploadError> {
    session
        .write_request_header(Box::new(head))
        .await
        .map_err(UploadError::Upstream)?;
    let mut sent = 0u64;
    let mut hasher = md5.map(|_| Md5::new());
    let mut held: Option<Bytes> = None;
    while let Some(chunk) = body.next_chunk().await.map_err(UploadError::Body)? {
        if chunk.is_empty() {
            continue;
        }
        let total = sent.saturating_add(chunk.len() as u64);
        if held.is_some() || total > length {
            return Err(UploadError::Incomplete);
        }
        if let Some(hasher) = hasher.as_mut() {
            hasher.update(&chunk);
        }
        if total == length {
            held = Some(chunk);
        } else {
            write(session, &chunk).await?;
            sent = total;
        }
    }
    let Some(last) = held else {
        return Err(UploadError::Incomplete);
    };
    if let (Some(hasher), Some(expected)) = (hasher, md5)
        && hasher.finalize()[..] != expected[..]
    {
        return Err(UploadError::BadDigest);
    }
    write(session, &last).await?;
    session.finish_body().await.map_err(UploadError::Upstream)?;
    Ok(())
}

/// Reads a body declared empty to its end, checking that it is.
pub(super) async fn drain_empty(
    body: &mut dyn BodySource,
    md5: Option<[u8; 16]>,
) -> BackendResult<()> {
    while let Some(chunk) = body.next_chunk().await.map_err(BackendError::Body)? {
        if !chunk.is_empty() {
            return Err(BackendError::IncompleteBody);
        }
    }
    if md5.is_some_and(|expected| Md5::digest(b"")[..] != expected[..]) {
        return Err(BackendError::BadDigest);
    }
    Ok(())
}

struct Download {
    pool: Arc<Pool>,
    session: Option<HttpSession>,
    peer: HttpPeer,
    length: u64,
    received: u64,
    reusable: bool,
}

/// The response body of `session` as a stream of exactly `length` bytes;
/// the connection returns to the pool at the end when `reusable`.
pub(super) fn download(
    pool: Arc<Pool>,
    session: HttpSession,
    peer: HttpPeer,
    length: u64,
    reusable: bool,
) -> ByteStream {
    let state = Download {
        pool,
        session: Some(session),
        peer,
        length,
        received: 0,
        reusable,
    };
    Box::pin(futures::stream::unfold(state, |mut state| async move {
        let mut session = state.session.take()?;
        loop {
            match session.read_body_bytes().await {
                Ok(Some(chunk)) if chunk.is_empty() => {}
                Ok(Some(chunk)) => {
                    state.received = state.received.saturating_add(chunk.len() as u64);
                    if state.received > state.length {
                        let error = Error::new(
                            ErrorKind::InvalidData,
                            "the upstream sent more than its Content-Length",
                        );
                        return Some((Err(error), state));
                    }
                    state.session = Some(session);
                    return Some((Ok(chunk), state));
                }
                Ok(None) if state.received == state.length => {
                    if state.reusable {
                        state.pool.release(session, &state.peer).await;
                    }
                    return None;
                }
                Ok(None) => {
                    let error = Error::new(
                        ErrorKind::UnexpectedEof,
                        format!(
                            "the upstream's body ended after {} of {} bytes",
                            state.received, state.length
                        ),
                    );
                    return Some((Err(error), state));
                }
                Err(error) => return Some((Err(stream_error(error)), state)),
            }
        }
    }))
}
