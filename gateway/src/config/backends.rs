//! `[backends.NAME]`: the storage backends, selected by `kind`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::{ConfigError, invalid};

/// A storage backend (`[backends.NAME]`), selected by `kind`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum BackendConfig {
    /// Local filesystem: a directory per bucket under `root`.
    Fs {
        /// The directory holding one directory per bucket; relative paths
        /// are relative to the working directory.
        root: PathBuf,
        /// Whether writes fsync the file and its directory before the
        /// answer (default true). Off only for scratch data.
        #[serde(default = "yes")]
        durable_writes: bool,
        /// Whether HEAD, HeadBucket and the open of a GET (with a body up
        /// to 64 KiB) run on the worker thread serving the request instead
        /// of the blocking pool (default true): faster on a local disk;
        /// set false on network or otherwise slow filesystems, where a
        /// slow open would stall the worker thread's other requests.
        #[serde(default = "yes")]
        inline_reads: bool,
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
    pub secret_key: Option<cedargate_s3::sigv4::Secret>,
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
    pub secret_key: Option<cedargate_s3::sigv4::Secret>,
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

/// Checks `[backends]`: each backend's own fields, and that no two fs
/// backends share a root.
pub(super) fn validate(backends: &BTreeMap<String, BackendConfig>) -> Result<(), ConfigError> {
    for (name, backend) in backends {
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
                let shared = backends.iter().find(|(other, backend)| {
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
            BackendConfig::S3(upstream) => upstream.validate(&format!("backends.{name}"))?,
            BackendConfig::Gcs(gcs) => gcs.as_upstream().validate(&format!("backends.{name}"))?,
        }
    }
    Ok(())
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

    /// Checks the endpoint, the secret and the timeouts (`field` names
    /// this backend in errors).
    fn validate(&self, field: &str) -> Result<(), ConfigError> {
        if !(self.endpoint.starts_with("http://") || self.endpoint.starts_with("https://")) {
            return Err(invalid(
                format!("{field}.endpoint"),
                "must be an http:// or https:// URL",
            ));
        }
        if self.secret_key.is_some() == self.secret_key_env.is_some() {
            return Err(invalid(
                format!("{field}.secret_key"),
                "set exactly one of `secret_key` and `secret_key_env`",
            ));
        }
        let timeouts = [
            ("connect_timeout_ms", self.connect_timeout_ms),
            ("read_timeout_ms", self.read_timeout_ms),
        ];
        for (timeout, value) in timeouts {
            if !(1..=600_000).contains(&value) {
                return Err(invalid(
                    format!("{field}.{timeout}"),
                    "must be between 1 and 600000",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;

    #[test]
    fn upstream_backends_are_refused_with_the_field_and_the_rule() {
        let s3 = "[backends.up]\nkind = \"s3\"\naccess_key = \"AKID\"\n";
        let gcs = "[backends.gs]\nkind = \"gcs\"\naccess_key = \"GOOG\"\n";
        let cases = [
            (
                format!("{s3}endpoint = \"ftp://h\"\nsecret_key = \"s\"\n"),
                "`backends.up.endpoint`: must be an http:// or https:// URL",
            ),
            (
                format!("{s3}endpoint = \"http://h\"\n"),
                "`backends.up.secret_key`: set exactly one of `secret_key` and `secret_key_env`",
            ),
            (
                format!("{s3}endpoint = \"http://h\"\nsecret_key = \"s\"\nread_timeout_ms = 0\n"),
                "`backends.up.read_timeout_ms`: must be between 1 and 600000",
            ),
            (
                format!("{gcs}secret_key = \"s\"\nsecret_key_env = \"V\"\n"),
                "`backends.gs.secret_key`: set exactly one of `secret_key` and `secret_key_env`",
            ),
            (
                format!("{gcs}secret_key = \"s\"\nconnect_timeout_ms = 600001\n"),
                "`backends.gs.connect_timeout_ms`: must be between 1 and 600000",
            ),
            (
                "[backends.empty]\nkind = \"fs\"\nroot = \"\"\n".to_owned(),
                "`backends.empty.root`: must not be empty",
            ),
        ];
        for (text, expected) in cases {
            let error = Config::from_str(&text).unwrap_err().to_string();
            assert_eq!(error, format!("invalid config field {expected}"), "{text}");
        }
    }
}
