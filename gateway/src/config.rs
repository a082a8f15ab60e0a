//! The gateway's configuration: one TOML file, loaded as
//! `from_file -> from_str -> validate`.
//!
//! Every table denies unknown fields, every field is documented here, and a
//! validation error names the field it is about (`buckets.photos.backend`).
//! [`Config::embedded_default`] is what `cedargate serve` runs with no file:
//! a filesystem backend under `./data` with two buckets.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bytesize::ByteSize;
use ipnet::IpNet;
use serde::Deserialize;

use crate::error::ErrorProfile;
use crate::state::RateLimit;

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
    /// Request rate limits.
    #[serde(default)]
    pub rate_limits: RateLimitsConfig,
    /// Where quota usage and rate-limit state live.
    #[serde(default)]
    pub state: StateConfig,
}

/// Request rate limits (`[rate_limits]`): token buckets with a sustained
/// `rate` (requests per second) and a `burst`. A limit that is not set does
/// not apply. Exceeding one answers 429 SlowDown with `Retry-After`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitsConfig {
    /// Every request to this gateway instance's store (with the redis store:
    /// to every instance sharing it).
    pub global: Option<RateLimit>,
    /// Per access key, checked once the signature verified.
    pub credential: Option<RateLimit>,
    /// Per access key, replacing `credential` for the keys listed.
    pub credentials: BTreeMap<String, RateLimit>,
    /// Per client address, checked before the signature is verified, so a
    /// flood of badly signed requests is limited too.
    pub source_ip: Option<RateLimit>,
    /// Per client address for unsigned requests, replacing `source_ip` for them.
    pub anonymous_source_ip: Option<RateLimit>,
    /// Proxies (addresses or CIDR blocks) whose `X-Forwarded-For` and
    /// `Forwarded` headers name the client; from anyone else these headers
    /// are ignored.
    #[serde(deserialize_with = "addresses_or_networks")]
    pub trusted_proxies: Vec<IpNet>,
    /// Largest number of per-address and per-key buckets the embedded
    /// store tracks per rate; while full, new sources share one bucket.
    pub max_tracked_keys: usize,
}

impl Default for RateLimitsConfig {
    fn default() -> Self {
        Self {
            global: None,
            credential: None,
            credentials: BTreeMap::new(),
            source_ip: None,
            anonymous_source_ip: None,
            trusted_proxies: Vec::new(),
            max_tracked_keys: crate::state::embedded::DEFAULT_MAX_KEYS,
        }
    }
}

/// `["10.0.0.0/8", "192.0.2.7"]`: CIDR blocks, or single addresses.
fn addresses_or_networks<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<IpNet>, D::Error> {
    let texts = Vec::<String>::deserialize(deserializer)?;
    texts
        .iter()
        .map(|text| {
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "`{text}` is neither an address nor a CIDR block"
                    ))
                })
        })
        .collect()
}

/// Which state store holds quota usage and rate-limit buckets (`[state]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// `embedded` (in this process; one gateway) or `redis` (shared by
    /// several gateway instances).
    pub store: StoreKind,
    /// The Redis server for `store = "redis"`: `redis://[:password@]host:port/db`.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key this gateway writes.
    pub key_prefix: String,
    /// Milliseconds to wait for a Redis connection.
    pub connect_timeout_ms: u64,
    /// Milliseconds to wait for a Redis answer.
    pub response_timeout_ms: u64,
    /// Seconds after which the in-flight reservations of an instance that
    /// stopped renewing them (it crashed) no longer count.
    pub lease_seconds: u64,
    /// Seconds between housekeeping rounds: evicting idle limiter state,
    /// renewing leases, and scanning capped buckets whose usage is unknown.
    pub maintenance_interval_seconds: u64,
}

/// The state store implementations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// In this process.
    #[default]
    Embedded,
    /// A Redis server.
    Redis,
}

impl Default for StateConfig {
    fn default() -> Self {
        Self {
            store: StoreKind::Embedded,
            redis_url: None,
            key_prefix: "cedargate".into(),
            connect_timeout_ms: 2000,
            response_timeout_ms: 2000,
            lease_seconds: 30,
            maintenance_interval_seconds: 5,
        }
    }
}

/// Listeners and process settings (`[server]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address of the S3 listener.
    pub listen: SocketAddr,
    /// Address of the admin listener (`/healthz`, `/readyz`, `/metrics`).
    pub admin_listen: SocketAddr,
    /// Worker threads for the S3 listener.
    pub threads: usize,
    /// Seconds in-flight requests may take to finish on graceful shutdown (SIGTERM).
    pub grace_period_seconds: u64,
    /// An additional HTTPS listener for S3 (`[server.tls]`), off by default.
    pub tls: Option<TlsConfig>,
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
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            error_profile: ErrorProfile::Documented,
            region: "us-east-1".into(),
            max_clock_skew_seconds: 900,
            virtual_host_suffixes: Vec::new(),
            max_xml_body_bytes: 2 * 1024 * 1024,
        }
    }
}

/// Where static credentials come from (`[credentials]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CredentialsConfig {
    /// A TOML file of `[[credential]]` entries; relative paths are relative
    /// to the config file.
    pub file: Option<PathBuf>,
}

/// Where the Cedar policies come from (`[policies]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoliciesConfig {
    /// A directory of `.cedar` files; relative paths are relative to the
    /// config file. Unset: the embedded development set (the dev credential
    /// may do everything, nobody else anything).
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

/// A storage backend (`[backends.NAME]`), selected by `kind`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum BackendConfig {
    /// Local filesystem: a directory per bucket under `root`.
    Fs {
        /// The directory holding one directory per bucket; relative paths
        /// are relative to the working directory.
        root: PathBuf,
    },
    /// Any S3-compatible upstream (AWS, MinIO, Ceph, moto...), signed with
    /// the backend's own credentials.
    S3(UpstreamConfig),
    /// Google Cloud Storage through its XML API, with an HMAC key; the
    /// fields of `s3` (endpoint defaults to `https://storage.googleapis.com`,
    /// region to `auto`, addressing is path style) plus `project_id`.
    Gcs(GcsUpstreamConfig),
}

/// Cloud Storage (`kind = "gcs"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcsUpstreamConfig {
    /// The XML API endpoint.
    #[serde(default = "default_gcs_endpoint")]
    pub endpoint: String,
    /// The HMAC key's access id.
    pub access_key: String,
    /// Its secret, written here (never shown by `Debug`)...
    #[serde(default)]
    pub secret_key: Option<crate::auth::Secret>,
    /// ...or the name of an environment variable holding it.
    #[serde(default)]
    pub secret_key_env: Option<String>,
    /// The project for requests that need `x-amz-project-id`.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Milliseconds a connection may take.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Milliseconds the service may stay silent mid-request.
    #[serde(default = "default_read_timeout_ms")]
    pub read_timeout_ms: u64,
}

fn default_gcs_endpoint() -> String {
    "https://storage.googleapis.com".into()
}

impl GcsUpstreamConfig {
    /// The same settings in the shape the s3 backend's config takes.
    pub fn as_upstream(&self) -> UpstreamConfig {
        UpstreamConfig {
            endpoint: self.endpoint.clone(),
            region: "auto".into(),
            access_key: self.access_key.clone(),
            secret_key: self.secret_key.clone(),
            secret_key_env: self.secret_key_env.clone(),
            path_style: true,
            connect_timeout_ms: self.connect_timeout_ms,
            read_timeout_ms: self.read_timeout_ms,
        }
    }
}

/// An S3-compatible upstream (`kind = "s3"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Base URL: `http://host:port` or `https://host`.
    pub endpoint: String,
    /// The region to sign for.
    #[serde(default = "default_region")]
    pub region: String,
    /// The backend's own access key id.
    pub access_key: String,
    /// Its secret, written here (never shown by `Debug`)...
    #[serde(default)]
    pub secret_key: Option<crate::auth::Secret>,
    /// ...or, better, the name of an environment variable holding it.
    #[serde(default)]
    pub secret_key_env: Option<String>,
    /// Path-style addressing (`host/bucket/key`); false for virtual-hosted
    /// style (`bucket.host/key`).
    #[serde(default = "yes")]
    pub path_style: bool,
    /// Milliseconds a connection (TCP and TLS) may take.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Milliseconds the upstream may stay silent mid-request.
    #[serde(default = "default_read_timeout_ms")]
    pub read_timeout_ms: u64,
}

fn default_region() -> String {
    "us-east-1".into()
}

fn yes() -> bool {
    true
}

fn default_connect_timeout_ms() -> u64 {
    5_000
}

fn default_read_timeout_ms() -> u64 {
    60_000
}

impl UpstreamConfig {
    /// The secret: `secret_key`, or the variable `secret_key_env` names
    /// (`field` names this backend in errors).
    pub fn secret(&self, field: &str) -> Result<String, ConfigError> {
        match (&self.secret_key, &self.secret_key_env) {
            (Some(secret), None) => Ok(String::from_utf8_lossy(secret.expose_bytes()).into_owned()),
            (None, Some(variable)) => std::env::var(variable).map_err(|_| {
                invalid(
                    format!("{field}.secret_key_env"),
                    format!("the environment variable `{variable}` is not set"),
                )
            }),
            _ => Err(invalid(
                format!("{field}.secret_key"),
                "set exactly one of `secret_key` and `secret_key_env`",
            )),
        }
    }
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
        };
        let bucket = || BucketConfig {
            backend: "local".into(),
            backend_bucket: None,
            prefix: None,
            quota: None,
            anonymous_rate_limit: None,
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
            rate_limits: RateLimitsConfig::default(),
            state: StateConfig::default(),
        }
    }

    /// Checks every cross-field rule; errors name the field.
    pub fn validate(self) -> Result<Self, ConfigError> {
        if self.server.threads == 0 || self.server.threads > 1024 {
            return Err(invalid("server.threads", "must be between 1 and 1024"));
        }
        if self.server.listen == self.server.admin_listen {
            return Err(invalid(
                "server.admin_listen",
                "must differ from `server.listen`",
            ));
        }
        if let Some(tls) = &self.server.tls {
            let taken = [self.server.listen, self.server.admin_listen];
            if taken.contains(&tls.listen) {
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
                BackendConfig::Fs { root } if root.as_os_str().is_empty() => {
                    return Err(invalid(
                        format!("backends.{name}.root"),
                        "must not be empty",
                    ));
                }
                BackendConfig::Fs { .. } => {}
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
                    || !prefix.ends_with('/'))
            {
                // Without the final `/`, `tenants/acme` would also cover
                // `tenants/acme-x`, which this bucket's clients would see.
                return Err(invalid(
                    format!("buckets.{name}.prefix"),
                    "must be 2 to 512 bytes ending in `/`, not starting with `/`, without NUL",
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
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
        [server]
        listen = "127.0.0.1:19000"
        admin_listen = "127.0.0.1:19001"

        [s3]
        error_profile = "aws"
        virtual_host_suffixes = ["s3.example.test"]

        [backends.local]
        kind = "fs"
        root = "/tmp/cedargate"

        [buckets.photos]
        backend = "local"
        backend_bucket = "photos-store"
    "#;

    #[test]
    fn a_full_file_parses() {
        let config = Config::from_str(EXAMPLE).unwrap();
        assert_eq!(config.s3.error_profile, ErrorProfile::Aws);
        assert_eq!(config.server.listen.port(), 19000);
        assert_eq!(
            config.buckets["photos"].backend_bucket.as_deref(),
            Some("photos-store")
        );
    }

    #[test]
    fn limits_quotas_and_the_state_store_parse() {
        let text = format!(
            "{}{}",
            EXAMPLE.replace(
                "backend_bucket = \"photos-store\"",
                "quota = { hard = \"10 MiB\", soft = 5000000 }"
            ),
            r#"
            [rate_limits]
            global = { rate = 500, burst = 1000 }
            source_ip = { rate = 0.5, burst = 10 }
            trusted_proxies = ["10.0.0.0/8", "2001:db8::1", "192.0.2.7"]
            [rate_limits.credentials]
            AKIASLOW = { rate = 1, burst = 2 }
            [state]
            store = "redis"
            redis_url = "redis://127.0.0.1:6379/"
            "#
        );
        let config = Config::from_str(&text).unwrap();
        let quota = config.buckets["photos"].quota.unwrap();
        assert_eq!(quota.hard.map(|s| s.as_u64()), Some(10 * 1024 * 1024));
        assert_eq!(quota.soft.map(|s| s.as_u64()), Some(5_000_000));
        assert_eq!(config.rate_limits.source_ip.unwrap().burst, 10);
        assert_eq!(config.rate_limits.credentials["AKIASLOW"].rate, 1.0);
        assert_eq!(config.rate_limits.trusted_proxies.len(), 3);
        assert_eq!(config.state.store, StoreKind::Redis);
    }

    #[test]
    fn upstream_backends_parse_and_never_show_their_secret() {
        let text = format!(
            "{EXAMPLE}{}",
            r#"
            [backends.up]
            kind = "s3"
            endpoint = "http://127.0.0.1:9999"
            access_key = "AK"
            secret_key = "inline-secret-value"
            [backends.cloud]
            kind = "gcs"
            access_key = "GOOG"
            secret_key_env = "CEDARGATE_TEST_UNSET_VARIABLE"
            "#
        );
        let config = Config::from_str(&text).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("inline-secret-value"), "{shown}");
        let BackendConfig::Gcs(gcs) = &config.backends["cloud"] else {
            panic!("not gcs")
        };
        assert_eq!(gcs.endpoint, "https://storage.googleapis.com");
        assert_eq!(gcs.as_upstream().region, "auto");
        let missing = gcs.as_upstream().secret("backends.cloud").unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("backends.cloud.secret_key_env")
        );
        let both = text.replace(
            "secret_key_env = \"CEDARGATE_TEST_UNSET_VARIABLE\"",
            "secret_key = \"a\"\nsecret_key_env = \"B\"",
        );
        let err = Config::from_str(&both).unwrap_err().to_string();
        assert!(err.contains("backends.cloud.secret_key"), "{err}");
    }

    #[test]
    fn the_embedded_default_is_valid() {
        let config = Config::embedded_default().validate().unwrap();
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(config.server.admin_listen.to_string(), "127.0.0.1:9001");
        assert_eq!(config.buckets.len(), 2);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                EXAMPLE.replace("backend = \"local\"", "backend = \"nope\""),
                "buckets.photos.backend",
            ),
            (
                EXAMPLE.replace("[buckets.photos]", "[buckets.Bad_Name]"),
                "buckets.Bad_Name",
            ),
            (
                EXAMPLE.replace("error_profile = \"aws\"", "error_profile = \"loose\""),
                "error_profile",
            ),
            (EXAMPLE.replace("[s3]", "[s3]\nregoin = \"x\""), "regoin"),
            (
                EXAMPLE.replace("root = \"/tmp/cedargate\"", "root = \"/tmp\"\nbucket = 1"),
                "bucket",
            ),
            (EXAMPLE.replace("19001", "19000"), "server.admin_listen"),
            (
                EXAMPLE.replace("s3.example.test", ".bad"),
                "s3.virtual_host_suffixes[0]",
            ),
            (
                format!("{EXAMPLE}\n[rate_limits]\nglobal = {{ rate = 0, burst = 1 }}\n"),
                "rate_limits.global.rate",
            ),
            (
                format!("{EXAMPLE}\n[rate_limits.credentials]\nAKID = {{ rate = 1, burst = 0 }}\n"),
                "rate_limits.credentials.AKID.burst",
            ),
            (
                format!("{EXAMPLE}\n[rate_limits]\ntrusted_proxies = [\"10.0.0.0/33\"]\n"),
                "trusted_proxies",
            ),
            (
                format!("{EXAMPLE}\n[state]\nstore = \"redis\"\n"),
                "state.redis_url",
            ),
            (
                format!(
                    "{EXAMPLE}\n[state]\nlease_seconds = 2\nmaintenance_interval_seconds = 5\n"
                ),
                "state.maintenance_interval_seconds",
            ),
            (
                EXAMPLE.replace(
                    "backend_bucket = \"photos-store\"",
                    "quota = { soft = \"2 MiB\", hard = \"1 MiB\" }",
                ),
                "buckets.photos.quota.soft",
            ),
            (
                EXAMPLE.replace(
                    "backend_bucket = \"photos-store\"",
                    "prefix = \"tenants/acme\"",
                ),
                "buckets.photos.prefix",
            ),
            (
                EXAMPLE.replace("backend_bucket = \"photos-store\"", "quota = {}"),
                "buckets.photos.quota",
            ),
            (
                EXAMPLE.replace(
                    "backend_bucket = \"photos-store\"",
                    "quota = { hard = \"lots\" }",
                ),
                "hard",
            ),
        ];
        for (text, field) in cases {
            let err = Config::from_str(&text).unwrap_err().to_string();
            assert!(err.contains(field), "`{field}` not named in: {err}");
        }
    }
}
