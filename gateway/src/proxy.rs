//! The pingora glue: a thin [`ProxyHttp`] implementation whose hooks call
//! the pipeline ([`Gateway::handle`]) and the *respond* stage, and record
//! each request's metrics and access log line. Every answer, success or
//! error, carries the request id and the CORS headers the pipeline chose.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use pingora::http::ResponseHeader;
use pingora::prelude::HttpPeer;
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora::{Error, ErrorType, Result};

use crate::console::decisions::Finished;
use crate::error::{ErrorProfile, S3Error, S3ErrorCode};
use crate::metrics::RequestSample;
use crate::outcome::{RequestAuthMode, RequestResult};
use crate::pipeline::{Gateway, RequestCtx};
use crate::response::{ResponseBody, S3Response, http_date};

/// The S3 listener's request handler.
#[derive(Debug, Clone)]
pub struct S3Proxy {
    gateway: Arc<Gateway>,
}

impl S3Proxy {
    /// A handler over the gateway's state.
    pub fn new(gateway: Arc<Gateway>) -> Self {
        Self { gateway }
    }

    fn profile(&self) -> ErrorProfile {
        self.gateway.config.s3.error_profile
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
        match self.gateway.handle(session, ctx).await {
            Ok(response) => write_response(session, ctx, response).await?,
            Err(error) => write_error(session, ctx, self.profile(), error).await?,
        }
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
            let answer = S3Error::internal(error);
            code = answer.status(self.profile());
            if let Err(e) = write_error(session, ctx, self.profile(), answer).await {
                tracing::debug!(error = %e, "cannot send the error response");
            }
        }
        FailToProxy {
            error_code: code,
            can_reuse_downstream: false,
        }
    }

    async fn logging(&self, session: &mut Session, error: Option<&Error>, ctx: &mut RequestCtx) {
        let metrics = &self.gateway.metrics;
        metrics.inflight(-1);
        let operation = ctx.operation_name().unwrap_or("Unclassified");
        let method = session.req_header().method.as_str();
        let duration = ctx.started.elapsed();
        if ctx.auth_mode == RequestAuthMode::Anonymous
            && ctx.result == RequestResult::Ok
            && let Some(op) = ctx.operation
        {
            metrics.record_anonymous_request(op.name(), ctx.status);
        }
        metrics.record_request(&RequestSample {
            method,
            operation,
            status: ctx.status,
            result: ctx.result.as_str(),
            auth_mode: ctx.auth_mode.as_str(),
            duration: duration.as_secs_f64(),
            upstream_duration: ctx.upstream_duration.map(|d| d.as_secs_f64()),
            bytes_in: ctx.bytes_in,
            bytes_out: ctx.bytes_out,
        });
        let decision = match &ctx.decision {
            Some(record) if record.allowed => "allow",
            Some(_) => "deny",
            None => "",
        };
        // Field values are only evaluated when the access log is enabled.
        let policies = || {
            ctx.decision
                .as_ref()
                .map(|record| record.policies.join(","))
                .unwrap_or_default()
        };
        tracing::info!(
            target: "cedargate::access",
            request_id = %ctx.request_id,
            method = %method,
            operation,
            bucket = ctx.bucket.as_deref().unwrap_or(""),
            key = ctx.key.as_deref().unwrap_or(""),
            principal = ctx.principal.as_deref().unwrap_or(""),
            auth_mode = ctx.auth_mode.as_str(),
            decision,
            policies = %policies(),
            status = ctx.status,
            result = ctx.result.as_str(),
            bytes_in = ctx.bytes_in,
            bytes_out = ctx.bytes_out,
            duration_ms = duration.as_secs_f64() * 1000.0,
            upstream_ms = ctx.upstream_duration.map_or(0.0, |d| d.as_secs_f64() * 1000.0),
            error = error.map(|e| e.to_string()),
            "request"
        );
        if self.gateway.console.enabled
            && let Some(decision) = ctx.decision.take()
        {
            let finished = Finished {
                request_id: &ctx.request_id,
                operation,
                bucket: ctx.bucket.as_deref(),
                key: ctx.key.as_deref(),
                status: ctx.status,
                result: ctx.result,
            };
            self.gateway.console.decisions.record(finished, decision);
        }
    }
}

fn header_for(status: u16, ctx: &RequestCtx) -> Result<ResponseHeader> {
    let mut header = ResponseHeader::build(status, Some(12))?;
    header.insert_header("x-amz-request-id", ctx.request_id.as_str())?;
    header.insert_header("date", http_date(std::time::SystemTime::now()))?;
    header.insert_header("server", "cedargate")?;
    for (name, value) in &ctx.cors_headers {
        header.insert_header(*name, value.as_str())?;
    }
    Ok(header)
}

/// Writes a successful answer, streaming its body.
async fn write_response(
    session: &mut Session,
    ctx: &mut RequestCtx,
    response: S3Response,
) -> Result<()> {
    let is_head = session.req_header().method == http::Method::HEAD;
    let mut header = header_for(response.status, ctx)?;
    let mut has_length = false;
    for (name, value) in &response.headers {
        has_length |= name == "content-length";
        if let Err(error) = header.append_header(name.to_string(), value.as_str()) {
            tracing::warn!(request_id = %ctx.request_id, header = %name, %error, "header dropped");
        }
    }
    if !has_length {
        header.insert_header("content-length", response.content_length().to_string())?;
    }
    ctx.status = response.status;
    let no_body = is_head || matches!(response.body, ResponseBody::Empty);
    session
        .write_response_header(Box::new(header), no_body)
        .await?;
    match response.body {
        _ if is_head => session.write_response_body(None, true).await,
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

/// Writes an S3 error: the XML document (no body for HEAD and 304), with
/// the error's extra headers.
pub(crate) async fn write_error(
    session: &mut Session,
    ctx: &mut RequestCtx,
    profile: ErrorProfile,
    error: S3Error,
) -> Result<()> {
    let status = error.status(profile);
    match error.code() {
        S3ErrorCode::InternalError | S3ErrorCode::BadGateway => {
            tracing::error!(request_id = %ctx.request_id, error = %error, "request failed");
        }
        S3ErrorCode::ServiceUnavailable => {
            tracing::warn!(request_id = %ctx.request_id, error = %error, "request failed");
        }
        S3ErrorCode::NotImplemented => {
            // The client sees the generic 5xx message; this one says why.
            tracing::info!(request_id = %ctx.request_id, error = %error, "not implemented");
        }
        _ => {}
    }
    if ctx.result == RequestResult::Ok {
        ctx.result = RequestResult::S3Error(error.code());
    }
    ctx.status = status;
    let head = session.req_header();
    let is_head = head.method == http::Method::HEAD;
    let resource = ctx
        .resource
        .clone()
        .unwrap_or_else(|| head.uri.path().to_owned());
    let body_pending = request_has_body(session);
    let mut header = header_for(status, ctx)?;
    for (name, value) in error.headers() {
        header.insert_header(*name, value.as_str())?;
    }
    let body = if is_head || status == 304 {
        Bytes::new()
    } else {
        header.insert_header("content-type", "application/xml")?;
        Bytes::from(error.to_xml(profile, ctx.bucket.as_deref(), &resource, &ctx.request_id))
    };
    if is_head && status != 304 {
        header.insert_header("content-length", "0")?;
    } else if status != 304 {
        header.insert_header("content-length", body.len().to_string())?;
    }
    if body_pending {
        // The body was refused unread: close rather than read it to keep the connection.
        session.set_keepalive(None);
        header.insert_header("connection", "close")?;
    }
    ctx.bytes_out = body.len() as u64;
    session
        .write_response_header(Box::new(header), body.is_empty())
        .await?;
    session.write_response_body(Some(body), true).await
}

fn request_has_body(session: &mut Session) -> bool {
    !session.as_downstream_mut().is_body_done()
}
