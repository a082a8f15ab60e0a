//! The admin listener: `/healthz` (the process answers), `/readyz` (JSON:
//! `ready` and each backend's `up` / `down` / `unknown`; 503 when every
//! backend is down), `/metrics` (Prometheus text) and `/quotas` (JSON: per
//! capped bucket `bucket`, `used`, `reserved`, `soft`, `hard`, `state`). It
//! never serves S3 and the S3 listener never serves these.

use std::sync::Arc;

use async_trait::async_trait;
use http::Response;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;

use crate::health::{BackendHealth, BackendState};
use crate::metrics::Metrics;
use crate::quota::Quotas;

/// The admin listener's handler.
#[derive(Debug, Clone)]
pub struct AdminApp {
    metrics: Arc<Metrics>,
    quotas: Arc<Quotas>,
    health: Arc<BackendHealth>,
}

impl AdminApp {
    /// A handler exposing `metrics`, `quotas` and backend `health`.
    pub fn new(metrics: Arc<Metrics>, quotas: Arc<Quotas>, health: Arc<BackendHealth>) -> Self {
        Self {
            metrics,
            quotas,
            health,
        }
    }

    fn readiness(&self) -> (u16, &'static str, Vec<u8>) {
        let backends = self.health.states();
        let ready = backends.is_empty() || backends.values().any(|s| *s != BackendState::Down);
        let body = serde_json::json!({ "ready": ready, "backends": backends });
        let status = if ready { 200 } else { 503 };
        match serde_json::to_vec_pretty(&body) {
            Ok(json) => (status, "application/json", json),
            Err(_) => (500, "text/plain", b"internal error\n".to_vec()),
        }
    }

    /// The answer for a method and path.
    pub async fn answer(&self, method: &http::Method, path: &str) -> (u16, &'static str, Vec<u8>) {
        if method != http::Method::GET && method != http::Method::HEAD {
            return (405, "text/plain", b"method not allowed\n".to_vec());
        }
        match path {
            "/healthz" => (200, "text/plain", b"ok\n".to_vec()),
            "/readyz" => self.readiness(),
            "/metrics" => (200, "text/plain; version=0.0.4", self.metrics.render()),
            "/quotas" => match serde_json::to_vec_pretty(&self.quotas.view().await) {
                Ok(json) => (200, "application/json", json),
                Err(_) => (500, "text/plain", b"internal error\n".to_vec()),
            },
            _ => (404, "text/plain", b"not found\n".to_vec()),
        }
    }
}

#[async_trait]
impl ServeHttp for AdminApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let head = session.req_header();
        let (status, content_type, body) = self.answer(&head.method, head.uri.path()).await;
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
