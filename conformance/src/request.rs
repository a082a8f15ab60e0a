//! S3 requests as the suite builds them: path-style, already percent-encoded
//! once, signed by the S3 protocol crate's signer the way S3 SDKs sign (no
//! path normalisation, single URI encoding, `x-amz-content-sha256` signed),
//! or presigned.
//!
//! Requests are plain data until [`S3Request::to_wire`] serialises them, so a
//! case can sign a request and then break one field on purpose.

use std::time::{Duration, SystemTime};

use cedargate_s3::sigv4::Secret;
use cedargate_s3::sigv4::sign::{self, Identity, Unsigned};
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

use crate::http::Endpoint;

/// Characters SigV4 leaves unencoded in a query value.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// Characters SigV4 leaves unencoded in an S3 object path.
const PATH: &AsciiSet = &QUERY.remove(b'/');

/// Percent-encodes a bucket or key for the request path.
pub fn encode_path(segment: &str) -> String {
    utf8_percent_encode(segment, PATH).to_string()
}

/// Percent-encodes a query-string value.
pub fn encode_query(value: &str) -> String {
    utf8_percent_encode(value, QUERY).to_string()
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// An access key, its secret and, for STS sessions, the session token.
#[derive(Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    /// The access key id.
    pub access_key: String,
    /// The secret access key.
    pub secret_key: String,
    /// The STS session token, for temporary credentials.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// What the signature says about the body.
#[derive(Debug, Clone)]
pub enum Payload {
    /// The SHA-256 of the body actually sent.
    Body,
    /// A given `x-amz-content-sha256` value (the hash of other bytes, or a
    /// streaming marker such as `STREAMING-UNSIGNED-PAYLOAD-TRAILER`).
    Declared(String),
}

/// One HTTP request, path-style, with the path and query already encoded.
#[derive(Debug, Clone)]
pub struct S3Request {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The encoded path, starting with `/`.
    pub path: String,
    /// The encoded query string without `?` (may be empty).
    pub query: String,
    /// Headers besides `Host`, `Content-Length` and `Connection`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Whether to send `Content-Length` (false for deliberately unframed bodies).
    pub content_length: bool,
}

impl S3Request {
    /// A request for `/bucket/key` (`key` None: the bucket itself).
    pub fn new(method: &str, bucket: &str, key: Option<&str>) -> Self {
        let path = match key {
            Some(key) => format!("/{}/{}", encode_path(bucket), encode_path(key)),
            None => format!("/{}", encode_path(bucket)),
        };
        Self::raw_path(method, &path)
    }

    /// A request for an already-encoded path.
    pub fn raw_path(method: &str, path: &str) -> Self {
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            query: String::new(),
            headers: Vec::new(),
            body: Vec::new(),
            content_length: true,
        }
    }

    /// Sets the (already encoded) query string.
    #[must_use]
    pub fn query(mut self, query: &str) -> Self {
        query.clone_into(&mut self.query);
        self
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Replaces the value of header `name`, or adds it.
    pub fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
    }

    fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }

    /// Signs the request in its headers (SigV4, service `s3`).
    pub fn sign(
        &mut self,
        endpoint: &Endpoint,
        credential: &Credential,
        region: &str,
        time: SystemTime,
        payload: &Payload,
    ) -> Result<(), String> {
        let payload_hash = match payload {
            Payload::Body => sha256_hex(&self.body),
            Payload::Declared(hash) => hash.clone(),
        };
        let secret = Secret::from(credential.secret_key.as_str());
        let headers = self.headers_to_sign(endpoint)?;
        let method = self.method()?;
        let added = sign::sign_headers(
            &self.unsigned(&method, &headers),
            &identity(credential, &secret, region),
            &payload_hash,
            time,
        )
        .map_err(|e| format!("signing: {e}"))?;
        for (name, value) in added {
            self.set_header(name, &value);
        }
        Ok(())
    }

    /// Presigns the request: the signature goes into the query string, valid
    /// for `expires_in` from `time`.
    pub fn presign(
        &mut self,
        endpoint: &Endpoint,
        credential: &Credential,
        region: &str,
        time: SystemTime,
        expires_in: Duration,
    ) -> Result<(), String> {
        let secret = Secret::from(credential.secret_key.as_str());
        let headers = self.headers_to_sign(endpoint)?;
        let method = self.method()?;
        let params = sign::presign(
            &self.unsigned(&method, &headers),
            &identity(credential, &secret, region),
            expires_in,
            time,
        )
        .map_err(|e| format!("presigning: {e}"))?;
        for (name, value) in params {
            if !self.query.is_empty() {
                self.query.push('&');
            }
            self.query.push_str(&encode_query(name));
            self.query.push('=');
            self.query.push_str(&encode_query(&value));
        }
        Ok(())
    }

    fn method(&self) -> Result<Method, String> {
        Method::from_bytes(self.method.as_bytes()).map_err(|e| format!("method: {e}"))
    }

    /// `Host` and the request's headers, as they are signed.
    fn headers_to_sign(&self, endpoint: &Endpoint) -> Result<HeaderMap, String> {
        let mut headers = HeaderMap::new();
        let host = std::iter::once(("host", endpoint.authority.as_str()));
        let own = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        for (name, value) in host.chain(own) {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| format!("header `{name}`: {e}"))?;
            let value =
                HeaderValue::from_str(value).map_err(|e| format!("header `{name}`: {e}"))?;
            headers.append(name, value);
        }
        Ok(headers)
    }

    fn unsigned<'a>(&'a self, method: &'a Method, headers: &'a HeaderMap) -> Unsigned<'a> {
        Unsigned {
            method,
            raw_path: &self.path,
            raw_query: &self.query,
            headers,
        }
    }

    /// The request as bytes on the wire (HTTP/1.1, `Connection: close`).
    pub fn to_wire(&self, endpoint: &Endpoint) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\n",
            self.method,
            self.path_and_query(),
            endpoint.authority
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let has_length = self
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-length"));
        let needs_length = !self.body.is_empty() || matches!(self.method.as_str(), "PUT" | "POST");
        if self.content_length && !has_length && needs_length {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        head.push_str("User-Agent: cedargate-conformance/0.1\r\nConnection: close\r\n\r\n");
        let mut wire = head.into_bytes();
        wire.extend_from_slice(&self.body);
        wire
    }
}

/// The signing identity of `credential` for service `s3` in `region`.
fn identity<'a>(credential: &'a Credential, secret: &'a Secret, region: &'a str) -> Identity<'a> {
    Identity {
        access_key: &credential.access_key,
        secret,
        session_token: credential.session_token.as_deref(),
        region,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Endpoint {
        Endpoint::parse("http://127.0.0.1:9000", None).unwrap()
    }

    fn credential() -> Credential {
        Credential {
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        }
    }

    #[test]
    fn keys_are_encoded_once_with_slashes_kept() {
        let r = S3Request::new("GET", "b", Some("a/<x>&\"y\" z"));
        assert_eq!(r.path, "/b/a/%3Cx%3E%26%22y%22%20z");
        assert_eq!(encode_query("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn signing_adds_sigv4_headers() {
        let mut r = S3Request::new("PUT", "b", Some("k")).body("hello");
        r.sign(
            &endpoint(),
            &credential(),
            "us-east-1",
            SystemTime::now(),
            &Payload::Body,
        )
        .unwrap();
        let auth = r
            .headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .unwrap();
        assert!(
            auth.1
                .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
        );
        assert!(auth.1.contains("x-amz-content-sha256"));
        let sha = r
            .headers
            .iter()
            .find(|(n, _)| n == "x-amz-content-sha256")
            .unwrap();
        assert_eq!(sha.1, sha256_hex(b"hello"));
        let wire = String::from_utf8(r.to_wire(&endpoint())).unwrap();
        assert!(wire.starts_with("PUT /b/k HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n"));
        assert!(wire.contains("Content-Length: 5\r\n"));
        assert!(wire.ends_with("\r\n\r\nhello"));
    }

    #[test]
    fn presigning_puts_the_signature_in_the_query() {
        let mut r = S3Request::new("GET", "b", Some("k"));
        let week = Duration::from_secs(604_801);
        r.presign(
            &endpoint(),
            &credential(),
            "us-east-1",
            SystemTime::now(),
            week,
        )
        .unwrap();
        assert!(r.query.contains("X-Amz-Expires=604801"));
        assert!(r.query.contains("X-Amz-Credential=AKIDEXAMPLE%2F"));
        assert!(r.query.contains("X-Amz-Signature="));
        assert!(!r.headers.iter().any(|(n, _)| n == "authorization"));
    }
}
