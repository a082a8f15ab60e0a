//! The operator console, served by the admin listener only (never the S3
//! listener): one static page (HTML, JS and CSS embedded in the binary)
//! and the small JSON endpoints it reads, all behind the admin token
//! ([`auth`]). It shows the gateway's status ([`status`]), bucket quotas,
//! traffic charts fed by an in-process sampler of the request counters
//! ([`traffic`]), the last decisions recorded where the access log line is
//! written ([`decisions`]) and a policy playground ([`playground`]).
//! Every console path (and `/quotas`) first checks the `Host` it was sent
//! to ([`host`]); requests that change something must be same-origin.
//! `gateway/docs/console.md` documents every endpoint.

mod api;
pub mod auth;
pub mod decisions;
pub mod host;
pub mod playground;
pub mod sessions;
pub mod status;
pub mod throttle;
pub mod traffic;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{Value, json};

use crate::config::ConsoleConfig;
use crate::pipeline::Gateway;
use auth::ConsoleAuth;
use decisions::DecisionLog;
use throttle::LoginThrottle;
use traffic::TrafficSampler;

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("console.js");
const STYLE: &str = include_str!("console.css");
const LOGIN: &str = include_str!("login.html");
const ICON: &str = include_str!("favicon.svg");

/// Largest request body the console reads (a candidate file plus JSON).
pub const MAX_BODY_BYTES: usize = playground::MAX_CANDIDATE_BYTES + 16 * 1024;

/// Largest body of the login and logout forms.
pub const MAX_FORM_BYTES: usize = 4 * 1024;

/// Largest body of a playground question.
pub const MAX_DECIDE_BYTES: usize = 64 * 1024;

/// A console endpoint as the admin listener checks it from the request
/// head, before reading any body byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// The path.
    pub path: &'static str,
    /// Whether it answers GET and HEAD (which read no body).
    pub get: bool,
    /// The largest body a POST to it may carry; `None`: it takes no POST.
    pub post: Option<usize>,
    /// Whether it needs the admin token or the login cookie.
    pub needs_token: bool,
}

const fn page(path: &'static str, needs_token: bool) -> Endpoint {
    Endpoint {
        path,
        get: true,
        post: None,
        needs_token,
    }
}

const fn form(path: &'static str, get: bool, cap: usize, needs_token: bool) -> Endpoint {
    Endpoint {
        path,
        get,
        post: Some(cap),
        needs_token,
    }
}

/// Every console endpoint (see [`route`]).
pub const ENDPOINTS: &[Endpoint] = &[
    form("/console/login", true, MAX_FORM_BYTES, false),
    form("/console/logout", false, MAX_FORM_BYTES, false),
    page("/console/favicon.svg", false),
    page("/console/console.css", false),
    page("/console", true),
    page("/console/", true),
    page("/console/console.js", true),
    page("/console/api/status", true),
    page("/console/api/quotas", true),
    page("/console/api/traffic", true),
    page("/console/api/decisions", true),
    page("/console/api/choices", true),
    form("/console/api/decide", false, MAX_DECIDE_BYTES, true),
    form("/console/api/candidate", false, MAX_BODY_BYTES, true),
];

/// The console endpoint at `path`, if there is one.
pub fn endpoint(path: &str) -> Option<&'static Endpoint> {
    ENDPOINTS.iter().find(|e| e.path == path)
}

/// The console's state: who may use it, the decision log, the sampler.
#[derive(Debug)]
pub struct ConsoleState {
    /// Whether the console is served at all.
    pub enabled: bool,
    /// The admin token rule.
    pub auth: ConsoleAuth,
    /// The last decisions.
    pub decisions: DecisionLog,
    /// The traffic samples.
    pub traffic: TrafficSampler,
    /// When the gateway started.
    pub started: Instant,
    /// Wrong admin tokens per source (login form and bearer).
    pub logins: LoginThrottle,
    /// Candidate replays that may run at once (each compiles a policy set).
    candidate_slots: tokio::sync::Semaphore,
}

impl ConsoleState {
    /// The console `config` describes (reads the admin token), served on
    /// the admin listener at `admin_listen`.
    pub fn from_config(config: &ConsoleConfig, admin_listen: SocketAddr) -> anyhow::Result<Self> {
        Ok(Self {
            enabled: config.enabled,
            auth: ConsoleAuth::from_config(config, admin_listen)?,
            logins: LoginThrottle::new(),
            decisions: DecisionLog::new(config.decisions),
            traffic: TrafficSampler::new(
                Duration::from_secs(config.sample_interval_seconds),
                config.samples,
            ),
            started: Instant::now(),
            candidate_slots: tokio::sync::Semaphore::new(2),
        })
    }

    /// Whether `request` may use the console or `/quotas`: `Err` with the
    /// answer when its `Host` is not allowed (421), its source must wait
    /// after wrong tokens and it presents one again (429, the token
    /// untested), or it lacks the token or a session (401). A wrong bearer
    /// token counts against its source like a wrong login.
    pub fn admit(&self, request: &AdminRequest<'_>) -> Result<(), Reply> {
        let headers = request.headers;
        if !self.auth.host_allowed(headers) {
            return Err(Reply::misdirected());
        }
        if self.auth.presents_bearer(headers) {
            let source = request.source();
            self.logins.check(source).map_err(Reply::wait)?;
            if !self.auth.has_bearer(headers) {
                self.logins.failed(source);
            }
        }
        if self.auth.allows(headers) {
            Ok(())
        } else {
            Err(Reply::unauthorized())
        }
    }
}

/// One admin listener answer.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, value: &Value) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        Self::new(status, "application/json", body)
    }

    /// A JSON error: `{"error": code, "message": message}`.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self::json(status, &json!({ "error": code, "message": message }))
    }

    /// The 401 of a request without the admin token.
    pub fn unauthorized() -> Self {
        let mut reply = Self::error(
            401,
            "unauthorized",
            "send `Authorization: Bearer <admin token>` or log in at /console/login",
        );
        reply.headers.push((
            "www-authenticate",
            "Bearer realm=\"cedargate admin\"".into(),
        ));
        reply
    }

    /// The 421 of a request naming a `Host` the console does not answer to
    /// (a page on a rebinding DNS name, for one).
    pub fn misdirected() -> Self {
        Self::error(
            421,
            "misdirected_request",
            "the console answers to loopback host names (localhost, 127.0.0.1, [::1]) and those in `console.allowed_hosts` only",
        )
    }

    /// The 403 of a request that changes something but is not same-origin.
    pub fn cross_site() -> Self {
        Self::error(
            403,
            "cross_site_request",
            "a request that changes something must come from the console's own page (same-origin `Origin` or `Sec-Fetch-Site`), carry `X-Cedargate-Console: 1`, or carry `Authorization: Bearer <admin token>`",
        )
    }

    /// The 429 of a source that must wait `wait` after wrong tokens.
    pub fn wait(wait: Duration) -> Self {
        let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        let mut reply = Self::error(
            429,
            "too_many_attempts",
            &format!("too many wrong admin tokens from this address; try again in {seconds} s"),
        );
        reply.headers.push(("retry-after", seconds.to_string()));
        reply
    }

    /// An answer of `content_type`.
    pub fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> Self {
        Self {
            status,
            content_type,
            body,
            headers: Vec::new(),
        }
    }

    fn redirect(location: &str, cookie: Option<String>) -> Self {
        let mut reply = Self::new(303, "text/plain", Vec::new());
        reply.headers.push(("location", location.to_owned()));
        if let Some(cookie) = cookie.filter(|c| !c.is_empty()) {
            reply.headers.push(("set-cookie", cookie));
        }
        reply
    }
}

/// A request to the admin listener, its body read (at most [`MAX_BODY_BYTES`]).
#[derive(Debug)]
pub struct AdminRequest<'a> {
    /// The method.
    pub method: &'a http::Method,
    /// The path.
    pub path: &'a str,
    /// The query string, if any.
    pub query: Option<&'a str>,
    /// The headers.
    pub headers: &'a http::HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The client's address, when known.
    pub peer: Option<IpAddr>,
}

impl AdminRequest<'_> {
    /// The client's address (`0.0.0.0` when unknown).
    pub fn source(&self) -> IpAddr {
        self.peer.unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }
}

/// The headers every console answer carries.
pub fn security_headers(reply: &mut Reply) {
    let fixed = [
        (
            "content-security-policy",
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
        ("x-content-type-options", "nosniff"),
        ("cache-control", "no-store"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
    ];
    for (name, value) in fixed {
        reply.headers.push((name, value.to_owned()));
    }
}

/// The console's answer for `request`, or `None` when the path is not the
/// console's.
pub async fn answer(
    gateway: &Arc<Gateway>,
    console: &ConsoleState,
    request: &AdminRequest<'_>,
) -> Option<Reply> {
    let path = request.path;
    if path != "/console" && !path.starts_with("/console/") {
        return None;
    }
    let mut reply = if !console.enabled {
        Reply::error(404, "not_found", "the console is disabled")
    } else if !console.auth.host_allowed(request.headers) {
        Reply::misdirected()
    } else {
        route(gateway, console, request).await
    };
    security_headers(&mut reply);
    Some(reply)
}

async fn route(
    gateway: &Arc<Gateway>,
    console: &ConsoleState,
    request: &AdminRequest<'_>,
) -> Reply {
    let get = request.method == http::Method::GET || request.method == http::Method::HEAD;
    let post = request.method == http::Method::POST;
    // Everything but GET and HEAD changes something (or is refused with
    // 405 below): it must come from the console's own origin, or carry
    // the bearer token, which a cross-site page cannot attach. The login
    // and logout forms take no bearer token (it is tested, and counted,
    // only where the token is needed), so for them only the origin counts.
    let same_origin = host::same_origin(request.headers);
    let cross_site = !get && !console.auth.has_bearer(request.headers) && !same_origin;
    match (request.path, get, post) {
        ("/console/login", true, _) => Reply::new(200, "text/html; charset=utf-8", LOGIN.into()),
        ("/console/login" | "/console/logout", _, true) if !same_origin => Reply::cross_site(),
        ("/console/login", _, true) => api::login(console, request),
        ("/console/logout", _, true) => {
            console.auth.logout(request.headers);
            Reply::redirect("/console/login", Some(auth::logout_cookie()))
        }
        ("/console/favicon.svg", true, _) => Reply::new(200, "image/svg+xml", ICON.into()),
        ("/console/console.css", true, _) => {
            Reply::new(200, "text/css; charset=utf-8", STYLE.into())
        }
        _ => match console.admit(request) {
            Err(refusal) => refusal,
            Ok(()) => route_admitted(gateway, console, request, cross_site).await,
        },
    }
}

/// The paths behind the token, for a request [`ConsoleState::admit`] let in.
async fn route_admitted(
    gateway: &Arc<Gateway>,
    console: &ConsoleState,
    request: &AdminRequest<'_>,
    cross_site: bool,
) -> Reply {
    let get = request.method == http::Method::GET || request.method == http::Method::HEAD;
    let post = request.method == http::Method::POST;
    match (request.path, get, post) {
        (_, _, true) if cross_site => Reply::cross_site(),
        ("/console" | "/console/", true, _) => {
            Reply::new(200, "text/html; charset=utf-8", PAGE.into())
        }
        ("/console/console.js", true, _) => {
            Reply::new(200, "text/javascript; charset=utf-8", SCRIPT.into())
        }
        ("/console/api/status", true, _) => Reply::json(200, &status::status(gateway, console)),
        ("/console/api/quotas", true, _) => match serde_json::to_value(gateway.quotas.view().await)
        {
            Ok(quotas) => Reply::json(200, &json!({ "quotas": quotas })),
            Err(_) => Reply::error(500, "internal", "internal error"),
        },
        ("/console/api/traffic", true, _) => Reply::json(200, &console.traffic.to_json()),
        ("/console/api/decisions", true, _) => api::decisions(console, request.query),
        ("/console/api/choices", true, _) => api::choices(gateway),
        ("/console/api/decide", _, true) => api::decide(gateway, request),
        ("/console/api/candidate", _, true) => api::candidate(gateway, console, request).await,
        (
            "/console/login"
            | "/console/logout"
            | "/console"
            | "/console/"
            | "/console/console.js"
            | "/console/console.css"
            | "/console/favicon.svg"
            | "/console/api/status"
            | "/console/api/quotas"
            | "/console/api/traffic"
            | "/console/api/decisions"
            | "/console/api/choices"
            | "/console/api/decide"
            | "/console/api/candidate",
            _,
            _,
        ) => Reply::error(405, "method_not_allowed", "method not allowed"),
        _ => Reply::error(404, "not_found", "no such console endpoint"),
    }
}
