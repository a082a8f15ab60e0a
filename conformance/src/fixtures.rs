//! The fixtures file: what the deployment under test provides (credentials,
//! buckets, an STS role...). Every entry is optional; a case whose fixtures
//! are absent is reported SKIP, never PASS. The format is documented in
//! conformance/README.md.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

pub use crate::request::Credential;

/// A fixtures file that failed to load.
#[derive(Debug, thiserror::Error)]
pub enum FixturesError {
    /// The file could not be read.
    #[error("cannot read fixtures `{0}`: {1}")]
    Read(String, std::io::Error),
    /// The TOML did not parse into fixtures.
    #[error("invalid fixtures `{0}`: {1}")]
    Parse(String, toml::de::Error),
}

/// Everything the deployment provides to the suite.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixtures {
    /// The region clients sign for (default `us-east-1`).
    pub region: Option<String>,
    /// Prometheus text endpoint of the deployment (overridden by `--metrics-url`).
    pub metrics_url: Option<String>,
    /// The gateway's clock-skew tolerance in seconds (default 900).
    pub max_clock_skew_seconds: Option<u64>,
    /// Strings that must never appear in an error body: upstream host
    /// names, backend bucket names, backend prefixes.
    #[serde(default)]
    pub leak_markers: Vec<String>,
    /// Credentials by role.
    #[serde(default)]
    pub credentials: Credentials,
    /// Buckets by role.
    #[serde(default)]
    pub buckets: Buckets,
    /// Anonymous-access facts.
    #[serde(default)]
    pub anonymous: Anonymous,
    /// The STS endpoint.
    pub sts: Option<Sts>,
    #[serde(skip)]
    raw: toml::Table,
}

/// Credentials by role.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// Allowed everything on `buckets.main` (and on every other bucket
    /// fixture that the suite reads or writes with a signature).
    pub full: Option<Credential>,
    /// A credential whose scope excludes `forbidden_bucket`.
    pub scoped: Option<ScopedCredential>,
    /// A credential that exists but is disabled.
    pub disabled: Option<Credential>,
    /// A static credential whose `expires_at` is in the past.
    pub expired: Option<Credential>,
    /// A credential with a tiny request rate.
    pub rate_limited: Option<Credential>,
}

/// A credential plus a bucket outside its scope.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopedCredential {
    /// The access key id.
    pub access_key: String,
    /// The secret access key.
    pub secret_key: String,
    /// A bucket that exists but is outside this credential's scope.
    pub forbidden_bucket: Option<String>,
}

impl ScopedCredential {
    /// As a signing credential.
    pub fn credential(&self) -> Credential {
        Credential {
            access_key: self.access_key.clone(),
            secret_key: self.secret_key.clone(),
            session_token: None,
        }
    }
}

/// Buckets by role.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Buckets {
    /// A writable bucket (`credentials.full` may do everything on it).
    pub main: Option<String>,
    /// A bucket name the deployment does not have and the `full` credential
    /// may learn so (answers NoSuchBucket).
    pub nonexistent: Option<String>,
    /// A bucket with an anonymous read binding, and an object in it.
    pub anonymous_readable: Option<BucketObject>,
    /// A bucket with an anonymous binding whose per-IP anonymous rate is tiny.
    pub anonymous_rate_limited: Option<BucketObject>,
    /// A bucket with a hard cap.
    pub quota_capped: Option<QuotaBucket>,
    /// A bucket whose backend is unreachable (refused or timing out).
    pub unreachable_backend: Option<String>,
    /// A bucket whose backend answers garbage (not HTTP, or not S3 XML).
    pub garbage_backend: Option<String>,
    /// A bucket whose backend fails unrecoverably (answers InternalError).
    pub internal_error: Option<String>,
    /// A bucket whose backend cannot perform one recognised operation.
    pub not_implemented: Option<NotImplementedBucket>,
}

/// A bucket and an object key in it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketObject {
    /// The bucket.
    pub name: String,
    /// An existing object key.
    pub key: String,
}

/// A quota-capped bucket.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaBucket {
    /// The bucket.
    pub name: String,
    /// Its hard cap in bytes.
    pub cap_bytes: u64,
}

/// A bucket whose backend lacks an operation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotImplementedBucket {
    /// The bucket.
    pub name: String,
    /// The operation its backend cannot do (default `CreateMultipartUpload`;
    /// also `GetObjectAcl`, `GetBucketAcl`, `GetBucketVersioning`,
    /// `ListObjectVersions`, `GetObjectTagging`,
    /// `GetBucketLifecycleConfiguration`, `GetBucketPolicy`).
    pub operation: Option<String>,
}

/// Anonymous-access facts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anonymous {
    /// True when anonymous access is switched off in the deployment's config.
    #[serde(default)]
    pub disabled_globally: bool,
}

/// The STS endpoint (AssumeRoleWithWebIdentity).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sts {
    /// Path the STS form is POSTed to (default `/`).
    pub path: Option<String>,
    /// A configured role.
    pub role_arn: Option<String>,
    /// A file holding a web identity token valid for `role_arn`.
    pub token_file: Option<String>,
    /// A shell command printing such a token (run with `sh -c`, 30 s limit).
    pub token_command: Option<String>,
    /// A role the token is valid for but may not assume (answers AccessDenied).
    pub access_denied_role_arn: Option<String>,
    /// A role whose exchange fails inside the gateway (answers InternalError).
    pub internal_error_role_arn: Option<String>,
    /// Credentials of an STS session that has expired.
    pub expired_session: Option<Credential>,
}

impl Fixtures {
    /// Reads a fixtures file.
    pub fn from_file(path: &Path) -> Result<Self, FixturesError> {
        let name = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| FixturesError::Read(name.clone(), e))?;
        Self::from_str_named(&text, &name)
    }

    /// Parses fixtures text; `name` appears in errors.
    pub fn from_str_named(text: &str, name: &str) -> Result<Self, FixturesError> {
        let mut fixtures: Self =
            toml::from_str(text).map_err(|e| FixturesError::Parse(name.into(), e))?;
        fixtures.raw = toml::from_str(text).map_err(|e| FixturesError::Parse(name.into(), e))?;
        Ok(fixtures)
    }

    /// Whether the dotted `path` (e.g. `credentials.full`) is present;
    /// `a|b` means either.
    pub fn has(&self, path: &str) -> bool {
        path.split('|').any(|alternative| {
            let mut node: Option<&toml::Value> = None;
            for (i, part) in alternative.split('.').enumerate() {
                node = if i == 0 {
                    self.raw.get(part)
                } else {
                    node.and_then(|n| n.get(part))
                };
                if node.is_none() {
                    return false;
                }
            }
            node.is_some_and(|n| n.as_bool() != Some(false))
        })
    }

    /// The signing region.
    pub fn region(&self) -> &str {
        self.region.as_deref().unwrap_or("us-east-1")
    }

    /// The clock-skew tolerance.
    pub fn max_clock_skew(&self) -> Duration {
        Duration::from_secs(self.max_clock_skew_seconds.unwrap_or(900))
    }
}

impl Sts {
    /// The STS path, starting with `/`.
    pub fn path(&self) -> String {
        let path = self.path.as_deref().unwrap_or("/");
        if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        }
    }

    /// Reads the web identity token from `token_file` or `token_command`.
    pub fn token(&self) -> Result<Option<String>, String> {
        if let Some(file) = &self.token_file {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read sts.token_file `{file}`: {e}"))?;
            return Ok(Some(text.trim().to_owned()));
        }
        let Some(command) = &self.token_command else {
            return Ok(None);
        };
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run sts.token_command: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err("sts.token_command did not finish in 30 s".into());
                }
                Err(e) => return Err(format!("sts.token_command: {e}")),
            }
        }
        let output = child
            .wait_with_output()
            .map_err(|e| format!("sts.token_command: {e}"))?;
        if !output.status.success() {
            return Err(format!("sts.token_command exited with {}", output.status));
        }
        Ok(Some(
            String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
        region = "eu-west-1"
        leak_markers = ["10.0.0.7", "real-bucket"]
        [credentials.full]
        access_key = "AKFULL"
        secret_key = "s"
        [credentials.scoped]
        access_key = "AKSCOPED"
        secret_key = "s"
        forbidden_bucket = "secret"
        [buckets]
        main = "main"
        unreachable_backend = "down"
        [buckets.quota_capped]
        name = "small"
        cap_bytes = 1024
        [buckets.anonymous_readable]
        name = "public"
        key = "hello.txt"
        [sts]
        path = "sts"
        role_arn = "arn:aws:iam::123456789012:role/reader"
        token_command = "printf ' tok '"
        [sts.expired_session]
        access_key = "ASIA"
        secret_key = "s"
        session_token = "t"
    "#;

    #[test]
    fn parses_every_section() {
        let f = Fixtures::from_str_named(FULL, "t").unwrap();
        assert_eq!(f.region(), "eu-west-1");
        assert_eq!(f.credentials.full.as_ref().unwrap().access_key, "AKFULL");
        let scoped = f.credentials.scoped.as_ref().unwrap();
        assert_eq!(scoped.forbidden_bucket.as_deref(), Some("secret"));
        assert_eq!(f.buckets.quota_capped.as_ref().unwrap().cap_bytes, 1024);
        let sts = f.sts.as_ref().unwrap();
        assert_eq!(sts.path(), "/sts");
        assert_eq!(sts.token().unwrap().as_deref(), Some("tok"));
        let expired = sts.expired_session.as_ref().unwrap();
        assert_eq!(expired.session_token.as_deref(), Some("t"));
        assert_eq!(f.max_clock_skew(), Duration::from_secs(900));
    }

    #[test]
    fn has_walks_dotted_paths() {
        let f = Fixtures::from_str_named(FULL, "t").unwrap();
        assert!(f.has("credentials.full"));
        assert!(f.has("credentials.scoped.forbidden_bucket"));
        assert!(f.has("buckets.main"));
        assert!(!f.has("buckets.garbage_backend"));
        assert!(!f.has("credentials.disabled"));
        assert!(f.has("sts.token_file|sts.token_command"));
        assert!(!f.has("anonymous.disabled_globally"));
    }

    #[test]
    fn empty_file_has_nothing_and_defaults() {
        let f = Fixtures::from_str_named("", "t").unwrap();
        assert!(!f.has("credentials.full"));
        assert_eq!(f.region(), "us-east-1");
        assert!(f.sts.is_none());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = Fixtures::from_str_named("[credentials.ful]\naccess_key='a'", "t");
        assert!(err.is_err());
        let err = Fixtures::from_str_named("[buckets]\nmian = 'x'", "t");
        assert!(err.is_err());
    }
}
