//! The admin listener: `/healthz` (the process answers), `/readyz` (JSON:
//! `ready` and each backend's `up` / `down` / `unknown`; 503 when every
//! backend is down; it answers at all only once every listener is bound,
//! see [`crate::sockets`]), `/metrics` (Prometheus text), `/quotas` (JSON: per
//! capped bucket `bucket`, `used`, `reserved`, `soft`, `hard`, `state`)
//! and the operator console under `/console` ([`crate::console`]). It
//! never serves S3 and the S3 listener never serves these.
//!
//! `/healthz`, `/readyz` and `/metrics` stay open for probes and
//! Prometheus; `/quotas` and the console need the admin token when one is
//! configured.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use http::Response;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;

use crate::console::{self, AdminRequest, MAX_BODY_BYTES, Reply};
use crate::health::BackendState;
use crate::pipeline::Gateway;

/// The admin listener's handler.
#[derive(Debug, Clone)]
pub struct AdminApp {
    gateway: Arc<Gateway>,
}

impl AdminApp {
    /// A handler over the gateway's state.
    pub fn new(gateway: Arc<Gateway>) -> Self {
        Self { gateway }
    }

    fn readiness(&self) -> Reply {
        let backends = self.gateway.health.states();
        let ready = backends.is_empty() || backends.values().any(|s| *s != BackendState::Down);
        let body = serde_json::json!({ "ready": ready, "backends": backends });
        match serde_json::to_vec_pretty(&body) {
            Ok(json) => Reply::new(if ready { 200 } else { 503 }, "application/json", json),
            Err(_) => Reply::new(500, "text/plain", b"internal error\n".to_vec()),
        }
    }

    /// The answer for a request whose body was read.
    pub async fn answer(&self, request: &AdminRequest<'_>) -> Reply {
        if let Some(reply) = console::answer(&self.gateway, request).await {
            return reply;
        }
        let method = request.method;
        if method != http::Method::GET && method != http::Method::HEAD {
            return Reply::new(405, "text/plain", b"method not allowed\n".to_vec());
        }
        match request.path {
            "/healthz" => Reply::new(200, "text/plain", b"ok\n".to_vec()),
            "/readyz" => self.readiness(),
            "/metrics" => Reply::new(
                200,
                "text/plain; version=0.0.4",
                self.gateway.metrics.render(),
            ),
            "/quotas" => match self.gateway.console.admit(request) {
                Err(refusal) => refusal,
                Ok(()) => match serde_json::to_vec_pretty(&self.gateway.quotas.view().await) {
                    Ok(json) => Reply::new(200, "application/json", json),
                    Err(_) => Reply::new(500, "text/plain", b"internal error\n".to_vec()),
                },
            },
            _ => Reply::new(404, "text/plain", b"not found\n".to_vec()),
        }
    }
}

/// Reads the request body, `Err` once it passes `cap` bytes (or announces
/// more). A client waiting for `100 Continue` (curl does above 1 KiB) gets
/// it first, else it stalls a second.
async fn read_body(session: &mut ServerSession, cap: usize) -> Result<Bytes, Reply> {
    let too_large = || {
        Reply::error(
            413,
            "too_large",
            &format!("the request body is larger than {cap} bytes"),
        )
    };
    let headers = &session.req_header().headers;
    let announced = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|length| length > cap) {
        return Err(too_large());
    }
    let expects_continue = headers
        .get(http::header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    if expects_continue && session.write_continue_response().await.is_err() {
        return Err(Reply::error(400, "invalid_request", "cannot read the body"));
    }
    let mut body = BytesMut::new();
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > cap {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body.freeze()),
            Err(_) => return Err(Reply::error(400, "invalid_request", "cannot read the body")),
        }
    }
}

#[async_trait]
impl ServeHttp for AdminApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let body = read_body(session, MAX_BODY_BYTES).await;
        let head = session.req_header();
        let reply = match body {
            Ok(body) => {
                let request = AdminRequest {
                    method: &head.method,
                    path: head.uri.path(),
                    query: head.uri.query(),
                    headers: &head.headers,
                    body,
                    peer: session
                        .client_addr()
                        .and_then(|addr| addr.as_inet())
                        .map(|addr| addr.ip()),
                };
                self.answer(&request).await
            }
            Err(reply) => {
                // The body was left unread: the connection cannot be reused.
                session.set_keepalive(None);
                reply
            }
        };
        let mut response = Response::new(reply.body);
        *response.status_mut() = http::StatusCode::from_u16(reply.status)
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(reply.content_type),
        );
        for (name, value) in reply.headers {
            if let Ok(value) = http::HeaderValue::from_str(&value) {
                headers.append(name, value);
            }
        }
        let length = response.body().len();
        response.headers_mut().insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from(length),
        );
        response
    }
}
