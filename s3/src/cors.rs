//! CORS for browser clients: the *preflight* stage, which answers `OPTIONS`
//! requests before anything authenticates them, and the headers the
//! *respond* stage adds to every other answer of a bucket with CORS rules.
//!
//! The rules are a bucket's [`CorsRule`]s (S3's CORSRule), which a service
//! reads from its configuration and renders for GetBucketCors with
//! [`cors_configuration`]. What S3 does, this does:
//!
//! - A preflight needs `Origin` and an `Access-Control-Request-Method` of
//!   GET, PUT, POST, DELETE or HEAD, else 400 BadRequest. The first rule
//!   that allows the origin, the method and every header listed in
//!   `Access-Control-Request-Headers` answers 200 with the
//!   `Access-Control-*` headers; when none does, 403 AccessForbidden. A
//!   bucket without rules and a bucket that does not exist get that same
//!   403: preflights carry no credentials, so they must not tell which
//!   buckets exist.
//! - Any other request carrying `Origin` gets the headers of the first rule
//!   that allows its origin and method, on errors as on successes, so that
//!   a page can read why a presigned URL was refused. Every answer of a
//!   bucket with rules carries `Vary`, so that caches keep one origin's
//!   answer from another.
//! - `Access-Control-Allow-Origin` echoes the request's origin, or is `*`
//!   when the rule allows any origin, and then comes without
//!   `Access-Control-Allow-Credentials: true`.

use http::HeaderMap;

use crate::error::{S3Error, S3ErrorCode};

mod document;

pub use document::cors_configuration;

/// The methods a CORS rule may allow, as S3 spells them.
pub const CORS_METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "HEAD"];

/// One CORS rule (S3's `CORSRule`). A browser's request is allowed by the
/// first rule of its bucket whose origins, methods and headers all match.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsRule {
    /// A name for the rule (at most 255 characters), shown by GetBucketCors.
    #[serde(default)]
    pub id: Option<String>,
    /// Origins the rule allows: an exact origin (`https://app.example.com`),
    /// `*` for any origin, or one with a single `*` standing for any run of
    /// characters (`https://*.example.com`). Compared case-sensitively, as
    /// browsers send origins in lowercase. At least one.
    pub allowed_origins: Vec<String>,
    /// Methods the rule allows: `GET`, `PUT`, `POST`, `DELETE` or `HEAD`,
    /// in capitals. At least one.
    pub allowed_methods: Vec<String>,
    /// Request headers a preflight may ask for, compared without regard to
    /// case; one `*` stands for any run of characters (`x-amz-*`, or `*`
    /// for any header). Empty: only preflights that ask for no header match.
    #[serde(default)]
    pub allowed_headers: Vec<String>,
    /// Response headers browsers let the page read
    /// (`Access-Control-Expose-Headers`), e.g. `ETag`; no wildcards.
    #[serde(default)]
    pub expose_headers: Vec<String>,
    /// Seconds a browser may cache a preflight's answer
    /// (`Access-Control-Max-Age`); unset, the header is not sent.
    #[serde(default)]
    pub max_age_seconds: Option<u32>,
}

/// The `operation` label of preflights in the request metrics and logs (no
/// AWS API operation names them).
pub const PREFLIGHT_OPERATION: &str = "PreflightRequest";

/// The `Vary` value of every answer of a bucket with CORS rules.
const VARY: &str = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

/// The message of a refused preflight, as S3 words it.
const NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evaluation of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

/// Response headers (name, value) a CORS decision adds to an answer.
pub type CorsHeaders = Vec<(&'static str, String)>;

impl CorsRule {
    /// Whether the rule allows `origin` (exactly, or through a `*`).
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|pattern| wildcard_match(pattern, origin, false))
    }

    /// Whether the rule allows `method` (`GET`, ...).
    pub fn allows_method(&self, method: &str) -> bool {
        self.allowed_methods.iter().any(|allowed| allowed == method)
    }

    /// Whether the rule allows a preflight to ask for request header `name`
    /// (compared without regard to case).
    pub fn allows_header(&self, name: &str) -> bool {
        self.allowed_headers
            .iter()
            .any(|pattern| wildcard_match(pattern, name, true))
    }

    /// Whether the rule allows any origin, which makes its answers `*`.
    fn allows_any_origin(&self) -> bool {
        self.allowed_origins.iter().any(|pattern| pattern == "*")
    }
}

/// Whether `value` matches `pattern`, whose one `*` (if any) stands for any
/// run of characters, the empty one included.
fn wildcard_match(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let same = |a: &str, b: &str| {
        if ignore_case {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    let Some((head, tail)) = pattern.split_once('*') else {
        return same(pattern, value);
    };
    value.len() >= head.len() + tail.len()
        && value.get(..head.len()).is_some_and(|v| same(v, head))
        && value
            .get(value.len() - tail.len()..)
            .is_some_and(|v| same(v, tail))
}

/// What a preflight asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preflight<'a> {
    /// `Origin`.
    pub origin: &'a str,
    /// `Access-Control-Request-Method`.
    pub method: &'a str,
    /// The names listed in `Access-Control-Request-Headers`, as sent.
    pub headers: Vec<&'a str>,
}

impl<'a> Preflight<'a> {
    /// Reads a preflight's headers: 400 BadRequest without `Origin` or
    /// without a CORS `Access-Control-Request-Method`; 403 AccessForbidden
    /// when `Access-Control-Request-Headers` is not text (no rule allows it).
    pub fn from_headers(headers: &'a HeaderMap) -> Result<Self, S3Error> {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let origin = text("origin").ok_or_else(|| {
            S3Error::new(
                S3ErrorCode::BadRequest,
                "Insufficient information. Origin request header needed.",
            )
        })?;
        let method = text("access-control-request-method").ok_or_else(|| {
            S3Error::new(
                S3ErrorCode::BadRequest,
                "Insufficient information. Access-Control-Request-Method request header needed.",
            )
        })?;
        if !CORS_METHODS.contains(&method) {
            return Err(S3Error::new(
                S3ErrorCode::BadRequest,
                format!("Invalid Access-Control-Request-Method: `{method}`"),
            ));
        }
        let mut requested = Vec::new();
        for value in headers.get_all("access-control-request-headers") {
            let value = value.to_str().map_err(|_| not_allowed())?;
            requested.extend(value.split(',').map(str::trim).filter(|h| !h.is_empty()));
        }
        Ok(Self {
            origin,
            method,
            headers: requested,
        })
    }

    /// The first of `rules` that allows this preflight.
    pub fn matching_rule<'r>(&self, rules: &'r [CorsRule]) -> Option<&'r CorsRule> {
        rules.iter().find(|rule| {
            rule.allows_origin(self.origin)
                && rule.allows_method(self.method)
                && self.headers.iter().all(|name| rule.allows_header(name))
        })
    }
}

/// The *preflight* stage: answers an `OPTIONS` request from the rules of its
/// bucket (`None` when the request names no bucket, or one that does not
/// exist, which is answered as a bucket without rules). An allowed
/// preflight is answered 200 with no body and the returned headers.
pub fn preflight(rules: Option<&[CorsRule]>, headers: &HeaderMap) -> Result<CorsHeaders, S3Error> {
    let asked = Preflight::from_headers(headers)?;
    let rule = asked
        .matching_rule(rules.unwrap_or_default())
        .ok_or_else(not_allowed)?;
    Ok(allow_headers(rule, asked.origin, &asked.headers))
}

/// The CORS headers of an answer to a request (other than a preflight) on
/// a bucket with `rules`: the allowing rule's, when the request carries an
/// `Origin` that a rule allows for its `method`, and `Vary` whenever the
/// bucket has rules.
pub fn response_headers(rules: &[CorsRule], origin: Option<&str>, method: &str) -> CorsHeaders {
    if rules.is_empty() {
        return Vec::new();
    }
    let rule = origin.and_then(|origin| {
        rules
            .iter()
            .find(|rule| rule.allows_origin(origin) && rule.allows_method(method))
            .map(|rule| (rule, origin))
    });
    match rule {
        Some((rule, origin)) => allow_headers(rule, origin, &[]),
        None => vec![("vary", VARY.to_owned())],
    }
}

/// The headers an allowing rule gives to `origin`, in the order S3 sends
/// them; `requested` are the request headers a preflight asked for.
fn allow_headers(rule: &CorsRule, origin: &str, requested: &[&str]) -> CorsHeaders {
    let any = rule.allows_any_origin();
    let mut headers = vec![
        (
            "access-control-allow-origin",
            if any { "*" } else { origin }.to_owned(),
        ),
        (
            "access-control-allow-methods",
            rule.allowed_methods.join(", "),
        ),
    ];
    if !requested.is_empty() {
        headers.push(("access-control-allow-headers", requested.join(", ")));
    }
    if !rule.expose_headers.is_empty() {
        headers.push((
            "access-control-expose-headers",
            rule.expose_headers.join(", "),
        ));
    }
    if let Some(seconds) = rule.max_age_seconds {
        headers.push(("access-control-max-age", seconds.to_string()));
    }
    if !any {
        headers.push(("access-control-allow-credentials", "true".to_owned()));
    }
    headers.push(("vary", VARY.to_owned()));
    headers
}

fn not_allowed() -> S3Error {
    S3Error::new(S3ErrorCode::AccessForbidden, NOT_ALLOWED)
}

#[cfg(test)]
mod tests;
