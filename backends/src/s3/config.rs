//! Configuration of the s3 backend: where the upstream is, how to address
//! buckets on it, the credentials to sign with and the timeouts.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::{BackendError, BackendResult};

/// A secret access key: zeroized on drop, never shown by `Debug`.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<String>);

impl SecretKey {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret itself. Named so that every use is easy to audit.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl From<String> for SecretKey {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for SecretKey {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

/// How to reach one S3-compatible upstream.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// The upstream's base URL: `http://host:port` or `https://host[:port]`,
    /// without a path (a trailing `/` is accepted), query or credentials.
    /// The host may be a name (resolved on use) or an IP address.
    pub endpoint: String,
    /// The region to sign for (`us-east-1` for most non-AWS servers).
    pub region: String,
    /// The access key id the backend signs with (its own, never a client's).
    pub access_key: String,
    /// The secret of `access_key`.
    pub secret_key: SecretKey,
    /// Bucket addressing: `true` for path style (`http://host/bucket/key`),
    /// `false` for virtual-hosted style (`http://bucket.host/key`). With
    /// virtual-hosted style the backend still connects to the endpoint's
    /// address and names the bucket in `Host` (and in SNI over TLS).
    pub path_style: bool,
    /// How long establishing a connection (TCP and TLS) may take.
    pub connect_timeout: Duration,
    /// How long the upstream may stay silent while the backend waits for
    /// a response or the next bytes of a body; also bounds each write.
    pub read_timeout: Duration,
    /// Whether the upstream takes S3's additional checksums: the client's
    /// `x-amz-checksum-*` and a multipart upload's checksum algorithm are
    /// sent on, and reads ask for the stored checksum
    /// (`x-amz-checksum-mode`). GCS's XML API rejects them.
    pub checksums: bool,
}

impl S3Config {
    /// A path-style configuration with 10 s connect and 60 s read timeouts.
    pub fn new(
        endpoint: impl Into<String>,
        region: impl Into<String>,
        access_key: impl Into<String>,
        secret_key: impl Into<SecretKey>,
    ) -> Self {
        Self {
            endpoint: endpoint.into(),
            region: region.into(),
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            path_style: true,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            checksums: true,
        }
    }
}

/// The parsed endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Endpoint {
    /// `https` rather than `http`.
    pub tls: bool,
    /// Host name or IP address, without brackets.
    pub host: String,
    /// The port, explicit or the scheme's default.
    pub port: u16,
    /// Whether the port is the scheme's default (then `Host` omits it).
    pub default_port: bool,
}

impl Endpoint {
    /// Parses `http://host[:port][/]` or `https://...`.
    pub fn parse(endpoint: &str) -> BackendResult<Self> {
        let invalid =
            |why: &str| BackendError::invalid_argument(format!("invalid s3 endpoint: {why}"));
        let uri: http::Uri = endpoint.parse().map_err(|_| invalid("not a URL"))?;
        let tls = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(invalid("the scheme must be http or https")),
        };
        let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid("credentials do not belong in the URL"));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(invalid("a path or query is not supported"));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        let default = if tls { 443 } else { 80 };
        let port = authority.port_u16().unwrap_or(default);
        Ok(Self {
            tls,
            host,
            port,
            default_port: port == default,
        })
    }

    /// The IP address when the host is one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// The `Host` header value for `host` on this endpoint's port.
    pub fn host_header(&self, host: &str) -> String {
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        if self.default_port {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_or_are_refused() {
        let ok = Endpoint::parse("http://127.0.0.1:9000").ok();
        assert_eq!(
            ok,
            Some(Endpoint {
                tls: false,
                host: "127.0.0.1".into(),
                port: 9000,
                default_port: false
            })
        );
        let ok = Endpoint::parse("https://S3.Example.com/").ok();
        assert_eq!(
            ok.as_ref()
                .map(|e| (e.host.as_str(), e.port, e.default_port)),
            Some(("s3.example.com", 443, true))
        );
        let v6 = Endpoint::parse("http://[::1]:9000").ok();
        assert_eq!(
            v6.as_ref().map(|e| e.host_header(&e.host)),
            Some("[::1]:9000".to_owned())
        );
        for bad in [
            "",
            "localhost:9000",
            "ftp://host",
            "http://",
            "http://host/base",
            "http://host?x=1",
            "http://user:pw@host",
            "not a url",
        ] {
            assert!(
                matches!(
                    Endpoint::parse(bad),
                    Err(BackendError::InvalidArgument { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn secrets_never_show() {
        let config = S3Config::new("http://h", "r", "AKID", "very-secret");
        let shown = format!("{config:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("AKID"));
        assert_eq!(config.secret_key.expose(), "very-secret");
    }
}
