//! SigV4 for upstream requests, with the backend's own credentials: the
//! signed request head of every request, as S3 wants it (no path
//! normalization, the path encoded once, `x-amz-content-sha256` always
//! set: `UNSIGNED-PAYLOAD` for streamed bodies, the SHA-256 of documents
//! and of the empty body otherwise).

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::Method;
use md5::{Digest, Md5};
use pingora::http::RequestHeader;
use sha2::Sha256;

use super::config::S3Config;
use super::request::Request;
use crate::{BackendError, BackendResult};

/// What a request's body is, for its signature and framing.
#[derive(Debug, Clone, Copy)]
pub(super) enum BodyKind<'a> {
    /// No body.
    Empty,
    /// A document, signed with its SHA-256 and sent with its Content-MD5.
    Document(&'a Bytes),
    /// A streamed body of this length, unsigned.
    Unsigned(u64),
}

/// The credentials and region requests are signed with.
pub(super) struct Signer {
    identity: Identity,
    region: String,
}

impl Signer {
    /// A signer for `config`'s credentials and region.
    pub fn new(config: &S3Config) -> Self {
        let credentials = Credentials::new(
            config.access_key.clone(),
            config.secret_key.expose(),
            None,
            None,
            "cedargate",
        );
        Self {
            identity: credentials.into(),
            region: config.region.clone(),
        }
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The signed head of `request`: `host_header` names the host, `url`
    /// is the whole request URL and `path` its path and query.
    pub fn head(
        &self,
        request: &Request<'_>,
        host_header: &str,
        url: &str,
        path: &str,
        body: BodyKind<'_>,
    ) -> BackendResult<RequestHeader> {
        let mut headers: Vec<(String, String)> = Vec::with_capacity(request.headers.0.len() + 4);
        headers.push(("host".into(), host_header.to_owned()));
        for (name, value) in &request.headers.0 {
            let value = std::str::from_utf8(value.as_bytes())
                .map_err(|_| BackendError::invalid_argument("a header value cannot be sent"))?;
            headers.push((name.as_str().to_owned(), value.to_owned()));
        }
        let (signable, length) = match body {
            BodyKind::Empty => (SignableBody::Bytes(&[]), 0),
            BodyKind::Document(doc) => {
                use base64::Engine;
                let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(doc));
                headers.push(("content-md5".into(), md5));
                headers.push(("content-type".into(), "application/xml".into()));
                let sha = hex::encode(Sha256::digest(doc));
                (SignableBody::Precomputed(sha), doc.len() as u64)
            }
            BodyKind::Unsigned(length) => (SignableBody::UnsignedPayload, length),
        };
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(BackendError::other)?
            .into();
        let signable = SignableRequest::new(
            request.method.as_str(),
            url,
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            signable,
        )
        .map_err(BackendError::other)?;
        let (instructions, _) = sign(signable, &params)
            .map_err(BackendError::other)?
            .into_parts();
        let invalid = |_| BackendError::invalid_argument("the request cannot be sent");
        let mut head =
            RequestHeader::build(request.method.clone(), path.as_bytes(), None).map_err(invalid)?;
        for (name, value) in headers {
            head.append_header(name, value).map_err(invalid)?;
        }
        for (name, value) in instructions.headers() {
            head.insert_header(name.to_owned(), value)
                .map_err(invalid)?;
        }
        let sends_length = length > 0 || matches!(request.method, Method::PUT | Method::POST);
        if sends_length {
            head.insert_header("content-length", length.to_string())
                .map_err(invalid)?;
        }
        Ok(head)
    }
}
