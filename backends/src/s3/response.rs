//! Answers of the upstream: status and headers, then a body that is
//! either collected (documents, errors) or streamed (object data). The
//! connection returns to the pool once the body is read to its end, and
//! is closed when an answer is dropped unread.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use pingora::protocols::http::v1::client::HttpSession;
use pingora::upstreams::peer::HttpPeer;

use super::error::{Failure, Op, transport};
use super::not_s3::not_s3;
use super::pool::Pool;
use super::transfer;
use crate::{BackendError, BackendResult, ByteStream};

/// The largest document (listing, error) the backend reads into memory.
pub(super) const MAX_DOCUMENT: usize = 16 * 1024 * 1024;

/// A connection whose request is written and whose answer's head is read.
struct Exchange {
    pool: Arc<Pool>,
    session: HttpSession,
    peer: HttpPeer,
}

/// An answer of the upstream: status, headers, and the body still to read.
pub(super) struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    op: Op,
    /// The answer to a HEAD: its Content-Length is not its body's.
    bodiless: bool,
    /// Whether the request was written whole (else the connection must
    /// not be reused, whatever the answer).
    reusable: bool,
    exchange: Option<Exchange>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl Response {
    /// The answer whose head `session` has read.
    pub fn new(
        pool: Arc<Pool>,
        session: HttpSession,
        peer: HttpPeer,
        op: Op,
        bodiless: bool,
    ) -> Self {
        let (status, headers) = match session.resp_header() {
            Some(head) => (head.status.as_u16(), head.headers.clone()),
            None => (0, HeaderMap::new()),
        };
        Self {
            status,
            headers,
            op,
            bodiless,
            reusable: true,
            exchange: Some(Exchange {
                pool,
                session,
                peer,
            }),
        }
    }

    /// Marks the answer as one to a request that was not written whole:
    /// its connection is closed after it, never reused.
    pub fn not_reusable(mut self) -> Self {
        self.reusable = false;
        self
    }

    /// Reads the whole body (at most `limit` bytes), then returns the
    /// connection to the pool.
    pub async fn body(mut self, limit: usize) -> BackendResult<Bytes> {
        let Some(mut exchange) = self.exchange.take() else {
            return Ok(Bytes::new());
        };
        let mut body = BytesMut::new();
        while let Some(chunk) = exchange.session.read_body_ref().await.map_err(transport)? {
            if body.len() + chunk.len() > limit {
                return Err(not_s3("a document exceeds the size limit"));
            }
            body.extend_from_slice(chunk);
        }
        if let Some(expected) = super::headers::content_length(&self.headers)
            && expected != body.len() as u64
            && !self.bodiless
            && !matches!(self.status, 204 | 304)
        {
            return Err(not_s3("a document is shorter than its Content-Length"));
        }
        let Exchange {
            pool,
            session,
            peer,
        } = exchange;
        if self.reusable {
            pool.release(session, &peer).await;
        }
        Ok(body.freeze())
    }

    /// `self` when the status is one of `expected`; otherwise reads the
    /// error document and answers its meaning.
    pub async fn check(self, expected: &[u16]) -> BackendResult<Self> {
        if expected.contains(&self.status) {
            Ok(self)
        } else {
            Err(self.failure().await?.into_error_for_op())
        }
    }

    /// Reads the answer as an error.
    pub async fn failure(self) -> BackendResult<OpFailure> {
        let (op, status, headers) = (self.op, self.status, self.headers.clone());
        let body = match self.body(MAX_DOCUMENT).await {
            Ok(body) => body,
            Err(_) if status >= 500 => Bytes::new(),
            Err(error) => return Err(error),
        };
        Ok(OpFailure {
            op,
            failure: Failure::parse(op, status, &headers, &body),
        })
    }

    /// The body as a stream of exactly `length` bytes; the connection
    /// returns to the pool once it is read to the end.
    pub fn into_stream(mut self, length: u64) -> ByteStream {
        match self.exchange.take() {
            Some(Exchange {
                pool,
                session,
                peer,
            }) => transfer::download(pool, session, peer, length, self.reusable),
            None => Box::pin(futures::stream::empty()),
        }
    }
}

/// An upstream failure with the operation it answered.
#[derive(Debug)]
pub(super) struct OpFailure {
    /// The operation.
    pub op: Op,
    /// What the upstream said.
    pub failure: Failure,
}

impl OpFailure {
    /// The meaning of the failure.
    pub fn into_error_for_op(self) -> BackendError {
        self.failure.into_error(self.op)
    }
}
