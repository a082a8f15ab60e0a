//! The operator console, served by the admin listener only (never the S3
//! listener): one static page (HTML, JS and CSS embedded in the binary)
//! and the small JSON endpoints it reads, all behind the admin token
//! ([`auth`]). It shows the gateway's status ([`status`]), bucket quotas,
//! traffic charts fed by an in-process sampler of the request counters
//! ([`traffic`]), the last decisions recorded where the access log line is
//! written ([`decisions`]) and a policy playground ([`playground`]).
//! `gateway/docs/console.md` documents every endpoint.

pub mod auth;
pub mod decisions;
pub mod playground;
pub mod replay;
pub mod status;
pub mod traffic;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use serde_json::{Value, json};

use crate::config::ConsoleConfig;
use crate::pipeline::Gateway;
use auth::ConsoleAuth;
use decisions::DecisionLog;
use traffic::TrafficSampler;

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("console.js");
const STYLE: &str = include_str!("console.css");
const LOGIN: &str = include_str!("login.html");
const ICON: &str = include_str!("favicon.svg");

/// Largest request body the console reads (a candidate file plus JSON).
pub const MAX_BODY_BYTES: usize = playground::MAX_CANDIDATE_BYTES + 16 * 1024;

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
    /// Candidate replays that may run at once (each compiles a policy set).
    candidate_slots: tokio::sync::Semaphore,
}

impl ConsoleState {
    /// The console `config` describes (reads the admin token).
    pub fn from_config(config: &ConsoleConfig) -> anyhow::Result<Self> {
        Ok(Self {
            enabled: config.enabled,
            auth: ConsoleAuth::from_config(config)?,
            decisions: DecisionLog::new(config.decisions),
            traffic: TrafficSampler::new(
                Duration::from_secs(config.sample_interval_seconds),
                config.samples,
            ),
            started: Instant::now(),
            candidate_slots: tokio::sync::Semaphore::new(2),
        })
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
pub async fn answer(gateway: &Arc<Gateway>, request: &AdminRequest<'_>) -> Option<Reply> {
    let path = request.path;
    if path != "/console" && !path.starts_with("/console/") {
        return None;
    }
    let console = &gateway.console;
    let mut reply = if !console.enabled {
        Reply::error(404, "not_found", "the console is disabled")
    } else {
        route(gateway, request).await
    };
    security_headers(&mut reply);
    Some(reply)
}

async fn route(gateway: &Arc<Gateway>, request: &AdminRequest<'_>) -> Reply {
    let console = &gateway.console;
    let get = request.method == http::Method::GET || request.method == http::Method::HEAD;
    let post = request.method == http::Method::POST;
    match (request.path, get, post) {
        ("/console/login", true, _) => Reply::new(200, "text/html; charset=utf-8", LOGIN.into()),
        ("/console/login", _, true) => login(console, &request.body),
        ("/console/logout", _, true) => {
            Reply::redirect("/console/login", Some(auth::logout_cookie()))
        }
        ("/console/favicon.svg", true, _) => Reply::new(200, "image/svg+xml", ICON.into()),
        ("/console/console.css", true, _) => {
            Reply::new(200, "text/css; charset=utf-8", STYLE.into())
        }
        _ if !console.auth.allows(request.headers) => Reply::unauthorized(),
        ("/console" | "/console/", true, _) => {
            Reply::new(200, "text/html; charset=utf-8", PAGE.into())
        }
        ("/console/console.js", true, _) => {
            Reply::new(200, "text/javascript; charset=utf-8", SCRIPT.into())
        }
        ("/console/api/status", true, _) => Reply::json(200, &status::status(gateway)),
        ("/console/api/quotas", true, _) => match serde_json::to_value(gateway.quotas.view().await)
        {
            Ok(quotas) => Reply::json(200, &json!({ "quotas": quotas })),
            Err(_) => Reply::error(500, "internal", "internal error"),
        },
        ("/console/api/traffic", true, _) => Reply::json(200, &console.traffic.to_json()),
        ("/console/api/decisions", true, _) => decisions(console, request.query),
        ("/console/api/choices", true, _) => choices(gateway),
        ("/console/api/decide", _, true) => decide(gateway, request),
        ("/console/api/candidate", _, true) => candidate(gateway, request).await,
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

fn login(console: &ConsoleState, body: &[u8]) -> Reply {
    let token = form_urlencoded::parse(body)
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    match console.auth.login(&token) {
        Some(cookie) => {
            tracing::info!("console login");
            Reply::redirect("/console", Some(cookie))
        }
        None => {
            tracing::warn!("console login refused: wrong admin token");
            Reply::error(401, "unauthorized", "wrong admin token")
        }
    }
}

fn decisions(console: &ConsoleState, query: Option<&str>) -> Reply {
    let capacity = console.decisions.capacity();
    let limit = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(name, _)| name == "limit")
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(capacity)
        .min(capacity);
    let entries: Vec<Value> = console
        .decisions
        .recent(limit)
        .iter()
        .map(|entry| entry.to_json())
        .collect();
    Reply::json(200, &json!({ "capacity": capacity, "decisions": entries }))
}

/// What the playground's pickers offer: principals (names and groups,
/// never keys), actions and buckets.
fn choices(gateway: &Gateway) -> Reply {
    let credentials = gateway.credentials.load();
    let mut principals: Vec<Value> = credentials
        .iter()
        .map(|c| json!({ "name": c.principal, "groups": c.groups }))
        .collect();
    principals.sort_by_key(|p| p["name"].as_str().map(str::to_owned));
    principals.dedup();
    let buckets: Vec<String> = gateway.config.buckets.keys().cloned().collect();
    Reply::json(
        200,
        &json!({
            "principals": principals,
            "actions": cedargate_policies::action_names(),
            "buckets": buckets,
        }),
    )
}

fn json_body<T: serde::de::DeserializeOwned>(request: &AdminRequest<'_>) -> Result<T, Reply> {
    let is_json = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(Reply::error(
            415,
            "unsupported_media_type",
            "send `Content-Type: application/json`",
        ));
    }
    serde_json::from_slice(&request.body).map_err(|error| {
        Reply::error(
            400,
            "invalid_request",
            &format!("invalid JSON body: {error}"),
        )
    })
}

fn decide(gateway: &Gateway, request: &AdminRequest<'_>) -> Reply {
    let input: playground::DecideInput = match json_body(request) {
        Ok(input) => input,
        Err(reply) => return reply,
    };
    let asked = input.to_asked(&gateway.credentials.load());
    let snapshot = gateway.policies.snapshot();
    let decision = asked.decide(&snapshot);
    Reply::json(200, &playground::decision_json(&decision, &snapshot))
}

async fn candidate(gateway: &Arc<Gateway>, request: &AdminRequest<'_>) -> Reply {
    let input: playground::CandidateInput = match json_body(request) {
        Ok(input) => input,
        Err(reply) => return reply,
    };
    let Ok(_slot) = gateway.console.candidate_slots.try_acquire() else {
        return Reply::error(429, "busy", "two candidates are being tried; try again");
    };
    let name = match playground::check_candidate(&input) {
        Ok(name) => name.to_owned(),
        Err(message) => return Reply::error(400, "invalid_request", &message),
    };
    let limit = input
        .limit
        .unwrap_or(playground::MAX_REPLAY)
        .min(playground::MAX_REPLAY);
    let recorded = gateway.console.decisions.recent(limit);
    let live = gateway.policies.snapshot();
    let text = input.text;
    match tokio::task::spawn_blocking(move || {
        playground::try_candidate(&live, &name, &text, &recorded)
    })
    .await
    {
        Ok(answer) => Reply::json(200, &answer),
        Err(_) => Reply::error(500, "internal", "internal error"),
    }
}

/// The traffic sampler's loop: a baseline at start, then one sample every
/// `console.sample_interval_seconds`.
#[derive(Debug)]
pub struct Sampler {
    /// The gateway whose counters are sampled.
    pub gateway: Arc<Gateway>,
}

#[async_trait::async_trait]
impl BackgroundService for Sampler {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let console = &self.gateway.console;
        if !console.enabled {
            return;
        }
        let mut ticks = tokio::time::interval(console.traffic.interval());
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = ticks.tick() => {
                    let totals = self.gateway.metrics.request_totals();
                    console.traffic.observe(totals, SystemTime::now());
                }
            }
        }
    }
}
