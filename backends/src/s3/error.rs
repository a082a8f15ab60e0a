//! Every upstream failure becomes a [`BackendError`] here, in one place:
//! transport failures (pingora errors), S3 error documents and status
//! codes without a document (HEAD answers, some servers' 404s).
//!
//! Messages that the gateway may show clients are fixed and generic; what
//! the upstream said (its message, request id, addresses) travels only as
//! the error's source, for the server log.

use std::time::SystemTime;

use http::HeaderMap;

use super::headers::{
    delete_marker, etag_header, last_modified, unsatisfied_range_size, version_id,
};
use super::xml::{self, ErrorDoc};
use crate::BackendError;

/// What a request addressed, to interpret a bare 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    /// A bucket (HeadBucket, ListObjects, ListMultipartUploads).
    Bucket,
    /// An object.
    Object,
    /// A multipart upload (or one of its parts).
    Upload,
}

/// An operation, for messages and [`BackendError::NotImplemented`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Op {
    /// The S3 operation name.
    pub name: &'static str,
    /// What it addresses.
    pub target: Target,
}

impl Op {
    /// An operation on `target`.
    pub const fn new(name: &'static str, target: Target) -> Self {
        Self { name, target }
    }
}

/// An error answer of the upstream, kept whole for the log.
#[derive(Debug, Clone, Default, thiserror::Error)]
#[error(
    "upstream answered {status} {code:?} to {operation}: {message:?} (request id {request_id:?})"
)]
pub(super) struct Failure {
    /// The S3 operation.
    pub operation: &'static str,
    /// HTTP status.
    pub status: u16,
    /// S3 error code, when a document named one.
    pub code: Option<String>,
    /// The upstream's message (log only).
    pub message: Option<String>,
    /// The upstream's request id (log only).
    pub request_id: Option<String>,
    /// The part concerned (InvalidPart, EntityTooSmall).
    pub part_number: Option<u32>,
    /// The object's size (InvalidRange).
    pub size: Option<u64>,
    /// ETag (NotModified).
    pub etag: Option<String>,
    /// Last-Modified (NotModified).
    pub last_modified: Option<SystemTime>,
    /// The body was not an S3 error document.
    pub unparseable: bool,
    /// `x-amz-delete-marker: true`: what was read is a delete marker.
    pub delete_marker: bool,
    /// `x-amz-version-id` (the delete marker's).
    pub version_id: Option<String>,
}

impl Failure {
    /// Reads an error answer: status, headers and (possibly empty) body.
    pub fn parse(op: Op, status: u16, headers: &HeaderMap, body: &[u8]) -> Self {
        let mut failure = Self {
            operation: op.name,
            status,
            etag: etag_header(headers),
            last_modified: last_modified(headers),
            size: unsatisfied_range_size(headers),
            delete_marker: delete_marker(headers),
            version_id: version_id(headers),
            ..Self::default()
        };
        if body.iter().all(u8::is_ascii_whitespace) {
            return failure;
        }
        match xml::root_name(body).as_deref() {
            Some("Error") => match xml::parse::<ErrorDoc>(body) {
                Ok(doc) => {
                    failure.code = doc.code.filter(|c| !c.is_empty());
                    failure.message = doc.message;
                    failure.request_id = doc.request_id;
                    failure.part_number = doc.part_number;
                    failure.size = failure.size.or(doc.actual_object_size);
                }
                Err(_) => failure.unparseable = true,
            },
            _ => failure.unparseable = true,
        }
        failure
    }

    /// The S3 error code, if any.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The meaning of the failure.
    pub fn into_error(self, op: Op) -> BackendError {
        use BackendError as E;
        let generic = |message: &str| E::invalid_argument(message);
        if self.delete_marker && matches!(self.status, 404 | 405) {
            return E::DeleteMarker {
                version_id: self.version_id,
                named: self.status == 405,
            };
        }
        if let Some(code) = self.code.as_deref() {
            return match code {
                "NoSuchBucket" => E::NoSuchBucket,
                "NoSuchKey" => E::NoSuchKey,
                "NoSuchUpload" => E::NoSuchUpload,
                "BucketAlreadyOwnedByYou" => E::BucketAlreadyOwnedByYou,
                "BucketAlreadyExists" => E::BucketAlreadyExists,
                "BucketNotEmpty" => E::BucketNotEmpty,
                "InvalidTag" => E::InvalidTag {
                    message: "the tag set is not valid".to_owned(),
                },
                "NoSuchVersion" => E::NoSuchVersion,
                "PreconditionFailed" => E::PreconditionFailed,
                "NotModified" => self.not_modified(),
                "InvalidRange" => E::InvalidRange {
                    size: self.size.unwrap_or(0),
                },
                "BadDigest" => E::BadDigest,
                "IncompleteBody" => E::IncompleteBody,
                "InvalidPart" => E::InvalidPart {
                    part_number: self.part_number.unwrap_or(0),
                },
                "InvalidPartOrder" => E::InvalidPartOrder,
                "EntityTooSmall" => E::EntityTooSmall {
                    part_number: self.part_number.unwrap_or(0),
                },
                "InvalidDigest" => generic("the content MD5 is not valid"),
                "KeyTooLongError" => generic("the key is too long"),
                "MetadataTooLarge" => generic("the metadata exceeds the maximum allowed size"),
                "EntityTooLarge" => generic("the object exceeds the maximum allowed size"),
                "InvalidBucketName" => generic("the bucket name is not valid"),
                "MalformedXML" => generic("the request document is not valid"),
                "InvalidPartNumber" => E::InvalidPartNumber,
                "ConditionalRequestConflict" => E::ConditionalRequestConflict,
                "InvalidRequest" => E::invalid_request("the storage refused the request"),
                "InvalidArgument"
                | "InvalidStorageClass"
                | "UnexpectedContent"
                | "InvalidObjectName"
                | "InvalidURI" => generic("the request has an argument the storage cannot accept"),
                "NotImplemented" => E::NotImplemented {
                    operation: op.name,
                    backend: "s3",
                },
                "SlowDown"
                | "ServiceUnavailable"
                | "InternalError"
                | "RequestTimeout"
                | "RequestTimeTooSkewed"
                | "OperationAborted" => E::Unavailable(Box::new(self)),
                _ if self.status >= 500 => E::Unavailable(Box::new(self)),
                _ => E::Other(Box::new(self)),
            };
        }
        if self.status >= 500 {
            return E::Unavailable(Box::new(self));
        }
        if self.unparseable {
            return E::BadGateway(Box::new(self));
        }
        match self.status {
            304 => self.not_modified(),
            404 => match op.target {
                Target::Bucket => E::NoSuchBucket,
                Target::Object => E::NoSuchKey,
                Target::Upload => E::NoSuchUpload,
            },
            412 => E::PreconditionFailed,
            416 => E::InvalidRange {
                size: self.size.unwrap_or(0),
            },
            400 => generic("the request has an argument the storage cannot accept"),
            _ => E::Other(Box::new(self)),
        }
    }

    fn not_modified(self) -> BackendError {
        BackendError::NotModified {
            etag: self.etag.unwrap_or_default(),
            last_modified: self.last_modified.unwrap_or(SystemTime::UNIX_EPOCH),
        }
    }
}

/// The meaning of a transport failure.
pub(super) fn transport(error: Box<pingora::Error>) -> BackendError {
    use pingora::ErrorType as T;
    match error.etype() {
        T::ConnectTimedout
        | T::ConnectRefused
        | T::ConnectNoRoute
        | T::ConnectError
        | T::ConnectProxyFailure
        | T::TLSHandshakeFailure
        | T::TLSHandshakeTimedout
        | T::TLSWantX509Lookup
        | T::InvalidCert
        | T::HandshakeError
        | T::SocketError
        | T::BindError
        | T::ReadError
        | T::WriteError
        | T::ReadTimedout
        | T::WriteTimedout
        | T::ConnectionClosed => BackendError::Unavailable(error),
        T::InvalidHTTPHeader | T::H1Error | T::H2Error | T::InvalidH2 => {
            BackendError::BadGateway(error)
        }
        T::Custom(name) if *name == "PrematureBodyEnd" => BackendError::Unavailable(error),
        _ => BackendError::Other(error),
    }
}

/// The `io::Error` a download stream yields for a transport failure.
pub(super) fn stream_error(error: Box<pingora::Error>) -> std::io::Error {
    use pingora::ErrorType as T;
    use std::io::ErrorKind;
    let kind = match error.etype() {
        T::ReadTimedout => ErrorKind::TimedOut,
        T::ConnectionClosed => ErrorKind::UnexpectedEof,
        T::InvalidHTTPHeader | T::H1Error => ErrorKind::InvalidData,
        _ => ErrorKind::ConnectionAborted,
    };
    std::io::Error::new(kind, error)
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
