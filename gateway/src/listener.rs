//! Connection guards on the S3 and admin listeners, below HTTP: a cap on
//! connections open at once, and a deadline for each request's header
//! section, so slow senders (slowloris) cannot hold connections open while
//! slow but steady bodies are never cut off.
//!
//! [`GuardedApp`] wraps the pingora HTTP app. Over `max_connections`, a new
//! connection is answered at once, then closed: on an S3 listener with 429
//! SlowDown (503 in the `aws` profile), on the admin listener with a plain
//! 503, both with `Retry-After`. Every other connection's
//! stream is wrapped in [`GuardedStream`], which watches the bytes going
//! both ways:
//!
//! - a request's header section must be complete (`\r\n\r\n`) within
//!   `header_timeout` of its first byte (of the connection's start, for the
//!   first request); past that, the client is sent 400 RequestTimeout (a
//!   plain 408 on the admin listener) and reads fail with `TimedOut`, so pingora closes the connection;
//! - once the header section is complete, the body is governed only by
//!   pingora's per-read timeout: any progress keeps a transfer alive;
//! - the server writing a response head (`HTTP/1.x` other than `100
//!   Continue`) ends the request: the next bytes from the client start the
//!   next header section. Pipelined requests are not tracked.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use pingora::apps::ServerApp;
use pingora::protocols::{
    GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, Ssl, Stream, UniqueID,
    UniqueIDType,
};
use pingora::server::ShutdownWatch;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::time::{Instant, Sleep};

use cedargate_s3::error::{ErrorProfile, S3Error, S3ErrorCode};

/// Largest header section scanned for its end; past it the bytes are
/// treated as a body (pingora refuses oversized headers itself).
const MAX_SCANNED_HEADER_BYTES: usize = 64 * 1024;

/// The limits [`GuardedApp`] enforces.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections open at once on the listener.
    pub max_connections: usize,
    /// Time a request's header section may take to arrive.
    pub header_timeout: Duration,
    /// How the guards' own answers are written.
    pub dialect: Dialect,
}

/// How a listener's guards answer a connection they refuse or cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// S3 XML errors, with the statuses of this profile.
    S3(ErrorProfile),
    /// Plain text (the admin listener).
    Plain,
}

/// Why the guards answer below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Over the connection cap.
    TooManyConnections,
    /// The header section did not arrive in time.
    HeaderTimeout,
}

impl Dialect {
    /// The whole HTTP/1.1 answer for `refusal`; it closes the connection.
    fn answer(self, refusal: Refusal) -> Vec<u8> {
        match self {
            Self::S3(profile) => {
                let (code, message, extra) = match refusal {
                    Refusal::TooManyConnections => (
                        S3ErrorCode::SlowDown,
                        "too many connections; please reduce your request rate",
                        "Retry-After: 1\r\n",
                    ),
                    Refusal::HeaderTimeout => (
                        S3ErrorCode::RequestTimeout,
                        "your socket connection to the server was not read from or written to within the timeout period",
                        "",
                    ),
                };
                raw_answer(&S3Error::new(code, message), profile, extra)
            }
            Self::Plain => {
                let (status, body, extra) = match refusal {
                    Refusal::TooManyConnections => (
                        "503 Service Unavailable",
                        "too many connections; try again later\n",
                        "Retry-After: 1\r\n",
                    ),
                    Refusal::HeaderTimeout => (
                        "408 Request Timeout",
                        "the request header section did not arrive in time\n",
                        "",
                    ),
                };
                format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                     {extra}Connection: close\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes()
            }
        }
    }
}

/// A pingora app that guards connections before handing them to `inner`.
#[derive(Debug)]
pub struct GuardedApp<A> {
    inner: Arc<A>,
    limits: ConnectionLimits,
    active: Arc<AtomicUsize>,
}

impl<A> GuardedApp<A> {
    /// Guards `inner` with `limits`.
    pub fn new(inner: A, limits: ConnectionLimits) -> Self {
        Self {
            inner: Arc::new(inner),
            limits,
            active: Arc::new(AtomicUsize::new(0)),
        }
    }
}

/// Decrements the open-connection count when the connection ends.
struct Active(Arc<AtomicUsize>);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[async_trait]
impl<A: ServerApp + Send + Sync + 'static> ServerApp for GuardedApp<A> {
    async fn process_new(
        self: &Arc<Self>,
        mut stream: Stream,
        shutdown: &ShutdownWatch,
    ) -> Option<Stream> {
        let open = self.active.fetch_add(1, Ordering::AcqRel) + 1;
        let _active = Active(Arc::clone(&self.active));
        if open > self.limits.max_connections {
            refuse(&mut stream, self.limits.dialect).await;
            return None;
        }
        let guarded: Stream = Box::new(GuardedStream::new(
            stream,
            self.limits.header_timeout,
            self.limits.dialect,
        ));
        self.inner.process_new(guarded, shutdown).await
    }

    async fn cleanup(&self) {
        self.inner.cleanup().await;
    }
}

/// An S3 error as a whole HTTP/1.1 answer that closes the connection,
/// written below pingora (before or instead of a parsed request).
fn raw_answer(error: &S3Error, profile: ErrorProfile, extra_header: &str) -> Vec<u8> {
    let request_id = format!("{:016X}", rand::random::<u64>());
    let body = error.to_xml(profile, None, "/", &request_id);
    let status = error.status(profile);
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|code| code.canonical_reason())
        .unwrap_or("Error");
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\
         {extra_header}x-amz-request-id: {request_id}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Answers an over-limit connection and closes it.
async fn refuse(stream: &mut Stream, dialect: Dialect) {
    let _ = stream
        .write_all(&dialect.answer(Refusal::TooManyConnections))
        .await;
    let _ = stream.flush().await;
    Shutdown::shutdown(stream.as_mut()).await;
}

/// Where a connection is in its request cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading a header section: `scanned` bytes so far, `tail` the last
    /// bytes seen (to find `\r\n\r\n` across reads).
    Headers { scanned: usize, tail: [u8; 3] },
    /// The header section is complete; the body (if any) follows.
    Body,
    /// A response head went out; the next bytes start a new request.
    Between,
}

/// Follows a connection's bytes to know when a header section is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HeaderTracker {
    phase: Phase,
}

impl HeaderTracker {
    const START: Phase = Phase::Headers {
        scanned: 0,
        tail: [0; 3],
    };

    fn new() -> Self {
        Self { phase: Self::START }
    }

    fn in_headers(&self) -> bool {
        matches!(self.phase, Phase::Headers { .. })
    }

    /// Takes bytes read from the client; `true` when they start a new
    /// request's header section (its deadline starts now).
    fn on_read(&mut self, data: &[u8]) -> bool {
        let started = self.phase == Phase::Between && !data.is_empty();
        if started {
            self.phase = Self::START;
        }
        if let Phase::Headers { scanned, tail } = &mut self.phase {
            let mut window = Vec::with_capacity(3 + data.len());
            window.extend_from_slice(tail);
            window.extend_from_slice(data);
            if window.windows(4).any(|w| w == b"\r\n\r\n")
                || *scanned + data.len() > MAX_SCANNED_HEADER_BYTES
            {
                self.phase = Phase::Body;
            } else {
                *scanned += data.len();
                let keep = window.len().min(3);
                tail[3 - keep..].copy_from_slice(&window[window.len() - keep..]);
            }
        }
        started
    }

    /// Takes bytes written to the client: a response head (not `100
    /// Continue`) ends the request.
    fn on_write(&mut self, data: &[u8]) {
        if data.starts_with(b"HTTP/1.") && data.get(9..12) != Some(b"100".as_slice()) {
            self.phase = Phase::Between;
        }
    }
}

/// A client connection whose header sections must arrive in time.
#[derive(Debug)]
pub struct GuardedStream {
    inner: Stream,
    tracker: HeaderTracker,
    header_timeout: Duration,
    deadline: Pin<Box<Sleep>>,
    /// The RequestTimeout answer still to write, once the deadline passed.
    timed_out: Option<(Vec<u8>, usize)>,
    dialect: Dialect,
}

impl GuardedStream {
    fn new(inner: Stream, header_timeout: Duration, dialect: Dialect) -> Self {
        Self {
            inner,
            tracker: HeaderTracker::new(),
            header_timeout,
            deadline: Box::pin(tokio::time::sleep(header_timeout)),
            timed_out: None,
            dialect,
        }
    }

    /// Writes what is left of the RequestTimeout answer; ready when done
    /// (or when the client is gone).
    fn poll_timeout_answer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        while let Some((answer, written)) = &mut self.timed_out {
            if *written == answer.len() {
                return Poll::Ready(());
            }
            match Pin::new(&mut self.inner).poll_write(cx, &answer[*written..]) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(())
    }
}

impl AsyncRead for GuardedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.timed_out.is_none()
            && this.tracker.in_headers()
            && this.deadline.as_mut().poll(cx).is_ready()
        {
            this.timed_out = Some((this.dialect.answer(Refusal::HeaderTimeout), 0));
        }
        if this.timed_out.is_some() {
            if this.poll_timeout_answer(cx).is_pending() {
                return Poll::Pending;
            }
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request header section did not arrive in time",
            )));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if this.tracker.on_read(&buf.filled()[before..]) {
                    let deadline = Instant::now() + this.header_timeout;
                    this.deadline.as_mut().reset(deadline);
                }
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.tracker.on_write(data);
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(first) = bufs.iter().find(|b| !b.is_empty()) {
            self.tracker.on_write(first);
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[async_trait]
impl Shutdown for GuardedStream {
    async fn shutdown(&mut self) {
        Shutdown::shutdown(self.inner.as_mut()).await;
    }
}

impl UniqueID for GuardedStream {
    fn id(&self) -> UniqueIDType {
        self.inner.id()
    }
}

impl Ssl for GuardedStream {
    fn get_ssl(&self) -> Option<&pingora::protocols::tls::TlsRef> {
        self.inner.get_ssl()
    }

    fn get_ssl_digest(&self) -> Option<Arc<pingora::protocols::tls::SslDigest>> {
        self.inner.get_ssl_digest()
    }

    fn selected_alpn_proto(&self) -> Option<pingora::protocols::ALPN> {
        self.inner.selected_alpn_proto()
    }
}

impl GetTimingDigest for GuardedStream {
    fn get_timing_digest(&self) -> Vec<Option<pingora::protocols::TimingDigest>> {
        self.inner.get_timing_digest()
    }

    fn get_read_pending_time(&self) -> Duration {
        self.inner.get_read_pending_time()
    }

    fn get_write_pending_time(&self) -> Duration {
        self.inner.get_write_pending_time()
    }
}

impl GetProxyDigest for GuardedStream {
    fn get_proxy_digest(&self) -> Option<Arc<pingora::protocols::raw_connect::ProxyDigest>> {
        self.inner.get_proxy_digest()
    }

    fn set_proxy_digest(&mut self, digest: pingora::protocols::raw_connect::ProxyDigest) {
        self.inner.set_proxy_digest(digest);
    }
}

impl GetSocketDigest for GuardedStream {
    fn get_socket_digest(&self) -> Option<Arc<pingora::protocols::SocketDigest>> {
        self.inner.get_socket_digest()
    }

    fn set_socket_digest(&mut self, digest: pingora::protocols::SocketDigest) {
        self.inner.set_socket_digest(digest);
    }
}

#[async_trait]
impl Peek for GuardedStream {
    async fn try_peek(&mut self, buf: &mut [u8]) -> io::Result<bool> {
        self.inner.try_peek(buf).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_section_ends_at_its_blank_line_even_across_reads() {
        let mut tracker = HeaderTracker::new();
        assert!(tracker.in_headers());
        for piece in [&b"GET /a HTTP/1.1\r\nHost: x\r"[..], b"\n", b"\r"] {
            assert!(!tracker.on_read(piece));
            assert!(tracker.in_headers());
        }
        tracker.on_read(b"\n");
        assert!(!tracker.in_headers(), "the blank line ends the headers");
        // A body of any length and pace is not a header section.
        tracker.on_read(&[b'x'; 100_000]);
        assert!(!tracker.in_headers());
        // 100 Continue does not end the request; the final answer does.
        tracker.on_write(b"HTTP/1.1 100 Continue\r\n\r\n");
        tracker.on_read(b"more body");
        assert!(!tracker.in_headers());
        tracker.on_write(b"HTTP/1.1 200 OK\r\n");
        assert!(
            !tracker.in_headers(),
            "waiting for the next request is not reading headers"
        );
        assert!(
            tracker.on_read(b"PUT /b HTTP/1.1\r\n"),
            "the next request starts its deadline"
        );
        assert!(tracker.in_headers());
        // Body bytes written back never look like a response head.
        tracker.on_read(b"\r\n");
        assert!(!tracker.in_headers());
    }

    #[test]
    fn an_endless_header_section_is_treated_as_a_body_past_the_scan_limit() {
        let mut tracker = HeaderTracker::new();
        tracker.on_read(&[b'a'; MAX_SCANNED_HEADER_BYTES]);
        assert!(tracker.in_headers());
        tracker.on_read(b"a");
        assert!(!tracker.in_headers());
    }
}
