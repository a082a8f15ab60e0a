//! The gateway's configuration: one TOML file, loaded as
//! `from_file -> from_str -> validate`.
//!
//! Every table denies unknown fields, every field is documented here, and a
//! validation error names the field it is about (`buckets.photos.backend`).
//! [`Config::embedded_default`] is what `cedargate serve` runs with no file:
//! a filesystem backend under `./data` with two buckets, where buckets
//! created through the API land too.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bytesize::ByteSize;
use serde::Deserialize;

use crate::error::ErrorProfile;
use crate::state::RateLimit;

mod backends;
mod console;
mod cors;
mod limits;
mod secrets;
mod sts;

pub use backends::{BackendConfig, GcsUpstreamConfig, UpstreamConfig};
pub use console::{ConsoleConfig, MAX_CONSOLE_DECISIONS};
pub use cors::{CORS_METHODS, CorsRule, MAX_CORS_RULES};
pub use limits::{RateLimitsConfig, StateConfig, StoreKind};
pub use secrets::{readable_by_others, warn_about_readable_secret_files};
pub use sts::{
    IssuerConfig, MAX_SESSION_SECONDS, MIN_SESSION_SECONDS, RoleConfig, SealKeyConfig, StsConfig,
};

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML did not parse or did not match the schema.
    #[error("invalid config: {0}")]
    Parse(#[from] toml::de::Error),
    /// A field has an invalid value.
    #[error("invalid config field `{field}`: {message}")]
    Invalid {
        /// The dotted path of the field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// Most connections the admin listener may hold open at once: it serves
/// probes, Prometheus and a few operators, never S3 traffic.
pub const MAX_ADMIN_CONNECTIONS: usize = 1024;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Listeners and process settings.
    #[serde(default)]
    pub server: ServerConfig,
    /// S3 protocol behaviour.
    #[serde(default)]
    pub s3: S3Config,
    /// Where static credentials come from.
    #[serde(default)]
    pub credentials: CredentialsConfig,
    /// Telemetry settings.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// Where the Cedar policies come from.
    #[serde(default)]
    pub policies: PoliciesConfig,
    /// Anonymous (unsigned) access.
    #[serde(default)]
    pub anonymous: AnonymousConfig,
    /// Storage backends by name.
    #[serde(default)]
    pub backends: BTreeMap<String, BackendConfig>,
    /// Client-facing buckets by name, each mapped to a backend.
    #[serde(default)]
    pub buckets: BTreeMap<String, BucketConfig>,
    /// Where buckets not listed in `[buckets]` live, CreateBucket's among
    /// them; without it only the listed buckets exist.
    #[serde(default)]
    pub default_route: Option<DefaultRouteConfig>,
    /// Request rate limits.
    #[serde(default)]
    pub rate_limits: RateLimitsConfig,
    /// Where quota usage and rate-limit state live.
    #[serde(default)]
    pub state: StateConfig,
    /// STS: roles OIDC tokens may assume.
    #[serde(default)]
    pub sts: StsConfig,
    /// Trace export.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// The operator console on the admin listener.
    #[serde(default)]
    pub console: ConsoleConfig,
    /// Whether this is [`Config::embedded_default`] (`cedargate serve`
    /// without a file): only then do the development credential and the
    /// development policy set exist. A file cannot set it.
    #[serde(skip)]
    pub embedded_default: bool,
}

/// Trace export (`[telemetry]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// The OTLP/HTTP traces URL (e.g. `http://127.0.0.1:4318/v1/traces`);
    /// unset, no trace is made.
    pub otlp_endpoint: Option<String>,
    /// The `service.name` of the exported resource.
    pub service_name: String,
    /// How often buffered spans are sent, in milliseconds.
    pub export_interval_ms: u64,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: "cedargate".to_owned(),
            export_interval_ms: 5000,
        }
    }
}

/// Listeners and process settings (`[server]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address of the S3 listener.
    pub listen: SocketAddr,
    /// Address of the admin listener (`/healthz`, `/readyz`, `/metrics`,
    /// `/quotas` and the console).
    pub admin_listen: SocketAddr,
    /// Worker threads for the S3 listener.
    pub threads: usize,
    /// Seconds in-flight requests may take to finish on graceful shutdown (SIGTERM).
    pub grace_period_seconds: u64,
    /// An additional HTTPS listener for S3 (`[server.tls]`), off by default.
    pub tls: Option<TlsConfig>,
    /// Client connections open at once on the S3 listeners together; more are
    /// answered with SlowDown and closed.
    pub max_connections: usize,
    /// Seconds a request's header section may take to arrive (slow senders
    /// are cut off; bodies are not limited by it).
    pub header_timeout_seconds: u64,
    /// Client connections open at once on the admin listener; more are
    /// answered with 503 and closed. Kept small: the admin listener must
    /// never take the file descriptors the S3 listener needs.
    pub admin_max_connections: usize,
    /// Seconds a request's header section may take to arrive on the admin
    /// listener.
    pub admin_header_timeout_seconds: u64,
    /// Seconds a request body may take to arrive on the admin listener,
    /// once its header section was accepted; past that the request is
    /// answered 408 and the connection closed.
    pub admin_body_timeout_seconds: u64,
}

/// An HTTPS listener for S3 (`[server.tls]`), served with rustls.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Address of the HTTPS S3 listener.
    pub listen: SocketAddr,
    /// PEM certificate chain; relative paths are relative to the config file.
    pub cert_file: PathBuf,
    /// PEM private key; relative paths are relative to the config file.
    pub key_file: PathBuf,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9000)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 9001)),
            threads: 2,
            grace_period_seconds: 10,
            tls: None,
            max_connections: 4096,
            header_timeout_seconds: 10,
            admin_max_connections: 64,
            admin_header_timeout_seconds: 5,
            admin_body_timeout_seconds: 10,
        }
    }
}

/// S3 protocol behaviour (`[s3]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Config {
    /// Which status column of the error table to answer with: `documented` or `aws`.
    pub error_profile: ErrorProfile,
    /// The region clients sign for; `*` accepts any region.
    pub region: String,
    /// Largest accepted difference between a request's date and the gateway clock.
    pub max_clock_skew_seconds: u64,
    /// Host suffixes for virtual-hosted-style addressing (`bucket.<suffix>`).
    pub virtual_host_suffixes: Vec<String>,
    /// Largest XML request body (DeleteObjects, CompleteMultipartUpload) in bytes.
    pub max_xml_body_bytes: usize,
    /// Most request headers accepted (pingora itself refuses more than 256).
    pub max_headers: usize,
    /// Largest total size of the request headers (names and values), in bytes.
    pub max_header_bytes: usize,
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            error_profile: ErrorProfile::Documented,
            region: "us-east-1".into(),
            max_clock_skew_seconds: 900,
            virtual_host_suffixes: Vec::new(),
            max_xml_body_bytes: 2 * 1024 * 1024,
            max_headers: 100,
            max_header_bytes: 16 * 1024,
        }
    }
}

/// Where static credentials come from (`[credentials]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CredentialsConfig {
    /// A TOML file of `[[credential]]` entries; relative paths are relative
    /// to the config file. Unset, or with no enabled entry, no static
    /// credential is accepted (logged at start): a generated development
    /// credential exists only in the embedded default.
    pub file: Option<PathBuf>,
}

/// Where the Cedar policies come from (`[policies]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoliciesConfig {
    /// A directory of `.cedar` files; relative paths are relative to the
    /// config file. Unset in a config file: only the base set, so every
    /// request is denied (logged at start); unset in the embedded default:
    /// the development set (the dev credential may do everything, nobody
    /// else anything).
    pub dir: Option<PathBuf>,
    /// Reload the directory when a `.cedar` file changes.
    pub watch: bool,
    /// Milliseconds of quiet after a change before reloading.
    pub reload_debounce_ms: u64,
}

impl Default for PoliciesConfig {
    fn default() -> Self {
        Self {
            dir: None,
            watch: true,
            reload_debounce_ms: 250,
        }
    }
}

/// Anonymous (unsigned) access (`[anonymous]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnonymousConfig {
    /// The global switch: when false every unsigned request is refused
    /// (`anonymous_reject_total{reason="disabled_globally"}`); when true,
    /// policies decide, within the read-only allowlist.
    pub enabled: bool,
}

/// Telemetry settings (`[metrics]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Prefix of every metric name.
    pub prefix: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            prefix: "cedargate".into(),
        }
    }
}

/// The route of buckets not listed in `[buckets]` (`[default_route]`):
/// client bucket `NAME` is the backend's bucket `bucket_prefix + NAME`.
/// Buckets created through the API land there, so they stay routable after
/// a restart; they can be deleted through the API, listed ones never.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultRouteConfig {
    /// The backend (a name in `[backends]`).
    pub backend: String,
    /// Put before the client's bucket name to make the backend's (e.g.
    /// `gw-`); lowercase letters, digits and `-`, at most 32 characters.
    #[serde(default)]
    pub bucket_prefix: String,
}

/// A client-facing bucket (`[buckets.NAME]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketConfig {
    /// Name of the backend (a key of `[backends]`) that stores this bucket.
    pub backend: String,
    /// The bucket's name in the backend; defaults to the client-facing name.
    #[serde(default)]
    pub backend_bucket: Option<String>,
    /// A key prefix in the backend bucket under which this bucket's objects
    /// live (`"tenants/acme/"`): the client sees keys without it, and never
    /// the prefix itself.
    #[serde(default)]
    pub prefix: Option<String>,
    /// A size quota (`[buckets.NAME.quota]`), none by default.
    #[serde(default)]
    pub quota: Option<QuotaConfig>,
    /// Per client address, a limit on unsigned requests to this bucket, in
    /// addition to `rate_limits.anonymous_source_ip` (e.g. for a public
    /// dataset).
    #[serde(default)]
    pub anonymous_rate_limit: Option<RateLimit>,
    /// The CORS rules (`[[buckets.NAME.cors_rules]]`) browsers' cross-origin
    /// requests are checked against, first match wins; none by default:
    /// preflights are refused and no CORS header is sent.
    #[serde(default)]
    pub cors_rules: Vec<CorsRule>,
}

/// A bucket's size quota. Sizes are bytes (`10485760`) or text with a unit
/// (`"10 MiB"`, `"2GB"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaConfig {
    /// Writes that would take the bucket past this are refused (507
    /// EntityTooLarge, through the quota policy).
    pub hard: Option<ByteSize>,
    /// Writes that take the bucket past this are served, logged and counted
    /// (`quota_soft_exceeded_total`).
    pub soft: Option<ByteSize>,
}

impl Config {
    /// Loads and validates a config file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Self::from_str(&text)?;
        if let Some(dir) = path.parent() {
            if let Some(file) = &config.credentials.file {
                config.credentials.file = Some(dir.join(file));
            }
            if let Some(policies) = &config.policies.dir {
                config.policies.dir = Some(dir.join(policies));
            }
            if let Some(tls) = &mut config.server.tls {
                tls.cert_file = dir.join(&tls.cert_file);
                tls.key_file = dir.join(&tls.key_file);
            }
            config.sts.resolve(dir);
            config.console.resolve(dir);
        }
        Ok(config)
    }

    /// Parses and validates TOML text.
    #[expect(
        clippy::should_implement_trait,
        reason = "mirrors from_file; FromStr adds nothing"
    )]
    pub fn from_str(text: &str) -> Result<Self, ConfigError> {
        toml::from_str::<Self>(text)?.validate()
    }

    /// The embedded default: fs backend under `./data`, buckets `demo` and `scratch`.
    pub fn embedded_default() -> Self {
        let fs = BackendConfig::Fs {
            root: PathBuf::from("./data"),
            durable_writes: true,
            inline_reads: true,
        };
        let bucket = || BucketConfig {
            backend: "local".into(),
            backend_bucket: None,
            prefix: None,
            quota: None,
            anonymous_rate_limit: None,
            cors_rules: Vec::new(),
        };
        Self {
            server: ServerConfig::default(),
            s3: S3Config::default(),
            credentials: CredentialsConfig::default(),
            metrics: MetricsConfig::default(),
            policies: PoliciesConfig::default(),
            anonymous: AnonymousConfig::default(),
            backends: BTreeMap::from([("local".into(), fs)]),
            buckets: BTreeMap::from([("demo".into(), bucket()), ("scratch".into(), bucket())]),
            default_route: Some(DefaultRouteConfig {
                backend: "local".into(),
                bucket_prefix: String::new(),
            }),
            rate_limits: RateLimitsConfig::default(),
            state: StateConfig::default(),
            sts: StsConfig::default(),
            telemetry: TelemetryConfig::default(),
            console: ConsoleConfig::default(),
            embedded_default: true,
        }
    }

    /// Checks every cross-field rule; errors name the field.
    pub fn validate(self) -> Result<Self, ConfigError> {
        self.sts.validate()?;
        self.console.validate(self.server.admin_listen)?;
        if self.server.max_connections == 0 {
            return Err(invalid("server.max_connections", "must be at least 1"));
        }
        for (field, value) in [
            (
                "server.header_timeout_seconds",
                self.server.header_timeout_seconds,
            ),
            (
                "server.admin_header_timeout_seconds",
                self.server.admin_header_timeout_seconds,
            ),
            (
                "server.admin_body_timeout_seconds",
                self.server.admin_body_timeout_seconds,
            ),
        ] {
            if value == 0 {
                return Err(invalid(field, "must be at least 1"));
            }
        }
        if !(1..=MAX_ADMIN_CONNECTIONS).contains(&self.server.admin_max_connections) {
            return Err(invalid(
                "server.admin_max_connections",
                format!("must be between 1 and {MAX_ADMIN_CONNECTIONS}"),
            ));
        }
        if self.server.threads == 0 || self.server.threads > 1024 {
            return Err(invalid("server.threads", "must be between 1 and 1024"));
        }
        // Port 0 asks the OS for a free port: such listeners never clash.
        let clash = |a: SocketAddr, b: SocketAddr| a == b && a.port() != 0;
        if clash(self.server.listen, self.server.admin_listen) {
            return Err(invalid(
                "server.admin_listen",
                "must differ from `server.listen`",
            ));
        }
        if let Some(tls) = &self.server.tls {
            let taken = [self.server.listen, self.server.admin_listen];
            if taken.iter().any(|&other| clash(other, tls.listen)) {
                return Err(invalid(
                    "server.tls.listen",
                    "must differ from `server.listen` and `server.admin_listen`",
                ));
            }
        }
        if self.policies.reload_debounce_ms > 60_000 {
            return Err(invalid(
                "policies.reload_debounce_ms",
                "must be at most 60000",
            ));
        }
        if self.s3.region.is_empty() {
            return Err(invalid(
                "s3.region",
                "must not be empty (use `*` for any region)",
            ));
        }
        if self.s3.max_xml_body_bytes < 1024 || self.s3.max_xml_body_bytes > 64 * 1024 * 1024 {
            return Err(invalid(
                "s3.max_xml_body_bytes",
                "must be between 1 KiB and 64 MiB",
            ));
        }
        for (i, suffix) in self.s3.virtual_host_suffixes.iter().enumerate() {
            if suffix.is_empty() || suffix.starts_with('.') || suffix.contains(['/', ':']) {
                return Err(invalid(
                    format!("s3.virtual_host_suffixes[{i}]"),
                    format!("`{suffix}` is not a host name suffix"),
                ));
            }
        }
        if self.metrics.prefix.is_empty()
            || !self
                .metrics
                .prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(invalid("metrics.prefix", "must be letters, digits and `_`"));
        }
        for (name, backend) in &self.backends {
            match backend {
                BackendConfig::Fs { root, .. } if root.as_os_str().is_empty() => {
                    return Err(invalid(
                        format!("backends.{name}.root"),
                        "must not be empty",
                    ));
                }
                BackendConfig::Fs { root, .. } => {
                    // Two names for one root would let the default route
                    // reach a listed bucket's directory under another name.
                    let shared = self.backends.iter().find(|(other, backend)| {
                        other.as_str() < name.as_str()
                            && matches!(backend, BackendConfig::Fs { root: r, .. } if r == root)
                    });
                    if let Some((other, _)) = shared {
                        return Err(invalid(
                            format!("backends.{name}.root"),
                            format!("is also the root of `backends.{other}`"),
                        ));
                    }
                }
                BackendConfig::S3(_) | BackendConfig::Gcs(_) => {
                    let upstream = match backend {
                        BackendConfig::Gcs(gcs) => gcs.as_upstream(),
                        BackendConfig::S3(s3) => s3.clone(),
                        BackendConfig::Fs { .. } => continue,
                    };
                    let field = format!("backends.{name}");
                    if !(upstream.endpoint.starts_with("http://")
                        || upstream.endpoint.starts_with("https://"))
                    {
                        return Err(invalid(
                            format!("{field}.endpoint"),
                            "must be an http:// or https:// URL",
                        ));
                    }
                    if upstream.secret_key.is_some() == upstream.secret_key_env.is_some() {
                        return Err(invalid(
                            format!("{field}.secret_key"),
                            "set exactly one of `secret_key` and `secret_key_env`",
                        ));
                    }
                    let timeouts = [
                        ("connect_timeout_ms", upstream.connect_timeout_ms),
                        ("read_timeout_ms", upstream.read_timeout_ms),
                    ];
                    for (timeout, value) in timeouts {
                        if !(1..=600_000).contains(&value) {
                            return Err(invalid(
                                format!("{field}.{timeout}"),
                                "must be between 1 and 600000",
                            ));
                        }
                    }
                }
            }
        }
        self.validate_limits()?;
        self.validate_state()?;
        if let Some(route) = &self.default_route {
            if !self.backends.contains_key(&route.backend) {
                return Err(invalid(
                    "default_route.backend",
                    format!("no backend named `{}` in [backends]", route.backend),
                ));
            }
            let prefix = &route.bucket_prefix;
            let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
            if prefix.len() > 32 || !prefix.chars().all(allowed) || prefix.starts_with('-') {
                return Err(invalid(
                    "default_route.bucket_prefix",
                    "must be at most 32 lowercase letters, digits and `-`, not starting with `-`",
                ));
            }
        }
        for (name, bucket) in &self.buckets {
            if let Some(quota) = &bucket.quota {
                if quota.hard.is_none() && quota.soft.is_none() {
                    return Err(invalid(
                        format!("buckets.{name}.quota"),
                        "set `hard`, `soft` or both",
                    ));
                }
                if let (Some(hard), Some(soft)) = (quota.hard, quota.soft)
                    && soft > hard
                {
                    return Err(invalid(
                        format!("buckets.{name}.quota.soft"),
                        "must not be larger than `hard`",
                    ));
                }
            }
            if let Some(prefix) = &bucket.prefix
                && (prefix.len() < 2
                    || prefix.len() > 512
                    || prefix.contains('\0')
                    || prefix.starts_with('/')
                    || !prefix.ends_with('/')
                    || prefix.contains("//")
                    || prefix.contains('\\')
                    || prefix
                        .split('/')
                        .any(|segment| segment == "." || segment == ".."))
            {
                // Without the final `/`, `tenants/acme` would also cover
                // `tenants/acme-x`, which this bucket's clients would see;
                // a segment an upstream normalises (`..`, `.`, `//`, `\`)
                // would put the bucket's objects somewhere else.
                return Err(invalid(
                    format!("buckets.{name}.prefix"),
                    "must be 2 to 512 bytes ending in `/`, not starting with `/`, without NUL, \
                     backslash, empty, `.` or `..` segments",
                ));
            }
            if crate::route::validate_bucket(name).is_err() {
                return Err(invalid(
                    format!("buckets.{name}"),
                    format!("`{name}` is not a valid S3 bucket name"),
                ));
            }
            if !self.backends.contains_key(&bucket.backend) {
                return Err(invalid(
                    format!("buckets.{name}.backend"),
                    format!("no backend named `{}` in [backends]", bucket.backend),
                ));
            }
            if let Some(backend_bucket) = &bucket.backend_bucket
                && crate::route::validate_bucket(backend_bucket).is_err()
            {
                return Err(invalid(
                    format!("buckets.{name}.backend_bucket"),
                    format!("`{backend_bucket}` is not a valid bucket name"),
                ));
            }
            cors::validate_cors_rules(&format!("buckets.{name}"), &bucket.cors_rules)?;
        }
        Ok(self)
    }

    fn validate_limits(&self) -> Result<(), ConfigError> {
        let limits = &self.rate_limits;
        let named = [
            ("global", limits.global),
            ("credential", limits.credential),
            ("source_ip", limits.source_ip),
            ("anonymous_source_ip", limits.anonymous_source_ip),
        ];
        let overrides = limits
            .credentials
            .iter()
            .map(|(key, limit)| (format!("credentials.{key}"), Some(*limit)));
        let per_bucket = self.buckets.iter().map(|(bucket, config)| {
            (
                format!("buckets.{bucket}.anonymous_rate_limit"),
                config.anonymous_rate_limit,
            )
        });
        let all = named
            .into_iter()
            .map(|(name, limit)| (format!("rate_limits.{name}"), limit))
            .chain(overrides.map(|(name, limit)| (format!("rate_limits.{name}"), limit)))
            .chain(per_bucket);
        for (name, limit) in all {
            let Some(limit) = limit else { continue };
            if limit.period().is_none() {
                return Err(invalid(
                    format!("{name}.rate"),
                    "must be a positive number of requests per second (at most 1e9)",
                ));
            }
            if limit.burst == 0 {
                return Err(invalid(format!("{name}.burst"), "must be at least 1"));
            }
        }
        if limits.max_tracked_keys == 0 {
            return Err(invalid(
                "rate_limits.max_tracked_keys",
                "must be at least 1",
            ));
        }
        Ok(())
    }

    fn validate_state(&self) -> Result<(), ConfigError> {
        let state = &self.state;
        if state.store == StoreKind::Redis && state.redis_url.is_none() {
            return Err(invalid(
                "state.redis_url",
                "is required with `store = \"redis\"`",
            ));
        }
        if state.key_prefix.is_empty() || state.key_prefix.contains(['{', '}', ' ']) {
            return Err(invalid(
                "state.key_prefix",
                "must be non-empty, without braces or spaces",
            ));
        }
        let millis = [
            ("connect_timeout_ms", state.connect_timeout_ms),
            ("response_timeout_ms", state.response_timeout_ms),
        ];
        for (field, value) in millis {
            if !(1..=60_000).contains(&value) {
                return Err(invalid(
                    format!("state.{field}"),
                    "must be between 1 and 60000",
                ));
            }
        }
        if !(1..=3600).contains(&state.lease_seconds) {
            return Err(invalid("state.lease_seconds", "must be between 1 and 3600"));
        }
        if !(1..=3600).contains(&state.maintenance_interval_seconds)
            || state.maintenance_interval_seconds >= state.lease_seconds
        {
            return Err(invalid(
                "state.maintenance_interval_seconds",
                "must be between 1 and 3600 and shorter than `lease_seconds`",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
