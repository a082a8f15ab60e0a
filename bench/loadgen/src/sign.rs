//! Request building: the path and query of each operation, and its SigV4
//! signature (header auth, the way S3 SDKs sign: single URI encoding, no
//! path normalisation, `x-amz-content-sha256` signed), or a presigned URL,
//! made by the S3 protocol crate's signer.

use std::time::{Duration, SystemTime};

use cedargate_s3::sigv4::Secret;
use cedargate_s3::sigv4::sign::{self, Identity, Unsigned};
use http::{HeaderMap, HeaderValue, Method};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

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

/// What the signature says about the body.
#[derive(Debug, Clone)]
pub enum BodyHash {
    /// `UNSIGNED-PAYLOAD`.
    Unsigned,
    /// The hex SHA-256 of the body, computed once before the run.
    Sha256(String),
}

/// A signing identity: access key, secret and region.
pub struct Signer {
    access_key: String,
    secret: Secret,
    region: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// The headers a signature adds (`authorization`, `x-amz-date`,
/// `x-amz-content-sha256`).
pub type SignedHeaders = Vec<(&'static str, String)>;

impl Signer {
    /// A signer for `access_key` / `secret_key` in `region`.
    pub fn new(access_key: &str, secret_key: &str, region: &str) -> Self {
        Self {
            access_key: access_key.to_owned(),
            secret: Secret::from(secret_key),
            region: region.to_owned(),
        }
    }

    fn identity(&self) -> Identity<'_> {
        Identity {
            access_key: &self.access_key,
            secret: &self.secret,
            session_token: None,
            region: &self.region,
        }
    }

    /// Signs `method` on `authority` + `path_and_query` in the headers.
    pub fn sign_headers(
        &self,
        method: &str,
        authority: &str,
        path_and_query: &str,
        body: &BodyHash,
        time: SystemTime,
    ) -> Result<SignedHeaders, String> {
        let payload = match body {
            BodyHash::Unsigned => "UNSIGNED-PAYLOAD",
            BodyHash::Sha256(hash) => hash,
        };
        let method = Method::from_bytes(method.as_bytes()).map_err(|e| format!("method: {e}"))?;
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let headers = host_header(authority)?;
        let request = Unsigned {
            method: &method,
            raw_path: path,
            raw_query: query,
            headers: &headers,
        };
        sign::sign_headers(&request, &self.identity(), payload, time)
            .map_err(|e| format!("signing: {e}"))
    }

    /// Presigns `GET` of `path` for `expires_in`: the query string to add.
    pub fn presign(
        &self,
        authority: &str,
        path: &str,
        expires_in: Duration,
        time: SystemTime,
    ) -> Result<String, String> {
        let headers = host_header(authority)?;
        let request = Unsigned {
            method: &Method::GET,
            raw_path: path,
            raw_query: "",
            headers: &headers,
        };
        let params = sign::presign(&request, &self.identity(), expires_in, time)
            .map_err(|e| format!("presigning: {e}"))?;
        Ok(params
            .iter()
            .map(|(name, value)| format!("{}={}", encode_query(name), encode_query(value)))
            .collect::<Vec<_>>()
            .join("&"))
    }
}

/// The one header the loadgen signs besides its own: `host`.
fn host_header(authority: &str) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    let host = HeaderValue::from_str(authority).map_err(|e| format!("host: {e}"))?;
    headers.insert(http::header::HOST, host);
    Ok(headers)
}

/// Breaks the signature of an `authorization` header value: its last hex
/// digit changes, so the request is well formed but does not verify.
pub fn corrupt_signature(authorization: &mut String) {
    if let Some(last) = authorization.pop() {
        authorization.push(if last == '0' { '1' } else { '0' });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_signature_has_the_sigv4_shape() {
        let signer = Signer::new("AKIDEXAMPLE", "secret", "us-east-1");
        let headers = signer
            .sign_headers(
                "GET",
                "127.0.0.1:9000",
                "/b/k",
                &BodyHash::Unsigned,
                SystemTime::now(),
            )
            .unwrap();
        let auth = &headers
            .iter()
            .find(|(n, _)| *n == "authorization")
            .unwrap()
            .1;
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
        assert!(auth.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date"));
        let sha = &headers
            .iter()
            .find(|(n, _)| *n == "x-amz-content-sha256")
            .unwrap()
            .1;
        assert_eq!(sha, "UNSIGNED-PAYLOAD");
    }

    #[test]
    fn a_corrupted_signature_differs_in_its_last_digit() {
        let mut value = String::from("AWS4-HMAC-SHA256 Signature=ab0");
        corrupt_signature(&mut value);
        assert_eq!(value, "AWS4-HMAC-SHA256 Signature=ab1");
        corrupt_signature(&mut value);
        assert_eq!(value, "AWS4-HMAC-SHA256 Signature=ab0");
    }

    #[test]
    fn presigned_query_names_the_credential_and_expiry() {
        let signer = Signer::new("AKIDEXAMPLE", "secret", "us-east-1");
        let query = signer
            .presign(
                "127.0.0.1:9000",
                "/b/k",
                Duration::from_secs(60),
                SystemTime::now(),
            )
            .unwrap();
        assert!(query.contains("X-Amz-Credential=AKIDEXAMPLE%2F"));
        assert!(query.contains("X-Amz-Expires=60"));
        assert!(query.contains("X-Amz-Signature="));
    }
}
