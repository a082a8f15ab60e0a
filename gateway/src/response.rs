//! What a handler answers: status, headers and a body that is empty, in
//! memory, or streamed from the backend. The *respond* stage writes it to
//! the client and adds the headers every response carries.

use std::borrow::Cow;
use std::time::SystemTime;

use bytes::Bytes;
use cedargate_backends::{ByteStream, ObjectMeta};

/// The headers that show a stored checksum: `x-amz-checksum-<algorithm>`
/// and `x-amz-checksum-type`.
pub fn checksum_headers(
    checksum: Option<&cedargate_backends::ObjectChecksum>,
) -> Vec<(Cow<'static, str>, String)> {
    match checksum {
        Some(checksum) => vec![
            (checksum.header_name().into(), checksum.value.clone()),
            (
                "x-amz-checksum-type".into(),
                checksum.checksum_type.as_str().to_owned(),
            ),
        ],
        None => Vec::new(),
    }
}

/// A response body.
pub enum ResponseBody {
    /// No body (HEAD, 204, 304).
    Empty,
    /// A small body built in memory (XML documents).
    Full(Bytes),
    /// A body streamed from the backend, of a known length.
    Stream {
        /// The content.
        stream: ByteStream,
        /// Its exact length.
        length: u64,
    },
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => f.write_str("Empty"),
            Self::Full(bytes) => write!(f, "Full({} bytes)", bytes.len()),
            Self::Stream { length, .. } => write!(f, "Stream({length} bytes)"),
        }
    }
}

/// A successful S3 answer.
#[derive(Debug)]
pub struct S3Response {
    /// HTTP status.
    pub status: u16,
    /// Headers other than Content-Length, Date and x-amz-request-id.
    pub headers: Vec<(Cow<'static, str>, String)>,
    /// The body; its length sets Content-Length.
    pub body: ResponseBody,
}

impl S3Response {
    /// A status with no body.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: ResponseBody::Empty,
        }
    }

    /// A 200 answer with an XML document.
    pub fn xml(document: String) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), "application/xml".to_owned())],
            body: ResponseBody::Full(Bytes::from(document)),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The Content-Length of the body.
    pub fn content_length(&self) -> u64 {
        match &self.body {
            ResponseBody::Empty => 0,
            ResponseBody::Full(bytes) => bytes.len() as u64,
            ResponseBody::Stream { length, .. } => *length,
        }
    }
}

/// An HTTP date (`Last-Modified`, `Date`).
pub fn http_date(time: SystemTime) -> String {
    httpdate::fmt_http_date(time)
}

/// A quoted ETag header value.
pub fn quoted_etag(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// The headers S3 returns with an object on GET and HEAD.
pub fn object_headers(meta: &ObjectMeta) -> Vec<(Cow<'static, str>, String)> {
    let mut headers: Vec<(Cow<'static, str>, String)> = vec![
        ("etag".into(), quoted_etag(&meta.etag)),
        ("last-modified".into(), http_date(meta.last_modified)),
        ("accept-ranges".into(), "bytes".to_owned()),
        (
            "content-type".into(),
            meta.headers
                .content_type
                .clone()
                .unwrap_or_else(|| "binary/octet-stream".to_owned()),
        ),
    ];
    let optional = [
        ("content-encoding", &meta.headers.content_encoding),
        ("content-disposition", &meta.headers.content_disposition),
        ("content-language", &meta.headers.content_language),
        ("cache-control", &meta.headers.cache_control),
        ("expires", &meta.headers.expires),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            headers.push((name.into(), value.clone()));
        }
    }
    for (name, value) in &meta.user_metadata {
        headers.push((format!("x-amz-meta-{name}").into(), value.clone()));
    }
    for (name, value) in &meta.headers.storage {
        headers.push((name.clone().into(), value.clone()));
    }
    if let Some(parts) = meta.parts_count {
        headers.push(("x-amz-mp-parts-count".into(), parts.to_string()));
    }
    headers
}
