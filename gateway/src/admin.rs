//! The admin listener: `/healthz` (the process answers), `/readyz` (JSON:
//! `ready` and each backend's `up` / `down` / `unknown`; 503 when every
//! backend is down; it answers at all only once every listener is bound,
//! see [`crate::sockets`]), `/metrics` (Prometheus text), `/quotas` (JSON: per
//! capped bucket `bucket`, `used`, `reserved`, `soft`, `hard`, `state`)
//! and the operator console under `/console` ([`crate::console`]). It
//! never serves S3 and the S3 listener never serves these.
//!
//! `/healthz`, `/readyz` and `/metrics` stay open for probes and
//! Prometheus; `/quotas` and the console answer only to loopback `Host`
//! names and `console.allowed_hosts`, and need the admin token when one is
//! configured.
//!
//! The listener is guarded like the S3 one ([`crate::listener`]: a small
//! connection cap, a header-section deadline) and decides from the request
//! head alone, before any body byte is read, whether the path and method
//! exist, whether the caller is let in and how large a body the endpoint
//! reads ([`AdminApp::gate`]): an unknown path (404), a `Host` the console
//! does not answer to (421), a missing token (401; 429 while a source that
//! presented wrong tokens waits), a cross-site console POST (403)
//! or a wrong method (405) is answered without reading the body, and no
//! handler runs, a body announced larger than the
//! endpoint's cap gets 413, and a body that does not arrive within
//! `server.admin_body_timeout_seconds` gets 408. Each of these closes the
//! connection.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use http::Response;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;

use crate::console::{self, AdminRequest, ConsoleState, Reply};
use crate::health::BackendState;
use crate::pipeline::Gateway;

/// The admin listener's own endpoints (the console's are
/// [`console::ENDPOINTS`]): path, and whether it needs the admin token.
/// Each answers GET and HEAD and reads no body.
const ADMIN_ENDPOINTS: &[(&str, bool)] = &[
    ("/healthz", false),
    ("/readyz", false),
    ("/metrics", false),
    ("/quotas", true),
];

/// The refusal a request head earns before any body byte is read.
#[derive(Debug)]
pub struct Refused(pub Reply);

/// The admin listener's handler.
#[derive(Debug, Clone)]
pub struct AdminApp {
    gateway: Arc<Gateway>,
    console: Arc<ConsoleState>,
}

impl AdminApp {
    /// A handler over the gateway's and the console's state.
    pub fn new(gateway: Arc<Gateway>, console: Arc<ConsoleState>) -> Self {
        Self { gateway, console }
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

    /// How many body bytes the endpoint `request` names may read, judged
    /// from its head alone (its body is not looked at): an unknown path is
    /// 404; on the console and `/quotas`, a `Host` it does not answer to is
    /// 421 and a missing admin token 401 (a wrong bearer token counts
    /// against its source, which may have to wait: 429); a POST to the
    /// console that is not same-origin is 403; a method the path does not
    /// answer is 405.
    pub fn gate(&self, request: &AdminRequest<'_>) -> Result<usize, Refused> {
        let console = &self.console;
        let path = request.path;
        let found = if is_console(path) {
            console::endpoint(path)
                .filter(|_| console.enabled)
                .map(|e| (e.get, e.post, e.needs_token, true))
        } else {
            ADMIN_ENDPOINTS
                .iter()
                .find(|(known, _)| *known == path)
                .map(|(_, needs_token)| (true, None, *needs_token, *needs_token))
        };
        let Some((get, post, needs_token, guarded)) = found else {
            return Err(self.refusal(path, 404));
        };
        if guarded && !console.auth.host_allowed(request.headers) {
            return Err(self.shaped(path, Reply::misdirected()));
        }
        if needs_token && let Err(reply) = console.admit(request) {
            return Err(self.shaped(path, reply));
        }
        let method = request.method;
        if get && (method == http::Method::GET || method == http::Method::HEAD) {
            return Ok(0);
        }
        match post {
            Some(cap) if method == http::Method::POST => {
                // The bearer token stands for the origin only where it was
                // admitted (and a wrong one counted) above.
                let bearer = needs_token && console.auth.has_bearer(request.headers);
                if !bearer && !console::host::same_origin(request.headers) {
                    return Err(self.shaped(path, Reply::cross_site()));
                }
                Ok(cap)
            }
            _ => Err(self.refusal(path, 405)),
        }
    }

    /// The answer of a request the gate refused with `status` (401, 404 or
    /// 405), shaped like the endpoint's own answers.
    fn refusal(&self, path: &str, status: u16) -> Refused {
        if !is_console(path) {
            return Refused(match status {
                401 => Reply::unauthorized(),
                405 => Reply::new(405, "text/plain", b"method not allowed\n".to_vec()),
                _ => Reply::new(404, "text/plain", b"not found\n".to_vec()),
            });
        }
        let reply = match status {
            401 => Reply::unauthorized(),
            405 => Reply::error(405, "method_not_allowed", "method not allowed"),
            _ if !self.console.enabled => Reply::error(404, "not_found", "the console is disabled"),
            _ => Reply::error(404, "not_found", "no such console endpoint"),
        };
        self.shaped(path, reply)
    }

    /// `reply` with the console's security headers on a console path.
    fn shaped(&self, path: &str, mut reply: Reply) -> Refused {
        if is_console(path) {
            console::security_headers(&mut reply);
        }
        Refused(reply)
    }

    /// The body of the request in `session` if its head lets it be read:
    /// `Err` with the answer (and the connection not to be reused) when it
    /// is refused, too large or too slow. A request without a body reads
    /// nothing (its handler refuses it as the gate would).
    async fn body(&self, session: &mut ServerSession) -> Result<Bytes, Reply> {
        if session.is_body_empty() {
            return Ok(Bytes::new());
        }
        let peer = peer(session);
        let head = session.req_header();
        let request = AdminRequest {
            method: &head.method,
            path: head.uri.path(),
            query: head.uri.query(),
            headers: &head.headers,
            body: Bytes::new(),
            peer,
        };
        let cap = self.gate(&request).map_err(|Refused(reply)| reply)?;
        let seconds = self.gateway.config.server.admin_body_timeout_seconds;
        match tokio::time::timeout(Duration::from_secs(seconds), read_body(session, cap)).await {
            Ok(body) => body,
            Err(_) => Err(Reply::error(
                408,
                "request_timeout",
                &format!("the request body did not arrive within {seconds} seconds"),
            )),
        }
    }

    /// The answer for a request whose body was read.
    pub async fn answer(&self, request: &AdminRequest<'_>) -> Reply {
        if let Some(reply) = console::answer(&self.gateway, &self.console, request).await {
            return reply;
        }
        if let Err(Refused(reply)) = self.gate(request) {
            return reply;
        }
        match request.path {
            "/healthz" => Reply::new(200, "text/plain", b"ok\n".to_vec()),
            "/readyz" => self.readiness(),
            "/metrics" => Reply::new(
                200,
                "text/plain; version=0.0.4",
                self.gateway.metrics.render(),
            ),
            "/quotas" => match serde_json::to_vec_pretty(&self.gateway.quotas.view().await) {
                Ok(json) => Reply::new(200, "application/json", json),
                Err(_) => Reply::new(500, "text/plain", b"internal error\n".to_vec()),
            },
            _ => Reply::new(404, "text/plain", b"not found\n".to_vec()),
        }
    }
}

/// The client's address, when it is an IP one.
fn peer(session: &ServerSession) -> Option<std::net::IpAddr> {
    session
        .client_addr()
        .and_then(|addr| addr.as_inet())
        .map(|addr| addr.ip())
}

/// Whether `path` is the console's.
fn is_console(path: &str) -> bool {
    path == "/console" || path.starts_with("/console/")
}

/// Reads the request body, `Err` once it passes `cap` bytes (or announces
/// more, then before reading any). A client waiting for `100 Continue`
/// (curl does above 1 KiB) gets it first, else it stalls a second.
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
        let body = self.body(session).await;
        if body.is_err() {
            // The body was left unread: the connection cannot be reused.
            session.set_keepalive(None);
        }
        let head = session.req_header();
        let reply = match body {
            Ok(body) => {
                let request = AdminRequest {
                    method: &head.method,
                    path: head.uri.path(),
                    query: head.uri.query(),
                    headers: &head.headers,
                    body,
                    peer: peer(session),
                };
                self.answer(&request).await
            }
            Err(reply) => reply,
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
