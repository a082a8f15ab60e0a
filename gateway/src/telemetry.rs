//! Traces: one span per request with a child span per pipeline stage
//! (route, limit, authenticate, authorize, dispatch), exported over
//! OTLP/HTTP (protobuf) when `[telemetry] otlp_endpoint` is set, in batches
//! from opentelemetry's own export thread.
//!
//! The request span carries `request_id` (the `x-amz-request-id`),
//! `s3.operation`, `s3.bucket` and `http.response.status_code`; never a key,
//! a credential or a signature. Without an endpoint no span is made.
//!
//! Log lines take a value a client chose (a token's subject or issuer, a
//! role ARN asked for) through [`escaped`], so that a newline or a NUL in
//! it cannot forge or break a line of the text log, nor a space or an `=`
//! pose as more `key=value` pairs. Plain string fields
//! (`key = value`) are already written quoted and escaped by the log
//! formatter; `%` (display) fields and messages are not.

use std::io::Read;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use opentelemetry::trace::{Span as _, TraceContextExt, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider, Span,
};

use crate::config::TelemetryConfig;

/// `value` for a `%` field of a log line: as is when it is plain (not
/// empty; no whitespace, `=`, `"`, `\` or control character), otherwise
/// quoted and escaped as Rust's `Debug` writes a string (`"a b"`,
/// `"x\nINFO"`), so that a value can neither forge a line nor pose as
/// more `key=value` pairs of its own.
pub fn escaped(value: &str) -> Escaped<'_> {
    Escaped(value)
}

/// A value displayed bare or quoted; see [`escaped`].
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(&'a str);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ambiguous =
            |c: char| c.is_whitespace() || c.is_control() || matches!(c, '=' | '"' | '\\');
        if self.0.is_empty() || self.0.contains(ambiguous) {
            write!(f, "{:?}", self.0)
        } else {
            f.write_str(self.0)
        }
    }
}

/// `text` with its control characters (newline, carriage return, NUL,
/// escape...) written as Rust escapes (`\n`, `\0`, `\u{1b}`), the rest as
/// is: what the text log's formatter does to every field and message.
pub fn controls_escaped(text: &str) -> ControlsEscaped<'_> {
    ControlsEscaped(text)
}

/// Text displayed with its control characters escaped; see
/// [`controls_escaped`].
#[derive(Debug, Clone, Copy)]
pub struct ControlsEscaped<'a>(&'a str);

impl std::fmt::Display for ControlsEscaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write as _;
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_debug())?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

/// The tracer of the gateway; `None` when no endpoint is configured.
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
    tracer: Option<SdkTracer>,
}

impl Telemetry {
    /// The exporter for `config`; nothing when no endpoint is set.
    pub fn new(config: &TelemetryConfig) -> anyhow::Result<Self> {
        let Some(endpoint) = &config.otlp_endpoint else {
            return Ok(Self::default());
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(BlockingClient {
                timeout: Duration::from_secs(5),
            })
            .with_endpoint(endpoint.clone())
            .build()?;
        let batch = BatchConfigBuilder::default()
            .with_scheduled_delay(Duration::from_millis(config.export_interval_ms))
            .build();
        let processor = BatchSpanProcessor::builder(exporter)
            .with_batch_config(batch)
            .build();
        let provider = SdkTracerProvider::builder()
            .with_resource(
                Resource::builder()
                    .with_service_name(config.service_name.clone())
                    .build(),
            )
            .with_span_processor(processor)
            .build();
        let tracer = provider.tracer("cedargate");
        Ok(Self {
            provider: Some(provider),
            tracer: Some(tracer),
        })
    }

    /// A request's trace: its root span, and stage spans under it.
    pub fn request(&self, request_id: &str) -> RequestTrace<'_> {
        let Some(tracer) = &self.tracer else {
            return RequestTrace {
                tracer: None,
                cx: Context::new(),
            };
        };
        let mut span = tracer.start("s3.request");
        span.set_attribute(KeyValue::new("request_id", request_id.to_owned()));
        RequestTrace {
            tracer: Some(tracer),
            cx: Context::new().with_span(span),
        }
    }

    /// Exports what is still buffered (at shutdown).
    pub fn flush(&self) {
        if let Some(provider) = &self.provider {
            let _ = provider.force_flush();
        }
    }
}

/// The spans of one request; a no-op without a tracer.
#[derive(Debug)]
pub struct RequestTrace<'a> {
    tracer: Option<&'a SdkTracer>,
    cx: Context,
}

impl RequestTrace<'_> {
    /// A child span for a pipeline stage; it ends when dropped.
    pub fn stage(&self, name: &'static str) -> Option<Span> {
        self.tracer
            .map(|tracer| tracer.start_with_context(name, &self.cx))
    }

    /// Records an attribute on the request span.
    pub fn set(&self, attribute: KeyValue) {
        if self.tracer.is_some() {
            self.cx.span().set_attribute(attribute);
        }
    }
}

impl Drop for RequestTrace<'_> {
    fn drop(&mut self) {
        if self.tracer.is_some() {
            self.cx.span().end();
        }
    }
}

/// OTLP/HTTP over ureq, called from the batch processor's own thread
/// (where blocking is what it expects).
#[derive(Debug)]
struct BlockingClient {
    timeout: Duration,
}

#[async_trait]
impl HttpClient for BlockingClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let agent = ureq::AgentBuilder::new()
            .timeout(self.timeout)
            .redirects(0)
            .build();
        let url = request.uri().to_string();
        let mut call = agent.request(request.method().as_str(), &url);
        for (name, value) in request.headers() {
            if let Ok(value) = value.to_str() {
                call = call.set(name.as_str(), value);
            }
        }
        let answer = match call.send_bytes(request.body()) {
            Ok(answer) | Err(ureq::Error::Status(_, answer)) => answer,
            Err(error) => return Err(Box::new(error)),
        };
        let status = answer.status();
        let mut body = Vec::new();
        answer
            .into_reader()
            .take(1024 * 1024)
            .read_to_end(&mut body)?;
        Ok(Response::builder().status(status).body(Bytes::from(body))?)
    }
}

#[cfg(test)]
mod tests {
    use super::{controls_escaped, escaped};

    #[test]
    fn control_characters_are_escaped_in_logged_text() {
        let table = [
            ("repo:myorg/app", "repo:myorg/app"),
            ("a\nINFO forged line", "a\\nINFO forged line"),
            ("nul\0byte", "nul\\0byte"),
            ("cr\rtab\t", "cr\\rtab\\t"),
            ("esc\u{1b}[31m", "esc\\u{1b}[31m"),
            ("déjà vu \"quoted\"", "déjà vu \"quoted\""),
        ];
        for (value, logged) in table {
            assert_eq!(controls_escaped(value).to_string(), logged, "{value:?}");
        }
    }

    #[test]
    fn a_logged_value_cannot_pose_as_more_fields() {
        let table = [
            ("repo:myorg/app", "repo:myorg/app"),
            ("déjà-vu", "déjà-vu"),
            ("", "\"\""),
            ("x role=admin level=ERROR", "\"x role=admin level=ERROR\""),
            ("x\trole=admin", "\"x\\trole=admin\""),
            ("a=b", "\"a=b\""),
            ("say \"hi\"", "\"say \\\"hi\\\"\""),
            ("back\\slash", "\"back\\\\slash\""),
            ("a\nINFO forged line", "\"a\\nINFO forged line\""),
            ("nul\0byte", "\"nul\\0byte\""),
            ("esc\u{1b}[31m", "\"esc\\u{1b}[31m\""),
        ];
        for (value, logged) in table {
            assert_eq!(escaped(value).to_string(), logged, "{value:?}");
        }
    }
}
