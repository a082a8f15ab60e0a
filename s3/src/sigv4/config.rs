//! Verifier settings and the request view it checks.

use std::time::Duration;

use http::HeaderMap;

/// Longest lifetime of a presigned URL (seven days), in seconds.
pub const MAX_PRESIGNED_EXPIRES: u64 = 604_800;

/// A request as received, before any body is read.
#[derive(Clone, Copy, Debug)]
pub struct SignedRequest<'a> {
    /// HTTP method, as sent (`GET`).
    pub method: &'a str,
    /// Path as sent, still percent-encoded, without the query.
    pub raw_path: &'a str,
    /// Query as sent, without `?` (empty when none).
    pub raw_query: &'a str,
    /// Request headers. Over HTTP/2 the caller adds `host` from `:authority`.
    pub headers: &'a HeaderMap,
    /// The hex SHA-256 of a body already read (STS forms): the payload hash
    /// under [`ServiceRules::Generic`] when `x-amz-content-sha256` is absent.
    pub body_sha256: Option<&'a str>,
}

/// Which regions a credential scope may name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegionRule {
    /// Any region (clients are configured with arbitrary region names).
    Any,
    /// Exactly this region.
    Exact(String),
}

impl RegionRule {
    /// Whether `region` is acceptable.
    pub fn allows(&self, region: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(expected) => expected == region,
        }
    }
}

impl Default for RegionRule {
    fn default() -> Self {
        Self::Exact("us-east-1".to_owned())
    }
}

/// Which service's SigV4 conventions apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ServiceRules {
    /// S3: the canonical URI decodes each path segment once and re-encodes
    /// it, without normalisation; header auth must sign
    /// `x-amz-content-sha256`; presigned URLs default to `UNSIGNED-PAYLOAD`.
    #[default]
    S3,
    /// Other AWS services (and AWS's generic test vectors): the raw path is
    /// optionally normalised and encoded once more; without
    /// `x-amz-content-sha256` the payload is the SHA-256 of an empty body.
    Generic {
        /// Remove `.`, `..` and empty path segments first.
        normalize_path: bool,
    },
}

/// Settings of the verifier.
#[derive(Clone, Debug)]
pub struct VerifierConfig {
    /// Regions accepted in the credential scope (default `us-east-1`).
    pub region: RegionRule,
    /// Service name required in the credential scope (default `s3`).
    pub service: String,
    /// Largest accepted difference between request time and `now` (15 min).
    pub max_skew: Duration,
    /// Canonical URI and payload-hash conventions (default S3).
    pub rules: ServiceRules,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        Self {
            region: RegionRule::default(),
            service: "s3".to_owned(),
            max_skew: Duration::from_secs(15 * 60),
            rules: ServiceRules::S3,
        }
    }
}
