//! The admin listener: `/healthz`, `/readyz` and `/metrics` (Prometheus
//! text). It never serves S3 and the S3 listener never serves these.

use std::sync::Arc;

use async_trait::async_trait;
use http::Response;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;

use crate::metrics::Metrics;

/// The admin listener's handler.
#[derive(Debug, Clone)]
pub struct AdminApp {
    metrics: Arc<Metrics>,
}

impl AdminApp {
    /// A handler exposing `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }

    /// The answer for a method and path.
    pub fn answer(&self, method: &http::Method, path: &str) -> (u16, &'static str, Vec<u8>) {
        if method != http::Method::GET && method != http::Method::HEAD {
            return (405, "text/plain", b"method not allowed\n".to_vec());
        }
        match path {
            "/healthz" | "/readyz" => (200, "text/plain", b"ok\n".to_vec()),
            "/metrics" => (200, "text/plain; version=0.0.4", self.metrics.render()),
            _ => (404, "text/plain", b"not found\n".to_vec()),
        }
    }
}

#[async_trait]
impl ServeHttp for AdminApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let head = session.req_header();
        let (status, content_type, body) = self.answer(&head.method, head.uri.path());
        let mut response = Response::new(body);
        *response.status_mut() =
            http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(content_type),
        );
        let length = response.body().len();
        response.headers_mut().insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from(length),
        );
        response
    }
}
