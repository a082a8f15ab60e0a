//! Pipeline step 2, **classify**: method + subresource + headers -> one
//! [`S3Operation`].
//!
//! The shapes are AWS's documented request shapes (each variant's doc shows
//! its own). Classification is strict, because everything after it
//! (authorization, limits, the backend call) trusts the answer, and the
//! gateway never forwards a request it could not classify:
//!
//! - **Every query parameter must be known**: a subresource (`acl`,
//!   `uploadId`, `list-type`, ...), an operation parameter (`prefix`,
//!   `versionId`, `response-content-type`, ...), SigV4/SigV2 query-auth
//!   parameters, the SDKs' `x-id` hint, or an `x-amz-*` header hoisted into
//!   a presigned URL. An unknown name is refused rather than ignored: an
//!   upstream may know it as a subresource this gateway does not (one that
//!   would turn an authorized GetObject into something else).
//! - At most one subresource, no parameter twice (no parameter pollution).
//! - `x-amz-copy-source` only as one header, and only on PutObject- and
//!   UploadPart-shaped requests (where it makes CopyObject and
//!   UploadPartCopy); never as a query parameter.
//! - Object subresources need a key and bucket subresources must not have
//!   one; service-level requests (no bucket) can only be ListBuckets.
//! - `versionId` only on the operations that can name a version
//!   ([`S3Operation::version_action`]), never ignored elsewhere.
//!
//! A browser POST upload (`POST /{bucket}` with a `multipart/form-data`
//! body) is [`S3Operation::PostObject`], which Cedar decides as PutObject.
//!
//! Not classified (refused with [`ClassifyError`], S3 code
//! `InvalidRequest`): `OPTIONS` (CORS preflights never get here: the pipeline answers them
//! before classification, see [`crate::cors`]), directory-bucket-only
//! operations (CreateSession, RenameObject), S3 Object Lambda's
//! WriteGetObjectResponse, and newer
//! subresources not in [`S3Operation`] (`?metadataTable`, `?abac`, ...).
//! The deprecated GetBucketLifecycle/PutBucketLifecycle and
//! GetBucketNotification/PutBucketNotification share their successors'
//! shapes, so they classify as those.

mod operation;
mod shapes;

use http::{HeaderMap, Method};

pub use operation::{OperationClass, S3Operation};

use crate::query::Query;
use crate::route::Route;
use S3Operation as Op;
use shapes::{
    BUCKET_CONFIG, BUCKET_CONFIG_BY_ID, OBJECT_CONFIG, OBJECT_ONLY, PARAMETERS, SUBRESOURCES,
};

/// Why a request's shape is not an S3 operation. Every variant is the S3
/// error `InvalidRequest` (400); messages are safe to show clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClassifyError {
    /// A method S3 does not use.
    #[error("`{0}` is not an s3 request method")]
    UnsupportedMethod(String),
    /// A query parameter no S3 operation takes.
    #[error("unknown query parameter `{0}`")]
    UnknownParameter(String),
    /// A query parameter given more than once.
    #[error("query parameter `{0}` is given more than once")]
    DuplicateParameter(String),
    /// Two subresources in one request.
    #[error("subresources `{0}` and `{1}` cannot be combined")]
    ConflictingSubresources(&'static str, &'static str),
    /// A parameter with a value no operation accepts.
    #[error("unsupported value `{value}` for `{name}`")]
    UnsupportedValue {
        /// The parameter.
        name: &'static str,
        /// The value sent.
        value: String,
    },
    /// A subresource that needs another parameter.
    #[error("`{0}` requires `{1}`")]
    MissingParameter(&'static str, &'static str),
    /// The method is not valid for what the request addresses.
    #[error("`{method}` is not supported on {target}")]
    UnsupportedShape {
        /// The request method.
        method: &'static str,
        /// What the request addresses, e.g. "a bucket with `?versioning`".
        target: String,
    },
    /// An object subresource without a key.
    #[error("`{0}` requires an object key")]
    KeyRequired(&'static str),
    /// A bucket subresource with a key.
    #[error("`{0}` is a bucket subresource; the request must not name a key")]
    KeyNotAllowed(&'static str),
    /// Anything but `GET /` without a bucket.
    #[error("`{0}` requests must name a bucket")]
    BucketRequired(&'static str),
    /// `x-amz-copy-source` sent in the query string.
    #[error("`{0}` must be sent as a header, not a query parameter")]
    CopySourceInQuery(String),
    /// `x-amz-copy-source` on an operation that does not copy, or twice.
    #[error("`x-amz-copy-source` is only valid once, on PutObject and UploadPart requests")]
    UnexpectedCopySource,
    /// `versionId` on an operation that cannot name a version.
    #[error("`{0}` does not take a versionId")]
    VersionNotAccepted(&'static str),
}

impl ClassifyError {
    /// The S3 error code: always `InvalidRequest`.
    pub fn code(&self) -> &'static str {
        "InvalidRequest"
    }
}

/// The methods S3 uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Get,
    Head,
    Put,
    Post,
    Delete,
}

impl Verb {
    fn from_method(method: &Method) -> Result<Self, ClassifyError> {
        Ok(match *method {
            Method::GET => Self::Get,
            Method::HEAD => Self::Head,
            Method::PUT => Self::Put,
            Method::POST => Self::Post,
            Method::DELETE => Self::Delete,
            _ => return Err(ClassifyError::UnsupportedMethod(method.as_str().to_owned())),
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Put => "PUT",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }

    /// Picks the Get/Put/Delete entry of a config table row.
    fn pick(self, get: Option<Op>, put: Option<Op>, delete: Option<Op>) -> Option<Op> {
        match self {
            Self::Get => get,
            Self::Put => put,
            Self::Delete => delete,
            Self::Head | Self::Post => None,
        }
    }
}

/// Classifies a routed request.
pub fn classify(
    method: &Method,
    route: &Route,
    query: &Query,
    headers: &HeaderMap,
) -> Result<S3Operation, ClassifyError> {
    let verb = Verb::from_method(method)?;
    let subresource = subresource(query)?;
    let copy_source = match headers.get_all("x-amz-copy-source").iter().count() {
        0 => false,
        1 => true,
        _ => return Err(ClassifyError::UnexpectedCopySource),
    };
    let operation = match (&route.bucket, &route.key) {
        (Some(_), Some(_)) => object_operation(verb, subresource, query, copy_source)?,
        (Some(_), None) => bucket_operation(verb, subresource, query, headers)?,
        (None, Some(_)) => return Err(ClassifyError::BucketRequired(verb.name())),
        (None, None) => match (verb, subresource) {
            (Verb::Get, None) => Op::ListBuckets,
            (_, Some(name)) => return Err(ClassifyError::BucketRequired(name)),
            (verb, None) => return Err(ClassifyError::BucketRequired(verb.name())),
        },
    };
    if copy_source && !matches!(operation, Op::CopyObject | Op::UploadPartCopy) {
        return Err(ClassifyError::UnexpectedCopySource);
    }
    if query.has("versionId") && operation.version_action().is_none() {
        return Err(ClassifyError::VersionNotAccepted(operation.name()));
    }
    Ok(operation)
}

/// Checks every parameter name and returns the one subresource, if any.
fn subresource(query: &Query) -> Result<Option<&'static str>, ClassifyError> {
    let mut found: Option<&'static str> = None;
    for (index, (name, _)) in query.iter().enumerate() {
        if query.iter().take(index).any(|(earlier, _)| earlier == name) {
            return Err(ClassifyError::DuplicateParameter(name.to_owned()));
        }
        if let Some(&sub) = SUBRESOURCES.iter().find(|sub| **sub == name) {
            if let Some(first) = found {
                return Err(ClassifyError::ConflictingSubresources(first, sub));
            }
            found = Some(sub);
        } else if !PARAMETERS.contains(&name) {
            let lower = name.to_ascii_lowercase();
            if lower.starts_with("x-amz-copy-source") {
                return Err(ClassifyError::CopySourceInQuery(name.to_owned()));
            }
            if !lower.starts_with("x-amz-") {
                return Err(ClassifyError::UnknownParameter(name.to_owned()));
            }
        }
    }
    Ok(found)
}

fn unsupported(verb: Verb, target: String) -> ClassifyError {
    ClassifyError::UnsupportedShape {
        method: verb.name(),
        target,
    }
}

fn object_operation(
    verb: Verb,
    subresource: Option<&'static str>,
    query: &Query,
    copy_source: bool,
) -> Result<S3Operation, ClassifyError> {
    let Some(sub) = subresource else {
        return match verb {
            Verb::Get => Ok(Op::GetObject),
            Verb::Head => Ok(Op::HeadObject),
            Verb::Put if query.has("partNumber") => {
                Err(ClassifyError::MissingParameter("partNumber", "uploadId"))
            }
            Verb::Put if copy_source => Ok(Op::CopyObject),
            Verb::Put => Ok(Op::PutObject),
            Verb::Delete => Ok(Op::DeleteObject),
            Verb::Post => Err(unsupported(verb, "an object without a subresource".into())),
        };
    };
    let found = match (sub, verb) {
        ("uploadId", Verb::Put) if !query.has("partNumber") => {
            return Err(ClassifyError::MissingParameter("uploadId", "partNumber"));
        }
        ("uploadId", Verb::Put) if copy_source => Some(Op::UploadPartCopy),
        ("uploadId", Verb::Put) => Some(Op::UploadPart),
        ("uploadId", Verb::Get) => Some(Op::ListParts),
        ("uploadId", Verb::Post) => Some(Op::CompleteMultipartUpload),
        ("uploadId", Verb::Delete) => Some(Op::AbortMultipartUpload),
        ("uploads", Verb::Post) => Some(Op::CreateMultipartUpload),
        ("restore", Verb::Post) => Some(Op::RestoreObject),
        ("select", Verb::Post) => match query.get("select-type") {
            Some("2") => Some(Op::SelectObjectContent),
            Some(other) => {
                return Err(ClassifyError::UnsupportedValue {
                    name: "select-type",
                    value: other.to_owned(),
                });
            }
            None => return Err(ClassifyError::MissingParameter("select", "select-type=2")),
        },
        _ if OBJECT_ONLY.contains(&sub) => None,
        _ => match OBJECT_CONFIG.iter().find(|row| row.0 == sub) {
            Some(&(_, get, put, delete)) => verb.pick(get, put, delete),
            None => return Err(ClassifyError::KeyNotAllowed(sub)),
        },
    };
    found.ok_or_else(|| unsupported(verb, format!("an object with `?{sub}`")))
}

fn bucket_operation(
    verb: Verb,
    subresource: Option<&'static str>,
    query: &Query,
    headers: &HeaderMap,
) -> Result<S3Operation, ClassifyError> {
    let Some(sub) = subresource else {
        return match verb {
            Verb::Get => Ok(Op::ListObjects),
            Verb::Head => Ok(Op::HeadBucket),
            Verb::Put => Ok(Op::CreateBucket),
            Verb::Delete => Ok(Op::DeleteBucket),
            Verb::Post if is_form_upload(headers) => Ok(Op::PostObject),
            Verb::Post => Err(unsupported(verb, "a bucket without a subresource".into())),
        };
    };
    let found = match (sub, verb) {
        ("list-type", Verb::Get) => match query.get("list-type") {
            Some("2") => Some(Op::ListObjectsV2),
            other => {
                return Err(ClassifyError::UnsupportedValue {
                    name: "list-type",
                    value: other.unwrap_or_default().to_owned(),
                });
            }
        },
        ("location", Verb::Get) => Some(Op::GetBucketLocation),
        ("versions", Verb::Get) => Some(Op::ListObjectVersions),
        ("uploads", Verb::Get) => Some(Op::ListMultipartUploads),
        ("delete", Verb::Post) => Some(Op::DeleteObjects),
        ("uploads", Verb::Post) => return Err(ClassifyError::KeyRequired(sub)),
        ("list-type" | "location" | "versions" | "uploads" | "delete", _) => None,
        _ if OBJECT_ONLY.contains(&sub) => return Err(ClassifyError::KeyRequired(sub)),
        _ => {
            if let Some(&(_, get, put, delete)) = BUCKET_CONFIG.iter().find(|row| row.0 == sub) {
                verb.pick(get, put, delete)
            } else if let Some(&(_, get, put, delete, list)) =
                BUCKET_CONFIG_BY_ID.iter().find(|row| row.0 == sub)
            {
                match (verb, query.has("id")) {
                    (Verb::Get, false) => Some(list),
                    (Verb::Put | Verb::Delete, false) => {
                        return Err(ClassifyError::MissingParameter(sub, "id"));
                    }
                    (Verb::Head | Verb::Post, false) => None,
                    (verb, true) => verb.pick(Some(get), Some(put), Some(delete)),
                }
            } else {
                return Err(ClassifyError::KeyRequired(sub));
            }
        }
    };
    found.ok_or_else(|| unsupported(verb, format!("a bucket with `?{sub}`")))
}

/// A browser POST upload: `multipart/form-data` to the bucket.
fn is_form_upload(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

#[cfg(test)]
mod tests;
