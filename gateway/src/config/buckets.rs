//! `[buckets.NAME]` and `[default_route]`: the client-facing buckets, each
//! mapped to a backend, and where the buckets not listed live.

use std::collections::BTreeMap;

use bytesize::ByteSize;
use serde::Deserialize;

use super::{BackendConfig, ConfigError, CorsRule, cors, invalid};
use crate::state::RateLimit;

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

impl DefaultRouteConfig {
    /// Checks `[default_route]`: its backend exists in `backends`, its
    /// prefix makes valid bucket names.
    pub(super) fn validate(
        &self,
        backends: &BTreeMap<String, BackendConfig>,
    ) -> Result<(), ConfigError> {
        if !backends.contains_key(&self.backend) {
            return Err(invalid(
                "default_route.backend",
                format!("no backend named `{}` in [backends]", self.backend),
            ));
        }
        let prefix = &self.bucket_prefix;
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if prefix.len() > 32 || !prefix.chars().all(allowed) || prefix.starts_with('-') {
            return Err(invalid(
                "default_route.bucket_prefix",
                "must be at most 32 lowercase letters, digits and `-`, not starting with `-`",
            ));
        }
        Ok(())
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
    /// The CORS rules (`[[buckets.NAME.cors_rules]]`) browsers' cross-origin
    /// requests are checked against, first match wins; none by default:
    /// preflights are refused and no CORS header is sent.
    #[serde(default)]
    pub cors_rules: Vec<CorsRule>,
}

impl BucketConfig {
    /// Checks `[buckets.NAME]`: its quota, prefix, name, backend (a key of
    /// `backends`), backend bucket and CORS rules.
    pub(super) fn validate(
        &self,
        name: &str,
        backends: &BTreeMap<String, BackendConfig>,
    ) -> Result<(), ConfigError> {
        if let Some(quota) = &self.quota {
            quota.validate(&format!("buckets.{name}.quota"))?;
        }
        if let Some(prefix) = &self.prefix
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
        if cedargate_s3::route::validate_bucket(name).is_err() {
            return Err(invalid(
                format!("buckets.{name}"),
                format!("`{name}` is not a valid S3 bucket name"),
            ));
        }
        if !backends.contains_key(&self.backend) {
            return Err(invalid(
                format!("buckets.{name}.backend"),
                format!("no backend named `{}` in [backends]", self.backend),
            ));
        }
        if let Some(backend_bucket) = &self.backend_bucket
            && cedargate_s3::route::validate_bucket(backend_bucket).is_err()
        {
            return Err(invalid(
                format!("buckets.{name}.backend_bucket"),
                format!("`{backend_bucket}` is not a valid bucket name"),
            ));
        }
        cors::validate_cors_rules(&format!("buckets.{name}"), &self.cors_rules)?;
        Ok(())
    }
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

impl QuotaConfig {
    /// Checks a bucket's `quota` table (`field`).
    pub(super) fn validate(&self, field: &str) -> Result<(), ConfigError> {
        if self.hard.is_none() && self.soft.is_none() {
            return Err(invalid(field, "set `hard`, `soft` or both"));
        }
        if let (Some(hard), Some(soft)) = (self.hard, self.soft)
            && soft > hard
        {
            return Err(invalid(
                format!("{field}.soft"),
                "must not be larger than `hard`",
            ));
        }
        Ok(())
    }
}
