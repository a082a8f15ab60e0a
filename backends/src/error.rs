//! The one error type every backend answers with.
//!
//! Variants carry meaning, not transport detail: the gateway maps each to an
//! S3 error code and status in exactly one place. Messages are lowercase
//! without a final period; `Other` carries detail for the server log only.

use std::time::SystemTime;

/// Why a backend call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The bucket does not exist in the backend.
    #[error("the bucket does not exist")]
    NoSuchBucket,
    /// The object does not exist.
    #[error("the object does not exist")]
    NoSuchKey,
    /// The object version named by `versionId` does not exist.
    #[error("the specified version does not exist")]
    NoSuchVersion,
    /// The version read is a delete marker: the key's current version, when
    /// no version was named (S3: 404 NoSuchKey), or the named version (S3:
    /// 405 MethodNotAllowed). Both answer `x-amz-delete-marker: true`.
    #[error("{}", if *named { "the specified method is not allowed against a delete marker" } else { "the object does not exist" })]
    DeleteMarker {
        /// The delete marker's version id, when known.
        version_id: Option<String>,
        /// Whether the request named the marker by its version id.
        named: bool,
    },
    /// CreateBucket: the bucket already exists and belongs to the gateway.
    #[error("the bucket already exists")]
    BucketAlreadyOwnedByYou,
    /// CreateBucket: the name is taken by someone else in the backend.
    #[error("the bucket name is not available")]
    BucketAlreadyExists,
    /// DeleteBucket: the bucket still holds objects.
    #[error("the bucket is not empty")]
    BucketNotEmpty,
    /// A tag set or `x-amz-tagging` value breaks S3's tagging rules.
    #[error("{message}")]
    InvalidTag {
        /// A client-safe explanation.
        message: String,
    },
    /// The multipart upload does not exist (or was completed or aborted).
    #[error("the multipart upload does not exist")]
    NoSuchUpload,
    /// An If-Match / If-Unmodified-Since / conditional-write precondition failed.
    #[error("a precondition failed")]
    PreconditionFailed,
    /// If-None-Match / If-Modified-Since: the object has not changed.
    #[error("the object has not been modified")]
    NotModified {
        /// Current ETag, without quotes.
        etag: String,
        /// Current last-modified time.
        last_modified: SystemTime,
    },
    /// The requested range cannot be satisfied.
    #[error("the range cannot be satisfied for an object of {size} bytes")]
    InvalidRange {
        /// The object's size.
        size: u64,
    },
    /// The body's MD5 does not match Content-MD5.
    #[error("the content MD5 or checksum does not match the body")]
    BadDigest,
    /// The body was shorter or longer than its declared length.
    #[error("the body length does not match the declared length")]
    IncompleteBody,
    /// A part named in CompleteMultipartUpload is missing or its ETag differs.
    #[error("part {part_number} was not found or its ETag does not match")]
    InvalidPart {
        /// The offending part number.
        part_number: u32,
    },
    /// A `partNumber` read of a part the object does not have.
    #[error("the requested part number is not satisfiable")]
    InvalidPartNumber,
    /// A request S3 refuses as InvalidRequest (a part without the checksum
    /// its upload requires, or with another algorithm's).
    #[error("{message}")]
    InvalidRequest {
        /// A client-safe explanation.
        message: String,
    },
    /// A conditional CompleteMultipartUpload raced another write of the key.
    #[error("a conflicting operation occurred; retry the request")]
    ConditionalRequestConflict,
    /// Parts in CompleteMultipartUpload are not in ascending order.
    #[error("the parts are not in ascending order")]
    InvalidPartOrder,
    /// A part other than the last is smaller than the minimum part size.
    #[error("part {part_number} is smaller than the minimum allowed size")]
    EntityTooSmall {
        /// The offending part number.
        part_number: u32,
    },
    /// CopyObject onto its own source without changing its metadata,
    /// storage class, website redirect location or encryption attributes.
    #[error(
        "this copy request is illegal because it is trying to copy an object to itself \
         without changing the object's metadata, storage class, website redirect location \
         or encryption attributes"
    )]
    CopyOntoItself,
    /// A parameter or key cannot be accepted; the message says which and why.
    #[error("{message}")]
    InvalidArgument {
        /// A client-safe explanation.
        message: String,
    },
    /// Reading the request body failed; the gateway knows the precise cause.
    #[error("reading the request body failed: {0}")]
    Body(#[source] std::io::Error),
    /// The backend cannot perform this operation.
    #[error("`{operation}` is not implemented by the `{backend}` backend")]
    NotImplemented {
        /// The S3 operation name.
        operation: &'static str,
        /// The backend kind.
        backend: &'static str,
    },
    /// The backend is temporarily unreachable or overloaded.
    #[error("the backend is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The backend answered something that could not be understood.
    #[error("the backend answered an unparseable response")]
    BadGateway(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else; the detail goes to the server log only.
    #[error("backend failure")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl BackendError {
    /// Wraps any error as [`BackendError::Other`].
    pub fn other(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Other(error.into())
    }

    /// A client-safe [`BackendError::InvalidRequest`].
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::InvalidRequest {
            message: message.into(),
        }
    }

    /// A client-safe [`BackendError::InvalidArgument`].
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            message: message.into(),
        }
    }
}
