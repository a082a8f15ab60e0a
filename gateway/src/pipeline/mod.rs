//! The request pipeline: route, classify, authenticate, authorize, dispatch.
//!
//! [`Gateway`] holds the state every stage consults (configuration, bucket
//! map, credential snapshot, metrics); [`Gateway::handle`] runs the stages
//! in order over one request and returns the answer or the S3 error that
//! stopped it; [`Gateway::serve`] adds the *respond* stage, which turns
//! either into an [`Answer`]. [`RequestCtx`] carries what the *respond*
//! stage needs to log and count the request, and the CORS headers it adds
//! to the answer.
//! CORS preflights (`OPTIONS`) leave the pipeline right after *route*
//! (and the per-address rate limits), unauthenticated: see [`crate::cors`].
//!
//! The pipeline knows no HTTP server: it takes the request head
//! ([`http::request::Parts`]), the [`Peer`] it came from and the client's
//! body as a [`ClientBody`]; the server layer (`crate::proxy`) adapts its
//! sessions to these and writes the answer.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;

use cedargate_policies::{AuthMode, PolicyStore};

use cedargate_s3::sigv4::{AuthFailure, AuthFailureReason, PayloadHash};

use crate::auth::{self, AuthOutcome, CredentialStore};
use crate::authorize::{Authorizer, Caller, Connection};
use crate::body::{ClientBody, RequestBody, decode_body, expects_continue};
use crate::buckets::BucketMap;
use crate::config::Config;
use crate::cors;
use crate::handlers::{self, HandlerEnv};
use crate::health::BackendHealth;
use crate::limits::{Limited, RateLimiter};
use crate::metrics::Metrics;
use crate::outcome::{RequestAuthMode, RequestResult};
use crate::quota::Quotas;
use crate::request::S3Request;
use crate::response::S3Response;
use crate::sts::StsService;
use crate::telemetry::{RequestTrace, Telemetry};
use cedargate_s3::body::BodyPlan;
use cedargate_s3::classify;
use cedargate_s3::classify::S3Operation;
use cedargate_s3::cors::CorsHeaders;
use cedargate_s3::error::{S3Error, S3ErrorCode};
use cedargate_s3::query::Query;
use cedargate_s3::route;
use cedargate_s3::route::RouteError;
use opentelemetry::KeyValue;

/// Everything the pipeline stages consult.
#[derive(Debug)]
pub struct Gateway {
    /// The configuration the gateway started with.
    pub config: Arc<Config>,
    /// Client-facing buckets and their backends; a reload swaps it, and
    /// each request keeps the snapshot it started with.
    pub buckets: ArcSwap<BucketMap>,
    /// The current credential snapshot.
    pub credentials: ArcSwap<CredentialStore>,
    /// SigV4 verification settings.
    pub verifier: cedargate_s3::sigv4::VerifierConfig,
    /// The live Cedar policy set.
    pub policies: Arc<PolicyStore>,
    /// Instruments.
    pub metrics: Metrics,
    /// Rate limits.
    pub limits: RateLimiter,
    /// Bucket quotas.
    pub quotas: Arc<Quotas>,
    /// Each backend's last probe result.
    pub health: Arc<BackendHealth>,
    /// STS: web identity exchange and session tokens.
    pub sts: Arc<StsService>,
    /// Traces, when exported.
    pub telemetry: Telemetry,
    /// Whether the authorizer keeps each question it asks (for the
    /// operator console's decision log and replays).
    pub keep_questions: bool,
}

/// Where a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Peer {
    /// The client's socket address, when known (`0.0.0.0` stands for it
    /// otherwise).
    pub addr: Option<std::net::SocketAddr>,
    /// Whether the connection is TLS.
    pub tls: bool,
}

/// Per-request state: filled by the pipeline, read by the *respond* stage.
#[derive(Debug)]
pub struct RequestCtx {
    /// Unique id, sent as `x-amz-request-id` and in error bodies.
    pub request_id: String,
    /// When the request arrived.
    pub started: Instant,
    /// The client-facing bucket, once routed.
    pub bucket: Option<String>,
    /// The decoded resource (`/bucket/key`), once routed, for error bodies.
    pub resource: Option<String>,
    /// The operation, once classified.
    pub operation: Option<S3Operation>,
    /// The STS action, for requests to the STS endpoint.
    pub sts_action: Option<&'static str>,
    /// How the request authenticated (`none` before authentication).
    pub auth_mode: RequestAuthMode,
    /// The authenticated principal's name.
    pub principal: Option<String>,
    /// The object key, once routed.
    pub key: Option<String>,
    /// The authorization outcome, once policies were asked.
    pub decision: Option<crate::authorize::DecisionRecord>,
    /// `ok`, or why the request was refused or failed (a fixed set of values).
    pub result: RequestResult,
    /// Status sent.
    pub status: u16,
    /// Time spent in the backend.
    pub upstream_duration: Option<Duration>,
    /// Body bytes received.
    pub bytes_in: u64,
    /// Body bytes sent.
    pub bytes_out: u64,
    /// Whether the request is a CORS preflight.
    pub preflight: bool,
    /// The CORS headers of the bucket's rules, added to the answer whether
    /// it succeeds or fails (empty for preflights, which carry their own).
    pub cors_headers: CorsHeaders,
}

impl RequestCtx {
    /// A context with a fresh request id.
    pub fn new() -> Self {
        Self {
            request_id: format!("{:016X}", rand::random::<u64>()),
            started: Instant::now(),
            bucket: None,
            resource: None,
            operation: None,
            sts_action: None,
            auth_mode: RequestAuthMode::None,
            principal: None,
            key: None,
            decision: None,
            result: RequestResult::Ok,
            status: 0,
            upstream_duration: None,
            bytes_in: 0,
            bytes_out: 0,
            preflight: false,
            cors_headers: Vec::new(),
        }
    }

    /// The operation's name for metrics, logs and traces: the S3 operation,
    /// the STS action, or [`cedargate_s3::cors::PREFLIGHT_OPERATION`]; `None` while unknown.
    pub fn operation_name(&self) -> Option<&'static str> {
        self.operation
            .map(S3Operation::name)
            .or(self.sts_action)
            .or(self
                .preflight
                .then_some(cedargate_s3::cors::PREFLIGHT_OPERATION))
    }
}

impl Default for RequestCtx {
    fn default() -> Self {
        Self::new()
    }
}

impl Gateway {
    /// Runs the pipeline over one request, traced when telemetry is on.
    /// `head` is the request head, `peer` where it came from and `body`
    /// the client's body, read only once the request is authorized.
    pub async fn handle(
        &self,
        head: &http::request::Parts,
        peer: &Peer,
        body: &mut dyn ClientBody,
        ctx: &mut RequestCtx,
    ) -> Result<S3Response, S3Error> {
        let trace = self.telemetry.request(&ctx.request_id);
        let buckets = self.buckets.load_full();
        let outcome = self.stages(head, peer, body, ctx, &trace, &buckets).await;
        if !ctx.preflight
            && let Some(target) = ctx.bucket.as_deref().and_then(|name| buckets.get(name))
        {
            let origin = head.headers.get("origin").and_then(|v| v.to_str().ok());
            ctx.cors_headers =
                cedargate_s3::cors::response_headers(&target.cors, origin, head.method.as_str());
        }
        if let Some(operation) = ctx.operation_name() {
            trace.set(KeyValue::new("s3.operation", operation));
        }
        if let Some(bucket) = &ctx.bucket {
            trace.set(KeyValue::new("s3.bucket", bucket.clone()));
        }
        let status = match &outcome {
            Ok(response) => response.status,
            Err(error) => error.status(self.config.s3.error_profile),
        };
        trace.set(KeyValue::new(
            "http.response.status_code",
            i64::from(status),
        ));
        outcome
    }

    /// The stages, each in its span of `trace`, over the bucket map snapshot
    /// `buckets`.
    async fn stages(
        &self,
        head: &http::request::Parts,
        peer: &Peer,
        client: &mut dyn ClientBody,
        ctx: &mut RequestCtx,
        trace: &RequestTrace<'_>,
        buckets: &BucketMap,
    ) -> Result<S3Response, S3Error> {
        self.check_header_section(head)?;
        if head.method == http::Method::OPTIONS {
            let _span = trace.stage("preflight");
            return self.preflight(head, peer, ctx, buckets).await;
        }
        if self.is_sts_request(head) {
            return Ok(self.sts_request(head, peer, client, ctx).await);
        }
        let span = trace.stage("route");
        let request = self.route_and_classify(head, ctx)?;
        drop(span);
        let connection = self.connection(peer, &request);
        let unsigned = is_unsigned(&request);
        let span = trace.stage("limit");
        self.limits
            .check_source(
                connection.source_ip,
                unsigned,
                request.route.bucket.as_deref(),
                &self.metrics,
            )
            .await
            .map_err(|limited| self.rate_limited(limited, unsigned, ctx))?;
        drop(span);
        if request.operation == S3Operation::PostObject {
            return self
                .post_object(&request, connection, client, ctx, trace, buckets)
                .await;
        }
        let span = trace.stage("authenticate");
        let (caller, payload, signing) = self.authenticate(&request, ctx)?;
        drop(span);
        if caller.credential().is_some() {
            let _span = trace.stage("limit");
            self.limits
                .check_caller(&caller, &self.metrics)
                .await
                .map_err(|limited| self.rate_limited(limited, false, ctx))?;
        }
        let mut authz = self
            .decide(&request, caller, connection, buckets, trace, ctx)
            .await?;
        let resolved = resolve_bucket(&request, buckets)?;
        let target = resolved.as_deref();
        if let (Some(target), Some(key)) = (target, request.route.key.as_deref())
            && target.prefix.len() + key.len() > MAX_KEY_BYTES
        {
            // The client's key fits S3's limit, but not under the bucket's prefix.
            return Err(S3Error::new(
                S3ErrorCode::KeyTooLongError,
                "your key is too long for this bucket",
            ));
        }
        let span = trace.stage("limit");
        let ticket = match target {
            Some(target) => {
                self.quotas
                    .prepare(&request, target, buckets, &mut authz)
                    .await?
            }
            None => None,
        };
        drop(span);
        let mut plan = BodyPlan::from_request(&request.headers, &payload, signing.as_ref())?;
        if request.operation == S3Operation::CompleteMultipartUpload {
            // Its `x-amz-checksum-*` header is the object's, not the body's.
            plan.checksum = None;
        }
        let signed_sha256 = match payload {
            PayloadHash::Sha256(hash) => Some(hash),
            PayloadHash::Unsigned | PayloadHash::Streaming(_) => None,
        };
        let raw = RequestBody::new(
            client,
            expects_continue(&head.headers),
            wire_length(&request)?,
            signed_sha256,
        );
        let mut body = decode_body(raw, plan);
        let env = HandlerEnv {
            buckets,
            region: self.region(),
            max_xml_body_bytes: self.config.s3.max_xml_body_bytes,
            authz: &authz,
            quotas: &self.quotas,
        };
        let started = Instant::now();
        let span = trace.stage("dispatch");
        let outcome = handlers::dispatch(&request, target, body.as_mut(), env).await;
        drop(span);
        ctx.upstream_duration = Some(started.elapsed());
        if request.operation != S3Operation::ListBuckets {
            // ListBuckets' per-bucket decisions filter the answer; they do
            // not decide the request.
            ctx.decision = authz.outcome();
        }
        ctx.bytes_in = body.received();
        if let Some(reason) = body.auth_failure() {
            self.metrics.record_auth_failure(reason.as_str());
            ctx.result = RequestResult::AuthFailure(reason);
        }
        let outcome = outcome.map_err(|error| body.take_failure().unwrap_or(error));
        if let (Some(ticket), Some(target)) = (ticket, target) {
            let result = outcome.as_ref().map(|_| ()).map_err(S3Error::code);
            ticket
                .finish(target, request.route.key.as_deref(), result)
                .await;
        }
        outcome
    }

    /// Counts a rate-limited request and answers it.
    fn rate_limited(&self, limited: Limited, unsigned: bool, ctx: &mut RequestCtx) -> S3Error {
        ctx.result = RequestResult::RateLimited;
        if unsigned {
            ctx.auth_mode = RequestAuthMode::Anonymous;
            self.metrics.record_anonymous_reject("rate_limited");
        }
        limited.to_s3_error()
    }

    /// The client address (through trusted proxies) and transport.
    fn connection(&self, peer: &Peer, request: &S3Request) -> Connection {
        Connection {
            source_ip: self.source_ip(peer, &request.headers),
            secure_transport: peer.tls,
        }
    }

    /// The client address, through trusted proxies.
    pub(crate) fn source_ip(&self, peer: &Peer, headers: &http::HeaderMap) -> std::net::IpAddr {
        let peer = peer
            .addr
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |addr| addr.ip());
        self.limits.client_ip(peer, headers)
    }

    /// A CORS preflight: *route*, the per-address and global rate limits
    /// (never the anonymous ones: a preflight carries no credentials
    /// whatever the request it prepares), then the bucket's rules decide.
    async fn preflight(
        &self,
        head: &http::request::Parts,
        peer: &Peer,
        ctx: &mut RequestCtx,
        buckets: &BucketMap,
    ) -> Result<S3Response, S3Error> {
        ctx.preflight = true;
        let route = route::route(
            request_host(head),
            head.uri.path(),
            &self.config.s3.virtual_host_suffixes,
        )
        .map_err(route_error)?;
        record_route(ctx, &route);
        let source_ip = self.source_ip(peer, &head.headers);
        self.limits
            .check_source(source_ip, false, None, &self.metrics)
            .await
            .map_err(|limited| self.rate_limited(limited, false, ctx))?;
        let target = route.bucket.as_deref().and_then(|name| buckets.get(name));
        cors::preflight(target.map(|t| &t.cors[..]), &head.headers)
    }

    /// A request to the STS endpoint, served by [`sts::serve`]
    /// with what it consults lent from the gateway.
    async fn sts_request(
        &self,
        head: &http::request::Parts,
        peer: &Peer,
        client: &mut dyn ClientBody,
        ctx: &mut RequestCtx,
    ) -> S3Response {
        let env = sts::StsEnv {
            sts: &self.sts,
            limits: &self.limits,
            metrics: &self.metrics,
            credentials: &self.credentials,
            region: &self.config.s3.region,
            max_skew: self.verifier.max_skew,
        };
        let request = sts::StsRequest {
            head,
            source_ip: self.source_ip(peer, &head.headers),
            request_id: &ctx.request_id,
        };
        let mut record = sts::StsRecord::default();
        let response = sts::serve(&env, &request, client, &mut record).await;
        if record.action.is_some() {
            ctx.sts_action = record.action;
        }
        if let Some(auth_mode) = record.auth_mode {
            ctx.auth_mode = auth_mode;
        }
        if record.principal.is_some() {
            ctx.principal = record.principal;
        }
        if let Some(result) = record.result {
            ctx.result = result;
        }
        response
    }

    /// The region reported to clients.
    fn region(&self) -> &str {
        match self.config.s3.region.as_str() {
            "*" => "us-east-1",
            region => region,
        }
    }

    /// Refuses a request with more headers, or more header bytes, than
    /// configured (before anything else reads them).
    fn check_header_section(&self, head: &http::request::Parts) -> Result<(), S3Error> {
        let headers = &head.headers;
        let bytes: usize = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        let s3 = &self.config.s3;
        if headers.len() > s3.max_headers || bytes > s3.max_header_bytes {
            return Err(S3Error::new(
                S3ErrorCode::RequestHeaderSectionTooLarge,
                format!(
                    "your request header section exceeds the maximum of {} headers and {} bytes",
                    s3.max_headers, s3.max_header_bytes
                ),
            ));
        }
        Ok(())
    }

    /// Whether the request is for the STS endpoint (no bucket, path `/`).
    fn is_sts_request(&self, head: &http::request::Parts) -> bool {
        let query = head.uri.query().unwrap_or_default();
        if !sts::is_sts_request(&head.method, head.uri.path(), query, &head.headers) {
            return false;
        }
        route::route(
            request_host(head),
            "/",
            &self.config.s3.virtual_host_suffixes,
        )
        .is_ok_and(|route| route.bucket.is_none())
    }
}

mod post;
mod respond;
mod stages;
pub mod sts;

pub use respond::{Answer, Headers};
pub use stages::auth_error;
use stages::{
    MAX_KEY_BYTES, is_unsigned, record_route, request_host, resolve_bucket, route_error,
    wire_length,
};
