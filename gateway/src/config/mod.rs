//! The gateway's configuration: one TOML file, loaded as
//! `from_file -> from_str -> validate`.
//!
//! Every table denies unknown fields, every field is documented here, and a
//! validation error names the field it is about (`buckets.photos.backend`).
//! [`Config::embedded_default`] is what `cedargate serve` runs with no file:
//! a filesystem backend under `./data` with two buckets, where buckets
//! created through the API land too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use cedargate_s3::error::ErrorProfile;

mod backends;
mod buckets;
mod console;
mod cors;
pub mod host;
mod limits;
mod secrets;
mod server;
mod sts;

pub use backends::{BackendConfig, GcsUpstreamConfig, UpstreamConfig};
pub use buckets::{BucketConfig, DefaultRouteConfig, QuotaConfig};
pub use console::{ConsoleConfig, MAX_CONSOLE_DECISIONS};
pub use cors::{CORS_METHODS, CorsRule, MAX_CORS_RULES};
pub use limits::{RateLimitsConfig, StateConfig, StoreKind};
pub use secrets::{readable_by_others, warn_about_readable_secret_files};
pub use server::{MAX_ADMIN_CONNECTIONS, ServerConfig, TlsConfig};
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

impl S3Config {
    /// Checks `[s3]`: region, XML body cap and virtual-host suffixes.
    fn validate(&self) -> Result<(), ConfigError> {
        if self.region.is_empty() {
            return Err(invalid(
                "s3.region",
                "must not be empty (use `*` for any region)",
            ));
        }
        if self.max_xml_body_bytes < 1024 || self.max_xml_body_bytes > 64 * 1024 * 1024 {
            return Err(invalid(
                "s3.max_xml_body_bytes",
                "must be between 1 KiB and 64 MiB",
            ));
        }
        for (i, suffix) in self.virtual_host_suffixes.iter().enumerate() {
            if suffix.is_empty() || suffix.starts_with('.') || suffix.contains(['/', ':']) {
                return Err(invalid(
                    format!("s3.virtual_host_suffixes[{i}]"),
                    format!("`{suffix}` is not a host name suffix"),
                ));
            }
        }
        Ok(())
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

impl PoliciesConfig {
    /// Checks `[policies]`.
    fn validate(&self) -> Result<(), ConfigError> {
        if self.reload_debounce_ms > 60_000 {
            return Err(invalid(
                "policies.reload_debounce_ms",
                "must be at most 60000",
            ));
        }
        Ok(())
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

impl MetricsConfig {
    /// Checks `[metrics]`.
    fn validate(&self) -> Result<(), ConfigError> {
        if self.prefix.is_empty()
            || !self
                .prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(invalid("metrics.prefix", "must be letters, digits and `_`"));
        }
        Ok(())
    }
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

    /// Checks every cross-field rule, table by table; errors name the field.
    pub fn validate(self) -> Result<Self, ConfigError> {
        self.sts.validate()?;
        self.console.validate(self.server.admin_listen)?;
        self.server.validate()?;
        self.policies.validate()?;
        self.s3.validate()?;
        self.metrics.validate()?;
        backends::validate(&self.backends)?;
        self.rate_limits.validate(&self.buckets)?;
        self.state.validate()?;
        if let Some(route) = &self.default_route {
            route.validate(&self.backends)?;
        }
        for (name, bucket) in &self.buckets {
            bucket.validate(name, &self.backends)?;
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests;
