//! Pipeline step 1, **route**: which bucket and key a request addresses.
//!
//! Both S3 addressing styles are understood:
//!
//! - **virtual-hosted**: the `Host` is `bucket.<suffix>` for one of the
//!   configured suffixes (port ignored, suffix compared case-insensitively,
//!   the longest matching suffix wins); the whole path is the key.
//! - **path**: anything else (no `Host`, an IP address, a host equal to a
//!   suffix or matching none); the first path segment is the bucket and the
//!   rest is the key.
//!
//! The key is percent-decoded exactly once (`%2F` becomes `/`, `%252F`
//! becomes `%2F`), `+` stays a literal `+` (see [`crate::query`] for why),
//! and repeated slashes are kept (`/b/a//c` is key `a//c`). An empty key is
//! no key: `/bucket` and `/bucket/` both address the bucket itself. The raw
//! path is not kept here: the caller keeps it for SigV4, which signs what
//! the client sent.
//!
//! # Validation
//!
//! Bucket names follow AWS's current general-purpose naming rules strictly:
//! 3 to 63 characters of lowercase letters, digits, `.` and `-`; beginning
//! and ending with a letter or digit; no `..`, `.-` or `-.` (each
//! dot-separated label begins and ends with a letter or digit); not shaped like an IPv4
//! address; none of AWS's reserved prefixes (`xn--`, `sthree-`,
//! `amzn-s3-demo-`) or suffixes (`-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`,
//! `--table-s3`). Legacy us-east-1 names (uppercase, `_`, up to 255
//! characters) are refused: the gateway's buckets are configured names, and
//! one strict rule keeps policy matching on bucket names unambiguous.
//! Keys must be at most 1024 bytes once decoded and must not contain NUL.

use crate::query::{DecodeError, percent_decode_strict};

/// The longest key S3 accepts, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

/// How the request named its bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressingStyle {
    /// `https://endpoint/bucket/key`.
    Path,
    /// `https://bucket.endpoint/key`.
    VirtualHosted,
}

/// The bucket and key a request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The client-facing bucket name; `None` for service-level requests
    /// (`GET /` is ListBuckets).
    pub bucket: Option<String>,
    /// The decoded object key; `None` when the request addresses a bucket
    /// (or the service). Never empty.
    pub key: Option<String>,
    /// Which addressing style named the bucket.
    pub style: AddressingStyle,
}

/// Why a request could not be routed. Messages are safe to show clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// The bucket name breaks S3's naming rules.
    #[error("the specified bucket name `{0}` is not valid")]
    InvalidBucketName(String),
    /// The decoded key is longer than [`MAX_KEY_BYTES`].
    #[error("the key is {0} bytes long, longer than the maximum of 1024")]
    KeyTooLong(usize),
    /// The decoded key contains a NUL character.
    #[error("object keys must not contain the nul character")]
    InvalidKey,
    /// The path is not a valid request path.
    #[error("{0}")]
    InvalidUri(String),
}

impl RouteError {
    /// The S3 error code for this failure.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidBucketName(_) => "InvalidBucketName",
            Self::KeyTooLong(_) => "KeyTooLongError",
            Self::InvalidKey => "InvalidArgument",
            Self::InvalidUri(_) => "InvalidURI",
        }
    }
}

/// Finds the bucket and key of a request.
///
/// `host` is the `Host` header (or HTTP/2 `:authority`), `raw_path` the
/// request-target's path exactly as sent (without the query), and
/// `virtual_host_suffixes` the configured endpoint names for
/// virtual-hosted-style requests (e.g. `s3.example.com`; a leading `.` is
/// ignored).
pub fn route(
    host: Option<&str>,
    raw_path: &str,
    virtual_host_suffixes: &[String],
) -> Result<Route, RouteError> {
    let Some(path) = raw_path.strip_prefix('/') else {
        return Err(RouteError::InvalidUri(format!(
            "the request path `{raw_path}` does not start with `/`"
        )));
    };
    if let Some(bucket) = host.and_then(|host| host_bucket(host, virtual_host_suffixes)) {
        validate_bucket(&bucket)?;
        return Ok(Route {
            bucket: Some(bucket),
            key: decode_key(path)?,
            style: AddressingStyle::VirtualHosted,
        });
    }
    if path.is_empty() {
        return Ok(Route {
            bucket: None,
            key: None,
            style: AddressingStyle::Path,
        });
    }
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    let bucket = decode(bucket)?;
    validate_bucket(&bucket)?;
    Ok(Route {
        bucket: Some(bucket),
        key: decode_key(key)?,
        style: AddressingStyle::Path,
    })
}

/// The bucket named by a virtual-hosted-style `Host`, if the host is
/// `bucket.<suffix>` for the longest configured suffix it matches.
fn host_bucket(host: &str, suffixes: &[String]) -> Option<String> {
    let host = strip_port(host)?;
    let host = host.strip_suffix('.').unwrap_or(host);
    let mut best: Option<(usize, Option<&str>)> = None;
    for suffix in suffixes {
        let suffix = suffix.trim_start_matches('.');
        if suffix.is_empty() || best.is_some_and(|(len, _)| len >= suffix.len()) {
            continue;
        }
        if host.eq_ignore_ascii_case(suffix) {
            best = Some((suffix.len(), None));
        } else if let Some(split) = host.len().checked_sub(suffix.len() + 1)
            && host.is_char_boundary(split)
            && host[split..].starts_with('.')
            && host[split + 1..].eq_ignore_ascii_case(suffix)
        {
            best = Some((suffix.len(), Some(&host[..split])));
        }
    }
    best.and_then(|(_, bucket)| bucket)
        .map(str::to_ascii_lowercase)
}

/// The host without its port; `None` for IPv6 literals, which never carry
/// a bucket.
fn strip_port(host: &str) -> Option<&str> {
    if host.starts_with('[') {
        return None;
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => Some(name),
        _ => Some(host),
    }
}

fn decode(raw: &str) -> Result<String, RouteError> {
    percent_decode_strict(raw).map_err(|error| {
        RouteError::InvalidUri(match error {
            DecodeError::InvalidEscape(at) => {
                format!("the request path has an invalid percent-encoding at `{at}`")
            }
            DecodeError::InvalidUtf8 => "the request path does not decode to utf-8".to_owned(),
        })
    })
}

fn decode_key(raw: &str) -> Result<Option<String>, RouteError> {
    let key = decode(raw)?;
    if key.is_empty() {
        return Ok(None);
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(RouteError::KeyTooLong(key.len()));
    }
    if key.contains('\0') {
        return Err(RouteError::InvalidKey);
    }
    Ok(Some(key))
}

/// Checks `name` against S3's bucket naming rules (see the module docs).
pub fn validate_bucket(name: &str) -> Result<(), RouteError> {
    if is_valid_bucket_name(name) {
        Ok(())
    } else {
        Err(RouteError::InvalidBucketName(name.to_owned()))
    }
}

fn is_valid_bucket_name(name: &str) -> bool {
    const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
    const RESERVED_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && !name.contains("..")
        && !name.contains(".-")
        && !name.contains("-.")
        && !looks_like_ipv4(name)
        && !RESERVED_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix))
        && !RESERVED_SUFFIXES
            .iter()
            .any(|suffix| name.ends_with(suffix))
}

fn looks_like_ipv4(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suffixes() -> Vec<String> {
        vec!["s3.example.com".into(), ".example.com".into(), "".into()]
    }

    fn ok(host: Option<&str>, path: &str) -> (Option<String>, Option<String>, AddressingStyle) {
        let route = route(host, path, &suffixes()).unwrap();
        (route.bucket, route.key, route.style)
    }

    fn some(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    #[test]
    fn path_style() {
        use AddressingStyle::Path;
        assert_eq!(ok(None, "/"), (None, None, Path));
        assert_eq!(ok(None, "/bucket"), (some("bucket"), None, Path));
        assert_eq!(ok(None, "/bucket/"), (some("bucket"), None, Path));
        assert_eq!(ok(None, "/bucket/a/b"), (some("bucket"), some("a/b"), Path));
        assert_eq!(
            ok(None, "/bucket//a//b/"),
            (some("bucket"), some("/a//b/"), Path)
        );
        assert_eq!(
            ok(Some("s3.example.com"), "/b-1/k"),
            (some("b-1"), some("k"), Path)
        );
        assert_eq!(
            ok(Some("10.0.0.1:9000"), "/bkt/k"),
            (some("bkt"), some("k"), Path)
        );
        assert_eq!(
            ok(Some("[::1]:9000"), "/bkt/k"),
            (some("bkt"), some("k"), Path)
        );
        assert_eq!(ok(Some("other.org"), "/bkt"), (some("bkt"), None, Path));
    }

    #[test]
    fn virtual_hosted_style() {
        use AddressingStyle::VirtualHosted;
        let vh = |host, path| ok(Some(host), path);
        assert_eq!(
            vh("bkt.s3.example.com", "/"),
            (some("bkt"), None, VirtualHosted)
        );
        assert_eq!(
            vh("bkt.S3.Example.COM:8443", "/a/b"),
            (some("bkt"), some("a/b"), VirtualHosted)
        );
        assert_eq!(
            vh("BKT.s3.example.com.", "//a"),
            (some("bkt"), some("/a"), VirtualHosted)
        );
        // Longest suffix wins: `my.bkt` under `s3.example.com`, not
        // `my.bkt.s3` under `example.com`.
        assert_eq!(
            vh("my.bkt.s3.example.com", "/k"),
            (some("my.bkt"), some("k"), VirtualHosted)
        );
        assert_eq!(
            vh("other.example.com", "/k"),
            (some("other"), some("k"), VirtualHosted)
        );
        // A host that is exactly a suffix is path-style, even when a shorter
        // suffix would have matched it as `s3.<suffix>`.
        assert_eq!(
            ok(Some("s3.example.com"), "/s3b"),
            (some("s3b"), None, AddressingStyle::Path)
        );
    }

    #[test]
    fn key_is_decoded_exactly_once() {
        let key = |path| ok(None, path).1;
        assert_eq!(key("/b-1/a%2Fb"), some("a/b"));
        assert_eq!(key("/b-1/a%252Fb"), some("a%2Fb"));
        assert_eq!(key("/b-1/a+b%20c"), some("a+b c"));
        assert_eq!(key("/b-1/%C3%A9t%C3%A9"), some("été"));
        assert_eq!(key("/b-1/%2F"), some("/"));
    }

    #[test]
    fn refuses_bad_keys_and_paths() {
        let err = |path: &str| route(None, path, &[]).unwrap_err();
        let long = format!("/bkt/{}", "k".repeat(1025));
        assert_eq!(err(&long), RouteError::KeyTooLong(1025));
        assert_eq!(err(&long).code(), "KeyTooLongError");
        assert!(route(None, &format!("/bkt/{}", "é".repeat(512)), &[]).is_ok());
        assert_eq!(err("/bkt/a%00b"), RouteError::InvalidKey);
        assert_eq!(err("/bkt/a%00b").code(), "InvalidArgument");
        for path in ["/bkt/a%zz", "/bkt/a%f", "/bkt/%ff", "bkt/k", "", "*"] {
            assert_eq!(err(path).code(), "InvalidURI", "{path}");
        }
        assert_eq!(
            err("/bkt/%zz").to_string(),
            "the request path has an invalid percent-encoding at `%zz`"
        );
    }

    #[test]
    fn bucket_names() {
        let valid = [
            "abc",
            "a.b-c",
            "1-2.3",
            &"a".repeat(63),
            "xn-a",
            "ab-s3alia",
        ];
        for name in valid {
            assert!(is_valid_bucket_name(name), "{name}");
        }
        let invalid = [
            "ab",
            &"a".repeat(64),
            "Abc",
            "a_b",
            "-ab",
            "ab-",
            ".ab",
            "ab.",
            "a..b",
            "foo.-bar",
            "foo-.bar",
            "192.168.5.4",
            "999.1.1.1",
            "xn--ab",
            "sthree-ab",
            "amzn-s3-demo-x",
            "ab-s3alias",
            "ab--ol-s3",
            "ab.mrap",
            "ab--x-s3",
            "ab--table-s3",
            "a b",
            "a/b",
        ];
        for name in invalid {
            assert!(!is_valid_bucket_name(name), "{name}");
        }
        let err = route(None, "/Bad_Bucket/k", &[]).unwrap_err();
        assert_eq!(err.code(), "InvalidBucketName");
        assert_eq!(
            err.to_string(),
            "the specified bucket name `Bad_Bucket` is not valid"
        );
        let err = route(Some("a_b.s3.example.com"), "/k", &suffixes()).unwrap_err();
        assert_eq!(err, RouteError::InvalidBucketName("a_b".into()));
        assert_eq!(
            route(None, "//k", &[]).unwrap_err().code(),
            "InvalidBucketName"
        );
        assert_eq!(
            route(None, "/a%2Fb/k", &[]).unwrap_err().code(),
            "InvalidBucketName"
        );
    }
}
