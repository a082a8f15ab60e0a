//! The pingora glue: a thin [`ProxyHttp`] implementation whose hooks hand
//! each request to the pipeline ([`Gateway::serve`]), write the answer it
//! returns, and have the request recorded ([`Gateway::finish`], and the
//! console's decision log). The pipeline sees a pingora [`Session`] only as
//! its request head, its [`Peer`] and the [`ClientBody`] implemented here.

use std::borrow::Cow;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use pingora::http::ResponseHeader;
use pingora::prelude::HttpPeer;
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora::{Error, ErrorType, Result};

use crate::body::ClientBody;
use crate::console::ConsoleState;
use crate::console::decisions::Finished;
use crate::outcome::RequestResult;
use crate::pipeline::{Answer, Gateway, Peer, RequestCtx};
use crate::response::ResponseBody;
use cedargate_s3::error::S3Error;

/// The S3 listener's request handler.
#[derive(Debug, Clone)]
pub struct S3Proxy {
    gateway: Arc<Gateway>,
    console: Arc<ConsoleState>,
    body_timeout: Duration,
}

impl S3Proxy {
    /// A handler over the gateway's state, recording decisions for
    /// `console`; a request body that sends nothing for `body_timeout` is
    /// given up.
    pub fn new(gateway: Arc<Gateway>, console: Arc<ConsoleState>, body_timeout: Duration) -> Self {
        Self {
            gateway,
            console,
            body_timeout,
        }
    }

    fn body<'a>(&self, session: &'a mut Session) -> SessionBody<'a> {
        SessionBody {
            session,
            idle: self.body_timeout,
        }
    }
}

#[async_trait]
impl ProxyHttp for S3Proxy {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx::new()
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<bool> {
        self.gateway.metrics.inflight(1);
        let head: http::request::Parts = (**session.req_header()).clone();
        let peer = peer(session);
        let answer = self
            .gateway
            .serve(&head, &peer, &mut self.body(session), ctx)
            .await;
        write_answer(session, ctx, answer).await?;
        Ok(true)
    }

    async fn upstream_peer(&self, _: &mut Session, _: &mut RequestCtx) -> Result<Box<HttpPeer>> {
        Err(Error::explain(
            ErrorType::InternalError,
            "no upstream for this request",
        ))
    }

    async fn fail_to_proxy(
        &self,
        session: &mut Session,
        error: &Error,
        ctx: &mut RequestCtx,
    ) -> FailToProxy {
        let mut code = 0;
        if session.response_written().is_none() {
            let head: http::request::Parts = (**session.req_header()).clone();
            let answer = self.gateway.error_answer(
                &head,
                &mut self.body(session),
                ctx,
                S3Error::internal(error),
            );
            code = answer.status;
            if let Err(e) = write_answer(session, ctx, answer).await {
                tracing::debug!(error = %e, "cannot send the error response");
            }
        }
        FailToProxy {
            error_code: code,
            can_reuse_downstream: false,
        }
    }

    async fn logging(&self, session: &mut Session, error: Option<&Error>, ctx: &mut RequestCtx) {
        self.gateway.metrics.inflight(-1);
        let method = session.req_header().method.as_str();
        self.gateway
            .finish(method, ctx, error.map(|e| e.to_string()));
        if self.console.enabled
            && let Some(decision) = ctx.decision.take()
        {
            let finished = Finished {
                request_id: &ctx.request_id,
                operation: ctx.operation_name().unwrap_or("Unclassified"),
                bucket: ctx.bucket.as_deref(),
                key: ctx.key.as_deref(),
                status: ctx.status,
                result: ctx.result,
            };
            self.console.decisions.record(finished, decision);
        }
    }
}

/// Where the session's request came from.
fn peer(session: &Session) -> Peer {
    Peer {
        addr: session
            .client_addr()
            .and_then(|addr| addr.as_inet())
            .copied(),
        tls: session
            .digest()
            .is_some_and(|digest| digest.ssl_digest.is_some()),
    }
}

/// The client's body, read from the pingora session; a read that waits
/// longer than `idle` fails with [`io::ErrorKind::TimedOut`].
struct SessionBody<'a> {
    session: &'a mut Session,
    idle: Duration,
}

#[async_trait]
impl ClientBody for SessionBody<'_> {
    async fn read_chunk(&mut self) -> io::Result<Option<Bytes>> {
        match tokio::time::timeout(self.idle, self.session.read_request_body()).await {
            Ok(read) => read.map_err(|error| io::Error::other(error.to_string())),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no body bytes for {} s", self.idle.as_secs()),
            )),
        }
    }

    async fn send_continue(&mut self) -> io::Result<()> {
        self.session
            .write_continue_response()
            .await
            .map_err(|error| io::Error::other(error.to_string()))
    }

    fn is_done(&mut self) -> bool {
        self.session.as_downstream_mut().is_body_done()
    }

    fn disable_keepalive(&mut self) {
        self.session.set_keepalive(None);
    }
}

/// Writes an answer, streaming its body; a header HTTP cannot carry is
/// dropped (and logged).
async fn write_answer(session: &mut Session, ctx: &mut RequestCtx, answer: Answer) -> Result<()> {
    let mut header = ResponseHeader::build(answer.status, Some(12))?;
    for (name, value) in answer.headers.into_vec() {
        let added = http::HeaderValue::from_bytes(&cedargate_s3::header_text::encode(&value))
            .map_err(|error| Error::because(ErrorType::InvalidHTTPHeader, "", error))
            .and_then(|value| match &name {
                Cow::Borrowed(name) => header.append_header(*name, value),
                Cow::Owned(name) => header.append_header(name.clone(), value),
            });
        if let Err(error) = added {
            tracing::warn!(request_id = %ctx.request_id, header = %name, %error, "header dropped");
        }
    }
    let no_body = matches!(answer.body, ResponseBody::Empty);
    session
        .write_response_header(Box::new(header), no_body)
        .await?;
    match answer.body {
        ResponseBody::Empty => session.write_response_body(None, true).await,
        ResponseBody::Full(bytes) => {
            ctx.bytes_out = bytes.len() as u64;
            session.write_response_body(Some(bytes), true).await
        }
        ResponseBody::Stream { mut stream, .. } => {
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| {
                    tracing::error!(request_id = %ctx.request_id, error = %e, "backend failed mid-stream");
                    ctx.result = RequestResult::BackendFailedMidStream;
                    Error::because(ErrorType::ReadError, "backend body", e)
                })?;
                ctx.bytes_out += chunk.len() as u64;
                session.write_response_body(Some(chunk), false).await?;
            }
            session.write_response_body(None, true).await
        }
    }
}
