//! Gateway metrics (`docs/metrics.md`), recorded through the OpenTelemetry
//! API and exposed as Prometheus text on the admin listener.
//!
//! The *respond* stage records one request sample per request; stages that
//! refuse a request record their reason counters. Labels only take values
//! from fixed sets: bucket and key are never labels.

use std::collections::BTreeMap;
use std::sync::Arc;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, MeterProvider, UpDownCounter};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use prometheus::{Encoder, TextEncoder};

/// Histogram boundaries in seconds, from half a millisecond to a minute.
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// Histogram boundaries for policy decisions, from 1 us to 10 ms.
const DECISION_BUCKETS: &[f64] = &[
    0.000_001,
    0.000_002_5,
    0.000_005,
    0.000_01,
    0.000_025,
    0.000_05,
    0.000_1,
    0.000_25,
    0.000_5,
    0.001,
    0.0025,
    0.01,
];

/// One finished S3 request, as the metrics see it.
#[derive(Debug, Clone, Copy)]
pub struct RequestSample<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// AWS operation name, or `Unclassified`.
    pub operation: &'static str,
    /// HTTP status sent.
    pub status: u16,
    /// `ok`, or the reason the request was refused or failed.
    pub result: &'static str,
    /// `signed`, `presigned`, `sts`, `anonymous`, or `none` before authentication.
    pub auth_mode: &'static str,
    /// End-to-end seconds.
    pub duration: f64,
    /// Seconds spent in the backend, when it was reached.
    pub upstream_duration: Option<f64>,
    /// Body bytes received from the client.
    pub bytes_in: u64,
    /// Body bytes sent to the client.
    pub bytes_out: u64,
}

/// The methods S3 clients use; any other method is counted as [`OTHER_METHOD`].
const KNOWN_METHODS: [&str; 7] = ["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH"];

/// The `method` label of a method outside [`KNOWN_METHODS`].
pub const OTHER_METHOD: &str = "other";

/// The `method` label: one of [`KNOWN_METHODS`], else [`OTHER_METHOD`], so
/// that made-up methods cannot add series.
fn method_label(method: &str) -> &'static str {
    KNOWN_METHODS
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or(OTHER_METHOD)
}

/// The gateway's instruments and the registry they are exported from.
#[derive(Clone)]
pub struct Metrics {
    registry: prometheus::Registry,
    request_total_name: String,
    _provider: Arc<SdkMeterProvider>,
    request_total: Counter<u64>,
    request_duration: Histogram<f64>,
    upstream_duration: Histogram<f64>,
    bytes_in: Counter<u64>,
    bytes_out: Counter<u64>,
    auth_failure: Counter<u64>,
    inflight: UpDownCounter<i64>,
    credential_cache_size: opentelemetry::metrics::Gauge<u64>,
    scope_violation: Counter<u64>,
    anonymous_request: Counter<u64>,
    anonymous_reject: Counter<u64>,
    rate_limited: Counter<u64>,
    quota_reject: Counter<u64>,
    quota_soft_exceeded: Counter<u64>,
    backend_up: opentelemetry::metrics::Gauge<u64>,
    policy_reload: Counter<u64>,
    policy_generation: opentelemetry::metrics::Gauge<u64>,
    policy_decision_duration: Histogram<f64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Builds the instruments with every name starting with `prefix`.
    pub fn new(prefix: &str) -> Result<Self, opentelemetry_sdk::error::OTelSdkError> {
        let registry = prometheus::Registry::new();
        let exporter = opentelemetry_prometheus::exporter()
            .with_registry(registry.clone())
            .without_units()
            .without_counter_suffixes()
            .without_target_info()
            .scope_info_enabled(false)
            .build()?;
        let provider = SdkMeterProvider::builder().with_reader(exporter).build();
        let meter = provider.meter("cedargate");
        let name = |suffix: &str| format!("{prefix}_{suffix}");
        let seconds = |suffix: &str, help: &'static str| {
            meter
                .f64_histogram(name(suffix))
                .with_description(help)
                .with_boundaries(SECONDS_BUCKETS.to_vec())
                .build()
        };
        let counter = |suffix: &str, help: &'static str| {
            meter
                .u64_counter(name(suffix))
                .with_description(help)
                .build()
        };
        Ok(Self {
            request_total: counter("s3_request_total", "S3 requests by outcome"),
            request_duration: seconds("s3_request_duration_seconds", "End-to-end request time"),
            upstream_duration: seconds("s3_upstream_duration_seconds", "Time spent in the backend"),
            bytes_in: counter("s3_bytes_in_total", "Body bytes received from clients"),
            bytes_out: counter("s3_bytes_out_total", "Body bytes sent to clients"),
            auth_failure: counter("s3_auth_failure_total", "Authentication failures by reason"),
            inflight: meter
                .i64_up_down_counter(name("s3_inflight_requests"))
                .with_description("Requests in flight")
                .build(),
            credential_cache_size: meter
                .u64_gauge(name("s3_credential_cache_size"))
                .with_description("Credentials loaded")
                .build(),
            scope_violation: counter(
                "s3_scope_violation_total",
                "Authenticated requests refused because the bucket is outside the credential's scope",
            ),
            anonymous_request: counter("s3_anonymous_request_total", "Anonymous requests served"),
            anonymous_reject: counter(
                "s3_anonymous_reject_total",
                "Anonymous requests refused by reason",
            ),
            rate_limited: counter(
                "s3_rate_limited_total",
                "Requests refused by a rate limit, by scope",
            ),
            quota_reject: counter(
                "s3_quota_reject_total",
                "Writes refused for a bucket's hard cap (507)",
            ),
            quota_soft_exceeded: counter(
                "s3_quota_soft_exceeded_total",
                "Writes served that took a bucket past its soft cap",
            ),
            backend_up: meter
                .u64_gauge(name("backend_up"))
                .with_description("1 when the backend's last health probe succeeded")
                .build(),
            policy_reload: counter("policy_reload_total", "Policy reloads by result"),
            policy_generation: meter
                .u64_gauge(name("policy_generation"))
                .with_description("Increments on every successful policy swap")
                .build(),
            policy_decision_duration: meter
                .f64_histogram(name("policy_decision_duration_seconds"))
                .with_description("Cedar evaluation time")
                .with_boundaries(DECISION_BUCKETS.to_vec())
                .build(),
            request_total_name: name("s3_request_total"),
            registry,
            _provider: Arc::new(provider),
        })
    }

    /// Records one finished request.
    pub fn record_request(&self, sample: &RequestSample<'_>) {
        // Static label values: no allocation per request.
        let operation = [KeyValue::new("operation", sample.operation)];
        self.request_total.add(
            1,
            &[
                KeyValue::new("method", method_label(sample.method)),
                operation[0].clone(),
                KeyValue::new("status", i64::from(sample.status)),
                KeyValue::new("result", sample.result),
                KeyValue::new("auth_mode", sample.auth_mode),
            ],
        );
        self.request_duration.record(sample.duration, &operation);
        if let Some(upstream) = sample.upstream_duration {
            self.upstream_duration.record(upstream, &operation);
        }
        if sample.bytes_in > 0 {
            self.bytes_in.add(sample.bytes_in, &operation);
        }
        if sample.bytes_out > 0 {
            self.bytes_out.add(sample.bytes_out, &operation);
        }
    }

    /// Counts an authentication failure.
    pub fn record_auth_failure(&self, reason: &'static str) {
        self.auth_failure.add(1, &[KeyValue::new("reason", reason)]);
    }

    /// Counts an authenticated request refused for being outside its scope.
    pub fn record_scope_violation(&self) {
        self.scope_violation.add(1, &[]);
    }

    /// Counts an anonymous request that was served.
    pub fn record_anonymous_request(&self, operation: &'static str, status: u16) {
        self.anonymous_request.add(
            1,
            &[
                KeyValue::new("operation", operation),
                KeyValue::new("status", i64::from(status)),
            ],
        );
    }

    /// Counts an anonymous request refused, by reason (`disabled_globally`,
    /// `no_binding`, `operation_not_allowed`, `rate_limited`).
    pub fn record_anonymous_reject(&self, reason: &'static str) {
        self.anonymous_reject
            .add(1, &[KeyValue::new("reason", reason)]);
    }

    /// Counts a request refused by a rate limit (`global`, `credential`, `source_ip`).
    pub fn record_rate_limited(&self, scope: &'static str) {
        self.rate_limited.add(1, &[KeyValue::new("scope", scope)]);
    }

    /// Counts a write refused for a bucket's hard cap.
    pub fn record_quota_reject(&self) {
        self.quota_reject.add(1, &[]);
    }

    /// Counts a write that took a bucket past its soft cap.
    pub fn record_quota_soft_exceeded(&self) {
        self.quota_soft_exceeded.add(1, &[]);
    }

    /// Publishes a backend's last probe result.
    pub fn set_backend_up(&self, backend: &str, up: bool) {
        self.backend_up.record(
            u64::from(up),
            &[KeyValue::new("backend", backend.to_owned())],
        );
    }

    /// Counts a policy reload (`ok` or `invalid`) and publishes the generation.
    pub fn record_policy_reload(&self, ok: bool, generation: u64) {
        let result = if ok { "ok" } else { "invalid" };
        self.policy_reload
            .add(1, &[KeyValue::new("result", result)]);
        self.policy_generation.record(generation, &[]);
    }

    /// Records the time one policy decision took.
    pub fn record_decision(&self, seconds: f64) {
        self.policy_decision_duration.record(seconds, &[]);
    }

    /// Marks a request as started (`+1`) or finished (`-1`).
    pub fn inflight(&self, delta: i64) {
        self.inflight.add(delta, &[]);
    }

    /// Sets the number of credentials loaded.
    pub fn set_credential_count(&self, count: usize) {
        self.credential_cache_size
            .record(u64::try_from(count).unwrap_or(u64::MAX), &[]);
    }

    /// The running totals of `s3_request_total` summed by operation and
    /// status: what the console's traffic sampler reads, from the same
    /// registry `/metrics` exports.
    pub fn request_totals(&self) -> BTreeMap<(String, u16), u64> {
        let mut totals = BTreeMap::new();
        let families = self.registry.gather();
        let Some(family) = families
            .iter()
            .find(|family| family.name() == self.request_total_name)
        else {
            return totals;
        };
        for metric in family.get_metric() {
            let label = |wanted: &str| {
                metric
                    .get_label()
                    .iter()
                    .find(|pair| pair.name() == wanted)
                    .map(|pair| pair.value().to_owned())
            };
            let operation = label("operation").unwrap_or_default();
            let status = label("status").and_then(|s| s.parse().ok()).unwrap_or(0);
            let value = metric.get_counter().get_value();
            // A count of requests: a non-negative integer well below 2^53.
            let count = value.max(0.0) as u64;
            *totals.entry((operation, status)).or_insert(0) += count;
        }
        totals
    }

    /// The Prometheus text exposition of every instrument.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::warn!(%error, "cannot encode metrics");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_share_one_label_value() {
        let metrics = Metrics::new("cg").unwrap();
        for method in ["FOO", "get", "PROPFIND", "BREW", "GET"] {
            metrics.record_request(&RequestSample {
                method,
                operation: "Unclassified",
                status: 400,
                result: "ok",
                auth_mode: "none",
                duration: 0.001,
                upstream_duration: None,
                bytes_in: 0,
                bytes_out: 0,
            });
        }
        let text = String::from_utf8(metrics.render()).unwrap();
        let series: Vec<&str> = text
            .lines()
            .filter(|line| line.starts_with("cg_s3_request_total{"))
            .collect();
        assert_eq!(series.len(), 2, "{text}");
        assert!(text.contains(r#"method="other""#), "{text}");
        assert!(
            !text.contains("PROPFIND") && !text.contains("BREW"),
            "{text}"
        );
    }

    #[test]
    fn request_samples_appear_with_their_labels() {
        let metrics = Metrics::new("cg").unwrap();
        metrics.inflight(1);
        metrics.record_request(&RequestSample {
            method: "GET",
            operation: "GetObject",
            status: 200,
            result: "ok",
            auth_mode: "signed",
            duration: 0.002,
            upstream_duration: Some(0.001),
            bytes_in: 0,
            bytes_out: 5,
        });
        metrics.record_auth_failure("bad_signature");
        metrics.set_credential_count(3);
        metrics.record_rate_limited("credential");
        metrics.record_quota_reject();
        let totals = metrics.request_totals();
        assert_eq!(totals[&("GetObject".to_owned(), 200)], 1);
        let text = String::from_utf8(metrics.render()).unwrap();
        for expected in [
            r#"cg_s3_request_total{auth_mode="signed",method="GET",operation="GetObject",result="ok",status="200"} 1"#,
            r#"cg_s3_bytes_out_total{operation="GetObject"} 5"#,
            r#"cg_s3_auth_failure_total{reason="bad_signature"} 1"#,
            "cg_s3_inflight_requests 1",
            "cg_s3_credential_cache_size 3",
            r#"cg_s3_rate_limited_total{scope="credential"} 1"#,
            "cg_s3_quota_reject_total 1",
            r#"cg_s3_request_duration_seconds_bucket{operation="GetObject",le="0.0025"} 1"#,
            r#"cg_s3_upstream_duration_seconds_count{operation="GetObject"} 1"#,
        ] {
            assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
        }
    }
}
