//! The *respond* stage: the pipeline's outcome as an [`Answer`] (status,
//! headers in the order they are sent, body), with the headers every
//! answer carries (request id, date, server, the CORS headers the pipeline
//! chose) and the `<Error>` document of an error; then, once the answer is
//! sent, the request's metrics and access log line ([`Gateway::finish`]).

use std::borrow::Cow;

use bytes::Bytes;

use crate::body::ClientBody;
use crate::metrics::RequestSample;
use crate::outcome::{RequestAuthMode, RequestResult};
use crate::response::{ResponseBody, S3Response, http_date};
use cedargate_s3::error::{S3Error, S3ErrorCode};

use super::{Gateway, Peer, RequestCtx};

/// An answer ready for the wire.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The headers in the order they are sent, names as written; a name
    /// may appear more than once. The server layer drops (and logs) one
    /// that HTTP cannot carry.
    pub headers: Headers,
    /// The body: [`ResponseBody::Empty`] when nothing follows the head
    /// (HEAD, 304, an empty error document).
    pub body: ResponseBody,
}

/// Response headers, set (`insert`) or added (`append`) as an HTTP header
/// map does, keeping each name as written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Headers(Vec<(Cow<'static, str>, String)>);

impl Headers {
    /// Sets `name` to `value`: in place of its first value, the others
    /// dropped, or at the end.
    pub fn insert(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        let name = name.into();
        let mut found = None;
        let mut index = 0;
        self.0.retain(|(existing, _)| {
            let same = existing.eq_ignore_ascii_case(&name);
            let keep = !same || found.is_none();
            if same && found.is_none() {
                found = Some(index);
            }
            index += 1;
            keep
        });
        let value = value.into();
        match found {
            Some(at) => self.0[at] = (name, value),
            None => self.0.push((name, value)),
        }
    }

    /// Adds a value of `name`.
    pub fn append(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(existing, _)| existing.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Every (name, value), in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Cow<'static, str>, &str)> {
        self.0.iter().map(|(name, value)| (name, value.as_str()))
    }

    /// Every (name, value), in order.
    pub fn into_vec(self) -> Vec<(Cow<'static, str>, String)> {
        self.0
    }
}

impl Gateway {
    /// Runs the pipeline over one request and answers it: see
    /// [`Gateway::handle`] for the arguments.
    pub async fn serve(
        &self,
        head: &http::request::Parts,
        peer: &Peer,
        client: &mut dyn ClientBody,
        ctx: &mut RequestCtx,
    ) -> Answer {
        match self.handle(head, peer, client, ctx).await {
            Ok(response) => success_answer(head, ctx, response),
            Err(error) => self.error_answer(head, client, ctx, error),
        }
    }

    /// The answer to a request that failed with `error`: the XML document
    /// (no body for HEAD and 304), with the error's extra headers. A body
    /// the client still sends is left unread and the connection closed.
    pub fn error_answer(
        &self,
        head: &http::request::Parts,
        client: &mut dyn ClientBody,
        ctx: &mut RequestCtx,
        error: S3Error,
    ) -> Answer {
        let profile = self.config.s3.error_profile;
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
        let is_head = head.method == http::Method::HEAD;
        let resource = ctx
            .resource
            .clone()
            .unwrap_or_else(|| head.uri.path().to_owned());
        let body_pending = !client.is_done();
        let mut headers = common_headers(ctx);
        for (name, value) in error.headers() {
            headers.insert(*name, value.as_str());
        }
        let body = if is_head || status == 304 {
            Bytes::new()
        } else {
            headers.insert("content-type", "application/xml");
            Bytes::from(error.to_xml(profile, ctx.bucket.as_deref(), &resource, &ctx.request_id))
        };
        if is_head && status != 304 {
            headers.insert("content-length", "0");
        } else if status != 304 {
            headers.insert("content-length", body.len().to_string());
        }
        if body_pending {
            // The body was refused unread: close rather than read it to keep the connection.
            client.disable_keepalive();
            headers.insert("connection", "close");
        }
        ctx.bytes_out = body.len() as u64;
        Answer {
            status,
            headers,
            body: if body.is_empty() {
                ResponseBody::Empty
            } else {
                ResponseBody::Full(body)
            },
        }
    }

    /// Records a request once its answer was sent (or abandoned): the
    /// request metrics and the access log line; `error` is what ended the
    /// connection's side of it, if anything did.
    pub fn finish(&self, method: &str, ctx: &RequestCtx, error: Option<String>) {
        let metrics = &self.metrics;
        let operation = ctx.operation_name().unwrap_or("Unclassified");
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
            error,
            "request"
        );
    }
}

/// The headers every answer starts with.
fn common_headers(ctx: &RequestCtx) -> Headers {
    let mut headers = Headers::default();
    headers.insert("x-amz-request-id", ctx.request_id.as_str());
    headers.insert("date", http_date(std::time::SystemTime::now()));
    headers.insert("server", "cedargate");
    for (name, value) in &ctx.cors_headers {
        headers.insert(*name, value.as_str());
    }
    headers
}

/// The answer to a request the pipeline served.
fn success_answer(
    head: &http::request::Parts,
    ctx: &mut RequestCtx,
    response: S3Response,
) -> Answer {
    let is_head = head.method == http::Method::HEAD;
    let mut headers = common_headers(ctx);
    let mut has_length = false;
    let content_length = response.content_length();
    for (name, value) in response.headers {
        has_length |= name == "content-length";
        headers.append(name, value);
    }
    if !has_length {
        headers.insert("content-length", content_length.to_string());
    }
    ctx.status = response.status;
    Answer {
        status: response.status,
        headers,
        body: if is_head {
            ResponseBody::Empty
        } else {
            response.body
        },
    }
}

#[cfg(test)]
mod tests {
    use super::Headers;

    #[test]
    fn headers_insert_and_append_as_a_header_map_does() {
        let mut headers = Headers::default();
        headers.insert("a", "1");
        headers.insert("b", "2");
        headers.append("A", "3");
        headers.append("c", "4");
        headers.insert("a", "5");
        let sent: Vec<(String, String)> = headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_owned()))
            .collect();
        let expected = [("a", "5"), ("b", "2"), ("c", "4")];
        assert_eq!(
            sent,
            expected.map(|(n, v)| (n.to_owned(), v.to_owned())).to_vec()
        );
        assert_eq!(headers.get("B"), Some("2"));
    }
}
