//! Request building: the path and query of each operation, and its SigV4
//! signature (header auth, the way S3 SDKs sign: single URI encoding, no
//! path normalisation, `x-amz-content-sha256` signed), or a presigned URL.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
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
    identity: Identity,
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
        let identity = Credentials::new(access_key, secret_key, None, None, "cedargate-loadgen");
        Self {
            identity: identity.into(),
            region: region.to_owned(),
        }
    }

    fn settings() -> SigningSettings {
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings
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
        let mut settings = Self::settings();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let body = match body {
            BodyHash::Unsigned => SignableBody::UnsignedPayload,
            BodyHash::Sha256(hash) => SignableBody::Precomputed(hash.clone()),
        };
        let (headers, _) = self.sign(method, authority, path_and_query, settings, body, time)?;
        Ok(headers)
    }

    /// Presigns `GET` of `path` for `expires_in`: the query string to add.
    pub fn presign(
        &self,
        authority: &str,
        path: &str,
        expires_in: Duration,
        time: SystemTime,
    ) -> Result<String, String> {
        let mut settings = Self::settings();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires_in);
        let body = SignableBody::UnsignedPayload;
        let (_, params) = self.sign("GET", authority, path, settings, body, time)?;
        Ok(params
            .iter()
            .map(|(name, value)| format!("{}={}", encode_query(name), encode_query(value)))
            .collect::<Vec<_>>()
            .join("&"))
    }

    fn sign(
        &self,
        method: &str,
        authority: &str,
        path_and_query: &str,
        settings: SigningSettings,
        body: SignableBody<'_>,
        time: SystemTime,
    ) -> Result<(SignedHeaders, Vec<(String, String)>), String> {
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("s3")
            .time(time)
            .settings(settings)
            .build()
            .map_err(|e| format!("signing parameters: {e}"))?
            .into();
        let uri = format!("http://{authority}{path_and_query}");
        let headers = std::iter::once(("host", authority));
        let signable = SignableRequest::new(method, uri, headers, body)
            .map_err(|e| format!("signable request: {e}"))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| format!("signing: {e}"))?
            .into_parts();
        let (headers, query) = instructions.into_parts();
        let headers = headers
            .into_iter()
            .map(|h| (h.name(), h.value().to_owned()))
            .collect();
        let query = query
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.into_owned()))
            .collect();
        Ok((headers, query))
    }
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
