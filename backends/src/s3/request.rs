//! What the backend asks of the upstream: the method, operation, bucket,
//! key, query and headers of one request, and the body it carries.

use bytes::Bytes;
use http::Method;

use super::error::Op;
use super::headers::Headers;
use crate::BodySource;

/// What a request carries.
pub(super) enum Payload<'a> {
    /// No body.
    Empty,
    /// A small document, sent with its SHA-256 and Content-MD5.
    Document(Bytes),
    /// A streamed body of exactly `length` bytes, sent as UNSIGNED-PAYLOAD.
    Stream {
        /// The body.
        body: &'a mut dyn BodySource,
        /// Its declared length.
        length: u64,
        /// The MD5 it must have, checked before its last byte is sent.
        md5: Option<[u8; 16]>,
    },
}

/// One request to the upstream.
#[derive(Debug)]
pub(super) struct Request<'a> {
    /// Method.
    pub method: Method,
    /// The operation, for error mapping.
    pub op: Op,
    /// Backend bucket.
    pub bucket: &'a str,
    /// Key, for object requests.
    pub key: Option<&'a str>,
    /// Query parameters (raw values).
    pub query: Vec<(&'static str, String)>,
    /// Extra headers.
    pub headers: Headers,
}

impl<'a> Request<'a> {
    /// A request on `bucket` (and `key`).
    pub fn new(method: Method, op: Op, bucket: &'a str, key: Option<&'a str>) -> Self {
        Self {
            method,
            op,
            bucket,
            key,
            query: Vec::new(),
            headers: Headers::default(),
        }
    }

    /// A service-level request (no bucket): ListBuckets.
    pub fn service(method: Method, op: Op) -> Self {
        Self::new(method, op, "", None)
    }

    /// Adds a query parameter.
    pub fn param(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }
}
